//! The e-mail channel (L2, L4, L6, A13).
//!
//! - `inbound`: every message (from `ventanilla mailgate` or the IMAP fetcher) is stored raw first
//!   (unique Message-ID, or a SHA-256 of the bytes), then parsed, then applied as a new request or
//!   a comment; a message that fails goes to the dead-letter list and never blocks the next one.
//! - `imap`: the fetcher; it flags (or moves) a message on the server only after it was applied.
//! - `outbound`: templates and the worker that delivers outbox rows over SMTP with back-off.
//! - `mime`: MIME → sender, subject, text, attachments, threading and loop markers.
//! - `templates`: the Spanish texts of the messages we send.

pub mod imap;
pub mod inbound;
pub mod mime;
pub mod outbound;
pub mod templates;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::db::Db;

/// How a connection to a mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// No TLS (loopback or a trusted network only).
    Plain,
    /// Upgrade with STARTTLS; fail when the server does not offer it.
    Starttls,
    /// TLS from the first byte (SMTPS 465, IMAPS 993).
    Tls,
}

/// The mail settings of `serve` and `mailgate`: flags or `VENTANILLA_…` variables.
#[derive(Debug, Clone, clap::Args)]
pub struct MailArgs {
    /// The address our mails come from and requesters write to (e.g. "CAU <cau@ipn.mx>").
    #[arg(long, env = "VENTANILLA_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// The domain of our Message-IDs; default: the domain of --mail-from.
    #[arg(long, env = "VENTANILLA_MAIL_DOMAIN")]
    pub mail_domain: Option<String>,
    /// A PEM file of extra CA certificates to trust for SMTP and IMAP (tests, private CAs).
    #[arg(long, env = "VENTANILLA_MAIL_CA_FILE")]
    pub mail_ca_file: Option<PathBuf>,
    /// Automatic answers to one sender per day, at most (loop protection).
    #[arg(
        long,
        env = "VENTANILLA_MAIL_MAX_PER_SENDER_PER_DAY",
        default_value_t = 20
    )]
    pub mail_max_per_sender_per_day: i64,
    /// Automatic answers about one request per hour, at most (loop protection).
    #[arg(
        long,
        env = "VENTANILLA_MAIL_MAX_PER_REQUEST_PER_HOUR",
        default_value_t = 5
    )]
    pub mail_max_per_request_per_hour: i64,

    /// SMTP server for outgoing mail; the outbox worker runs only when this is set.
    #[arg(long, env = "VENTANILLA_SMTP_HOST")]
    pub smtp_host: Option<String>,
    #[arg(long, env = "VENTANILLA_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    #[arg(
        long,
        env = "VENTANILLA_SMTP_SECURITY",
        value_enum,
        default_value = "starttls"
    )]
    pub smtp_security: Security,
    #[arg(long, env = "VENTANILLA_SMTP_USER")]
    pub smtp_user: Option<String>,
    #[arg(long, env = "VENTANILLA_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,

    /// IMAP server to fetch requests from; the fetcher runs only when this is set.
    #[arg(long, env = "VENTANILLA_IMAP_HOST")]
    pub imap_host: Option<String>,
    #[arg(long, env = "VENTANILLA_IMAP_PORT", default_value_t = 993)]
    pub imap_port: u16,
    #[arg(
        long,
        env = "VENTANILLA_IMAP_SECURITY",
        value_enum,
        default_value = "tls"
    )]
    pub imap_security: Security,
    #[arg(long, env = "VENTANILLA_IMAP_USER")]
    pub imap_user: Option<String>,
    #[arg(long, env = "VENTANILLA_IMAP_PASSWORD", hide_env_values = true)]
    pub imap_password: Option<String>,
    #[arg(long, env = "VENTANILLA_IMAP_FOLDER", default_value = "INBOX")]
    pub imap_folder: String,
    /// Move applied messages here instead of flagging them \Seen.
    #[arg(long, env = "VENTANILLA_IMAP_DONE_FOLDER")]
    pub imap_done_folder: Option<String>,
    /// Seconds between polls when the server has no IDLE (and the longest IDLE wait).
    #[arg(long, env = "VENTANILLA_IMAP_POLL_SECONDS", default_value_t = 60)]
    pub imap_poll_seconds: u64,

    /// When set, `GET /metrics` answers only to `Authorization: Bearer TOKEN`.
    #[arg(long, env = "VENTANILLA_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// A connection to one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub server: ServerConfig,
    pub folder: String,
    pub done_folder: Option<String>,
    pub poll_seconds: u64,
}

/// What inbound processing needs besides the database.
#[derive(Debug, Clone)]
pub struct InboundPolicy {
    /// Our own address (lower-cased): mail from it, or an X-Loop naming it, is our own coming back.
    pub own_address: String,
    pub max_attachment_bytes: usize,
    pub max_per_sender_per_day: i64,
    pub max_per_request_per_hour: i64,
}

impl Default for InboundPolicy {
    fn default() -> Self {
        InboundPolicy {
            own_address: "cau@ventanilla.localhost".into(),
            max_attachment_bytes: 10 * 1024 * 1024,
            max_per_sender_per_day: 20,
            max_per_request_per_hour: 5,
        }
    }
}

impl MailArgs {
    pub fn from_header(&self) -> String {
        self.mail_from
            .clone()
            .unwrap_or_else(|| "CAU <cau@ventanilla.localhost>".into())
    }

    /// The bare address of --mail-from.
    pub fn own_address(&self) -> String {
        bare_address(&self.from_header())
    }

    pub fn message_id_domain(&self) -> String {
        self.mail_domain.clone().unwrap_or_else(|| {
            self.own_address()
                .rsplit_once('@')
                .map(|(_, d)| d.to_string())
                .unwrap_or_else(|| "ventanilla.localhost".into())
        })
    }

    pub fn inbound_policy(&self, max_attachment_bytes: usize) -> InboundPolicy {
        InboundPolicy {
            own_address: self.own_address(),
            max_attachment_bytes,
            max_per_sender_per_day: self.mail_max_per_sender_per_day,
            max_per_request_per_hour: self.mail_max_per_request_per_hour,
        }
    }

    pub fn smtp(&self) -> Option<ServerConfig> {
        self.smtp_host.as_ref().map(|host| ServerConfig {
            host: host.clone(),
            port: self.smtp_port,
            security: self.smtp_security,
            user: self.smtp_user.clone(),
            password: self.smtp_password.clone(),
            ca_file: self.mail_ca_file.clone(),
        })
    }

    pub fn imap(&self) -> Option<ImapConfig> {
        self.imap_host.as_ref().map(|host| ImapConfig {
            server: ServerConfig {
                host: host.clone(),
                port: self.imap_port,
                security: self.imap_security,
                user: self.imap_user.clone(),
                password: self.imap_password.clone(),
                ca_file: self.mail_ca_file.clone(),
            },
            folder: self.imap_folder.clone(),
            done_folder: self.imap_done_folder.clone(),
            poll_seconds: self.imap_poll_seconds.max(1),
        })
    }
}

/// `"CAU <cau@x.mx>"` → `cau@x.mx`.
pub fn bare_address(header: &str) -> String {
    let inner = match (header.rfind('<'), header.rfind('>')) {
        (Some(open), Some(close)) if open < close => &header[open + 1..close],
        _ => header,
    };
    inner.trim().to_lowercase()
}

/// Records the sender identity in the database, so the acknowledgement written inside a
/// request's transaction (`db::requests::create`) uses our address and Message-ID domain.
/// Every `mailgate` process calls this: when nothing changed it costs a read, not a commit.
pub async fn save_settings(db: &Db, args: &MailArgs) -> crate::error::AppResult<()> {
    let wanted = [
        ("from", args.from_header()),
        ("message_id_domain", args.message_id_domain()),
    ];
    let stored: Vec<(String, String)> = sqlx::query_as("SELECT name, value FROM mail_settings")
        .fetch_all(db.read())
        .await?;
    let unchanged = wanted
        .iter()
        .all(|(name, value)| stored.iter().any(|(n, v)| n == name && v == value));
    if unchanged {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    for (name, value) in wanted {
        sqlx::query(
            "INSERT INTO mail_settings (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A rustls client configuration trusting the public roots plus `ca_file`.
pub fn tls_config(
    ca_file: Option<&PathBuf>,
) -> anyhow::Result<Arc<tokio_rustls::rustls::ClientConfig>> {
    use tokio_rustls::rustls::{
        self, RootCertStore, pki_types::CertificateDer, pki_types::pem::PemObject,
    };
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in CertificateDer::pem_file_iter(path)
            .with_context(|| format!("reading the CA file {}", path.display()))?
        {
            roots
                .add(cert.with_context(|| format!("a certificate in {}", path.display()))?)
                .context("adding a CA certificate")?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Starts the configured mail workers of `serve`: the outbox delivery over SMTP and the IMAP
/// fetcher. Each runs until the process ends.
pub async fn start_workers(
    db: &Db,
    args: &MailArgs,
    max_attachment_bytes: usize,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    save_settings(db, args)
        .await
        .map_err(|e| anyhow::anyhow!("saving the mail settings: {e:?}"))?;
    let mut tasks = Vec::new();
    if let Some(smtp) = args.smtp() {
        let worker = outbound::Worker::new(db.clone(), &smtp)?;
        tasks.push(tokio::spawn(worker.run()));
    }
    if let Some(config) = args.imap() {
        let fetcher = imap::Fetcher::new(
            db.clone(),
            config,
            args.inbound_policy(max_attachment_bytes),
        );
        tasks.push(tokio::spawn(fetcher.run()));
    }
    Ok(tasks)
}

/// `ventanilla mailgate`: one message on standard input (an MTA pipe). Exit status 0 once the
/// message is stored (even if it became a dead letter), 75 (EX_TEMPFAIL, the MTA retries) when it
/// could not be stored.
pub async fn mailgate(db: &Db, args: &MailArgs, max_attachment_bytes: usize) -> i32 {
    use tokio::io::AsyncReadExt;
    let mut raw = Vec::new();
    if let Err(e) = tokio::io::stdin().read_to_end(&mut raw).await {
        eprintln!("mailgate: no se pudo leer la entrada estándar: {e}");
        return 75;
    }
    if let Err(e) = save_settings(db, args).await {
        eprintln!("mailgate: {e:?}");
        return 75;
    }
    let policy = args.inbound_policy(max_attachment_bytes);
    let now = jiff::Timestamp::now().as_millisecond();
    match inbound::ingest(db, &policy, &raw, "mailgate", now).await {
        Ok(outcome) => {
            println!("{}", serde_json::to_string(&outcome).unwrap_or_default());
            0
        }
        Err(e) => {
            eprintln!("mailgate: el mensaje no se guardó; el MTA debe reintentar: {e:?}");
            75
        }
    }
}
