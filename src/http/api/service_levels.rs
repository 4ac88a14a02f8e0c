//! Service levels over HTTP: a request's clocks with their explanation, the queue by time to
//! breach (A16), the calendar administration (L3, L4), escalation levels per service (A19),
//! digests on demand (A17) and the outbox listing.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::calendar::{
    CalendarSpec, ClosedReason, DatedException, Explanation, Segment, exceptions_from_ics,
};
use ventanilla_domain::permissions::Action;

use crate::db::outbox::{self, OutboxMessage};
use crate::db::requests;
use crate::db::service_levels::{
    self as sl, DigestSent, EscalationLevel, QueueFilter, QueueRow, business_text,
    calendar_problem, local_text,
};
use crate::error::{AppError, AppResult};
use crate::http::extract::{
    ApiJson, ApiPath, ApiQuery, CurrentStaff, parse_number, parse_statuses,
};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(service_level))
        .routes(routes!(queue))
        .routes(routes!(get_calendar, put_calendar))
        .routes(routes!(add_exceptions))
        .routes(routes!(export_ics, import_ics))
        .routes(routes!(recompute))
        .routes(routes!(get_escalation, put_escalation))
        .routes(routes!(send_digests))
        .routes(routes!(list_outbox))
}

// ---------------------------------------------------------------------------
// A request's clocks
// ---------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub(crate) struct TargetView {
    /// response or resolution.
    pub(crate) target: String,
    pub(crate) target_minutes: i64,
    #[schema(value_type = String)]
    start: jiff::Timestamp,
    /// Absent while the clock is stopped by a pause with time left.
    #[schema(value_type = Option<String>)]
    deadline: Option<jiff::Timestamp>,
    /// Deadline in local words, e.g. `mar 17/03/2026 09:00`.
    pub(crate) deadline_local: Option<String>,
    #[schema(value_type = Option<String>)]
    stopped_at: Option<jiff::Timestamp>,
    pub(crate) elapsed_seconds: i64,
    /// Negative when overdue.
    pub(crate) remaining_seconds: i64,
    /// Elapsed ÷ target × 100.
    pub(crate) share_percent: f64,
    /// running, paused, met or breached.
    pub(crate) state: String,
    /// Spanish summary: open hours counted, closed days and pauses skipped.
    pub(crate) explanation_es: String,
    /// Every step: open spans counted, closed days (with the holiday's name), pauses.
    #[schema(value_type = Option<Object>)]
    explanation: Option<Explanation>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ServiceLevelView {
    number: String,
    status: String,
    /// none, running, paused, met or breached (the worst target).
    pub(crate) state: String,
    zone: String,
    pub(crate) targets: Vec<TargetView>,
}

/// Spanish summary of how a deadline was reached.
fn explain_es(explanation: &Explanation) -> String {
    let mut counted = 0;
    let mut closed = Vec::new();
    for segment in &explanation.segments {
        match segment {
            Segment::Open { seconds, .. } => counted += seconds,
            Segment::Paused { .. } => {}
            Segment::Closed { date, reason } => closed.push(match reason {
                ClosedReason::WeeklyRest { .. } => format!("{date} (descanso semanal)"),
                ClosedReason::Exception { name, kind } => {
                    format!("{date} ({name}, {})", kind.label_es())
                }
            }),
        }
    }
    let mut text = format!("Se contaron {} hábiles", business_text(counted));
    if !closed.is_empty() {
        text.push_str(&format!("; se omitieron los días {}", closed.join(", ")));
    }
    if explanation.paused_seconds > 0 {
        text.push_str(&format!(
            "; se descontaron {} hábiles en espera",
            business_text(explanation.paused_seconds)
        ));
    }
    text.push('.');
    text
}

#[utoipa::path(get, path = "/requests/{number}/service-level", tag = "service levels",
    responses((status = 200, body = ServiceLevelView), (status = 404)))]
async fn service_level(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(number): ApiPath<String>,
) -> AppResult<Json<ServiceLevelView>> {
    staff.require(Action::ViewRequests)?;
    let number = parse_number(&number)?;
    Ok(Json(service_level_view(&state, &number).await?))
}

/// A request's clocks now, explained; the API and the request page show the same.
pub(crate) async fn service_level_view(
    state: &AppState,
    number: &str,
) -> AppResult<ServiceLevelView> {
    let now_ms = state.now_ms();
    let mut conn = state.db.read().acquire().await?;
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM requests WHERE number = $1")
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?;
    let id = id.ok_or_else(|| requests::unknown_number(number))?;
    let calendar = sl::load_calendar(&mut *conn, now_ms).await?;
    let request = sl::evaluate_request(&mut conn, &calendar, id, now_ms)
        .await?
        .ok_or_else(|| requests::unknown_number(number))?;
    let targets = request
        .levels
        .iter()
        .map(|level| {
            let explanation = level.explain(&calendar);
            let explanation_es = match &explanation {
                Some(e) => explain_es(e),
                None => format!(
                    "Reloj detenido en espera: van {} de {} hábiles.",
                    business_text(level.elapsed_seconds),
                    business_text(level.target_seconds)
                ),
            };
            TargetView {
                target: level.target.code().to_owned(),
                target_minutes: level.target_seconds / 60,
                start: level.start,
                deadline: level.deadline,
                deadline_local: level.deadline.map(|d| local_text(&calendar, d)),
                stopped_at: level.stopped_at,
                elapsed_seconds: level.elapsed_seconds,
                remaining_seconds: level.remaining_seconds,
                share_percent: (level.share * 1000.0).round() / 10.0,
                state: level.state.code().to_owned(),
                explanation_es,
                explanation,
            }
        })
        .collect();
    Ok(ServiceLevelView {
        number: request.number,
        status: request.status.code().to_owned(),
        state: sl::overall_state(&request.levels).to_owned(),
        zone: calendar.zone_name().to_owned(),
        targets,
    })
}

// ---------------------------------------------------------------------------
// Queue
// ---------------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
struct QueueQuery {
    area_id: Option<i64>,
    assignee_id: Option<i64>,
    service_id: Option<i64>,
    /// Comma-separated statuses.
    status: Option<String>,
    /// Past the warning share and not yet overdue.
    at_risk: Option<bool>,
    /// Overdue with the clock still running.
    breached: Option<bool>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1 to 200, default 50.
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct QueuePage {
    items: Vec<QueueRow>,
    next_cursor: Option<String>,
}

fn bad_query(field: &str, code: &str, detail: &str) -> AppError {
    AppError::new(StatusCode::BAD_REQUEST, code, detail).with_field(field)
}

/// Open requests, nearest deadline first (overdue ones lead); requests without a running
/// clock (waiting) come last.
#[utoipa::path(get, path = "/queue", tag = "service levels", params(QueueQuery),
    responses((status = 200, body = QueuePage)))]
async fn queue(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> AppResult<Json<QueuePage>> {
    staff.require(Action::ViewRequests)?;
    let statuses = parse_statuses(query.status.as_deref())?;
    let after = match query.cursor.as_deref() {
        None => None,
        Some(raw) => {
            let parsed = raw
                .split_once('.')
                .and_then(|(d, i)| Some((d.parse().ok()?, i.parse().ok()?)));
            Some(parsed.ok_or_else(|| {
                bad_query(
                    "cursor",
                    "invalid_cursor",
                    "El cursor no es válido; use el next_cursor de la página anterior.",
                )
            })?)
        }
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad_query("limit", "limit_range", "limit va de 1 a 200."));
    }
    let filter = QueueFilter {
        area_id: query.area_id,
        assignee_id: query.assignee_id,
        service_id: query.service_id,
        statuses,
        at_risk: query.at_risk.unwrap_or(false),
        breached: query.breached.unwrap_or(false),
        after,
        limit,
    };
    let (items, more) = sl::queue(&state.db, &filter, state.now_ms()).await?;
    let next_cursor = if more {
        items.last().map(|r| format!("{}.{}", r.sla_due_at, r.id))
    } else {
        None
    };
    Ok(Json(QueuePage { items, next_cursor }))
}

// ---------------------------------------------------------------------------
// Calendar administration
// ---------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
struct CalendarSaved {
    #[schema(value_type = Object)]
    calendar: CalendarSpec,
    /// Open requests whose deadlines were recomputed.
    recomputed: u64,
    recompute_ms: u64,
}

/// The calendar every deadline uses, in the `CalendarSpec` shape.
#[utoipa::path(get, path = "/calendar", tag = "service levels",
    responses((status = 200, body = Object)))]
async fn get_calendar(
    State(state): State<AppState>,
    staff: CurrentStaff,
) -> AppResult<Json<CalendarSpec>> {
    staff.require(Action::ViewRequests)?;
    let calendar = sl::load_calendar(state.db.read(), state.now_ms()).await?;
    Ok(Json(calendar.to_spec()))
}

async fn save_and_recompute(
    state: &AppState,
    staff: &CurrentStaff,
    spec: CalendarSpec,
) -> AppResult<CalendarSaved> {
    let saved = sl::save_and_recompute(&state.db, spec, Some(staff.0.id.0), state.now_ms()).await?;
    Ok(CalendarSaved {
        calendar: saved.calendar.to_spec(),
        recomputed: saved.recomputed,
        recompute_ms: saved.recompute_ms,
    })
}

/// Replaces the calendar (administrator) and recomputes every open request's deadlines.
#[utoipa::path(put, path = "/calendar", tag = "service levels", request_body = Object,
    responses((status = 200, body = CalendarSaved), (status = 422, description = "overlapping intervals, end before start, unknown zone, no open time…")))]
async fn put_calendar(
    State(state): State<AppState>,
    staff: CurrentStaff,
    body: axum::body::Bytes,
) -> AppResult<Json<CalendarSaved>> {
    staff.require(Action::ManageCalendar)?;
    let spec: CalendarSpec = parse_spec_json(&body)?;
    Ok(Json(save_and_recompute(&state, &staff, spec).await?))
}

/// Reads calendar JSON; a rule the calendar types enforce while reading (an interval's time
/// written wrong) still answers 422 naming the field.
fn parse_spec_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        let text = e.to_string();
        if e.is_syntax() || e.is_eof() {
            AppError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("El cuerpo no es JSON válido: {text}."),
            )
        } else {
            let field = text
                .find("field `")
                .and_then(|s| text[s + 7..].split('`').next().map(str::to_owned))
                .unwrap_or_else(|| "body".to_owned());
            AppError::invalid(
                &field,
                "invalid_calendar",
                format!("El calendario no es válido: {text}."),
            )
        }
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewExceptions {
    /// Holidays, vacation periods or special hours to add.
    #[schema(value_type = Vec<Object>)]
    exceptions: Vec<DatedException>,
}

/// Adds holidays, vacation periods or special hours (administrator).
#[utoipa::path(post, path = "/calendar/exceptions", tag = "service levels", request_body = NewExceptions,
    responses((status = 200, body = CalendarSaved), (status = 422)))]
async fn add_exceptions(
    State(state): State<AppState>,
    staff: CurrentStaff,
    body: axum::body::Bytes,
) -> AppResult<Json<CalendarSaved>> {
    staff.require(Action::ManageCalendar)?;
    let input: NewExceptions = parse_spec_json(&body)?;
    let current = sl::load_calendar(state.db.read(), state.now_ms()).await?;
    let mut spec = current.to_spec();
    let offset = spec.exceptions.len();
    spec.exceptions.extend(input.exceptions);
    // Name the field as the client sent it (`exceptions[0]` of the body, not of the calendar).
    if let Err(e) = ventanilla_domain::calendar::Calendar::new(spec.clone()) {
        let field = renumber(e.field(), offset);
        return Err(AppError::invalid(&field, e.code(), e.to_string()));
    }
    Ok(Json(save_and_recompute(&state, &staff, spec).await?))
}

/// `exceptions[12].hours` → `exceptions[2].hours` when 10 were there before.
fn renumber(field: &str, offset: usize) -> String {
    let Some(rest) = field.strip_prefix("exceptions[") else {
        return field.to_owned();
    };
    match rest.split_once(']') {
        Some((index, tail)) => match index.parse::<usize>() {
            Ok(i) if i >= offset => format!("exceptions[{}]{tail}", i - offset),
            _ => field.to_owned(),
        },
        None => field.to_owned(),
    }
}

/// The calendar's exceptions as iCalendar (`text/calendar`).
#[utoipa::path(get, path = "/calendar/ics", tag = "service levels",
    responses((status = 200, content_type = "text/calendar", body = String)))]
async fn export_ics(State(state): State<AppState>, staff: CurrentStaff) -> AppResult<Response> {
    staff.require(Action::ViewRequests)?;
    let calendar = sl::load_calendar(state.db.read(), state.now_ms()).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        calendar.to_ics(),
    )
        .into_response())
}

/// Adds the events of an iCalendar body (`text/calendar`) as exceptions (administrator).
#[utoipa::path(post, path = "/calendar/ics", tag = "service levels",
    request_body(content = String, content_type = "text/calendar"),
    responses((status = 200, body = CalendarSaved), (status = 422)))]
async fn import_ics(
    State(state): State<AppState>,
    staff: CurrentStaff,
    body: String,
) -> AppResult<Json<CalendarSaved>> {
    staff.require(Action::ManageCalendar)?;
    let exceptions = exceptions_from_ics(&body).map_err(|e| calendar_problem(&e))?;
    let current = sl::load_calendar(state.db.read(), state.now_ms()).await?;
    let mut spec = current.to_spec();
    spec.exceptions.extend(exceptions);
    Ok(Json(save_and_recompute(&state, &staff, spec).await?))
}

#[derive(Serialize, ToSchema)]
struct Recomputed {
    recomputed: u64,
    recompute_ms: u64,
}

/// Recomputes every open request's deadlines (administrator); reports the time taken.
#[utoipa::path(post, path = "/calendar/recompute", tag = "service levels",
    responses((status = 200, body = Recomputed)))]
async fn recompute(
    State(state): State<AppState>,
    staff: CurrentStaff,
) -> AppResult<Json<Recomputed>> {
    staff.require(Action::ManageCalendar)?;
    let started = std::time::Instant::now();
    let recomputed = sl::recompute_all(&state.db, state.now_ms()).await?;
    Ok(Json(Recomputed {
        recomputed,
        recompute_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }))
}

// ---------------------------------------------------------------------------
// Escalation levels
// ---------------------------------------------------------------------------

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EscalationBody {
    /// Empty = the defaults (75 %: assignee and area; 100 %: supervisor).
    levels: Vec<EscalationLevel>,
}

#[utoipa::path(get, path = "/services/{id}/escalation", tag = "service levels",
    responses((status = 200, body = EscalationBody)))]
async fn get_escalation(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<EscalationBody>> {
    staff.require(Action::ViewCatalogue)?;
    let mut conn = state.db.read().acquire().await?;
    let levels = sl::levels_for_service(&mut conn, Some(id)).await?;
    Ok(Json(EscalationBody { levels }))
}

/// Who is told at which share of the service's targets (administrator).
#[utoipa::path(put, path = "/services/{id}/escalation", tag = "service levels", request_body = EscalationBody,
    responses((status = 200, body = EscalationBody), (status = 422)))]
async fn put_escalation(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EscalationBody>,
) -> AppResult<Json<EscalationBody>> {
    staff.require(Action::ManageCatalogue)?;
    let levels = sl::save_levels(&state.db, id, body.levels, state.now_ms()).await?;
    Ok(Json(EscalationBody { levels }))
}

// ---------------------------------------------------------------------------
// Digests and the outbox
// ---------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
struct DigestsSent {
    digests: Vec<DigestSent>,
}

/// A17 on demand (coordinator): one message per area with pending requests, to the outbox.
#[utoipa::path(post, path = "/digests", tag = "service levels",
    responses((status = 201, body = DigestsSent), (status = 403)))]
async fn send_digests(
    State(state): State<AppState>,
    staff: CurrentStaff,
) -> AppResult<(StatusCode, Json<DigestsSent>)> {
    staff.require(Action::SendDigest)?;
    let digests = sl::send_digests(&state.db, state.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(DigestsSent { digests })))
}

#[derive(Deserialize, IntoParams)]
struct OutboxQuery {
    /// acknowledgement, sla_warning, sla_breached, digest, …
    topic: Option<String>,
    /// Messages about one request.
    number: Option<String>,
    /// 1 to 500, default 100.
    limit: Option<i64>,
}

/// Notifications and mails waiting or sent, newest first (supervisor, coordinator).
#[utoipa::path(get, path = "/outbox", tag = "service levels", params(OutboxQuery),
    responses((status = 200, body = [OutboxMessage])))]
async fn list_outbox(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> AppResult<Json<Vec<OutboxMessage>>> {
    staff.require(Action::ViewReports)?;
    let request_id = match query.number.as_deref() {
        Some(raw) => {
            let number = parse_number(raw)?;
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM requests WHERE number = $1")
                .bind(&number)
                .fetch_optional(state.db.read())
                .await?;
            Some(id.ok_or_else(|| requests::unknown_number(&number))?)
        }
        None => None,
    };
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(bad_query("limit", "limit_range", "limit va de 1 a 500."));
    }
    Ok(Json(
        outbox::list(&state.db, request_id, query.topic.as_deref(), limit).await?,
    ))
}
