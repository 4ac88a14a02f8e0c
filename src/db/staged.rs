//! Staged uploads (issue 4, Q3): a file chosen on the attention script is kept here when the
//! form is sent back with errors, so the form still holds it. A form that registers at once
//! writes its files straight to `attachments`: each file is stored once. Each row has a random
//! token the form carries, the staff member who chose it (only they may use it) and the
//! sheet's required document it was chosen for. Registering the request turns the rows it
//! names into attachments inside the registration's own transaction and deletes them; rows
//! nobody used are removed after `STAGED_TTL_MS` by the service-level job.
//!
//! The bytes are stored as `attachments` stores them, and were read with the same limit.

use sqlx::{AnyConnection, FromRow};
use ventanilla_domain::ids::StaffId;
use ventanilla_domain::lifecycle::Actor;

use super::Db;
use super::requests::{NewAttachment, insert_attachment, sha256_hex};
use super::staff::random_secret;
use crate::error::{AppError, AppResult};

/// How long a staged file waits for its form: 24 hours.
pub const STAGED_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// A document the script's form brings to a registration: a file chosen on this try, or one
/// staged on an earlier try and named by its token.
#[derive(Debug, Clone)]
pub enum ChosenDocument {
    New(NewAttachment),
    Staged(String),
}

/// A staged file as the form shows it (no bytes).
#[derive(Debug, Clone, FromRow)]
pub struct StagedFile {
    pub token: String,
    /// The sheet's required document it was chosen for (or the form input's name).
    pub document: String,
    pub filename: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// Keeps one chosen file for `staff`; returns what the form shows and carries.
pub async fn stage(
    db: &Db,
    staff: StaffId,
    document: &str,
    file: NewAttachment,
    now_ms: i64,
) -> AppResult<StagedFile> {
    let token = random_secret("st_");
    let sha256 = sha256_hex(&file.content);
    let size = i64::try_from(file.content.len()).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO staged_uploads (token, staff_id, document, filename, content_type,
            size_bytes, sha256, content, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&token)
    .bind(staff.0)
    .bind(document)
    .bind(&file.filename)
    .bind(&file.content_type)
    .bind(size)
    .bind(&sha256)
    .bind(file.content)
    .bind(now_ms)
    .execute(db.write())
    .await?;
    Ok(StagedFile {
        token,
        document: document.to_string(),
        filename: file.filename,
        size_bytes: size,
        sha256,
    })
}

/// The staged files among `tokens` that `staff` chose and that have not expired, in the
/// order of `tokens`. Anyone else's token is simply not found.
pub async fn owned(
    db: &Db,
    staff: StaffId,
    tokens: &[String],
    now_ms: i64,
) -> AppResult<Vec<StagedFile>> {
    let mut found = Vec::with_capacity(tokens.len());
    for token in tokens {
        let row: Option<StagedFile> = sqlx::query_as(
            "SELECT token, document, filename, size_bytes, sha256 FROM staged_uploads
             WHERE token = $1 AND staff_id = $2 AND created_at > $3",
        )
        .bind(token)
        .bind(staff.0)
        .bind(now_ms - STAGED_TTL_MS)
        .fetch_optional(db.read())
        .await?;
        found.extend(row);
    }
    Ok(found)
}

/// Forgets staged files `staff` chose and no longer wants (a document dropped on the form).
pub async fn discard(db: &Db, staff: StaffId, tokens: &[String]) -> AppResult<()> {
    for token in tokens {
        sqlx::query("DELETE FROM staged_uploads WHERE token = $1 AND staff_id = $2")
            .bind(token)
            .bind(staff.0)
            .execute(db.write())
            .await?;
    }
    Ok(())
}

/// What is said when a staged file is gone (expired, used, or never this person's): the same
/// words whatever the reason, so nothing is learnt about anyone else's files.
pub const UNAVAILABLE: &str = "Un documento elegido antes ya no está disponible (se guarda 24 horas y sólo para quien lo eligió); elíjalo de nuevo.";

/// The refusal when a staged file is gone.
pub fn unavailable() -> AppError {
    AppError::invalid("attachments", "staged_upload_unavailable", UNAVAILABLE)
}

#[derive(FromRow)]
struct StagedContent {
    id: i64,
    filename: String,
    content_type: String,
    content: Vec<u8>,
}

/// Makes the chosen `documents` attachments of request `request_id`, inside the caller's
/// transaction: a new file is inserted as it is; a staged one (of `staff`) is moved and its
/// staged row deleted, so a replayed form finds it gone and cannot attach it twice. A token that
/// is not found refuses the whole registration.
pub(crate) async fn attach_in(
    tx: &mut AnyConnection,
    request_id: i64,
    staff: Option<StaffId>,
    documents: &[ChosenDocument],
    actor: Actor,
    now_ms: i64,
) -> AppResult<()> {
    for document in documents {
        let token = match document {
            ChosenDocument::New(file) => {
                insert_attachment(tx, request_id, file.clone(), actor, now_ms).await?;
                continue;
            }
            ChosenDocument::Staged(token) => token,
        };
        let Some(staff) = staff else {
            return Err(unavailable());
        };
        let row: Option<StagedContent> = sqlx::query_as(
            "SELECT id, filename, content_type, content FROM staged_uploads
             WHERE token = $1 AND staff_id = $2 AND created_at > $3",
        )
        .bind(token)
        .bind(staff.0)
        .bind(now_ms - STAGED_TTL_MS)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(unavailable());
        };
        let file = NewAttachment {
            filename: row.filename,
            content_type: row.content_type,
            content: row.content,
        };
        insert_attachment(tx, request_id, file, actor, now_ms).await?;
        sqlx::query("DELETE FROM staged_uploads WHERE id = $1")
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Removes staged files older than `STAGED_TTL_MS`; returns how many.
pub async fn purge_expired(db: &Db, now_ms: i64) -> AppResult<u64> {
    let done = sqlx::query("DELETE FROM staged_uploads WHERE created_at <= $1")
        .bind(now_ms - STAGED_TTL_MS)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected())
}
