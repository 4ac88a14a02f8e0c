//! The outbox: mails and notifications written in the transaction that caused them and
//! delivered later by a worker, with retries. Nothing is sent from inside a request handler.
//!
//! A worker claims due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
//! nodes never claim the same row; SQLite has one writer, so its claim is already exclusive).
//! A row whose lease ran out (its worker died) is claimed again.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::{Db, Engine};
use crate::error::AppResult;

pub struct NewMessage<'a> {
    /// What kind of message: acknowledgement, sla_warning, sla_breached, digest, …
    pub topic: &'a str,
    pub request_id: Option<i64>,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: Option<&'a str>,
    /// Extra headers as a JSON object (In-Reply-To, References, …).
    pub headers: serde_json::Value,
    /// Our own Message-ID without the angle brackets (`topic.x@domain`), unique, so a retried
    /// delivery is recognisable downstream; the worker writes the brackets.
    pub message_id: &'a str,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct OutboxMessage {
    pub id: i64,
    pub topic: String,
    pub request_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub headers: String,
    pub message_id: String,
    /// pending, sending, sent or failed.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const COLUMNS: &str = "id, topic, request_id, recipient, subject, body_text, body_html, headers, \
    message_id, status, attempts, next_attempt_at, last_error, created_at, sent_at";

/// Writes a message inside the caller's transaction.
pub async fn enqueue(
    tx: &mut AnyConnection,
    message: NewMessage<'_>,
    now_ms: i64,
) -> AppResult<i64> {
    let ids = enqueue_many(tx, &[message], now_ms).await?;
    ids.into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the outbox returned no id").into())
}

/// Writes messages inside the caller's transaction, a few hundred per statement; returns their
/// ids (in no particular order when there are several).
pub async fn enqueue_many(
    tx: &mut AnyConnection,
    messages: &[NewMessage<'_>],
    now_ms: i64,
) -> AppResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(messages.len());
    for block in super::row_blocks(messages.len()) {
        let chunk = &messages[block.rows.clone()];
        let sql = format!(
            "INSERT INTO outbox (topic, request_id, recipient, subject, body_text, body_html,
                headers, message_id, next_attempt_at, created_at, status, attempts)
             {} RETURNING id",
            super::padded_values(tx, block.padded(), 10, ", 'pending', 0")
        );
        let headers: Vec<String> = chunk.iter().map(|m| m.headers.to_string()).collect();
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for (m, headers) in chunk.iter().zip(&headers) {
            query = bind_message(query, m, headers, Some(m.topic), now_ms);
        }
        if let (Some(last), Some(headers)) = (chunk.last(), headers.last()) {
            for _ in 0..block.padding() {
                query = bind_message(query, last, headers, None, now_ms);
            }
        }
        let chunk_ids: Vec<i64> = query.fetch_all(&mut *tx).await?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// The values of one outbox row; `topic` is `None` for a padding row (see
/// `super::padded_values`).
fn bind_message<'q>(
    query: sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments>,
    m: &NewMessage<'q>,
    headers: &'q str,
    topic: Option<&'q str>,
    now_ms: i64,
) -> sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments> {
    query
        .bind(topic)
        .bind(m.request_id)
        .bind(m.recipient)
        .bind(m.subject)
        .bind(m.body_text)
        .bind(m.body_html)
        .bind(headers)
        .bind(m.message_id)
        .bind(now_ms)
        .bind(now_ms)
}

/// Claims up to `limit` due messages for `owner` until `now + lease_ms`.
pub async fn claim(
    db: &Db,
    owner: &str,
    limit: i64,
    lease_ms: i64,
    now_ms: i64,
) -> AppResult<Vec<OutboxMessage>> {
    let lock = match db.engine {
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET status = 'sending', lease_owner = $1, lease_until = $2, attempts = attempts + 1
         WHERE id IN (
             SELECT id FROM outbox
             WHERE (status = 'pending' AND next_attempt_at <= $3)
                OR (status = 'sending' AND lease_until < $3)
             ORDER BY id LIMIT $4{lock})
         RETURNING {COLUMNS}"
    );
    let mut tx = db.begin_write().await?;
    let rows: Vec<OutboxMessage> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(owner)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows)
}

pub async fn mark_sent(db: &Db, id: i64, owner: &str, now_ms: i64) -> AppResult<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL
         WHERE id = $2 AND lease_owner = $3",
    )
    .bind(now_ms)
    .bind(id)
    .bind(owner)
    .execute(db.write())
    .await?;
    Ok(())
}

/// A failed attempt: retried at `retry_at`, or given up (`None`) and left visible as failed.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    owner: &str,
    error: &str,
    retry_at: Option<i64>,
) -> AppResult<()> {
    let (status, next) = match retry_at {
        Some(at) => ("pending", at),
        None => ("failed", 0),
    };
    sqlx::query(
        "UPDATE outbox SET status = $1, next_attempt_at = CASE WHEN $1 = 'pending' THEN $2 ELSE next_attempt_at END,
            last_error = $3, lease_owner = NULL, lease_until = NULL
         WHERE id = $4 AND lease_owner = $5",
    )
    .bind(status)
    .bind(next)
    .bind(error)
    .bind(id)
    .bind(owner)
    .execute(db.write())
    .await?;
    Ok(())
}

/// Exponential back-off: 30 s, 1 min, 2 min … capped at one hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    (30_000_i64 * 2_i64.pow(exponent)).min(3_600_000)
}

/// Messages, newest first, optionally of one request or topic.
pub async fn list(
    db: &Db,
    request_id: Option<i64>,
    topic: Option<&str>,
    limit: i64,
) -> AppResult<Vec<OutboxMessage>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox
         WHERE ($1 = 0 OR request_id = $2) AND ($3 = '' OR topic = $3)
         ORDER BY id DESC LIMIT {}",
        limit.clamp(1, 500)
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(request_id.is_some()))
        .bind(request_id.unwrap_or(0))
        .bind(topic.unwrap_or(""))
        .fetch_all(db.read())
        .await?)
}

/// Takes or renews the lease of a periodic job; true when `owner` holds it until `now + ttl`.
pub async fn try_lease(
    db: &Db,
    job: &str,
    owner: &str,
    ttl_ms: i64,
    now_ms: i64,
) -> AppResult<bool> {
    let holder: Option<String> = sqlx::query_scalar(
        "INSERT INTO job_leases (name, owner, lease_until) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
         WHERE job_leases.lease_until < $4 OR job_leases.owner = excluded.owner
         RETURNING owner",
    )
    .bind(job)
    .bind(owner)
    .bind(now_ms + ttl_ms)
    .bind(now_ms)
    .fetch_optional(db.write())
    .await?;
    Ok(holder.as_deref() == Some(owner))
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert_eq!(backoff_ms(3), 120_000);
        assert_eq!(backoff_ms(50), 3_600_000);
    }
}
