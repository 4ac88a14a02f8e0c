//! Inbound mail: store raw, then parse, then apply; a failure becomes a dead letter.
//!
//! Every message is stored raw under a unique key (the Message-ID, or a SHA-256 of the bytes when
//! there is none), so a message delivered or fetched twice is one row, and applied exactly once.
//! The message is parsed, and its sender looked up among the requesters, before anything is
//! written (outside SQLite's single writer). Then one transaction stores the raw row, locks it
//! and, in a savepoint, registers the request (idempotency key `mail:<row id>`) or adds the
//! comment, records the sender event and the acknowledgement and marks the row applied. When the
//! message itself is at fault (unreadable, too large, rejected, an error applying its data), the
//! savepoint is rolled back and the stored row becomes a dead letter in the same transaction: it
//! is kept either way and never blocks the next message. Nothing is acknowledged before the
//! commit: `mailgate` exits 0, and the IMAP fetcher flags a message, only after it; a crash before
//! it leaves nothing, so the message is delivered or fetched again and applied once.
//!
//! Commits are shared so that their flushes do not bound the rate: on SQLite concurrent ingests
//! of one process go through the group commit (`db::group_commit`), and an IMAP fetch stores and
//! applies its whole batch in one transaction (`ingest_all`): the messages that start requests
//! together, then the replies together, one statement per table for each batch, the others each
//! in its own savepoint.
//!
//! Threading: In-Reply-To, then References (against stored Message-IDs of inbound mail and of our
//! outbox), then `[SS-YYYY-NNNNNN]` in the subject — looked up inside the transaction, so a reply
//! threads to a message of the same batch. An unthreaded message becomes a request in the intake
//! queue (`received`, L4: registration waits for business hours), tied to the requester when the
//! sender's address is known; otherwise the sender is recorded in the event payload.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AssertSqlSafe, Connection, FromRow};
use ventanilla_domain::channel::Channel;
use ventanilla_domain::ids::RequesterId;
use ventanilla_domain::lifecycle::Actor;

use super::InboundPolicy;
use super::mime::{self, MailAttachment, ParsedMail};
use super::outbound::{self, AcknowledgementFacts, ReplyTo};
use crate::db::registration::{self, Registration};
use crate::db::requests::{self, EventRecord, NewRequest};
use crate::db::{
    Db, Engine, ROWS_PER_STATEMENT, bind_list, id_list, padded_values, row_blocks, value_rows,
};
use crate::error::{AppError, AppResult};

/// The largest raw message accepted; anything bigger is a dead letter (stored, not parsed).
pub const MAX_RAW_BYTES: usize = 40 * 1024 * 1024;

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub inbound_id: i64,
    /// request, comment, bounce, loop, dead
    pub outcome: String,
    pub request_number: Option<String>,
    /// True when this call did the work; false when an earlier one had (a duplicate).
    pub fresh: bool,
}

/// Why a message becomes a dead letter. `kind` (too_large, unreadable, rejected, apply_error) is
/// what the metrics count by; `reason` is Spanish and names no content.
#[derive(Debug, Clone)]
struct Rejection {
    kind: &'static str,
    reason: String,
}

/// A message read before anything is written: its storage key and sender, its parsed form (or
/// why it cannot be read) and the requester whose address sent it.
struct Prepared {
    raw: Vec<u8>,
    key: String,
    message_id: Option<String>,
    sender: Option<String>,
    parsed: Result<ParsedMail, Rejection>,
    known_requester: Option<i64>,
}

impl Prepared {
    /// Parses `raw` (CPU only).
    fn read(raw: Vec<u8>) -> Prepared {
        let header_bytes = &raw[..raw.len().min(256 * 1024)];
        let headers = mail_parser::MessageParser::default().parse_headers(header_bytes);
        let message_id = headers
            .as_ref()
            .and_then(|m| m.message_id())
            .map(mime::normalise_id)
            .filter(|m| !m.is_empty() && m.len() <= 900);
        let sender = headers
            .as_ref()
            .and_then(|m| m.from())
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|a| a.trim().to_lowercase());
        let key = match &message_id {
            Some(id) => format!("mid:{id}"),
            None => format!("sha256:{:x}", Sha256::digest(&raw)),
        };
        let parsed = if raw.len() > MAX_RAW_BYTES {
            Err(Rejection {
                kind: "too_large",
                reason: "mensaje demasiado grande".into(),
            })
        } else {
            mime::parse(&raw).map_err(|unreadable| Rejection {
                kind: "unreadable",
                reason: unreadable.0,
            })
        };
        Prepared {
            raw,
            key,
            message_id,
            sender,
            parsed,
            known_requester: None,
        }
    }

    /// Parses `raw` and looks its sender up among the requesters (on the read pool: requesters
    /// are not written by ingest, so reading them before the transaction sees the same rows).
    async fn read_and_identify(db: &Db, raw: Vec<u8>) -> AppResult<Prepared> {
        let mut message = Prepared::read(raw);
        if let Ok(mail) = &message.parsed {
            message.known_requester = sqlx::query_scalar(
                "SELECT id FROM requesters WHERE lower(email) = $1 ORDER BY id LIMIT 1",
            )
            .bind(&mail.from)
            .fetch_optional(db.read())
            .await?;
        }
        Ok(message)
    }
}

/// Stores a raw message without applying it; returns its row id (the existing one for a
/// duplicate). `ingest` stores and applies in one transaction; this is for a caller that only
/// keeps the bytes (and for tests of a crash between storing and applying).
pub async fn store(db: &Db, raw: &[u8], source: &str, now_ms: i64) -> AppResult<i64> {
    let message = Prepared::read(raw.to_vec());
    let mut conn = db.write().acquire().await?;
    Ok(store_in(&mut conn, &message, source, now_ms).await?.0)
}

/// Inserts the raw row; returns its id and whether this call inserted it (false: it was stored
/// before).
async fn store_in(
    conn: &mut AnyConnection,
    message: &Prepared,
    source: &str,
    now_ms: i64,
) -> AppResult<(i64, bool)> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO mail_inbound (message_key, message_id, source, sender, raw, size_bytes, status,
            auto_answered, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'stored', 0, $7)
         ON CONFLICT (message_key) DO NOTHING RETURNING id",
    )
    .bind(&message.key)
    .bind(&message.message_id)
    .bind(source)
    .bind(&message.sender)
    .bind(&message.raw)
    .bind(i64::try_from(message.raw.len()).unwrap_or(i64::MAX))
    .bind(now_ms)
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(id) => Ok((id, true)),
        None => Ok((
            sqlx::query_scalar("SELECT id FROM mail_inbound WHERE message_key = $1")
                .bind(&message.key)
                .fetch_one(&mut *conn)
                .await?,
            false,
        )),
    }
}

/// Stores and applies one message (the mailgate path); returns once the commit is durable.
/// Concurrent calls share commits (SQLite's group commit; PostgreSQL's WAL flush).
pub async fn ingest(
    db: &Db,
    policy: &InboundPolicy,
    raw: &[u8],
    source: &str,
    now_ms: i64,
) -> AppResult<Outcome> {
    let message = Arc::new(Prepared::read_and_identify(db, raw.to_vec()).await?);
    let outcome = match db.group_commit() {
        Some(group) => group
            .ingest(MailToIngest {
                message,
                policy: policy.clone(),
                source: source.to_string(),
                now_ms,
            })
            .await?
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("the message could not be stored"))
            })?,
        None => ingest_one(db, policy, message, source, now_ms).await?,
    };
    alert_if_dead(&outcome);
    Ok(outcome)
}

/// A message waiting to be stored and applied in a transaction it shares with others (SQLite's
/// group commit, an IMAP fetch).
pub struct MailToIngest {
    message: Arc<Prepared>,
    policy: InboundPolicy,
    source: String,
    now_ms: i64,
}

/// What a shared transaction's messages became (`ingest_all`).
pub(crate) struct Ingested {
    /// In order: the outcome of each message that is stored (dead letters included), `None` for
    /// one that could not even be stored.
    pub outcomes: Vec<Option<Outcome>>,
    /// A batch's statement failed, and its messages were applied one by one instead.
    pub batch_failed: bool,
}

/// Stores and applies `mails` inside the caller's transaction, in two batches (see `batches`),
/// each with one statement per table for all its messages, in a savepoint: first the messages
/// that start requests (`start_together`), then the replies (`reply_together`). The others
/// (reports, our own mail, duplicates, unreadable messages, a reply to a message of the same
/// transaction), and all of a batch's messages if its savepoint fails, go one by one after the
/// batches, each in a savepoint of its own (`ingest_in_savepoint`): a reply finds the request
/// its parent started in the same transaction, and within one transaction the batch's requests
/// take their numbers (and the last answers a sender's daily cap allows) before the others'. Of
/// two different messages with one Message-ID, the one in a batch is stored; the other is its
/// duplicate. An `Err` only when the database itself is gone.
pub(crate) async fn ingest_all(
    conn: &mut AnyConnection,
    engine: Engine,
    mails: &[MailToIngest],
) -> AppResult<Ingested> {
    let mut outcomes: Vec<Option<Option<Outcome>>> = mails.iter().map(|_| None).collect();
    let (starting, replying) = batches(mails);
    let mut batch_failed = false;
    for (kind, indices) in [(Batch::Starting, starting), (Batch::Replying, replying)] {
        if indices.len() < 2 {
            continue;
        }
        match in_batch_savepoint(conn, mails, kind, &indices).await? {
            Some(applied) => {
                for (index, outcome) in applied {
                    outcomes[index] = Some(Some(outcome));
                }
            }
            None => batch_failed = true,
        }
    }
    for (index, m) in mails.iter().enumerate() {
        if outcomes[index].is_none() {
            let outcome =
                ingest_in_savepoint(conn, engine, &m.policy, &m.message, &m.source, m.now_ms)
                    .await?;
            outcomes[index] = Some(outcome);
        }
    }
    Ok(Ingested {
        outcomes: outcomes.into_iter().map(Option::flatten).collect(),
        batch_failed,
    })
}

/// The two kinds of messages applied together.
#[derive(Debug, Clone, Copy)]
enum Batch {
    /// Messages that start requests (`start_together`).
    Starting,
    /// Replies: comments on the requests they thread to (`reply_together`).
    Replying,
}

/// The messages that may be applied together, in two batches, each key once: those that start
/// requests (readable, not ours, not a report, naming no earlier message and no request number)
/// and replies (the same, but naming an earlier message or a request number — though no message
/// of this transaction, whose request is only known once it is applied).
fn batches(mails: &[MailToIngest]) -> (Vec<usize>, Vec<usize>) {
    let names_thread = |mail: &ParsedMail| {
        !mail.in_reply_to.is_empty()
            || !mail.references.is_empty()
            || mime::number_in_subject(&mail.subject).is_some()
    };
    fn readable(m: &MailToIngest) -> Option<&ParsedMail> {
        match &m.message.parsed {
            Ok(mail) if !is_our_own(mail, &m.policy) && mail.bounce_of.is_none() => Some(mail),
            _ => None,
        }
    }
    // A message here is applied only during this call: a reply to it waits until it is.
    let here: HashSet<&str> = mails
        .iter()
        .filter_map(|m| m.message.message_id.as_deref())
        .collect();
    let mut keys = HashSet::new();
    let (mut starting, mut replying) = (Vec::new(), Vec::new());
    for (index, m) in mails.iter().enumerate() {
        let Some(mail) = readable(m) else {
            continue;
        };
        let mut parents = mail.in_reply_to.iter().chain(&mail.references);
        if parents.any(|parent| here.contains(parent.as_str()))
            || !keys.insert(m.message.key.as_str())
        {
            continue;
        }
        if names_thread(mail) {
            replying.push(index);
        } else {
            starting.push(index);
        }
    }
    (starting, replying)
}

/// Applies the messages `indices` as one batch in a savepoint; `None` when a statement failed
/// (the savepoint is rolled back and the messages are left to be applied one by one).
async fn in_batch_savepoint(
    conn: &mut AnyConnection,
    mails: &[MailToIngest],
    kind: Batch,
    indices: &[usize],
) -> AppResult<Option<Vec<(usize, Outcome)>>> {
    let mut savepoint = conn.begin().await?;
    let applied = match kind {
        Batch::Starting => start_together(&mut savepoint, mails, indices).await,
        Batch::Replying => reply_together(&mut savepoint, mails, indices).await,
    };
    let error = match applied {
        Ok(applied) => {
            savepoint.commit().await?;
            return Ok(Some(applied));
        }
        Err(error) => error,
    };
    savepoint.rollback().await?;
    if let AppError::Internal(e) = &error
        && is_connection_failure(e)
    {
        return Err(error);
    }
    let cause = error.log_cause();
    tracing::warn!(
        error = %cause,
        batch = ?kind,
        messages = indices.len(),
        "a batch of inbound messages failed; each is applied alone"
    );
    Ok(None)
}

/// Stores the replies `indices` and adds each one that threads to a request as its comment;
/// answers the index and outcome of those. One stored before, or threading to nothing, is left
/// to `ingest_in_savepoint` (which starts a request for the latter).
async fn reply_together(
    conn: &mut AnyConnection,
    mails: &[MailToIngest],
    indices: &[usize],
) -> AppResult<Vec<(usize, Outcome)>> {
    let stored = store_new(conn, mails, indices).await?;
    let parsed: Vec<(i64, &ParsedMail)> = stored
        .iter()
        .map(|&(_, inbound_id, mail)| (inbound_id, mail))
        .collect();
    let threads = find_threads(conn, &parsed).await?;
    let mut threaded = Vec::with_capacity(stored.len());
    let mut comments = Vec::with_capacity(stored.len());
    for (&(index, inbound_id, mail), thread) in stored.iter().zip(threads) {
        let Some((request_id, number)) = thread else {
            continue;
        };
        let m = &mails[index];
        threaded.push(index);
        comments.push(Threaded {
            inbound_id,
            mail,
            known: m.message.known_requester,
            policy: &m.policy,
            now_ms: m.now_ms,
            request_id,
            number,
        });
    }
    let outcomes = add_comments(conn, &comments).await?;
    Ok(threaded.into_iter().zip(outcomes).collect())
}

/// Stores the messages `together` and starts their requests; answers the index and outcome of
/// each one stored here (one stored before is left to `ingest_in_savepoint`).
async fn start_together(
    conn: &mut AnyConnection,
    mails: &[MailToIngest],
    together: &[usize],
) -> AppResult<Vec<(usize, Outcome)>> {
    let stored = store_new(conn, mails, together).await?;
    let mut unthreaded = Vec::with_capacity(stored.len());
    for &(index, inbound_id, mail) in &stored {
        let m = &mails[index];
        unthreaded.push(Unthreaded {
            inbound_id,
            mail,
            known: m.message.known_requester,
            policy: &m.policy,
            received_at: m.now_ms,
            now_ms: m.now_ms,
            earlier: None,
        });
    }
    let outcomes = start_requests(conn, &unthreaded).await?;
    Ok(stored
        .into_iter()
        .map(|(index, _, _)| index)
        .zip(outcomes)
        .collect())
}

/// Inserts the raw rows of `indices` (readable messages: a batch holds no other); answers the
/// index, row id and parsed message of each one inserted (a message stored before is not).
async fn store_new<'m>(
    conn: &mut AnyConnection,
    mails: &'m [MailToIngest],
    indices: &[usize],
) -> AppResult<Vec<(usize, i64, &'m ParsedMail)>> {
    let mut stored = Vec::with_capacity(indices.len());
    for block in row_blocks(indices.len()) {
        let chunk = &indices[block.rows.clone()];
        let sql = format!(
            "INSERT INTO mail_inbound (message_key, message_id, source, sender, raw, size_bytes,
                received_at, status, auto_answered)
             {} ON CONFLICT (message_key) DO NOTHING RETURNING id, message_key",
            padded_values(conn, block.padded(), 7, ", 'stored', 0")
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(sql));
        for m in chunk.iter().map(|index| &mails[*index]) {
            query = query
                .bind(Some(m.message.key.as_str()))
                .bind(m.message.message_id.as_deref())
                .bind(m.source.as_str())
                .bind(m.message.sender.as_deref())
                .bind(m.message.raw.as_slice())
                .bind(i64::try_from(m.message.raw.len()).unwrap_or(i64::MAX))
                .bind(m.now_ms);
        }
        for _ in 0..block.padding() {
            let nothing: &[u8] = &[];
            query = query
                .bind(None::<&str>)
                .bind(None::<&str>)
                .bind("")
                .bind(None::<&str>)
                .bind(nothing)
                .bind(0_i64)
                .bind(0_i64);
        }
        let by_key: HashMap<&str, usize> = chunk
            .iter()
            .map(|index| (mails[*index].message.key.as_str(), *index))
            .collect();
        for (id, key) in query.fetch_all(&mut *conn).await? {
            let index = by_key
                .get(key.as_str())
                .ok_or_else(|| anyhow::anyhow!("a stored message was not in the batch"))?;
            stored.push((*index, id));
        }
    }
    stored.sort_unstable();
    stored
        .into_iter()
        .map(|(index, id)| match &mails[index].message.parsed {
            Ok(mail) => Ok((index, id, mail)),
            Err(_) => Err(anyhow::anyhow!("an unreadable message in a batch").into()),
        })
        .collect()
}

/// `ingest_in` in a write transaction of its own (a savepoint of the next group commit, on
/// SQLite); a rejected message is stored as a dead letter in a second one.
async fn ingest_one(
    db: &Db,
    policy: &InboundPolicy,
    message: Arc<Prepared>,
    source: &str,
    now_ms: i64,
) -> AppResult<Outcome> {
    let engine = db.engine;
    let applied = {
        let (policy, message, source) = (policy.clone(), message.clone(), source.to_string());
        in_write_transaction(db, move |conn| {
            Box::pin(
                async move { ingest_in(conn, engine, &policy, &message, &source, now_ms).await },
            )
        })
        .await
    };
    match applied {
        Err(error) => match rejection_of(&error) {
            Some(rejection) => {
                let source = source.to_string();
                in_write_transaction(db, move |conn| {
                    Box::pin(async move {
                        let (id, _) = store_in(conn, &message, &source, now_ms).await?;
                        dead_letter_in(conn, id, rejection.kind, &rejection.reason, now_ms).await
                    })
                })
                .await
            }
            None => Err(error),
        },
        outcome => outcome,
    }
}

/// Runs `work` in a write transaction of its own — on SQLite, a savepoint of the next group
/// commit — and answers once that is committed. An `Err` rolls back what `work` wrote.
async fn in_write_transaction<T, F>(db: &Db, work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, AppResult<T>> + Send + 'static,
{
    if let Some(group) = db.group_commit() {
        return group.run(work).await;
    }
    let mut tx = db.begin_write().await?;
    match work(&mut tx).await {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            // The error that matters is the work's; a failed rollback ends with the connection.
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

/// Messages of one IMAP fetch stored and applied per transaction, on both engines: one commit (a
/// disk flush) serves them all, written in batches (`ingest_all`: about a dozen statements for
/// the messages that start requests, as many for the replies). On PostgreSQL the batch holds its
/// year's counter row from taking its numbers until the commit, so another registration of the
/// desk waits at most for the rest of one such transaction (docs/PERFORMANCE.md, «Mail ingest»).
const MESSAGES_PER_TRANSACTION: usize = 25;

/// Stores and applies the messages of one IMAP fetch, several to a transaction (in batches, see
/// `ingest_all`). Answers, in order, the outcome of every message that is stored (including
/// the dead letters) and `None` for one that could not even be stored (it must not be flagged on
/// the server, so it is fetched again). An error stops at the transaction it happened in; what
/// earlier ones committed comes back as duplicates when fetched again.
pub async fn ingest_batch(
    db: &Db,
    policy: &InboundPolicy,
    raws: Vec<Vec<u8>>,
    source: &str,
    now_ms: i64,
) -> AppResult<Vec<Option<Outcome>>> {
    let mut messages = Vec::with_capacity(raws.len());
    for raw in raws {
        messages.push(Arc::new(Prepared::read_and_identify(db, raw).await?));
    }
    let mut outcomes = Vec::with_capacity(messages.len());
    for chunk in messages.chunks(MESSAGES_PER_TRANSACTION) {
        let mails: Vec<MailToIngest> = chunk
            .iter()
            .map(|message| MailToIngest {
                message: message.clone(),
                policy: policy.clone(),
                source: source.to_string(),
                now_ms,
            })
            .collect();
        let mut tx = db.begin_write().await?;
        let stored = ingest_all(&mut tx, db.engine, &mails).await?;
        tx.commit().await?;
        outcomes.extend(stored.outcomes);
    }
    for outcome in outcomes.iter().flatten() {
        alert_if_dead(outcome);
    }
    Ok(outcomes)
}

/// One message of a batch in its own savepoint of the caller's transaction.
async fn ingest_in_savepoint(
    conn: &mut AnyConnection,
    engine: Engine,
    policy: &InboundPolicy,
    message: &Prepared,
    source: &str,
    now_ms: i64,
) -> AppResult<Option<Outcome>> {
    let mut savepoint = conn.begin().await?;
    let error = match ingest_in(&mut savepoint, engine, policy, message, source, now_ms).await {
        Ok(outcome) => {
            savepoint.commit().await?;
            return Ok(Some(outcome));
        }
        Err(error) => error,
    };
    savepoint.rollback().await?;
    let Some(rejection) = rejection_of(&error) else {
        return not_stored(error);
    };
    let mut savepoint = conn.begin().await?;
    let (id, _) = store_in(&mut savepoint, message, source, now_ms).await?;
    let outcome = dead_letter_in(
        &mut savepoint,
        id,
        rejection.kind,
        &rejection.reason,
        now_ms,
    )
    .await?;
    savepoint.commit().await?;
    Ok(Some(outcome))
}

/// A message of a batch that could not be stored: `None` (it stays on the server), unless the
/// database itself is gone, which stops the batch.
fn not_stored(error: AppError) -> AppResult<Option<Outcome>> {
    match error {
        AppError::Internal(e) if is_connection_failure(&e) => Err(AppError::Internal(e)),
        error => {
            tracing::error!(
                error = ?error,
                alert = "mail_not_stored",
                "an inbound message could not be stored; it stays on the server"
            );
            Ok(None)
        }
    }
}

/// Stores `message` (or finds it stored) and applies it once, inside the caller's transaction.
async fn ingest_in(
    conn: &mut AnyConnection,
    engine: Engine,
    policy: &InboundPolicy,
    message: &Prepared,
    source: &str,
    now_ms: i64,
) -> AppResult<Outcome> {
    let (id, inserted) = store_in(conn, message, source, now_ms).await?;
    let row = if inserted {
        // Just inserted by this transaction: nobody else sees it, so there is nothing to lock
        // or to read back.
        InboundRow {
            status: "stored".into(),
            outcome: None,
            request_id: None,
            received_at: now_ms,
        }
    } else {
        lock_row(conn, engine, id).await?
    };
    apply_row(conn, policy, id, row, inserted, message, now_ms).await
}

#[derive(FromRow)]
struct InboundRow {
    status: String,
    outcome: Option<String>,
    request_id: Option<i64>,
    received_at: i64,
}

/// Locks a stored row, so that a concurrent worker (another node, on PostgreSQL) waits and then
/// sees it applied. SQLite's writer is already exclusive.
async fn lock_row(conn: &mut AnyConnection, engine: Engine, id: i64) -> AppResult<InboundRow> {
    let sql = match engine {
        Engine::Postgres => {
            "SELECT status, outcome, request_id, received_at FROM mail_inbound WHERE id = $1 FOR UPDATE"
        }
        Engine::Sqlite => {
            "SELECT status, outcome, request_id, received_at FROM mail_inbound WHERE id = $1"
        }
    };
    Ok(sqlx::query_as(sql).bind(id).fetch_one(&mut *conn).await?)
}

/// Applying failed for the message's own sake (its data was rejected, or applying it failed with
/// something other than a lost database). What it wrote must be rolled back; then the stored row
/// becomes a dead letter, in a savepoint or transaction of its own.
#[derive(Debug)]
struct Rejected(Rejection);

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "inbound message rejected ({}): {}",
            self.0.kind, self.0.reason
        )
    }
}

impl std::error::Error for Rejected {}

fn rejection_of(error: &AppError) -> Option<Rejection> {
    match error {
        AppError::Internal(e) => e.downcast_ref::<Rejected>().map(|r| r.0.clone()),
        AppError::Problem(_) => None,
    }
}

/// Applies the stored row `id` (its state `row`, its bytes in `message`) once, inside the
/// caller's transaction. A row already applied answers its outcome (`fresh: false`); an
/// unreadable message becomes a dead letter here; one whose applying fails answers `Rejected`
/// (the caller rolls back and stores the dead letter). Other errors are the database's.
async fn apply_row(
    conn: &mut AnyConnection,
    policy: &InboundPolicy,
    id: i64,
    row: InboundRow,
    newly_stored: bool,
    message: &Prepared,
    now_ms: i64,
) -> AppResult<Outcome> {
    if row.status == "applied" {
        return Ok(Outcome {
            inbound_id: id,
            outcome: row.outcome.unwrap_or_default(),
            request_number: number_of(conn, row.request_id).await?,
            fresh: false,
        });
    }
    let mail = match &message.parsed {
        Ok(mail) => mail,
        Err(rejection) => {
            return dead_letter_in(conn, id, rejection.kind, &rejection.reason, now_ms).await;
        }
    };
    let applied = apply(
        conn,
        policy,
        id,
        mail,
        message.known_requester,
        row.received_at,
        newly_stored,
        now_ms,
    )
    .await;
    let rejection = match applied {
        Ok(outcome) => {
            // Only a dead letter has one to resolve.
            if row.status == "dead" {
                sqlx::query(
                    "UPDATE mail_dead_letters SET resolved_at = $1 WHERE inbound_id = $2 AND resolved_at IS NULL",
                )
                .bind(now_ms)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            return Ok(outcome);
        }
        Err(AppError::Problem(p)) => Rejection {
            kind: "rejected",
            reason: format!("no se pudo aplicar: {}", p.detail),
        },
        // A database that is down is not the message's fault: nothing is committed, and the
        // message comes again (the MTA retries, the IMAP message stays unseen).
        Err(AppError::Internal(e)) if is_connection_failure(&e) => {
            return Err(AppError::Internal(e));
        }
        Err(AppError::Internal(e)) => Rejection {
            kind: "apply_error",
            reason: format!("error al aplicar: {e}").chars().take(500).collect(),
        },
    };
    Err(AppError::Internal(anyhow::Error::new(Rejected(rejection))))
}

fn is_connection_failure(e: &anyhow::Error) -> bool {
    e.downcast_ref::<sqlx::Error>().is_some_and(|e| {
        matches!(
            e,
            sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Tls(_)
        )
    })
}

/// Parses and applies a stored row once (a row stored but never applied, a dead letter retried),
/// in its own transaction. A message already applied answers its outcome; one that fails goes to
/// the dead-letter list (and answers `dead`), never an error that would stop the caller from going
/// on to the next message. Errors are only those of the database itself.
pub async fn process(db: &Db, policy: &InboundPolicy, id: i64, now_ms: i64) -> AppResult<Outcome> {
    let raw: Vec<u8> = sqlx::query_scalar("SELECT raw FROM mail_inbound WHERE id = $1")
        .bind(id)
        .fetch_one(db.write())
        .await?;
    let message = Prepared::read_and_identify(db, raw).await?;
    let (engine, policy) = (db.engine, policy.clone());
    let applied = in_write_transaction(db, move |conn| {
        Box::pin(async move {
            let row = lock_row(conn, engine, id).await?;
            apply_row(conn, &policy, id, row, false, &message, now_ms).await
        })
    })
    .await;
    let outcome = match applied {
        Err(error) => match rejection_of(&error) {
            Some(rejection) => {
                in_write_transaction(db, move |conn| {
                    Box::pin(async move {
                        dead_letter_in(conn, id, rejection.kind, &rejection.reason, now_ms).await
                    })
                })
                .await?
            }
            None => return Err(error),
        },
        Ok(outcome) => outcome,
    };
    alert_if_dead(&outcome);
    Ok(outcome)
}

/// Rows stored but never processed (the process stopped in between): processes them now.
pub async fn process_pending(db: &Db, policy: &InboundPolicy, now_ms: i64) -> AppResult<usize> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM mail_inbound WHERE status = 'stored' ORDER BY id LIMIT 1000",
    )
    .fetch_all(db.read())
    .await?;
    for id in &ids {
        process(db, policy, *id, now_ms).await?;
    }
    Ok(ids.len())
}

/// The alert of a new dead letter, once it is committed: no sender, subject or content, only the
/// row to look at.
fn alert_if_dead(outcome: &Outcome) {
    if outcome.outcome == "dead" && outcome.fresh {
        tracing::warn!(
            inbound_id = outcome.inbound_id,
            alert = "mail_dead_letter",
            "inbound mail moved to the dead-letter list"
        );
    }
}

async fn number_of(conn: &mut AnyConnection, request_id: Option<i64>) -> AppResult<Option<String>> {
    let Some(id) = request_id else {
        return Ok(None);
    };
    Ok(
        sqlx::query_scalar("SELECT number FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

async fn dead_letter_in(
    conn: &mut AnyConnection,
    id: i64,
    kind: &str,
    reason: &str,
    now_ms: i64,
) -> AppResult<Outcome> {
    sqlx::query(
        "INSERT INTO mail_dead_letters (inbound_id, reason, reason_kind, attempts, created_at, last_attempt_at)
         VALUES ($1, $2, $4, 1, $3, $3)
         ON CONFLICT (inbound_id) DO UPDATE SET reason = excluded.reason, reason_kind = excluded.reason_kind,
            attempts = mail_dead_letters.attempts + 1, last_attempt_at = excluded.last_attempt_at,
            resolved_at = NULL",
    )
    .bind(id)
    .bind(reason)
    .bind(now_ms)
    .bind(kind)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE mail_inbound SET status = 'dead', outcome = 'dead' WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(Outcome {
        inbound_id: id,
        outcome: "dead".into(),
        request_number: None,
        fresh: true,
    })
}

/// `newly_stored`: the row was inserted by this transaction, so no request can carry its
/// idempotency key yet.
#[expect(clippy::too_many_arguments, reason = "one message's worth of facts")]
async fn apply(
    conn: &mut AnyConnection,
    policy: &InboundPolicy,
    id: i64,
    mail: &ParsedMail,
    known: Option<i64>,
    received_at: i64,
    newly_stored: bool,
    now_ms: i64,
) -> AppResult<Outcome> {
    if is_our_own(mail, policy) {
        return finish_simple(conn, id, "loop", None, now_ms).await;
    }
    if let Some(bounced) = &mail.bounce_of {
        let mut request_id = None;
        for message_id in bounced {
            let hit: Option<Option<i64>> = sqlx::query_scalar(
                "UPDATE outbox SET status = 'failed', last_error = $1, lease_owner = NULL, lease_until = NULL
                 WHERE message_id = $2 RETURNING request_id",
            )
            .bind("rebotado: el servidor de destino devolvió el mensaje")
            .bind(message_id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(r) = hit {
                request_id = request_id.or(r);
            }
        }
        let outcome = if bounced.is_empty() {
            "report"
        } else {
            "bounce"
        };
        return finish_simple(conn, id, outcome, request_id, now_ms).await;
    }

    if let Some(Some((request_id, number))) = find_threads(conn, &[(id, mail)]).await?.pop() {
        return add_comments(
            conn,
            &[Threaded {
                inbound_id: id,
                mail,
                known,
                policy,
                now_ms,
                request_id,
                number,
            }],
        )
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no outcome for the message").into());
    }

    // A request registered by an earlier version, which committed it before applying the mail
    // (an e-mail request: a key some API client chose is not this message's request).
    let earlier: Option<i64> = if newly_stored {
        None
    } else {
        sqlx::query_scalar(
            "SELECT id FROM requests WHERE idempotency_key = $1 AND channel = 'email'",
        )
        .bind(mail_request_key(id))
        .fetch_optional(&mut *conn)
        .await?
    };
    start_requests(
        conn,
        &[Unthreaded {
            inbound_id: id,
            mail,
            known,
            policy,
            received_at,
            now_ms,
            earlier,
        }],
    )
    .await?
    .pop()
    .ok_or_else(|| anyhow::anyhow!("no outcome for the message").into())
}

/// Our own mail coming back (a forward loop, or a copy of what we sent).
fn is_our_own(mail: &ParsedMail, policy: &InboundPolicy) -> bool {
    mail.from == policy.own_address || mail.x_loop.iter().any(|l| l.contains(&policy.own_address))
}

/// The idempotency key of the request a message starts.
fn mail_request_key(inbound_id: i64) -> String {
    format!("mail:{inbound_id}")
}

/// A stored message that threads to no request: it starts one.
struct Unthreaded<'a> {
    inbound_id: i64,
    mail: &'a ParsedMail,
    known: Option<i64>,
    policy: &'a InboundPolicy,
    received_at: i64,
    now_ms: i64,
    /// The request an earlier version registered for it, if any (see `apply`).
    earlier: Option<i64>,
}

/// Registers the requests of unthreaded messages (intake queue, L4) and records for each the
/// sender event, its attachments, the acknowledgement (within the loop caps) and the applied
/// row — one statement per table for the whole batch. An `Err` means the caller rolls back.
async fn start_requests(
    conn: &mut AnyConnection,
    mails: &[Unthreaded<'_>],
) -> AppResult<Vec<Outcome>> {
    let jobs: Vec<Registration> = mails
        .iter()
        .filter(|m| m.earlier.is_none())
        .map(|m| Registration {
            new: new_request_of(m),
            actor: Actor::Requester,
            now_ms: m.now_ms,
        })
        .collect();
    let mut registered = registration::register(conn, &jobs).await?.into_iter();
    let mut requests = Vec::with_capacity(mails.len());
    for m in mails {
        requests.push(match m.earlier {
            Some(request_id) => {
                let number = number_of(conn, Some(request_id))
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("a message's earlier request was not found"))?;
                (request_id, number)
            }
            None => {
                let done = registered
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("a message's request was not registered"))??;
                (done.request_id, done.number.to_string())
            }
        });
    }

    let events: Vec<EventRecord<'_>> = mails
        .iter()
        .zip(&requests)
        .map(|(m, (request_id, _))| EventRecord {
            request_id: *request_id,
            at: m.now_ms,
            actor: Actor::Requester,
            kind: "mail_received",
            from: None,
            to: None,
            payload: mail_event_payload("mail_received", m.mail, m.known, m.inbound_id, m.policy),
            reason: None,
        })
        .collect();
    requests::insert_events(conn, &events).await?;
    if mails
        .iter()
        .any(|m| !kept_attachments(m.mail, m.policy).is_empty())
    {
        let request_ids: Vec<i64> = requests.iter().map(|(id, _)| *id).collect();
        let event_ids = mail_events_of(conn, &request_ids).await?;
        for (m, (request_id, _)) in mails.iter().zip(&requests) {
            let event_id = event_ids
                .get(request_id)
                .ok_or_else(|| anyhow::anyhow!("a message's event was not found"))?;
            insert_attachments(conn, *request_id, *event_id, m.mail, m.policy, m.now_ms).await?;
        }
    }

    let answered = within_caps(conn, mails, &requests).await?;
    let mut acknowledged = Vec::new();
    for ((m, (request_id, number)), answer) in mails.iter().zip(&requests).zip(&answered) {
        if !answer {
            continue;
        }
        let reply = ReplyTo {
            recipient: &m.mail.from,
            message_id: m.mail.message_id.as_deref(),
        };
        match m.earlier {
            // Read back from the request, whose subject and service an earlier version set.
            Some(_) => {
                outbound::enqueue_acknowledgement(conn, *request_id, &[], reply, m.now_ms).await?;
            }
            None => acknowledged.push(AcknowledgementFacts {
                request_id: *request_id,
                number,
                subject: registered_subject(m.mail),
                service: None,
                attention_policy: None,
                missing: &[],
                reply,
            }),
        }
    }
    if let Some(first) = mails.first()
        && !acknowledged.is_empty()
    {
        outbound::enqueue_acknowledgements(conn, &acknowledged, first.now_ms).await?;
    }

    let applied: Vec<Applied<'_>> = mails
        .iter()
        .zip(&requests)
        .zip(&answered)
        .map(|((m, (request_id, _)), answer)| Applied {
            inbound_id: m.inbound_id,
            outcome: "request",
            request_id: Some(*request_id),
            auto_answered: *answer,
            now_ms: m.now_ms,
        })
        .collect();
    mark_applied(conn, &applied).await?;
    Ok(mails
        .iter()
        .zip(requests)
        .map(|(m, (_, number))| Outcome {
            inbound_id: m.inbound_id,
            outcome: "request".into(),
            request_number: Some(number),
            fresh: true,
        })
        .collect())
}

/// The request an unthreaded message starts: in the intake queue, with the sender known or not.
fn new_request_of(m: &Unthreaded<'_>) -> NewRequest {
    let description = if m.mail.body.trim().is_empty() {
        "(mensaje sin texto)".to_string()
    } else {
        m.mail.body.clone()
    };
    NewRequest {
        channel: Channel::Email,
        requester_id: m.known.map(RequesterId),
        service: None,
        subject: registered_subject(m.mail).to_string(),
        description,
        received_at_ms: m.received_at,
        confirmed_requirements: Vec::new(),
        first_level_tests: json!([]),
        area_id: None,
        assignee_id: None,
        idempotency_key: Some(mail_request_key(m.inbound_id)),
        created_by: None,
        intake_details: json!({ "inbound_mail_id": m.inbound_id }),
        documents: Vec::new(),
    }
}

fn registered_subject(mail: &ParsedMail) -> &str {
    if mail.subject.trim().is_empty() {
        "(sin asunto)"
    } else {
        &mail.subject
    }
}

/// The `mail_received` event of each request (one per request started from a message).
async fn mail_events_of(
    conn: &mut AnyConnection,
    request_ids: &[i64],
) -> AppResult<HashMap<i64, i64>> {
    let mut events = HashMap::with_capacity(request_ids.len());
    for chunk in request_ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT request_id, MAX(id) FROM request_events
             WHERE kind = 'mail_received' AND request_id IN ({}) GROUP BY request_id",
            id_list(1, chunk.len())
        );
        let query = sqlx::query_as::<_, (i64, i64)>(AssertSqlSafe(sql));
        events.extend(bind_list(query, chunk).fetch_all(&mut *conn).await?);
    }
    Ok(events)
}

async fn finish_simple(
    conn: &mut AnyConnection,
    id: i64,
    outcome: &str,
    request_id: Option<i64>,
    now_ms: i64,
) -> AppResult<Outcome> {
    mark_applied(
        conn,
        &[Applied {
            inbound_id: id,
            outcome,
            request_id,
            auto_answered: false,
            now_ms,
        }],
    )
    .await?;
    Ok(Outcome {
        inbound_id: id,
        outcome: outcome.into(),
        request_number: number_of(conn, request_id).await?,
        fresh: true,
    })
}

/// A message applied: what became of it.
struct Applied<'a> {
    inbound_id: i64,
    outcome: &'a str,
    request_id: Option<i64>,
    auto_answered: bool,
    now_ms: i64,
}

async fn mark_applied(conn: &mut AnyConnection, applied: &[Applied<'_>]) -> AppResult<()> {
    for block in row_blocks(applied.len()) {
        let chunk = &applied[block.rows.clone()];
        // A padding row has no id, so it matches no message.
        let sql = format!(
            "WITH applied (id, outcome, request_id, auto_answered, applied_at) AS (VALUES {})
             UPDATE mail_inbound SET status = 'applied', outcome = applied.outcome,
                request_id = applied.request_id, applied_at = applied.applied_at,
                auto_answered = applied.auto_answered
             FROM applied WHERE mail_inbound.id = applied.id",
            value_rows(conn, block.padded(), 5, "")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        let rows = chunk.iter().map(|a| (Some(a.inbound_id), a));
        let padding = chunk.last().map(|last| (None, last)).into_iter();
        for (id, a) in rows.chain(padding.cycle().take(block.padding())) {
            query = query
                .bind(id)
                .bind(a.outcome)
                .bind(a.request_id)
                .bind(i64::from(a.auto_answered))
                .bind(a.now_ms);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// For each message (its stored row and parsed form): In-Reply-To, then References, then the
/// number in the subject — the request's id and number. A parent is looked for among our own
/// messages, then among the stored inbound ones other than the message itself.
async fn find_threads(
    conn: &mut AnyConnection,
    mails: &[(i64, &ParsedMail)],
) -> AppResult<Vec<Option<Thread>>> {
    let mut parents: Vec<&str> = mails
        .iter()
        .flat_map(|(_, mail)| mail.in_reply_to.iter().chain(&mail.references))
        .map(String::as_str)
        .collect();
    parents.sort_unstable();
    parents.dedup();
    let mut sent: HashMap<String, Thread> = HashMap::new();
    // Each stored inbound message's row with its request: a message never threads to itself.
    let mut received: HashMap<String, Vec<(i64, Thread)>> = HashMap::new();
    for chunk in parents.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT o.message_id, q.id, q.number FROM outbox o JOIN requests q ON q.id = o.request_id
             WHERE o.message_id IN ({})",
            id_list(1, chunk.len())
        );
        let query = sqlx::query_as::<_, (String, i64, String)>(AssertSqlSafe(sql));
        for (message_id, id, number) in bind_list(query, chunk).fetch_all(&mut *conn).await? {
            sent.entry(message_id).or_insert((id, number));
        }
        let sql = format!(
            "SELECT m.message_id, m.id, q.id, q.number FROM mail_inbound m
             JOIN requests q ON q.id = m.request_id WHERE m.message_id IN ({}) ORDER BY m.id",
            id_list(1, chunk.len())
        );
        let query = sqlx::query_as::<_, (String, i64, i64, String)>(AssertSqlSafe(sql));
        for (message_id, row, id, number) in bind_list(query, chunk).fetch_all(&mut *conn).await? {
            received
                .entry(message_id)
                .or_default()
                .push((row, (id, number)));
        }
    }
    let mut threads: Vec<Option<Thread>> = mails
        .iter()
        .map(|(own_row, mail)| {
            mail.in_reply_to
                .iter()
                .chain(&mail.references)
                .find_map(|parent| {
                    sent.get(parent).cloned().or_else(|| {
                        received.get(parent).and_then(|rows| {
                            rows.iter()
                                .find(|(row, _)| row != own_row)
                                .map(|(_, hit)| hit.clone())
                        })
                    })
                })
        })
        .collect();
    let numbers: Vec<String> = mails
        .iter()
        .zip(&threads)
        .filter(|(_, thread)| thread.is_none())
        .filter_map(|((_, mail), _)| mime::number_in_subject(&mail.subject))
        .map(|number| number.to_string())
        .collect();
    let mut by_number: HashMap<String, i64> = HashMap::new();
    for chunk in numbers.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT number, id FROM requests WHERE number IN ({})",
            id_list(1, chunk.len())
        );
        let texts: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let query = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql));
        by_number.extend(bind_list(query, &texts).fetch_all(&mut *conn).await?);
    }
    for ((_, mail), thread) in mails.iter().zip(threads.iter_mut()) {
        if thread.is_none()
            && let Some(number) = mime::number_in_subject(&mail.subject)
        {
            let number = number.to_string();
            *thread = by_number.get(&number).map(|id| (*id, number));
        }
    }
    Ok(threads)
}

/// The request a message threads to: its id and number.
type Thread = (i64, String);

/// A stored message that threads to a request: a comment on it.
struct Threaded<'a> {
    inbound_id: i64,
    mail: &'a ParsedMail,
    known: Option<i64>,
    policy: &'a InboundPolicy,
    now_ms: i64,
    request_id: i64,
    number: String,
}

/// Adds each message as a comment on its request (events, attachments, the requests' search
/// documents, the applied rows) — one statement per table for the batch, but one per message
/// with attachments, whose event id they need.
async fn add_comments(
    conn: &mut AnyConnection,
    comments: &[Threaded<'_>],
) -> AppResult<Vec<Outcome>> {
    let event_of = |c: &Threaded<'_>| EventRecord {
        request_id: c.request_id,
        at: c.now_ms,
        actor: Actor::Requester,
        kind: "comment",
        from: None,
        to: None,
        payload: mail_event_payload("comment", c.mail, c.known, c.inbound_id, c.policy),
        reason: None,
    };
    // In message order: the comments without attachments in runs, one statement per run.
    let mut run: Vec<EventRecord<'_>> = Vec::new();
    for c in comments {
        if kept_attachments(c.mail, c.policy).is_empty() {
            run.push(event_of(c));
            continue;
        }
        requests::insert_events(conn, &std::mem::take(&mut run)).await?;
        let event_id = requests::insert_event(conn, event_of(c)).await?;
        insert_attachments(conn, c.request_id, event_id, c.mail, c.policy, c.now_ms).await?;
    }
    requests::insert_events(conn, &run).await?;
    let mut touched: HashMap<i64, i64> = HashMap::new();
    for c in comments {
        let at = touched.entry(c.request_id).or_insert(c.now_ms);
        *at = (*at).max(c.now_ms);
    }
    let touched: Vec<(i64, i64)> = touched.into_iter().collect();
    for block in row_blocks(touched.len()) {
        let chunk = &touched[block.rows.clone()];
        // A padding row has no id, so it matches no request.
        let sql = format!(
            "WITH touched (id, updated_at) AS (VALUES {})
             UPDATE requests SET updated_at = touched.updated_at
             FROM touched WHERE requests.id = touched.id",
            value_rows(conn, block.padded(), 2, "")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, at) in chunk {
            query = query.bind(Some(*id)).bind(*at);
        }
        for _ in 0..block.padding() {
            query = query.bind(None::<i64>).bind(0_i64);
        }
        query.execute(&mut *conn).await?;
    }
    let request_ids: Vec<i64> = touched.iter().map(|(id, _)| *id).collect();
    crate::db::search::index_requests(conn, &request_ids).await?;
    let applied: Vec<Applied<'_>> = comments
        .iter()
        .map(|c| Applied {
            inbound_id: c.inbound_id,
            outcome: "comment",
            request_id: Some(c.request_id),
            auto_answered: false,
            now_ms: c.now_ms,
        })
        .collect();
    mark_applied(conn, &applied).await?;
    Ok(comments
        .iter()
        .map(|c| Outcome {
            inbound_id: c.inbound_id,
            outcome: "comment".into(),
            request_number: Some(c.number.clone()),
            fresh: true,
        })
        .collect())
}

/// Loop protection: which messages get an automatic answer — none to a machine, and at most so
/// many per sender per day and per request per hour, counting the answers given earlier in the
/// batch. The day is counted back from the batch's earliest message (its messages arrive within
/// moments of each other), for all its senders in one statement.
async fn within_caps(
    conn: &mut AnyConnection,
    mails: &[Unthreaded<'_>],
    requests: &[(i64, String)],
) -> AppResult<Vec<bool>> {
    let answerable = || mails.iter().filter(|m| m.mail.machine_sent.is_none());
    let mut senders: Vec<&str> = answerable().map(|m| m.mail.from.as_str()).collect();
    senders.sort_unstable();
    senders.dedup();
    let mut answered_to: HashMap<String, i64> = HashMap::with_capacity(senders.len());
    if let Some(day_start) = answerable().map(|m| m.now_ms - 86_400_000).min() {
        for chunk in senders.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT sender, COUNT(*) FROM mail_inbound
                 WHERE sender IN ({}) AND auto_answered = 1 AND received_at > $1
                 GROUP BY sender",
                id_list(2, chunk.len())
            );
            let query = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql)).bind(day_start);
            let query = bind_list(query, chunk);
            answered_to.extend(query.fetch_all(&mut *conn).await?);
        }
    }
    let mut answers = Vec::with_capacity(mails.len());
    for (m, (request_id, _)) in mails.iter().zip(requests) {
        if m.mail.machine_sent.is_some() {
            answers.push(false);
            continue;
        }
        let to_sender = answered_to.entry(m.mail.from.clone()).or_insert(0);
        // A request registered in this batch has no mail yet.
        let about_request: i64 = match m.earlier {
            Some(_) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM outbox WHERE request_id = $1 AND created_at > $2",
                )
                .bind(*request_id)
                .bind(m.now_ms - 3_600_000)
                .fetch_one(&mut *conn)
                .await?
            }
            None => 0,
        };
        let answer = *to_sender < m.policy.max_per_sender_per_day
            && about_request < m.policy.max_per_request_per_hour;
        if answer {
            *to_sender += 1;
        }
        answers.push(answer);
    }
    Ok(answers)
}

/// What the event of a mail records: the sender, whether known, the attachments left out for
/// their size; for a comment also its text.
fn mail_event_payload(
    kind: &str,
    mail: &ParsedMail,
    requester: Option<i64>,
    inbound_id: i64,
    policy: &InboundPolicy,
) -> serde_json::Value {
    let omitted_list: Vec<_> = mail
        .attachments
        .iter()
        .filter(|a| a.content.len() > policy.max_attachment_bytes)
        .map(|a| json!({ "filename": a.filename, "size_bytes": a.content.len() }))
        .collect();
    let mut payload = json!({
        "channel": "email",
        "from": mail.from,
        "from_name": mail.from_name,
        "known_sender": requester.is_some(),
        "requester_id": requester,
        "message_id": mail.message_id,
        "inbound_id": inbound_id,
        "machine_sent": mail.machine_sent,
        "omitted_attachments": omitted_list,
    });
    if kind == "comment" {
        payload["body"] = json!(mail.body);
        payload["internal"] = json!(false);
        payload["subject"] = json!(mail.subject);
    }
    payload
}

/// The attachments kept: those within the size limit.
fn kept_attachments<'m>(mail: &'m ParsedMail, policy: &InboundPolicy) -> Vec<&'m MailAttachment> {
    mail.attachments
        .iter()
        .filter(|a| a.content.len() <= policy.max_attachment_bytes)
        .collect()
}

async fn insert_attachments(
    conn: &mut AnyConnection,
    request_id: i64,
    event_id: i64,
    mail: &ParsedMail,
    policy: &InboundPolicy,
    now_ms: i64,
) -> AppResult<()> {
    for attachment in kept_attachments(mail, policy) {
        sqlx::query(
            "INSERT INTO attachments (request_id, event_id, filename, content_type, size_bytes, sha256, content, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)",
        )
        .bind(request_id)
        .bind(event_id)
        .bind(&attachment.filename)
        .bind(&attachment.content_type)
        .bind(i64::try_from(attachment.content.len()).unwrap_or(i64::MAX))
        .bind(format!("{:x}", Sha256::digest(&attachment.content)))
        .bind(&attachment.content)
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A dead letter for the admin API.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct DeadLetter {
    pub id: i64,
    pub inbound_id: i64,
    pub reason: String,
    pub attempts: i64,
    pub created_at: i64,
    pub last_attempt_at: i64,
    pub resolved_at: Option<i64>,
    pub source: String,
    pub size_bytes: i64,
}

pub async fn dead_letters(db: &Db, include_resolved: bool) -> AppResult<Vec<DeadLetter>> {
    Ok(sqlx::query_as(
        "SELECT d.id, d.inbound_id, d.reason, d.attempts, d.created_at, d.last_attempt_at, d.resolved_at,
            m.source, m.size_bytes
         FROM mail_dead_letters d JOIN mail_inbound m ON m.id = d.inbound_id
         WHERE ($1 = 1 OR d.resolved_at IS NULL)
         ORDER BY d.id DESC LIMIT 500",
    )
    .bind(i64::from(include_resolved))
    .fetch_all(db.read())
    .await?)
}

/// Processes a dead letter again (after a fix, or once the cause went away).
pub async fn retry_dead_letter(
    db: &Db,
    policy: &InboundPolicy,
    dead_letter_id: i64,
    now_ms: i64,
) -> AppResult<Outcome> {
    let inbound: Option<i64> =
        sqlx::query_scalar("SELECT inbound_id FROM mail_dead_letters WHERE id = $1")
            .bind(dead_letter_id)
            .fetch_optional(db.read())
            .await?;
    let Some(inbound) = inbound else {
        return Err(AppError::not_found(
            "unknown_dead_letter",
            format!(
                "No existe el mensaje rechazado {dead_letter_id}; consulte GET /api/v1/mail/dead-letters."
            ),
        ));
    };
    process(db, policy, inbound, now_ms).await
}
