//! The complaints and suggestions log (bitácora de quejas, L10): each entry is evaluated and
//! treated — received → analysed → action taken → closed — with a responsible person, a due date
//! and the requests it concerns. Every change is an event with its note.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::Db;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Complaint,
    Suggestion,
    Praise,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Complaint => "complaint",
            Kind::Suggestion => "suggestion",
            Kind::Praise => "praise",
        }
    }

    pub fn from_code(code: &str) -> Option<Kind> {
        [Kind::Complaint, Kind::Suggestion, Kind::Praise]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Survey,
    Email,
    Phone,
    InPerson,
}

impl Source {
    pub fn code(self) -> &'static str {
        match self {
            Source::Survey => "survey",
            Source::Email => "email",
            Source::Phone => "phone",
            Source::InPerson => "in_person",
        }
    }

    pub fn from_code(code: &str) -> Option<Source> {
        [
            Source::Survey,
            Source::Email,
            Source::Phone,
            Source::InPerson,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// The workflow of an entry, in order; each step may only move one forward.
pub const STATUSES: [&str; 4] = ["received", "analysed", "action_taken", "closed"];

/// The next status after `from`, if any.
pub fn next_status(from: &str) -> Option<&'static str> {
    let i = STATUSES.iter().position(|s| *s == from)?;
    STATUSES.get(i + 1).copied()
}

pub struct NewComplaint<'a> {
    pub kind: Kind,
    pub source: Source,
    pub description: &'a str,
    pub requester_id: Option<i64>,
    pub request_id: Option<i64>,
    pub survey_id: Option<i64>,
    pub created_by: Option<i64>,
}

/// Opens an entry inside the caller's transaction (a survey answer opens one automatically).
pub async fn open_in(tx: &mut AnyConnection, new: NewComplaint<'_>, now_ms: i64) -> AppResult<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO complaints (kind, source, status, description, requester_id, request_id, survey_id,
            created_by, created_at, updated_at)
         VALUES ($1, $2, 'received', $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(new.kind.code())
    .bind(new.source.code())
    .bind(new.description)
    .bind(new.requester_id)
    .bind(new.request_id)
    .bind(new.survey_id)
    .bind(new.created_by)
    .bind(now_ms)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO complaint_events (complaint_id, at, staff_id, from_status, to_status, note)
         VALUES ($1, $2, $3, NULL, 'received', $4)",
    )
    .bind(id)
    .bind(now_ms)
    .bind(new.created_by)
    .bind(format!("Registrada (origen: {})", new.source.code()))
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

pub async fn open(db: &Db, new: NewComplaint<'_>, now_ms: i64) -> AppResult<i64> {
    let mut tx = db.begin_write().await?;
    let id = open_in(&mut tx, new, now_ms).await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Complaint {
    pub id: i64,
    pub kind: String,
    pub source: String,
    pub status: String,
    pub description: String,
    pub requester_id: Option<i64>,
    pub request_number: Option<String>,
    pub responsible_id: Option<i64>,
    pub due_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Further requests the entry concerns (`complaint_links`).
    #[sqlx(skip)]
    pub linked_requests: Vec<String>,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct ComplaintEvent {
    pub at: i64,
    pub staff_id: Option<i64>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: String,
}

const SELECT: &str = "SELECT c.id, c.kind, c.source, c.status, c.description, c.requester_id,
    q.number AS request_number, c.responsible_id, c.due_at, c.created_at, c.updated_at
    FROM complaints c LEFT JOIN requests q ON q.id = c.request_id";

pub async fn list(db: &Db, status: Option<&str>, kind: Option<&str>) -> AppResult<Vec<Complaint>> {
    let sql = format!(
        "{SELECT} WHERE ($1 = '' OR c.status = $1) AND ($2 = '' OR c.kind = $2) ORDER BY c.id DESC LIMIT 500"
    );
    let mut complaints: Vec<Complaint> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(status.unwrap_or(""))
        .bind(kind.unwrap_or(""))
        .fetch_all(db.read())
        .await?;
    fill_links(db, &mut complaints).await?;
    Ok(complaints)
}

/// The log is small (entries, not requests): one query for all links, matched here.
async fn fill_links(db: &Db, complaints: &mut [Complaint]) -> AppResult<()> {
    let links: Vec<(i64, String)> = sqlx::query_as(
        "SELECT l.complaint_id, q.number FROM complaint_links l JOIN requests q ON q.id = l.request_id
         ORDER BY l.linked_at, q.number",
    )
    .fetch_all(db.read())
    .await?;
    for complaint in complaints.iter_mut() {
        complaint.linked_requests = links
            .iter()
            .filter(|(id, _)| *id == complaint.id)
            .map(|(_, number)| number.clone())
            .collect();
    }
    Ok(())
}

/// Links one more request to an entry (idempotent), with a note in its history.
pub async fn link(db: &Db, id: i64, number: &str, staff_id: i64, now_ms: i64) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM complaints WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(status) = status else {
        return Err(AppError::not_found(
            "unknown_complaint",
            format!("No existe la entrada {id} de la bitácora."),
        ));
    };
    let request: Option<i64> = sqlx::query_scalar("SELECT id FROM requests WHERE number = $1")
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(request_id) = request else {
        return Err(AppError::invalid(
            "request_number",
            "unknown_request",
            format!("No existe la solicitud {number}."),
        ));
    };
    let added = sqlx::query(
        "INSERT INTO complaint_links (complaint_id, request_id, linked_at) VALUES ($1, $2, $3)
         ON CONFLICT (complaint_id, request_id) DO NOTHING",
    )
    .bind(id)
    .bind(request_id)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if added > 0 {
        sqlx::query(
            "INSERT INTO complaint_events (complaint_id, at, staff_id, from_status, to_status, note)
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(id)
        .bind(now_ms)
        .bind(staff_id)
        .bind(&status)
        .bind(format!("Se vinculó la solicitud {number}"))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> AppResult<Option<(Complaint, Vec<ComplaintEvent>)>> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    let found: Option<Complaint> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    let Some(complaint) = found else {
        return Ok(None);
    };
    let mut one = [complaint];
    fill_links(db, &mut one).await?;
    let [complaint] = one;
    let events = sqlx::query_as(
        "SELECT at, staff_id, from_status, to_status, note FROM complaint_events WHERE complaint_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.read())
    .await?;
    Ok(Some((complaint, events)))
}

/// One step of an entry's treatment.
pub struct Advance<'a> {
    /// The next status.
    pub to: &'a str,
    /// The evaluation, the action taken or the closing note.
    pub note: &'a str,
    pub responsible_id: Option<i64>,
    pub due_at: Option<i64>,
}

/// Moves an entry one step forward with a note; optionally sets the responsible person and due date.
pub async fn advance(
    db: &Db,
    id: i64,
    step: Advance<'_>,
    staff_id: i64,
    now_ms: i64,
) -> AppResult<()> {
    let Advance {
        to,
        note,
        responsible_id,
        due_at,
    } = step;
    let note = note.trim();
    if note.chars().count() < 3 {
        return Err(AppError::invalid(
            "note",
            "note_required",
            "Escriba la evaluación o la acción tomada.",
        ));
    }
    let mut tx = db.begin_write().await?;
    let current: Option<String> = sqlx::query_scalar("SELECT status FROM complaints WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(current) = current else {
        return Err(AppError::not_found(
            "unknown_complaint",
            format!("No existe la entrada {id} de la bitácora."),
        ));
    };
    if next_status(&current) != Some(to) {
        return Err(AppError::conflict(
            "complaint_transition",
            format!(
                "La entrada está «{current}»; el siguiente paso es «{}».",
                next_status(&current).unwrap_or("ninguno: ya está cerrada")
            ),
        )
        .with_field("status"));
    }
    sqlx::query(
        "UPDATE complaints SET status = $1, updated_at = $2,
            responsible_id = COALESCE($3, responsible_id), due_at = COALESCE($4, due_at)
         WHERE id = $5",
    )
    .bind(to)
    .bind(now_ms)
    .bind(responsible_id)
    .bind(due_at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO complaint_events (complaint_id, at, staff_id, from_status, to_status, note)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(now_ms)
    .bind(staff_id)
    .bind(&current)
    .bind(to)
    .bind(note)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_moves_one_step_at_a_time_l10() {
        assert_eq!(next_status("received"), Some("analysed"));
        assert_eq!(next_status("analysed"), Some("action_taken"));
        assert_eq!(next_status("action_taken"), Some("closed"));
        assert_eq!(next_status("closed"), None);
        assert_eq!(next_status("nonsense"), None);
    }
}
