//! Inbound mail: store raw, then parse, then apply; a failure becomes a dead letter.
//!
//! `store` writes the raw bytes under a unique key (the Message-ID, or a SHA-256 of the bytes when
//! there is none), so a message delivered or fetched twice is one row. `process` then parses and
//! applies it exactly once: a new request is created under the idempotency key `mail:<row id>`,
//! and the row is marked applied in the same transaction as the comment, the sender record and the
//! acknowledgement, so a crash at any point repeats the work without doubling it. Only after
//! `process` returns does the IMAP fetcher flag the message on the server.
//!
//! Threading: In-Reply-To, then References (against stored Message-IDs of inbound mail and of our
//! outbox), then `[SS-YYYY-NNNNNN]` in the subject. An unthreaded message becomes a request in the
//! intake queue (`received`, L4: registration waits for business hours), tied to the requester
//! when the sender's address is known; otherwise the sender is recorded in the event payload.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, FromRow};
use ventanilla_domain::channel::Channel;
use ventanilla_domain::ids::RequesterId;
use ventanilla_domain::lifecycle::Actor;

use super::InboundPolicy;
use super::mime::{self, ParsedMail};
use super::outbound::{self, ReplyTo};
use crate::db::requests::{self, NewRequest};
use crate::db::{Db, Engine};
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

/// Stores a raw message; returns its row id (the existing one for a duplicate).
pub async fn store(db: &Db, raw: &[u8], source: &str, now_ms: i64) -> AppResult<i64> {
    let mut conn = db.write().acquire().await?;
    store_in(&mut conn, raw, source, now_ms).await
}

/// Stores the messages of one IMAP fetch in one transaction (one commit instead of one per
/// message); returns their row ids in order. Nothing is flagged on the server before this
/// returns, so "stored before flagged" holds for the whole batch.
pub async fn store_many(db: &Db, raws: &[&[u8]], source: &str, now_ms: i64) -> AppResult<Vec<i64>> {
    let mut tx = db.begin_write().await?;
    let mut ids = Vec::with_capacity(raws.len());
    for raw in raws {
        ids.push(store_in(&mut tx, raw, source, now_ms).await?);
    }
    tx.commit().await?;
    Ok(ids)
}

async fn store_in(
    conn: &mut sqlx::AnyConnection,
    raw: &[u8],
    source: &str,
    now_ms: i64,
) -> AppResult<i64> {
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
        None => format!("sha256:{:x}", Sha256::digest(raw)),
    };
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO mail_inbound (message_key, message_id, source, sender, raw, size_bytes, status,
            auto_answered, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'stored', 0, $7)
         ON CONFLICT (message_key) DO NOTHING RETURNING id",
    )
    .bind(&key)
    .bind(&message_id)
    .bind(source)
    .bind(&sender)
    .bind(raw)
    .bind(i64::try_from(raw.len()).unwrap_or(i64::MAX))
    .bind(now_ms)
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(id) => Ok(id),
        None => Ok(
            sqlx::query_scalar("SELECT id FROM mail_inbound WHERE message_key = $1")
                .bind(&key)
                .fetch_one(&mut *conn)
                .await?,
        ),
    }
}

/// Stores and processes one message (the mailgate path).
pub async fn ingest(
    db: &Db,
    policy: &InboundPolicy,
    raw: &[u8],
    source: &str,
    now_ms: i64,
) -> AppResult<Outcome> {
    let id = store(db, raw, source, now_ms).await?;
    process(db, policy, id, now_ms).await
}

#[derive(FromRow)]
struct InboundRow {
    raw: Vec<u8>,
    status: String,
    outcome: Option<String>,
    request_id: Option<i64>,
    received_at: i64,
}

/// Parses and applies a stored message once. A message already applied answers its outcome; one
/// that fails goes to the dead-letter list (and answers `dead`), never an error that would stop
/// the caller from going on to the next message. Errors are only those of the database itself.
pub async fn process(db: &Db, policy: &InboundPolicy, id: i64, now_ms: i64) -> AppResult<Outcome> {
    let row: InboundRow = sqlx::query_as(
        "SELECT raw, status, outcome, request_id, received_at FROM mail_inbound WHERE id = $1",
    )
    .bind(id)
    .fetch_one(db.write())
    .await?;
    if row.status == "applied" {
        return Ok(Outcome {
            inbound_id: id,
            outcome: row.outcome.unwrap_or_default(),
            request_number: number_of(db, row.request_id).await?,
            fresh: false,
        });
    }
    if row.raw.len() > MAX_RAW_BYTES {
        return dead_letter(db, id, "too_large", "mensaje demasiado grande", now_ms).await;
    }
    let parsed = match mime::parse(&row.raw) {
        Ok(parsed) => parsed,
        Err(unreadable) => return dead_letter(db, id, "unreadable", &unreadable.0, now_ms).await,
    };
    match apply(db, policy, id, &parsed, row.received_at, now_ms).await {
        Ok(outcome) => {
            // Only a dead letter has one to resolve; skipping the write for the others saves a
            // commit per message.
            if row.status == "dead" {
                sqlx::query(
                    "UPDATE mail_dead_letters SET resolved_at = $1 WHERE inbound_id = $2 AND resolved_at IS NULL",
                )
                .bind(now_ms)
                .bind(id)
                .execute(db.write())
                .await?;
            }
            Ok(outcome)
        }
        Err(AppError::Problem(p)) => {
            dead_letter(
                db,
                id,
                "rejected",
                &format!("no se pudo aplicar: {}", p.detail),
                now_ms,
            )
            .await
        }
        Err(AppError::Internal(e)) => {
            // A database that is down is not the message's fault: leave it stored for a retry.
            if e.downcast_ref::<sqlx::Error>()
                .is_some_and(is_connection_error)
            {
                return Err(AppError::Internal(e));
            }
            let reason: String = format!("error al aplicar: {e}").chars().take(500).collect();
            dead_letter(db, id, "apply_error", &reason, now_ms).await
        }
    }
}

fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
    )
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

async fn number_of(db: &Db, request_id: Option<i64>) -> AppResult<Option<String>> {
    let Some(id) = request_id else {
        return Ok(None);
    };
    Ok(
        sqlx::query_scalar("SELECT number FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(db.read())
            .await?,
    )
}

/// `kind` (too_large, unreadable, rejected, apply_error) is what the metrics count by.
async fn dead_letter(
    db: &Db,
    id: i64,
    kind: &str,
    reason: &str,
    now_ms: i64,
) -> AppResult<Outcome> {
    let mut tx = db.begin_write().await?;
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
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE mail_inbound SET status = 'dead', outcome = 'dead' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // The alert: no sender, subject or content, only the row to look at.
    tracing::warn!(
        inbound_id = id,
        alert = "mail_dead_letter",
        "inbound mail moved to the dead-letter list"
    );
    Ok(Outcome {
        inbound_id: id,
        outcome: "dead".into(),
        request_number: None,
        fresh: true,
    })
}

async fn apply(
    db: &Db,
    policy: &InboundPolicy,
    id: i64,
    mail: &ParsedMail,
    received_at: i64,
    now_ms: i64,
) -> AppResult<Outcome> {
    // Our own mail coming back (a forward loop, or a copy of what we sent).
    if mail.from == policy.own_address
        || mail.x_loop.iter().any(|l| l.contains(&policy.own_address))
    {
        return finish_simple(db, id, "loop", None, now_ms).await;
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
            .fetch_optional(db.write())
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
        return finish_simple(db, id, outcome, request_id, now_ms).await;
    }

    let thread = find_thread(db, id, mail).await?;
    let known: Option<i64> =
        sqlx::query_scalar("SELECT id FROM requesters WHERE lower(email) = $1 ORDER BY id LIMIT 1")
            .bind(&mail.from)
            .fetch_optional(db.read())
            .await?;

    if let Some(request_id) = thread {
        let mut tx = db.begin_write().await?;
        if !claim_row(&mut tx, db.engine, id).await? {
            tx.rollback().await?;
            return already_done(db, id).await;
        }
        let (omitted, event_id) = insert_mail_event(
            &mut tx, request_id, "comment", mail, known, id, policy, now_ms,
        )
        .await?;
        let _ = (omitted, event_id);
        sqlx::query("UPDATE requests SET updated_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        crate::db::search::index_request(&mut tx, request_id).await?;
        mark_applied(&mut tx, id, "comment", request_id, false, now_ms).await?;
        tx.commit().await?;
        return Ok(Outcome {
            inbound_id: id,
            outcome: "comment".into(),
            request_number: number_of(db, Some(request_id)).await?,
            fresh: true,
        });
    }

    let subject = if mail.subject.trim().is_empty() {
        "(sin asunto)".to_string()
    } else {
        mail.subject.clone()
    };
    let description = if mail.body.trim().is_empty() {
        "(mensaje sin texto)".to_string()
    } else {
        mail.body.clone()
    };
    // One transaction: claim the row, register the request, record the mail, acknowledge, mark
    // applied. A crash anywhere leaves nothing of it; the next attempt does it all once.
    let mut tx = db.begin_write().await?;
    if !claim_row(&mut tx, db.engine, id).await? {
        tx.rollback().await?;
        return already_done(db, id).await;
    }
    let key = format!("mail:{id}");
    // A request registered by an earlier version, which committed it before applying the mail.
    let earlier: Option<i64> =
        sqlx::query_scalar("SELECT id FROM requests WHERE idempotency_key = $1")
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await?;
    if earlier.is_none() {
        requests::create_in(
            &mut tx,
            NewRequest {
                channel: Channel::Email,
                requester_id: known.map(RequesterId),
                service: None,
                subject,
                description,
                received_at_ms: received_at,
                confirmed_requirements: Vec::new(),
                first_level_tests: json!([]),
                area_id: None,
                assignee_id: None,
                idempotency_key: Some(key.clone()),
                created_by: None,
                intake_details: json!({ "inbound_mail_id": id }),
            },
            Actor::Requester,
            now_ms,
        )
        .await?;
    }
    let (request_id, number): (i64, String) =
        sqlx::query_as("SELECT id, number FROM requests WHERE idempotency_key = $1")
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?;
    insert_mail_event(
        &mut tx,
        request_id,
        "mail_received",
        mail,
        known,
        id,
        policy,
        now_ms,
    )
    .await?;
    let answer = mail.machine_sent.is_none()
        && within_caps(&mut tx, policy, &mail.from, request_id, now_ms).await?;
    if answer {
        outbound::enqueue_acknowledgement(
            &mut tx,
            request_id,
            &[],
            ReplyTo {
                recipient: &mail.from,
                message_id: mail.message_id.as_deref(),
            },
            now_ms,
        )
        .await?;
    }
    mark_applied(&mut tx, id, "request", request_id, answer, now_ms).await?;
    tx.commit().await?;
    Ok(Outcome {
        inbound_id: id,
        outcome: "request".into(),
        request_number: Some(number),
        fresh: true,
    })
}

/// Locks the inbound row; false when another worker already applied it.
async fn claim_row(tx: &mut AnyConnection, engine: Engine, id: i64) -> AppResult<bool> {
    let sql = match engine {
        Engine::Postgres => "SELECT status FROM mail_inbound WHERE id = $1 FOR UPDATE",
        Engine::Sqlite => "SELECT status FROM mail_inbound WHERE id = $1",
    };
    let status: String = sqlx::query_scalar(sql).bind(id).fetch_one(&mut *tx).await?;
    Ok(status != "applied")
}

async fn already_done(db: &Db, id: i64) -> AppResult<Outcome> {
    let (outcome, request_id): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT outcome, request_id FROM mail_inbound WHERE id = $1")
            .bind(id)
            .fetch_one(db.read())
            .await?;
    Ok(Outcome {
        inbound_id: id,
        outcome: outcome.unwrap_or_default(),
        request_number: number_of(db, request_id).await?,
        fresh: false,
    })
}

async fn finish_simple(
    db: &Db,
    id: i64,
    outcome: &str,
    request_id: Option<i64>,
    now_ms: i64,
) -> AppResult<Outcome> {
    sqlx::query(
        "UPDATE mail_inbound SET status = 'applied', outcome = $1, request_id = $2, applied_at = $3 WHERE id = $4",
    )
    .bind(outcome)
    .bind(request_id)
    .bind(now_ms)
    .bind(id)
    .execute(db.write())
    .await?;
    Ok(Outcome {
        inbound_id: id,
        outcome: outcome.into(),
        request_number: number_of(db, request_id).await?,
        fresh: true,
    })
}

async fn mark_applied(
    tx: &mut AnyConnection,
    id: i64,
    outcome: &str,
    request_id: i64,
    auto_answered: bool,
    now_ms: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE mail_inbound SET status = 'applied', outcome = $1, request_id = $2, applied_at = $3,
            auto_answered = $4 WHERE id = $5",
    )
    .bind(outcome)
    .bind(request_id)
    .bind(now_ms)
    .bind(i64::from(auto_answered))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// In-Reply-To, then References, then the number in the subject.
async fn find_thread(db: &Db, id: i64, mail: &ParsedMail) -> AppResult<Option<i64>> {
    for parent in mail.in_reply_to.iter().chain(mail.references.iter()) {
        let hit: Option<i64> = sqlx::query_scalar(
            "SELECT request_id FROM outbox WHERE message_id = $1 AND request_id IS NOT NULL
             UNION ALL
             SELECT request_id FROM mail_inbound WHERE message_id = $1 AND id <> $2 AND request_id IS NOT NULL
             LIMIT 1",
        )
        .bind(parent)
        .bind(id)
        .fetch_optional(db.read())
        .await?;
        if hit.is_some() {
            return Ok(hit);
        }
    }
    if let Some(number) = mime::number_in_subject(&mail.subject) {
        return Ok(
            sqlx::query_scalar("SELECT id FROM requests WHERE number = $1")
                .bind(number.to_string())
                .fetch_optional(db.read())
                .await?,
        );
    }
    Ok(None)
}

/// Loop protection: automatic answers per sender per day and per request per hour.
async fn within_caps(
    tx: &mut AnyConnection,
    policy: &InboundPolicy,
    sender: &str,
    request_id: i64,
    now_ms: i64,
) -> AppResult<bool> {
    let to_sender: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mail_inbound WHERE sender = $1 AND auto_answered = 1 AND received_at > $2",
    )
    .bind(sender)
    .bind(now_ms - 86_400_000)
    .fetch_one(&mut *tx)
    .await?;
    let about_request: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE request_id = $1 AND created_at > $2")
            .bind(request_id)
            .bind(now_ms - 3_600_000)
            .fetch_one(&mut *tx)
            .await?;
    Ok(
        to_sender < policy.max_per_sender_per_day
            && about_request < policy.max_per_request_per_hour,
    )
}

/// The timeline event of a mail (a comment, or the sender of a new request) and its attachments.
#[expect(clippy::too_many_arguments, reason = "one event's worth of facts")]
async fn insert_mail_event(
    tx: &mut AnyConnection,
    request_id: i64,
    kind: &str,
    mail: &ParsedMail,
    requester: Option<i64>,
    inbound_id: i64,
    policy: &InboundPolicy,
    now_ms: i64,
) -> AppResult<(usize, i64)> {
    let (kept, omitted): (Vec<_>, Vec<_>) = mail
        .attachments
        .iter()
        .partition(|a| a.content.len() <= policy.max_attachment_bytes);
    let omitted_list: Vec<_> = omitted
        .iter()
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
    let event_id: i64 = sqlx::query_scalar(
        "INSERT INTO request_events (request_id, at, actor_kind, actor_id, kind, from_status, to_status, payload, reason)
         VALUES ($1, $2, 'requester', NULL, $3, NULL, NULL, $4, NULL) RETURNING id",
    )
    .bind(request_id)
    .bind(now_ms)
    .bind(kind)
    .bind(payload.to_string())
    .fetch_one(&mut *tx)
    .await?;
    for attachment in kept {
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
        .execute(&mut *tx)
        .await?;
    }
    Ok((omitted.len(), event_id))
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
