//! Service requests and their timeline.
//!
//! The timeline is the record: every change is a row in `request_events`, written in the same
//! transaction as the request's current projection in `requests`. Numbers `SS-YYYY-NNNNNN` come
//! from `request_counters`, bumped inside that transaction, so a rolled-back request gives its
//! number back and the sequence stays gap-free; on PostgreSQL the counter row's lock orders
//! concurrent writers, on SQLite the single writer connection does.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, AssertSqlSafe, FromRow};
use ventanilla_domain::catalogue::SheetContent;
use ventanilla_domain::channel::Channel;
use ventanilla_domain::identifiers::RequestNumber;
use ventanilla_domain::ids::{AreaId, RequesterId, ServiceId, StaffId};
use ventanilla_domain::lifecycle::{Actor, RequestFacts, Status, Step, transition};

use super::registration::{self, Registration};
use super::staged::ChosenDocument;
use super::{Db, Engine, bind_list, id_list, value_rows};
use crate::error::{AppError, AppResult};

/// A request as the agent registers it (A9–A12), already checked against the catalogue.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub channel: Channel,
    pub requester_id: Option<RequesterId>,
    /// The service and the sheet version it is registered under; `None` for the intake queue.
    pub service: Option<(ServiceId, i64, SheetContent)>,
    pub subject: String,
    pub description: String,
    /// When CAU received it: earlier than now for weekend mail (L4) or contingency forms (L8).
    pub received_at_ms: i64,
    pub confirmed_requirements: Vec<String>,
    /// A4: first-level tests run, with their results.
    pub first_level_tests: serde_json::Value,
    pub area_id: Option<AreaId>,
    pub assignee_id: Option<StaffId>,
    pub idempotency_key: Option<String>,
    pub created_by: Option<StaffId>,
    /// What the channel adds, e.g. the checked pre-printed service order (X2).
    pub intake_details: serde_json::Value,
    /// The documents chosen on the script (Q3, `db::staged`): they become the request's
    /// attachments in the registration's transaction.
    pub documents: Vec<ChosenDocument>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    #[schema(value_type = String)]
    pub at: jiff::Timestamp,
    /// staff, requester or system.
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    /// registered, assigned, start, comment, conditions_changed, attachment_added, …
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestSummary {
    pub number: String,
    #[schema(value_type = String)]
    pub status: Status,
    #[schema(value_type = String)]
    pub channel: Channel,
    pub subject: String,
    pub requester_id: Option<i64>,
    pub requester_name: Option<String>,
    pub service_id: Option<i64>,
    pub service_name: Option<String>,
    pub sheet_version: Option<i64>,
    pub area_id: Option<i64>,
    pub area_name: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    #[schema(value_type = String)]
    pub received_at: jiff::Timestamp,
    #[schema(value_type = Option<String>)]
    pub registered_at: Option<jiff::Timestamp>,
    #[schema(value_type = String)]
    pub updated_at: jiff::Timestamp,
    pub reopen_count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentMeta {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    #[schema(value_type = String)]
    pub created_at: jiff::Timestamp,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub summary: RequestSummary,
    pub description: String,
    pub timeline: Vec<Event>,
    pub attachments: Vec<AttachmentMeta>,
}

#[derive(FromRow)]
struct SummaryRow {
    id: i64,
    number: String,
    status: String,
    channel: String,
    subject: String,
    description: String,
    requester_id: Option<i64>,
    requester_name: Option<String>,
    service_id: Option<i64>,
    service_name: Option<String>,
    sheet_version: Option<i64>,
    area_id: Option<i64>,
    area_name: Option<String>,
    assignee_id: Option<i64>,
    assignee_name: Option<String>,
    received_at: i64,
    registered_at: Option<i64>,
    updated_at: i64,
    reopen_count: i64,
}

impl SummaryRow {
    fn summary(&self) -> RequestSummary {
        RequestSummary {
            number: self.number.clone(),
            status: Status::from_code(&self.status).unwrap_or(Status::Received),
            channel: Channel::from_code(&self.channel).unwrap_or(Channel::Email),
            subject: self.subject.clone(),
            requester_id: self.requester_id,
            requester_name: self.requester_name.clone(),
            service_id: self.service_id,
            service_name: self.service_name.clone(),
            sheet_version: self.sheet_version,
            area_id: self.area_id,
            area_name: self.area_name.clone(),
            assignee_id: self.assignee_id,
            assignee_name: self.assignee_name.clone(),
            received_at: super::from_millis(self.received_at),
            registered_at: self.registered_at.map(super::from_millis),
            updated_at: super::from_millis(self.updated_at),
            reopen_count: self.reopen_count,
        }
    }
}

const SUMMARY_SELECT: &str = "SELECT q.id, q.number, q.status, q.channel, q.subject, q.description,
    q.requester_id, r.full_name AS requester_name, q.service_id, s.name AS service_name,
    q.sheet_version, q.area_id, a.name AS area_name, q.assignee_id, st.full_name AS assignee_name,
    q.received_at, q.registered_at, q.updated_at, q.reopen_count
    FROM requests q";

/// The joins every summary needs, after `FROM requests q` (and any join to the search index).
const SUMMARY_JOINS: &str = "
    LEFT JOIN requesters r ON r.id = q.requester_id
    LEFT JOIN services s ON s.id = q.service_id
    LEFT JOIN areas a ON a.id = q.area_id
    LEFT JOIN staff st ON st.id = q.assignee_id";

/// The calendar year in Mexico City time: numbers restart each local new year.
pub fn registration_year(now_ms: i64) -> i16 {
    super::from_millis(now_ms)
        .in_tz("America/Mexico_City")
        .map(|z| z.year())
        .unwrap_or_else(|_| {
            super::from_millis(now_ms)
                .in_tz("UTC")
                .map(|z| z.year())
                .unwrap_or(1970)
        })
}

/// One timeline event, as written by `insert_event`.
pub(crate) struct EventRecord<'a> {
    pub request_id: i64,
    pub at: i64,
    pub actor: Actor,
    pub kind: &'a str,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub payload: serde_json::Value,
    pub reason: Option<&'a str>,
}

fn actor_parts(actor: Actor) -> (&'static str, Option<i64>) {
    match actor {
        Actor::Staff { id, .. } => ("staff", Some(id.0)),
        Actor::Requester => ("requester", None),
        Actor::System => ("system", None),
    }
}

pub(crate) async fn insert_event(tx: &mut AnyConnection, e: EventRecord<'_>) -> AppResult<i64> {
    insert_events(tx, std::slice::from_ref(&e))
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the event insert returned no id")))
}

/// Writes events with one statement per few hundred (a batch of registrations); returns their
/// ids (in no particular order when there are several).
pub(crate) async fn insert_events(
    tx: &mut AnyConnection,
    events: &[EventRecord<'_>],
) -> AppResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(events.len());
    for block in super::row_blocks(events.len()) {
        let chunk = &events[block.rows.clone()];
        let sql = format!(
            "INSERT INTO request_events (request_id, at, actor_kind, actor_id, kind, from_status,
                to_status, payload, reason) {} RETURNING id",
            super::padded_values(tx, block.padded(), 9, "")
        );
        let payloads: Vec<String> = chunk.iter().map(|e| e.payload.to_string()).collect();
        let mut query = sqlx::query_scalar(AssertSqlSafe(sql));
        for (e, payload) in chunk.iter().zip(&payloads) {
            query = bind_event(query, e, payload, Some(e.request_id));
        }
        if let (Some(last), Some(payload)) = (chunk.last(), payloads.last()) {
            for _ in 0..block.padding() {
                query = bind_event(query, last, payload, None);
            }
        }
        let chunk_ids: Vec<i64> = query.fetch_all(&mut *tx).await?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// The values of one event row; `request_id` is `None` for a padding row (see
/// `super::padded_values`).
fn bind_event<'q>(
    query: sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments>,
    e: &EventRecord<'q>,
    payload: &'q str,
    request_id: Option<i64>,
) -> sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments> {
    let (actor_kind, actor_id) = actor_parts(e.actor);
    query
        .bind(request_id)
        .bind(e.at)
        .bind(actor_kind)
        .bind(actor_id)
        .bind(e.kind)
        .bind(e.from.map(Status::code))
        .bind(e.to.map(Status::code))
        .bind(payload)
        .bind(e.reason)
}

/// The result of registering a request.
#[derive(Debug, Clone)]
pub struct Created {
    pub number: RequestNumber,
    /// True when an earlier call with the same idempotency key had already created it.
    pub replayed: bool,
    /// The request as registered, with its possible duplicates (A8).
    pub read_back: ReadBack,
}

pub async fn create(db: &Db, new: NewRequest, actor: Actor, now_ms: i64) -> AppResult<Created> {
    if let Some(key) = &new.idempotency_key
        && let Some(number) = number_for_key(db, key).await?
    {
        return replayed(db, number).await;
    }
    let key = new.idempotency_key.clone();
    let registration = Registration { new, actor, now_ms };
    let result = match db.group_commit() {
        Some(group) => group.create(registration).await,
        None => register_and_commit(db, &registration).await,
    };
    match (result, key) {
        (Ok((number, read_back)), _) => Ok(Created {
            number,
            replayed: false,
            read_back,
        }),
        // Another call with the same key won the race; answer with its number.
        (Err(AppError::Problem(p)), Some(key)) if p.code == IDEMPOTENCY_RACE => {
            match number_for_key(db, &key).await? {
                Some(number) => replayed(db, number).await,
                None => Err(AppError::Problem(p)),
            }
        }
        (Err(e), _) => Err(e),
    }
}

/// The request an earlier call with the same idempotency key registered, as it is now.
async fn replayed(db: &Db, number: RequestNumber) -> AppResult<Created> {
    let mut conn = db.read().acquire().await?;
    let id: i64 = sqlx::query_scalar("SELECT id FROM requests WHERE number = $1")
        .bind(number.to_string())
        .fetch_one(&mut *conn)
        .await?;
    let read_back = read_back(&mut conn, &[id])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("replayed request not found")))?;
    Ok(Created {
        number,
        replayed: true,
        read_back,
    })
}

const IDEMPOTENCY_RACE: &str = "idempotency_key_in_use";

pub(crate) fn idempotency_race() -> AppError {
    AppError::conflict(
        IDEMPOTENCY_RACE,
        "Otra petición con la misma clave de idempotencia se está registrando.",
    )
}

/// One registration in its own transaction (PostgreSQL, where concurrent commits are already
/// flushed together), read back after the commit: the counter's row lock lasts until the
/// commit, and reading inside would hold it longer. Its errors go back to `create`, which
/// answers a lost idempotency race.
async fn register_and_commit(
    db: &Db,
    registration: &Registration,
) -> AppResult<(RequestNumber, ReadBack)> {
    let mut tx = db.begin_write().await?;
    let registered = register_one(&mut tx, registration).await?;
    tx.commit().await?;
    let mut conn = db.read().acquire().await?;
    let read_back = read_back(&mut conn, &[registered.request_id])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("nothing read back")))?;
    Ok((registered.number, read_back))
}

async fn register_one(
    tx: &mut AnyConnection,
    registration: &Registration,
) -> AppResult<registration::Registered> {
    registration::register(tx, std::slice::from_ref(registration))
        .await?
        .pop()
        .unwrap_or_else(|| {
            Err(AppError::Internal(anyhow::anyhow!(
                "no registration answer"
            )))
        })
}

/// PostgreSQL search first looks among this many newest requests (by id).
const PG_RECENT_WINDOW: i64 = 5_000;
/// Up to this many matches found in the GIN index are sorted.
const PG_FEW_MATCHES: i64 = 5_000;

/// The newest matching ids on PostgreSQL, where no single plan is fast for every query: scanning
/// newest first reaches the oldest row when a word matches almost nothing (0.6 s at 1M), and the
/// GIN index must fetch and sort every match of a common word (0.3-0.7 s). The planner cannot
/// tell the two apart: words that go together, such as «certificado vencido», are estimated as
/// if independent (5,282 for 72,027).
///
/// So the query tries three ways, each only when the one before did not answer (one-time
/// filters skip the others):
/// 1. `recent`: the newest 5,000 requests (below the page's cursor), tested one by one; a word
///    in one request of a hundred fills the page here (0.5 ms).
/// 2. `few`: the GIN index is asked for at most 5,001 matches; when it has that few they are
///    sorted. They are not tested again (re-reading every match's vector cost 120 ms for the
///    2,820 matches of two surnames at 1M). With other filters each is looked up by id
///    (`LATERAL … OFFSET 0`, which the planner cannot turn into a join: as a join it merged the
///    sorted matches with the whole table read backwards, and a request number of three years
///    ago took 475 ms); without, the ids are the page as they are (the look-ups cost 16 ms of
///    the surnames' 40).
/// 3. Otherwise — many matches, but rare among recent requests — the recent ones found in 1,
///    then newest first below the window (the window is not read twice).
///
/// `window_top` is the SQL of the id the window ends below: the cursor or past the newest.
fn pg_search_ids(
    where_clause: &str,
    other_conditions: &[String],
    page: i64,
    window_top: &str,
) -> String {
    let newest_first = format!(
        "SELECT q.id FROM requests q JOIN request_search f ON f.request_id = q.id{where_clause}"
    );
    // Without other filters every match is a page candidate as it is.
    let few_ids = if other_conditions.is_empty() {
        "SELECT request_id AS id FROM few".to_string()
    } else {
        let request_conditions: String = other_conditions
            .iter()
            .map(|condition| format!(" AND {condition}"))
            .collect();
        format!(
            "SELECT q.id FROM few CROSS JOIN LATERAL (
              SELECT q.id FROM requests q WHERE q.id = few.request_id{request_conditions} OFFSET 0) q"
        )
    };
    format!(
        "WITH recent AS MATERIALIZED (
            {newest_first} AND f.request_id >= {window_top} - {PG_RECENT_WINDOW}
            ORDER BY q.id DESC LIMIT {page}),
         few AS MATERIALIZED (
            SELECT request_id FROM request_search
            WHERE vector @@ to_tsquery('spanish'::regconfig, ${{text}})
              AND (SELECT count(*) FROM recent) < {page}
            LIMIT {over})
         SELECT id FROM (
         (SELECT id FROM recent WHERE (SELECT count(*) FROM recent) = {page})
         UNION ALL
         (SELECT id FROM ({few_ids}) matches
            WHERE (SELECT count(*) FROM few) <= {PG_FEW_MATCHES} ORDER BY id DESC LIMIT {page})
         UNION ALL
         (SELECT id FROM recent WHERE (SELECT count(*) FROM few) > {PG_FEW_MATCHES})
         UNION ALL
         ({newest_first} AND (SELECT count(*) FROM few) > {PG_FEW_MATCHES}
            AND f.request_id < {window_top} - {PG_RECENT_WINDOW}
            ORDER BY q.id DESC LIMIT {page})
         ) found ORDER BY id DESC LIMIT {page}",
        over = PG_FEW_MATCHES + 1
    )
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// The request an idempotency key already registered, if any (a form sent twice).
pub async fn number_for_key(db: &Db, key: &str) -> AppResult<Option<RequestNumber>> {
    let number: Option<String> =
        sqlx::query_scalar("SELECT number FROM requests WHERE idempotency_key = $1")
            .bind(key)
            .fetch_optional(db.write())
            .await?;
    Ok(number.and_then(|n| RequestNumber::parse(&n).ok()))
}

/// A11: assignment to the responsible area (and optionally an engineer of it).
#[expect(
    clippy::too_many_arguments,
    reason = "one event's worth of facts, all needed"
)]
async fn assign_in_tx(
    tx: &mut AnyConnection,
    request_id: i64,
    from: Status,
    area: Option<AreaId>,
    assignee: Option<StaffId>,
    actor: Actor,
    reason: Option<&str>,
    now_ms: i64,
) -> AppResult<()> {
    let Some(area) = area else {
        return Err(area_required());
    };
    let found: Option<(String, i64)> =
        sqlx::query_as("SELECT name, active FROM areas WHERE id = $1")
            .bind(area.0)
            .fetch_optional(&mut *tx)
            .await?;
    match found {
        None => return Err(unknown_area(area)),
        Some((name, 0)) => return Err(super::catalogue::inactive_area(&name)),
        Some(_) => {}
    }
    if let Some(engineer) = assignee
        && !is_engineer_of(tx, engineer, area).await?
    {
        return Err(assignee_not_in_area());
    }
    sqlx::query(
        "UPDATE requests SET status = $1, area_id = $2, assignee_id = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(Status::Assigned.code())
    .bind(area.0)
    .bind(assignee.map(|a| a.0))
    .bind(now_ms)
    .bind(request_id)
    .execute(&mut *tx)
    .await?;
    insert_event(
        tx,
        EventRecord {
            request_id,
            at: now_ms,
            actor,
            kind: Step::Assign.code(),
            from: Some(from),
            to: Some(Status::Assigned),
            payload: json!({ "area_id": area.0, "assignee_id": assignee.map(|a| a.0) }),
            reason,
        },
    )
    .await?;
    Ok(())
}

pub(crate) fn area_required() -> AppError {
    AppError::invalid(
        "area_id",
        "area_required",
        "Indique el área que atenderá la solicitud (area_id).",
    )
}

pub(crate) fn unknown_area(area: AreaId) -> AppError {
    AppError::invalid(
        "area_id",
        "unknown_area",
        format!("No existe el área {area}; consulte GET /api/v1/areas."),
    )
}

pub(crate) fn assignee_not_in_area() -> AppError {
    AppError::invalid(
        "assignee_id",
        "assignee_not_in_area",
        "La persona asignada debe ser un ingeniero activo del área elegida.",
    )
}

/// Whether `engineer` is an active engineer of `area` (A11).
pub(crate) async fn is_engineer_of(
    tx: &mut AnyConnection,
    engineer: StaffId,
    area: AreaId,
) -> AppResult<bool> {
    let row: Option<(String, Option<i64>, i64)> =
        sqlx::query_as("SELECT role, area_id, active FROM staff WHERE id = $1")
            .bind(engineer.0)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(
        matches!(row, Some((role, Some(engineer_area), 1)) if role == "engineer" && engineer_area == area.0),
    )
}

/// What a life-cycle step may carry besides its kind.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub reason: Option<String>,
    pub area_id: Option<AreaId>,
    pub assignee_id: Option<StaffId>,
    pub confirmed_requirements: Option<Vec<String>>,
    /// For `register` from the intake queue: who asked and for what.
    pub requester_id: Option<RequesterId>,
    pub service: Option<(ServiceId, i64, SheetContent)>,
    /// For `register` from the intake queue: the documents chosen on the script (Q3,
    /// `db::staged`), attached in the step's transaction.
    pub documents: Vec<ChosenDocument>,
}

#[derive(FromRow)]
struct LockedRow {
    id: i64,
    status: String,
    area_id: Option<i64>,
    requester_id: Option<i64>,
    service_id: Option<i64>,
    sheet_version: Option<i64>,
}

async fn lock_request(
    tx: &mut AnyConnection,
    engine: Engine,
    number: &str,
) -> AppResult<LockedRow> {
    let sql = match engine {
        Engine::Postgres => {
            "SELECT id, status, area_id, requester_id, service_id, sheet_version FROM requests WHERE number = $1 FOR UPDATE"
        }
        Engine::Sqlite => {
            "SELECT id, status, area_id, requester_id, service_id, sheet_version FROM requests WHERE number = $1"
        }
    };
    let row: Option<LockedRow> = sqlx::query_as(sql)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?;
    row.ok_or_else(|| unknown_number(number))
}

pub fn unknown_number(number: &str) -> AppError {
    AppError::not_found(
        "unknown_request",
        format!("No existe la solicitud {number}; revise el número (formato SS-AAAA-NNNNNN)."),
    )
}

async fn sheet_of(tx: &mut AnyConnection, service: i64, version: i64) -> AppResult<SheetContent> {
    let json: String = sqlx::query_scalar(
        "SELECT content FROM service_sheets WHERE service_id = $1 AND version = $2",
    )
    .bind(service)
    .bind(version)
    .fetch_one(&mut *tx)
    .await?;
    serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))
}

/// Takes one life-cycle step: checks it against the status, the actor's role and area, writes the
/// new projection and the event in one transaction. Returns the new status.
pub async fn apply_step(
    db: &Db,
    number: &str,
    step: Step,
    actor: Actor,
    input: StepInput,
    now_ms: i64,
) -> AppResult<Status> {
    let mut tx = db.begin_write().await?;
    let status = apply_step_in(&mut tx, db.engine, number, step, actor, input, now_ms).await?;
    tx.commit().await?;
    Ok(status)
}

/// `apply_step` inside a transaction the caller commits, for work that must change together
/// with the request (a survey answer and the close or reopen it causes).
pub async fn apply_step_in(
    tx: &mut AnyConnection,
    engine: Engine,
    number: &str,
    step: Step,
    actor: Actor,
    input: StepInput,
    now_ms: i64,
) -> AppResult<Status> {
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if step.needs_reason() && reason.is_none() {
        let what = if step == Step::Solve {
            "Describa la solución aplicada (reason)."
        } else {
            "Indique el motivo (reason); queda en el historial de la solicitud."
        };
        return Err(AppError::invalid("reason", "reason_required", what));
    }
    let row = lock_request(tx, engine, number).await?;
    let from = Status::from_code(&row.status)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown stored status")))?;

    // Register and confirm need the sheet to know whether every requirement is confirmed (V5).
    let requester_id = input.requester_id.map(|r| r.0).or(row.requester_id);
    let (service_id, sheet_version, sheet) =
        match (&input.service, row.service_id, row.sheet_version) {
            (Some((id, version, sheet)), _, _) => (Some(id.0), Some(*version), Some(sheet.clone())),
            (None, Some(id), Some(version)) => (
                Some(id),
                Some(version),
                Some(sheet_of(tx, id, version).await?),
            ),
            _ => (None, None, None),
        };
    let confirmed = input.confirmed_requirements.clone().unwrap_or_default();
    let missing: Vec<String> = sheet
        .as_ref()
        .map(|s| {
            s.missing_requirements(&confirmed)
                .into_iter()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if matches!(step, Step::Register) && (requester_id.is_none() || service_id.is_none()) {
        return Err(AppError::invalid(
            if requester_id.is_none() {
                "requester_id"
            } else {
                "service_id"
            },
            "register_needs_requester_and_service",
            "Para registrar un mensaje de la bandeja de entrada identifique al solicitante (requester_id) y elija el servicio (service_id).",
        ));
    }
    let facts = RequestFacts {
        area: row.area_id.map(AreaId),
        requirements_complete: missing.is_empty(),
    };
    let to = transition(from, step, actor, facts).map_err(|e| {
        let status = match e {
            ventanilla_domain::lifecycle::TransitionError::NotFromStatus { .. } => {
                axum::http::StatusCode::CONFLICT
            }
            _ => axum::http::StatusCode::FORBIDDEN,
        };
        AppError::new(status, e.code(), e.to_string())
    })?;

    if step == Step::Assign {
        let area = input
            .area_id
            .or(row.area_id.map(AreaId))
            .or(sheet.as_ref().map(|s| s.area_id));
        assign_in_tx(
            tx,
            row.id,
            from,
            area,
            input.assignee_id,
            actor,
            reason,
            now_ms,
        )
        .await?;
        super::service_levels::recompute_request(tx, row.id, now_ms).await?;
        return Ok(Status::Assigned);
    }

    let reopen_increment = i64::from(step == Step::Reopen);
    let registered_now = to == Status::Registered;
    sqlx::query(
        "UPDATE requests SET status = $1, updated_at = $2, reopen_count = reopen_count + $3,
            requester_id = $4, service_id = $5, sheet_version = $6,
            registered_at = CASE WHEN $7 = 1 THEN $2 ELSE registered_at END
         WHERE id = $8",
    )
    .bind(to.code())
    .bind(now_ms)
    .bind(reopen_increment)
    .bind(requester_id)
    .bind(service_id)
    .bind(sheet_version)
    .bind(i64::from(registered_now))
    .bind(row.id)
    .execute(&mut *tx)
    .await?;
    if step == Step::Register {
        // The requester is known now: the request is found by their name too.
        super::search::index_request(tx, row.id).await?;
    }
    let payload = match step {
        Step::Register | Step::ConfirmRequirements => json!({
            "requester_id": requester_id,
            "service_id": service_id,
            "sheet_version": sheet_version,
            "confirmed_requirements": confirmed,
            "missing_requirements": missing,
        }),
        _ => json!({}),
    };
    let kind = match step {
        Step::Register => "registered",
        other => other.code(),
    };
    insert_event(
        tx,
        EventRecord {
            request_id: row.id,
            at: now_ms,
            actor,
            kind,
            from: Some(from),
            to: Some(to),
            payload,
            reason,
        },
    )
    .await?;
    if ventanilla_domain::lifecycle::requester_is_told(step, actor) {
        crate::mail::outbound::enqueue_status_change(
            tx,
            row.id,
            from.label_es(),
            to.label_es(),
            reason,
            now_ms,
        )
        .await?;
    }
    let mut final_status = to;
    if registered_now {
        // A11: a registered request goes straight to the area its sheet names.
        let area = input.area_id.or(sheet.as_ref().map(|s| s.area_id));
        assign_in_tx(tx, row.id, to, area, input.assignee_id, actor, None, now_ms).await?;
        final_status = Status::Assigned;
    }
    let stager = match actor {
        Actor::Staff { id, .. } => Some(id),
        _ => None,
    };
    super::staged::attach_in(tx, row.id, stager, &input.documents, actor, now_ms).await?;
    super::service_levels::recompute_request(tx, row.id, now_ms).await?;
    Ok(final_status)
}

/// A comment on the timeline; `internal` comments are for staff only.
pub async fn comment(
    db: &Db,
    number: &str,
    body: &str,
    internal: bool,
    actor: Actor,
    now_ms: i64,
) -> AppResult<i64> {
    let mut tx = db.begin_write().await?;
    let row = lock_request(&mut tx, db.engine, number).await?;
    sqlx::query("UPDATE requests SET updated_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
    let id = insert_event(
        &mut tx,
        EventRecord {
            request_id: row.id,
            at: now_ms,
            actor,
            kind: "comment",
            from: None,
            to: None,
            payload: json!({ "body": body, "internal": internal }),
            reason: None,
        },
    )
    .await?;
    super::search::index_request(&mut tx, row.id).await?;
    tx.commit().await?;
    Ok(id)
}

/// V6: the requester changed the conditions of the service; the description is replaced and the
/// old text stays on the timeline.
pub async fn change_conditions(
    db: &Db,
    number: &str,
    description: &str,
    reason: &str,
    actor: Actor,
    now_ms: i64,
) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    let row = lock_request(&mut tx, db.engine, number).await?;
    let status = Status::from_code(&row.status).unwrap_or(Status::Received);
    if !status.is_open() {
        return Err(AppError::conflict(
            "request_not_open",
            format!(
                "La solicitud está «{}»; reábrala antes de cambiar sus condiciones.",
                status.label_es()
            ),
        ));
    }
    let before: String = sqlx::query_scalar("SELECT description FROM requests WHERE id = $1")
        .bind(row.id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("UPDATE requests SET description = $1, updated_at = $2 WHERE id = $3")
        .bind(description)
        .bind(now_ms)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
    insert_event(
        &mut tx,
        EventRecord {
            request_id: row.id,
            at: now_ms,
            actor,
            kind: "conditions_changed",
            from: None,
            to: None,
            payload: json!({ "before": before, "after": description }),
            reason: Some(reason),
        },
    )
    .await?;
    super::search::index_request(&mut tx, row.id).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Clone)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Neither the name nor the bytes: a file name may carry a person's name (no personal data in
/// logs).
impl std::fmt::Debug for NewAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAttachment")
            .field("content_type", &self.content_type)
            .field("size_bytes", &self.content.len())
            .finish_non_exhaustive()
    }
}

pub async fn attach(
    db: &Db,
    number: &str,
    file: NewAttachment,
    actor: Actor,
    now_ms: i64,
) -> AppResult<AttachmentMeta> {
    let mut tx = db.begin_write().await?;
    let row = lock_request(&mut tx, db.engine, number).await?;
    let meta = insert_attachment(&mut tx, row.id, file, actor, now_ms).await?;
    sqlx::query("UPDATE requests SET updated_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(meta)
}

/// The SHA-256 of a file's bytes, as lowercase hex.
pub(crate) fn sha256_hex(content: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes one file of a request with its `attachment_added` event, inside the caller's
/// transaction (an upload on the request page, or the documents of a registration).
pub(crate) async fn insert_attachment(
    tx: &mut AnyConnection,
    request_id: i64,
    file: NewAttachment,
    actor: Actor,
    now_ms: i64,
) -> AppResult<AttachmentMeta> {
    let sha256 = sha256_hex(&file.content);
    let size = i64::try_from(file.content.len()).unwrap_or(i64::MAX);
    let event_id = insert_event(
        tx,
        EventRecord {
            request_id,
            at: now_ms,
            actor,
            kind: "attachment_added",
            from: None,
            to: None,
            payload: json!({ "filename": file.filename, "size_bytes": size, "sha256": sha256 }),
            reason: None,
        },
    )
    .await?;
    let (_, actor_id) = actor_parts(actor);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO attachments (request_id, event_id, filename, content_type, size_bytes, sha256, content, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(request_id)
    .bind(event_id)
    .bind(&file.filename)
    .bind(&file.content_type)
    .bind(size)
    .bind(&sha256)
    .bind(file.content)
    .bind(actor_id)
    .bind(now_ms)
    .fetch_one(&mut *tx)
    .await?;
    Ok(AttachmentMeta {
        id,
        filename: file.filename,
        content_type: file.content_type,
        size_bytes: size,
        sha256,
        created_at: super::from_millis(now_ms),
    })
}

#[derive(FromRow)]
struct AttachmentRow {
    id: i64,
    request_id: i64,
    filename: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    created_at: i64,
}

impl AttachmentRow {
    fn meta(self) -> AttachmentMeta {
        AttachmentMeta {
            id: self.id,
            filename: self.filename,
            content_type: self.content_type,
            size_bytes: self.size_bytes,
            sha256: self.sha256,
            created_at: super::from_millis(self.created_at),
        }
    }
}

pub async fn attachment_content(
    db: &Db,
    number: &str,
    id: i64,
) -> AppResult<Option<(AttachmentMeta, Vec<u8>)>> {
    let row: Option<AttachmentRow> = sqlx::query_as(
        "SELECT a.id, a.request_id, a.filename, a.content_type, a.size_bytes, a.sha256, a.created_at
         FROM attachments a JOIN requests q ON q.id = a.request_id
         WHERE q.number = $1 AND a.id = $2",
    )
    .bind(number)
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let content: Vec<u8> = sqlx::query_scalar("SELECT content FROM attachments WHERE id = $1")
        .bind(row.id)
        .fetch_one(db.read())
        .await?;
    Ok(Some((row.meta(), content)))
}

#[derive(FromRow)]
struct EventRow {
    id: i64,
    request_id: i64,
    at: i64,
    actor_kind: String,
    actor_id: Option<i64>,
    actor_name: Option<String>,
    kind: String,
    from_status: Option<String>,
    to_status: Option<String>,
    payload: String,
    reason: Option<String>,
}

impl EventRow {
    fn event(self) -> Event {
        Event {
            id: self.id,
            at: super::from_millis(self.at),
            actor_kind: self.actor_kind,
            actor_id: self.actor_id,
            actor_name: self.actor_name,
            kind: self.kind,
            from_status: self.from_status,
            to_status: self.to_status,
            payload: serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null),
            reason: self.reason,
        }
    }
}

pub async fn get(db: &Db, number: &str) -> AppResult<Option<RequestDetail>> {
    // One connection for the three reads: taking one from the pool and giving it back cost
    // about as much as a read itself (docs/PERFORMANCE.md, «Create»).
    let mut conn = db.read().acquire().await?;
    let sql = format!("{SUMMARY_SELECT}{SUMMARY_JOINS} WHERE q.number = $1");
    let row: Option<SummaryRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(with_timelines(&mut conn, row.into_iter().collect())
        .await?
        .pop()
        .map(|found| found.detail))
}

/// A request just registered, as the registration's transaction reads it back (A8).
#[derive(Debug, Clone)]
pub struct ReadBack {
    pub detail: RequestDetail,
    /// Its requester's other open requests for the same service.
    pub possible_duplicates: Vec<String>,
}

/// The requests `ids` with their possible duplicates, read on `conn` (inside the transaction
/// that registered them) with four statements however many they are: a group commit reads
/// its whole batch back at once instead of each caller reading its own after the commit.
pub(crate) async fn read_back(conn: &mut AnyConnection, ids: &[i64]) -> AppResult<Vec<ReadBack>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{SUMMARY_SELECT}{SUMMARY_JOINS} WHERE q.id IN ({})",
        id_list(1, ids.len())
    );
    let rows: Vec<SummaryRow> = bind_list(sqlx::query_as(AssertSqlSafe(sql)), ids)
        .fetch_all(&mut *conn)
        .await?;
    // Each (requester, service) pair is looked up on its own in the index: two IN lists would
    // make SQLite seek every requester with every service, the square of the group's size.
    let mut pairs: Vec<(i64, i64)> = rows
        .iter()
        .filter_map(|r| r.requester_id.zip(r.service_id))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let open: Vec<(i64, i64, i64, String)> = match pairs.last() {
        None => Vec::new(),
        Some(&last) => {
            let padded = pairs.len().next_power_of_two();
            // A padding row repeats the last pair; DISTINCT drops what it finds twice (and
            // PostgreSQL wants the ORDER BY column in a DISTINCT list, hence q.id).
            let sql = format!(
                "WITH wanted (requester_id, service_id) AS (VALUES {})
                 SELECT DISTINCT q.id, q.requester_id, q.service_id, q.number
                 FROM wanted w JOIN requests q
                   ON q.requester_id = w.requester_id AND q.service_id = w.service_id
                 WHERE q.status NOT IN ('{}', '{}') ORDER BY q.id",
                value_rows(conn, padded, 2, ""),
                Status::Closed.code(),
                Status::Cancelled.code(),
            );
            let mut query = sqlx::query_as(AssertSqlSafe(sql));
            for &(requester, service) in pairs
                .iter()
                .chain(std::iter::repeat_n(&last, padded - pairs.len()))
            {
                query = query.bind(requester).bind(service);
            }
            query.fetch_all(&mut *conn).await?
        }
    };
    let mut found: HashMap<i64, RequestDetail> = with_timelines(conn, rows)
        .await?
        .into_iter()
        .map(|d| (d.id, d.detail))
        .collect();
    ids.iter()
        .map(|id| {
            let detail = found.remove(id).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("registered request {id} not found"))
            })?;
            let possible_duplicates = open
                .iter()
                .filter(|(_, requester, service, number)| {
                    Some(*requester) == detail.summary.requester_id
                        && Some(*service) == detail.summary.service_id
                        && *number != detail.summary.number
                })
                .map(|(_, _, _, number)| number.clone())
                .collect();
            Ok(ReadBack {
                detail,
                possible_duplicates,
            })
        })
        .collect()
}

/// A detail with the internal id it was read by.
struct IdentifiedDetail {
    id: i64,
    detail: RequestDetail,
}

/// The timelines and attachments of the requests `rows`, in two statements.
async fn with_timelines(
    conn: &mut AnyConnection,
    rows: Vec<SummaryRow>,
) -> AppResult<Vec<IdentifiedDetail>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let list = id_list(1, ids.len());
    let sql = format!(
        "SELECT e.id, e.request_id, e.at, e.actor_kind, e.actor_id, st.full_name AS actor_name,
            e.kind, e.from_status, e.to_status, e.payload, e.reason
         FROM request_events e LEFT JOIN staff st ON st.id = e.actor_id AND e.actor_kind = 'staff'
         WHERE e.request_id IN ({list}) ORDER BY e.id"
    );
    let events: Vec<EventRow> = bind_list(sqlx::query_as(AssertSqlSafe(sql)), &ids)
        .fetch_all(&mut *conn)
        .await?;
    let sql = format!(
        "SELECT id, request_id, filename, content_type, size_bytes, sha256, created_at
         FROM attachments WHERE request_id IN ({list}) ORDER BY id"
    );
    let attachments: Vec<AttachmentRow> = bind_list(sqlx::query_as(AssertSqlSafe(sql)), &ids)
        .fetch_all(&mut *conn)
        .await?;
    let mut details: Vec<IdentifiedDetail> = rows
        .into_iter()
        .map(|row| IdentifiedDetail {
            id: row.id,
            detail: RequestDetail {
                summary: row.summary(),
                description: row.description,
                timeline: Vec::new(),
                attachments: Vec::new(),
            },
        })
        .collect();
    let position: HashMap<i64, usize> = details
        .iter()
        .enumerate()
        .map(|(at, d)| (d.id, at))
        .collect();
    for event in events {
        if let Some(&at) = position.get(&event.request_id) {
            details[at].detail.timeline.push(event.event());
        }
    }
    for attachment in attachments {
        if let Some(&at) = position.get(&attachment.request_id) {
            details[at].detail.attachments.push(attachment.meta());
        }
    }
    Ok(details)
}

/// Filters for the request list; all optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub open_only: bool,
    pub area_id: Option<AreaId>,
    pub assignee_id: Option<StaffId>,
    pub service_id: Option<ServiceId>,
    pub requester_id: Option<RequesterId>,
    pub channel: Option<Channel>,
    /// Full text: every word must appear (see `db::search`).
    pub text: Option<TextFilter>,
    /// Keyset pagination: only requests with an internal id below this one.
    pub before_id: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub struct TextFilter {
    pub text: String,
    /// Whether the requester's name is searched too: only for roles that may see it.
    pub with_requester: bool,
}

/// Newest first. Returns the page and the cursor of the next page, if any.
pub async fn list(db: &Db, filter: &ListFilter) -> AppResult<(Vec<RequestSummary>, Option<i64>)> {
    let mut conditions: Vec<String> = Vec::new();
    let mut ints: Vec<i64> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    // With text, the search index drives the query (newest first on SQLite's FTS5 rowids too).
    let mut search_join = "";
    let mut id_column = "q.id";
    if let Some(text) = &filter.text {
        let Some(expression) =
            super::search::match_expression(db.engine, &text.text, text.with_requester)
        else {
            return Ok((Vec::new(), None));
        };
        texts.push(expression);
        match db.engine {
            Engine::Sqlite => {
                search_join = " JOIN request_search_fts f ON f.rowid = q.id";
                id_column = "f.rowid";
                conditions.push("f.request_search_fts MATCH ${text}".into());
            }
            Engine::Postgres => {
                search_join = " JOIN request_search f ON f.request_id = q.id";
                // `vector`: the stored column under the GIN index of migration 9.
                conditions.push("f.vector @@ to_tsquery('spanish'::regconfig, ${text})".into());
            }
        }
    }
    // Integers are bound first, then texts, so placeholders are numbered in that order.
    let int_filters = [
        ("q.area_id", filter.area_id.map(|a| a.0)),
        ("q.assignee_id", filter.assignee_id.map(|a| a.0)),
        ("q.service_id", filter.service_id.map(|a| a.0)),
        ("q.requester_id", filter.requester_id.map(|a| a.0)),
    ];
    for (column, value) in int_filters {
        if let Some(v) = value {
            ints.push(v);
            conditions.push(format!("{column} = ${}", ints.len()));
        }
    }
    let mut before_param = None;
    if let Some(before) = filter.before_id {
        ints.push(before);
        before_param = Some(format!("${}", ints.len()));
        conditions.push(format!("{id_column} < ${}", ints.len()));
    }
    let mut statuses: Vec<Status> = filter.statuses.clone();
    if filter.open_only {
        if statuses.is_empty() {
            statuses = Status::ALL.to_vec();
        }
        statuses.retain(|s| s.is_open());
    }
    if !statuses.is_empty() {
        let mut placeholders = Vec::new();
        for status in statuses {
            texts.push(status.code().to_string());
            placeholders.push(format!("${}", ints.len() + texts.len()));
        }
        conditions.push(format!("q.status IN ({})", placeholders.join(", ")));
    }
    if let Some(channel) = filter.channel {
        texts.push(channel.code().to_string());
        conditions.push(format!("q.channel = ${}", ints.len() + texts.len()));
    }
    let limit = filter.limit.clamp(1, 200);
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    // The page's ids first, then the joins for those rows only: joining every match before the
    // sort cost half a second for the open requests of a million (docs/PERFORMANCE.md).
    let page_ids = if filter.text.is_some() && db.engine == Engine::Postgres {
        // The text condition is the first one; the index already applied it to `few`.
        let others: Vec<String> = conditions.iter().skip(1).cloned().collect();
        let window_top = before_param
            .unwrap_or_else(|| "(SELECT COALESCE(max(id), 0) + 1 FROM requests)".to_string());
        pg_search_ids(&where_clause, &others, limit + 1, &window_top)
    } else {
        format!(
            "SELECT {id_column} FROM requests q{search_join}{where_clause}
             ORDER BY {id_column} DESC LIMIT {}",
            limit + 1
        )
    };
    let sql =
        format!("{SUMMARY_SELECT}{SUMMARY_JOINS} WHERE q.id IN ({page_ids}) ORDER BY q.id DESC")
            // The search expression is the first text bound, right after the integers.
            .replace("${text}", &format!("${}", ints.len() + 1));
    let mut query = sqlx::query_as::<_, SummaryRow>(AssertSqlSafe(sql));
    for v in ints {
        query = query.bind(v);
    }
    for v in texts {
        query = query.bind(v);
    }
    let mut rows = query.fetch_all(db.read()).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok((rows.iter().map(SummaryRow::summary).collect(), next))
}

/// A8: open requests of the same requester for the same service.
pub async fn possible_duplicates(
    db: &Db,
    requester: RequesterId,
    service: ServiceId,
) -> AppResult<Vec<String>> {
    let closed = [Status::Closed.code(), Status::Cancelled.code()];
    Ok(sqlx::query_scalar(
        "SELECT number FROM requests WHERE requester_id = $1 AND service_id = $2
         AND status NOT IN ($3, $4) ORDER BY id",
    )
    .bind(requester.0)
    .bind(service.0)
    .bind(closed[0])
    .bind(closed[1])
    .fetch_all(db.read())
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_search_tries_the_recent_requests_then_few_matches_then_newest_first_below_them() {
        let where_clause = " WHERE f.vector @@ x AND q.area_id = $1 AND q.id < $2";
        let others = vec!["q.area_id = $1".to_string(), "q.id < $2".to_string()];
        let sql = pg_search_ids(where_clause, &others, 26, "$2");
        // 1. The newest 5,000 below the cursor, answering alone when they fill the page.
        // (bounding the index's own column: bounding `q.id` left the index read to its end)
        assert!(
            sql.contains("AND q.id < $2 AND f.request_id >= $2 - 5000"),
            "{sql}"
        );
        assert!(
            sql.contains("FROM recent WHERE (SELECT count(*) FROM recent) = 26"),
            "{sql}"
        );
        // 2. At most 5,001 matches from the index, only when the recent ones did not answer;
        // looked up by id with the other filters, without testing the text again.
        assert!(
            sql.contains("AND (SELECT count(*) FROM recent) < 26"),
            "{sql}"
        );
        assert!(sql.contains("LIMIT 5001"), "{sql}");
        assert!(
            sql.contains("WHERE q.id = few.request_id AND q.area_id = $1 AND q.id < $2 OFFSET 0"),
            "{sql}"
        );
        assert!(
            sql.contains("WHERE (SELECT count(*) FROM few) <= 5000 ORDER BY"),
            "{sql}"
        );
        let unfiltered = pg_search_ids(" WHERE f.vector @@ x", &[], 26, "(SELECT 1)");
        assert!(!unfiltered.contains("LATERAL"), "{unfiltered}");
        assert!(
            unfiltered.contains("SELECT request_id AS id FROM few"),
            "{unfiltered}"
        );
        // 3. When the index holds more: the recent matches, then newest first below the window.
        assert!(
            sql.contains("SELECT id FROM recent WHERE (SELECT count(*) FROM few) > 5000"),
            "{sql}"
        );
        assert!(
            sql.contains(
                "AND (SELECT count(*) FROM few) > 5000
            AND f.request_id < $2 - 5000
            ORDER BY q.id DESC LIMIT 26)"
            ),
            "{sql}"
        );
        assert!(sql.ends_with(") found ORDER BY id DESC LIMIT 26"), "{sql}");
    }
}
