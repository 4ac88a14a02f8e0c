//! What the agents' web pages store besides the requests: sign-in sessions, failed sign-ins for
//! the lock-out, and referrals of people whose need is not in the catalogue (A2, A3).
//!
//! A session id is a random secret given to the browser once; only its SHA-256 is stored, so a
//! copy of the database does not let anyone sign in. Each session has its own CSRF token.

use sha2::{Digest, Sha256};
use ventanilla_domain::ids::{RequesterId, StaffId};

use super::Db;
use super::staff::{self, StaffMember, random_secret};
use crate::error::AppResult;

/// How long a session lasts from sign-in: one working day and some.
pub const SESSION_MS: i64 = 12 * 60 * 60 * 1000;
/// Failed sign-ins counted for the lock-out, and the window they are counted in.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new session: the secret for the cookie and the CSRF token for the forms.
pub struct NewSession {
    pub secret: String,
    pub csrf_token: String,
}

pub async fn create_session(db: &Db, staff: StaffId, now_ms: i64) -> AppResult<NewSession> {
    let secret = random_secret("");
    let csrf_token = random_secret("");
    sqlx::query(
        "INSERT INTO web_sessions (session_hash, staff_id, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(digest(&secret))
    .bind(staff.0)
    .bind(&csrf_token)
    .bind(now_ms)
    .bind(now_ms + SESSION_MS)
    .execute(db.write())
    .await?;
    Ok(NewSession { secret, csrf_token })
}

/// The staff member and CSRF token of a live session; `None` when unknown, expired or the
/// account was deactivated.
pub async fn session(
    db: &Db,
    secret: &str,
    now_ms: i64,
) -> AppResult<Option<(StaffMember, String)>> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT staff_id, csrf_token FROM web_sessions WHERE session_hash = $1 AND expires_at > $2",
    )
    .bind(digest(secret))
    .bind(now_ms)
    .fetch_optional(db.read())
    .await?;
    let Some((staff_id, csrf)) = row else {
        return Ok(None);
    };
    Ok(staff::by_id(db, StaffId(staff_id))
        .await?
        .filter(|s| s.active)
        .map(|s| (s, csrf)))
}

pub async fn delete_session(db: &Db, secret: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM web_sessions WHERE session_hash = $1")
        .bind(digest(secret))
        .execute(db.write())
        .await?;
    Ok(())
}

/// Failed sign-ins of a username within the lock-out window.
pub async fn recent_failures(db: &Db, username: &str, now_ms: i64) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $2")
            .bind(username.trim().to_lowercase())
            .bind(now_ms - FAILURE_WINDOW_MS)
            .fetch_one(db.read())
            .await?,
    )
}

pub async fn record_failure(db: &Db, username: &str, now_ms: i64) -> AppResult<()> {
    sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)")
        .bind(username.trim().to_lowercase())
        .bind(now_ms)
        .execute(db.write())
        .await?;
    Ok(())
}

/// A successful sign-in clears the count, so an earlier typo does not linger.
pub async fn clear_failures(db: &Db, username: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(username.trim().to_lowercase())
        .execute(db.write())
        .await?;
    Ok(())
}

/// A2, A3: the need is not a CAU service; the person was told where to go.
pub struct NewReferral<'a> {
    pub staff: StaffId,
    pub requester: Option<RequesterId>,
    pub channel: &'a str,
    pub need: &'a str,
    pub referred_to: &'a str,
}

pub async fn record_referral(db: &Db, referral: NewReferral<'_>, now_ms: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO referrals (at, staff_id, requester_id, channel, need, referred_to)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(now_ms)
    .bind(referral.staff.0)
    .bind(referral.requester.map(|r| r.0))
    .bind(referral.channel)
    .bind(referral.need)
    .bind(referral.referred_to)
    .fetch_one(db.write())
    .await?)
}

pub async fn referral_count(db: &Db) -> AppResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM referrals")
        .fetch_one(db.read())
        .await?)
}
