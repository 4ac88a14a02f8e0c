//! The IMAP fetcher: reads unseen messages of one folder, stores and applies each batch in one
//! transaction (`inbound::ingest_batch`), and only after its commit flags them `\Seen` (or moves
//! them to the done folder). It waits with IDLE when the server offers it and polls otherwise; a
//! server that stops answering is retried with back-off and logged as an alert.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::{ImapConfig, InboundPolicy, Security, ServerConfig, inbound, tls_config};
use crate::db::Db;

/// A plain or TLS connection, so one session type serves every configuration.
#[derive(Debug)]
pub enum MailStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub type Session = async_imap::Session<MailStream>;

async fn tls_wrap(server: &ServerConfig, tcp: TcpStream) -> anyhow::Result<MailStream> {
    use tokio_rustls::rustls::pki_types::ServerName;
    let config = tls_config(server.ca_file.as_ref())?;
    let name = ServerName::try_from(server.host.clone()).context("server name for TLS")?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .context("TLS handshake with the IMAP server")?;
    Ok(MailStream::Tls(Box::new(stream)))
}

/// Connects and logs in.
pub async fn connect(server: &ServerConfig) -> anyhow::Result<Session> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(20),
        TcpStream::connect((server.host.as_str(), server.port)),
    )
    .await
    .context("IMAP connect timed out")?
    .context("IMAP connect")?;
    let client = match server.security {
        Security::Tls => {
            let mut client = async_imap::Client::new(tls_wrap(server, tcp).await?);
            client.read_response().await?.context("no IMAP greeting")?;
            client
        }
        Security::Plain => {
            let mut client = async_imap::Client::new(MailStream::Plain(tcp));
            client.read_response().await?.context("no IMAP greeting")?;
            client
        }
        Security::Starttls => {
            let mut client = async_imap::Client::new(MailStream::Plain(tcp));
            client.read_response().await?.context("no IMAP greeting")?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .context("STARTTLS")?;
            let MailStream::Plain(tcp) = client.into_inner() else {
                anyhow::bail!("STARTTLS over a TLS stream");
            };
            async_imap::Client::new(tls_wrap(server, tcp).await?)
        }
    };
    let user = server.user.clone().unwrap_or_default();
    let password = server.password.clone().unwrap_or_default();
    client
        .login(user, password)
        .await
        .map_err(|(e, _)| anyhow::anyhow!("IMAP login failed: {e}"))
}

/// The health of one fetched mailbox in this process, for `GET /metrics`.
#[derive(Debug, Clone, Default)]
pub struct MailboxHealth {
    /// Failed connections or rounds since the last good one.
    pub consecutive_failures: u64,
    /// When a round last completed (milliseconds since the epoch).
    pub last_success_ms: Option<i64>,
    /// The last attempt failed: the mailbox is not being read.
    pub unreachable: bool,
}

/// Mailbox label (`imap://host:port/folder`, no account name) → health.
static HEALTH: std::sync::LazyLock<
    std::sync::Mutex<std::collections::BTreeMap<String, MailboxHealth>>,
> = std::sync::LazyLock::new(Default::default);

/// A copy of every mailbox's health, by label.
pub fn mailbox_health() -> Vec<(String, MailboxHealth)> {
    HEALTH
        .lock()
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The fetcher of one folder.
pub struct Fetcher {
    pub db: Db,
    pub config: ImapConfig,
    pub policy: InboundPolicy,
    /// Messages fetched per round trip.
    pub batch: usize,
}

impl Fetcher {
    pub fn new(db: Db, config: ImapConfig, policy: InboundPolicy) -> Fetcher {
        Fetcher {
            db,
            config,
            policy,
            batch: 100,
        }
    }

    /// Runs until the task is dropped; reconnects with back-off (1 s doubling to 5 min). With
    /// several `serve` nodes, the one holding the folder's job lease fetches; the others wait.
    pub async fn run(self) {
        let mut delay = Duration::from_secs(1);
        let owner = format!("imap-{}", uuid::Uuid::new_v4().simple());
        loop {
            match self.holds_lease(&owner).await {
                Ok(true) => {}
                Ok(false) => {
                    tokio::time::sleep(Duration::from_secs(self.config.poll_seconds)).await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "IMAP fetcher: the job lease could not be read");
                    tokio::time::sleep(delay).await;
                    continue;
                }
            }
            match self.session_loop(&owner).await {
                Ok(()) => delay = Duration::from_secs(1),
                Err(e) => {
                    self.record(false);
                    tracing::error!(alert = "mailbox_unreachable", error = %e, retry_in_s = delay.as_secs(), "IMAP fetcher stopped; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(300));
                }
            }
        }
    }

    fn label(&self) -> String {
        format!(
            "imap://{}:{}/{}",
            self.config.server.host, self.config.server.port, self.config.folder
        )
    }

    /// Records the outcome of a connection or a round for the metrics.
    fn record(&self, ok: bool) {
        let Ok(mut all) = HEALTH.lock() else {
            return;
        };
        let health = all.entry(self.label()).or_default();
        if ok {
            health.consecutive_failures = 0;
            health.last_success_ms = Some(now_ms());
            health.unreachable = false;
        } else {
            health.consecutive_failures += 1;
            health.unreachable = true;
        }
    }

    /// Takes or renews the lease on this folder; it outlives one IDLE wait.
    async fn holds_lease(&self, owner: &str) -> anyhow::Result<bool> {
        let ttl_ms = i64::try_from(self.config.poll_seconds)
            .unwrap_or(3600)
            .saturating_mul(2_000)
            .saturating_add(60_000);
        crate::db::outbox::try_lease(
            &self.db,
            &format!("imap:{}", self.config.folder),
            owner,
            ttl_ms,
            now_ms(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))
    }

    async fn session_loop(&self, owner: &str) -> anyhow::Result<()> {
        let mut session = connect(&self.config.server).await?;
        let idle = session.capabilities().await?.has_str("IDLE");
        session.select(&self.config.folder).await?;
        inbound::process_pending(&self.db, &self.policy, now_ms())
            .await
            .map_err(|e| anyhow::anyhow!("processing stored messages: {e:?}"))?;
        loop {
            if !self.holds_lease(owner).await? {
                let _ = session.logout().await;
                return Ok(());
            }
            self.fetch_round(&mut session).await?;
            self.record(true);
            let wait = Duration::from_secs(self.config.poll_seconds);
            if idle {
                let mut handle = session.idle();
                handle.init().await?;
                let (done, _stop) = handle.wait_with_timeout(wait);
                done.await?;
                session = handle.done().await?;
            } else {
                tokio::time::sleep(wait).await;
                session.noop().await?;
            }
        }
    }

    /// Fetches, stores, applies and flags every unseen message; returns how many were handled.
    pub async fn fetch_round(&self, session: &mut Session) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let mut uids: Vec<u32> = session.uid_search("UNSEEN").await?.into_iter().collect();
            uids.sort_unstable();
            uids.truncate(self.batch);
            if uids.is_empty() {
                return Ok(total);
            }
            let set = uids
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let fetched: Vec<(u32, Vec<u8>)> = {
                let stream = session.uid_fetch(&set, "(UID BODY.PEEK[])").await?;
                let fetches: Vec<_> = stream.try_collect().await?;
                fetches
                    .iter()
                    .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
                    .collect()
            };
            // Stored and applied in one transaction (one commit for the batch); a database error
            // stops the round before flagging: the messages stay unseen and are fetched again
            // (stored once: unique key; applied once: the row's status).
            let source = format!("imap:{}", self.config.folder);
            let (fetched_uids, raws): (Vec<u32>, Vec<Vec<u8>>) = fetched.into_iter().unzip();
            if raws.is_empty() {
                return Ok(total);
            }
            let outcomes = inbound::ingest_batch(&self.db, &self.policy, raws, &source, now_ms())
                .await
                .map_err(|e| anyhow::anyhow!("storing and applying fetched messages: {e:?}"))?;
            let done: Vec<u32> = fetched_uids
                .iter()
                .zip(&outcomes)
                .filter(|(_, outcome)| outcome.is_some())
                .map(|(uid, _)| *uid)
                .collect();
            let not_stored = fetched_uids.len() - done.len();
            if !done.is_empty() {
                let done_set = done
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                self.acknowledge(session, &done_set).await?;
                total += done.len();
            }
            // Fetching again would bring the same messages back at once: stop the round (the
            // fetcher retries with back-off; the others of the batch are flagged).
            anyhow::ensure!(
                not_stored == 0,
                "{not_stored} fetched messages could not be stored; they stay unseen"
            );
        }
    }

    async fn acknowledge(&self, session: &mut Session, set: &str) -> anyhow::Result<()> {
        {
            let stream = session.uid_store(set, "+FLAGS.SILENT (\\Seen)").await?;
            let _: Vec<_> = stream.try_collect().await?;
        }
        if let Some(folder) = &self.config.done_folder {
            session.uid_mv(set, folder).await?;
        }
        Ok(())
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
