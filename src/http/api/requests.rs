//! Service requests: register (A9–A12), read with the timeline (A14), list and filter, take each
//! life-cycle step, comment, change conditions (V6) and attach files (Q3).

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::catalogue::SheetContent;
use ventanilla_domain::channel::Channel;
use ventanilla_domain::eligibility::check_eligibility;
use ventanilla_domain::ids::{AreaId, RequesterId, ServiceId, StaffId};
use ventanilla_domain::lifecycle::{Status, Step};
use ventanilla_domain::permissions::{Action, sees_requester_name};
use ventanilla_domain::service_order::{self, ServiceOrder};

use crate::db::requests::{
    self, AttachmentMeta, ListFilter, NewAttachment, NewRequest, RequestDetail, RequestSummary,
    StepInput, TextFilter,
};
use crate::db::{catalogue, requesters};
use crate::error::{AppError, AppResult};
use crate::http::extract::{
    ApiJson, ApiPath, ApiQuery, CurrentStaff, parse_number, parse_statuses,
};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests, create_request))
        .routes(routes!(get_request))
        .routes(routes!(take_step))
        .routes(routes!(add_comment))
        .routes(routes!(change_conditions))
        .routes(routes!(upload_attachment))
        .routes(routes!(download_attachment))
}

#[derive(Deserialize, ToSchema)]
struct NewRequestInput {
    /// email, phone, official_letter, service_order, facebook, x, in_person (L2).
    channel: String,
    /// Omit (with service_id) to leave the request in the intake queue until the person is identified.
    requester_id: Option<i64>,
    service_id: Option<i64>,
    subject: String,
    /// The problem in detail (A9).
    description: String,
    /// When CAU received it, if earlier than now (weekend mail, contingency form L8). RFC 3339.
    received_at: Option<String>,
    /// Requirements of the service sheet the agent confirmed (V1–V5).
    #[serde(default)]
    confirmed_requirements: Vec<String>,
    /// First-level tests run (A4), e.g. [{"test": "…", "result": "ok"}].
    #[serde(default)]
    #[schema(value_type = Object)]
    first_level_tests: serde_json::Value,
    /// Overrides the sheet's responsible area (A11).
    area_id: Option<i64>,
    assignee_id: Option<i64>,
    /// Same key, same request: a retried submission never registers twice.
    idempotency_key: Option<String>,
    /// Required with channel `service_order`: the paper order as received (X2).
    #[schema(value_type = Option<Object>)]
    service_order: Option<ServiceOrder>,
}

#[derive(Serialize, ToSchema)]
struct CreatedRequest {
    number: String,
    /// Open requests of the same person for the same service (A8).
    possible_duplicates: Vec<String>,
    /// True when the idempotency key had already registered this request.
    replayed: bool,
    request: RequestDetail,
}

fn text_field(value: &str, field: &str, min: usize, max: usize, what: &str) -> AppResult<String> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min || len > max {
        return Err(AppError::invalid(
            field,
            format!("{field}_length"),
            format!("{what} debe tener entre {min} y {max} caracteres (tiene {len})."),
        ));
    }
    Ok(trimmed.to_string())
}

pub(crate) async fn current_sheet(
    state: &AppState,
    id: i64,
) -> AppResult<(ServiceId, i64, SheetContent)> {
    let (service, sheet) = catalogue::service(&state.db, ServiceId(id))
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "service_id",
                "unknown_service",
                format!("No existe el servicio {id}; búsquelo en GET /api/v1/services?q=… (A10)."),
            )
        })?;
    if !service.active {
        return Err(AppError::invalid(
            "service_id",
            "inactive_service",
            "Ese servicio ya no se ofrece; elija otro del catálogo.",
        ));
    }
    Ok((ServiceId(service.id), service.current_version, sheet))
}

/// X2: the paper order checked against every rule at once; accepted, what `intake_details`
/// keeps of it. The API and the attention script register orders through here.
pub(crate) async fn accept_service_order(
    state: &AppState,
    order: &ServiceOrder,
) -> AppResult<serde_json::Value> {
    let calendar =
        crate::db::service_levels::load_calendar(state.db.read(), state.now_ms()).await?;
    let accepted = service_order::check(order, state.now(), &calendar).map_err(|refusals| {
        let reasons: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        AppError::invalid(
            "service_order",
            refusals
                .first()
                .map(service_order::Refusal::code)
                .unwrap_or("service_order_refused"),
            format!(
                "No se puede registrar la orden de servicio: {}",
                reasons.join(" ")
            ),
        )
    })?;
    Ok(serde_json::json!({
        "service_order": order,
        "business_days_late": accepted.business_days_late,
        "counted_in": format!("{:04}-{:02}", accepted.counted_in.0, accepted.counted_in.1),
    }))
}

#[utoipa::path(post, path = "/requests", tag = "requests", request_body = NewRequestInput,
    responses((status = 201, body = CreatedRequest), (status = 422, description = "invalid field, unknown service or requester, ineligible requester (L1)")))]
async fn create_request(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiJson(input): ApiJson<NewRequestInput>,
) -> AppResult<(
    StatusCode,
    [(header::HeaderName, String); 1],
    Json<CreatedRequest>,
)> {
    staff.require(Action::CreateRequest)?;
    let channel = Channel::from_code(input.channel.trim()).ok_or_else(|| {
        AppError::invalid(
            "channel",
            "unknown_channel",
            "El medio debe ser email, phone, official_letter, service_order, facebook, x o in_person (L2).",
        )
    })?;
    let subject = text_field(&input.subject, "subject", 3, 200, "El asunto")?;
    let description = text_field(
        &input.description,
        "description",
        1,
        20_000,
        "La descripción",
    )?;
    let now_ms = state.now_ms();
    let received_at_ms = match input.received_at.as_deref() {
        None => now_ms,
        Some(raw) => {
            let t: jiff::Timestamp = raw.parse().map_err(|_| {
                AppError::invalid(
                    "received_at",
                    "received_at_format",
                    "received_at debe ser una fecha y hora RFC 3339, por ejemplo 2026-03-13T19:00:00-06:00.",
                )
            })?;
            if t.as_millisecond() > now_ms + 60_000 {
                return Err(AppError::invalid(
                    "received_at",
                    "received_at_future",
                    "La fecha de recepción no puede estar en el futuro.",
                ));
            }
            t.as_millisecond()
        }
    };
    let requester = match input.requester_id {
        Some(id) => Some(
            requesters::get_unlogged(&state.db, RequesterId(id))
                .await?
                .ok_or_else(|| {
                    AppError::invalid(
                        "requester_id",
                        "unknown_requester",
                        format!(
                            "No existe el solicitante {id}; búsquelo o regístrelo primero (A5, A6)."
                        ),
                    )
                })?,
        ),
        None => None,
    };
    let service = match input.service_id {
        Some(id) => Some(current_sheet(&state, id).await?),
        None => None,
    };
    if let (Some(requester), Some((_, _, sheet))) = (&requester, &service) {
        check_eligibility(sheet.eligibility, requester.udi_role, channel)
            .map_err(|reason| AppError::invalid("service_id", reason.code(), reason.to_string()))?;
    }
    let key = input
        .idempotency_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| text_field(k, "idempotency_key", 8, 200, "La clave de idempotencia"))
        .transpose()?;
    let intake_details = match (channel, input.service_order) {
        (Channel::ServiceOrder, None) => {
            return Err(AppError::invalid(
                "service_order",
                "service_order_missing",
                "Con el medio service_order describa la orden recibida: number, delivered_at, copy, service_date, signed y stamped (X2).",
            ));
        }
        (Channel::ServiceOrder, Some(order)) => accept_service_order(&state, &order).await?,
        (_, _) => serde_json::Value::Null,
    };
    let first_level_tests = if input.first_level_tests.is_null() {
        serde_json::Value::Array(vec![])
    } else {
        input.first_level_tests
    };
    let created = requests::create(
        &state.db,
        NewRequest {
            channel,
            requester_id: requester.as_ref().map(|r| RequesterId(r.id)),
            service,
            subject,
            description,
            received_at_ms,
            confirmed_requirements: input.confirmed_requirements,
            first_level_tests,
            area_id: input.area_id.map(AreaId),
            assignee_id: input.assignee_id.map(StaffId),
            idempotency_key: key,
            created_by: Some(staff.0.id),
            intake_details,
            documents: Vec::new(),
        },
        staff.actor(),
        now_ms,
    )
    .await?;
    let number = created.number.to_string();
    let status = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        [(header::LOCATION, format!("/api/v1/requests/{number}"))],
        Json(CreatedRequest {
            number,
            possible_duplicates: created.read_back.possible_duplicates,
            replayed: created.replayed,
            request: created.read_back.detail,
        }),
    ))
}

#[utoipa::path(get, path = "/requests/{number}", tag = "requests",
    responses((status = 200, body = RequestDetail), (status = 404)))]
async fn get_request(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(number): ApiPath<String>,
) -> AppResult<Json<RequestDetail>> {
    staff.require(Action::ViewRequests)?;
    let number = parse_number(&number)?;
    let mut detail = requests::get(&state.db, &number)
        .await?
        .ok_or_else(|| requests::unknown_number(&number))?;
    if !sees_requester_name(staff.0.role) {
        // The administrator keeps the catalogue; a requester's name is none of their business.
        detail.summary.requester_name = None;
    }
    Ok(Json(detail))
}

#[derive(Deserialize, IntoParams)]
struct ListQuery {
    /// Comma-separated statuses, e.g. `assigned,in_progress`.
    status: Option<String>,
    /// Only requests not closed or cancelled.
    open: Option<bool>,
    area_id: Option<i64>,
    assignee_id: Option<i64>,
    service_id: Option<i64>,
    requester_id: Option<i64>,
    channel: Option<String>,
    /// Full text: every word must appear, as a prefix, accent- and case-insensitively, in the
    /// number, subject, description, comments or (for roles that see personal data) the
    /// requester's name.
    q: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// 1 to 200, default 50.
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct RequestPage {
    items: Vec<RequestSummary>,
    next_cursor: Option<i64>,
}

#[utoipa::path(get, path = "/requests", tag = "requests", params(ListQuery),
    responses((status = 200, body = RequestPage)))]
async fn list_requests(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<Json<RequestPage>> {
    staff.require(Action::ViewRequests)?;
    let statuses = parse_statuses(query.status.as_deref())?;
    let channel = match query.channel.as_deref() {
        Some(code) => Some(Channel::from_code(code).ok_or_else(|| {
            AppError::new(
                StatusCode::BAD_REQUEST,
                "unknown_channel",
                "Medio desconocido.",
            )
            .with_field("channel")
        })?),
        None => None,
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "limit_range",
            "limit va de 1 a 200.",
        )
        .with_field("limit"));
    }
    let filter = ListFilter {
        statuses,
        open_only: query.open.unwrap_or(false),
        area_id: query.area_id.map(AreaId),
        assignee_id: query.assignee_id.map(StaffId),
        service_id: query.service_id.map(ServiceId),
        requester_id: query.requester_id.map(RequesterId),
        channel,
        text: query
            .q
            .filter(|q| !q.trim().is_empty())
            .map(|text| TextFilter {
                text,
                with_requester: sees_requester_name(staff.0.role),
            }),
        before_id: query.cursor,
        limit,
    };
    let (mut items, next_cursor) = requests::list(&state.db, &filter).await?;
    if !sees_requester_name(staff.0.role) {
        for item in &mut items {
            item.requester_name = None;
        }
    }
    Ok(Json(RequestPage { items, next_cursor }))
}

#[derive(Deserialize, ToSchema, Default)]
struct StepBody {
    /// Why (wait, send_back, reopen, cancel) or the solution (solve).
    reason: Option<String>,
    area_id: Option<i64>,
    assignee_id: Option<i64>,
    confirmed_requirements: Option<Vec<String>>,
    /// register: the identified requester and the chosen service.
    requester_id: Option<i64>,
    service_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct StepResult {
    number: String,
    #[schema(value_type = String)]
    status: Status,
}

/// `register` from the intake queue: the chosen service's current sheet, refused when the
/// identified requester may not ask for it through the message's channel (L1, X1, Q2). The API
/// and the intake page register through here.
pub(crate) async fn register_service(
    state: &AppState,
    number: &str,
    requester: Option<RequesterId>,
    service_id: Option<i64>,
) -> AppResult<Option<(ServiceId, i64, SheetContent)>> {
    let Some(id) = service_id else {
        return Ok(None);
    };
    let service = current_sheet(state, id).await?;
    if let Some(rid) = requester {
        let requester = requesters::get_unlogged(&state.db, rid)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "requester_id",
                    "unknown_requester",
                    format!("No existe el solicitante {rid}."),
                )
            })?;
        let detail = requests::get(&state.db, number)
            .await?
            .ok_or_else(|| requests::unknown_number(number))?;
        check_eligibility(
            service.2.eligibility,
            requester.udi_role,
            detail.summary.channel,
        )
        .map_err(|reason| AppError::invalid("service_id", reason.code(), reason.to_string()))?;
    }
    Ok(Some(service))
}

/// Takes a life-cycle step: register, confirm_requirements, assign, start, wait, resume, solve,
/// verify, send_back, close, reopen, cancel.
#[utoipa::path(post, path = "/requests/{number}/actions/{step}", tag = "requests", request_body = StepBody,
    responses((status = 200, body = StepResult), (status = 403, description = "role or area may not take it"), (status = 409, description = "not allowed from the current status")))]
async fn take_step(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath((number, step)): ApiPath<(String, String)>,
    body: axum::body::Bytes,
) -> AppResult<Json<StepResult>> {
    let number = parse_number(&number)?;
    let step = Step::from_code(&step).ok_or_else(|| {
        AppError::not_found(
            "unknown_step",
            format!("«{step}» no es una acción; use register, confirm_requirements, assign, start, wait, resume, solve, verify, send_back, close, reopen o cancel."),
        )
    })?;
    let body: StepBody = crate::http::extract::json_or_default(&body)?;
    let mut input = StepInput {
        reason: body.reason,
        area_id: body.area_id.map(AreaId),
        assignee_id: body.assignee_id.map(StaffId),
        confirmed_requirements: body.confirmed_requirements,
        requester_id: body.requester_id.map(RequesterId),
        ..StepInput::default()
    };
    if step == Step::Register {
        input.service =
            register_service(&state, &number, input.requester_id, body.service_id).await?;
    }
    let status = requests::apply_step(
        &state.db,
        &number,
        step,
        staff.actor(),
        input,
        state.now_ms(),
    )
    .await?;
    Ok(Json(StepResult { number, status }))
}

#[derive(Deserialize, ToSchema)]
struct CommentBody {
    body: String,
    /// Staff-only note, never mailed to the requester.
    #[serde(default)]
    internal: bool,
}

#[derive(Serialize, ToSchema)]
struct EventCreated {
    event_id: i64,
}

#[utoipa::path(post, path = "/requests/{number}/comments", tag = "requests", request_body = CommentBody,
    responses((status = 201, body = EventCreated)))]
async fn add_comment(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<CommentBody>,
) -> AppResult<(StatusCode, Json<EventCreated>)> {
    staff.require(Action::Comment)?;
    let number = parse_number(&number)?;
    let text = text_field(&body.body, "body", 1, 20_000, "El comentario")?;
    let event_id = requests::comment(
        &state.db,
        &number,
        &text,
        body.internal,
        staff.actor(),
        state.now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(EventCreated { event_id })))
}

#[derive(Deserialize, ToSchema)]
struct ConditionsBody {
    /// The new description of what the requester needs.
    description: String,
    /// What changed and who asked.
    reason: String,
}

/// V6: the requester changed the conditions; the description is updated with its history.
#[utoipa::path(post, path = "/requests/{number}/conditions", tag = "requests", request_body = ConditionsBody,
    responses((status = 204)))]
async fn change_conditions(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<ConditionsBody>,
) -> AppResult<StatusCode> {
    staff.require(Action::ChangeConditions)?;
    let number = parse_number(&number)?;
    let description = text_field(
        &body.description,
        "description",
        1,
        20_000,
        "La descripción",
    )?;
    let reason = text_field(&body.reason, "reason", 3, 2_000, "El motivo del cambio")?;
    requests::change_conditions(
        &state.db,
        &number,
        &description,
        &reason,
        staff.actor(),
        state.now_ms(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Q3: a file for the request (multipart field `file`), up to the configured size.
#[utoipa::path(post, path = "/requests/{number}/attachments", tag = "requests",
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = AttachmentMeta), (status = 413, description = "too large")))]
async fn upload_attachment(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(number): ApiPath<String>,
    mut multipart: Multipart,
) -> AppResult<(StatusCode, Json<AttachmentMeta>)> {
    staff.require(Action::Attach)?;
    let number = parse_number(&number)?;
    let limit = state.config.max_attachment_bytes;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_problem(e, limit))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let file = read_upload(field, limit).await?;
        let meta =
            requests::attach(&state.db, &number, file, staff.actor(), state.now_ms()).await?;
        return Ok((StatusCode::CREATED, Json(meta)));
    }
    Err(AppError::invalid(
        "file",
        "file_missing",
        "Envíe el archivo en el campo multipart «file».",
    ))
}

/// 413 naming the field `file` and the limit in MiB.
pub(crate) fn attachment_too_large(limit: usize) -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_too_large",
        format!(
            "El archivo supera el límite de {} MiB; redúzcalo o divídalo.",
            limit / (1024 * 1024)
        ),
    )
    .with_field("file")
}

/// A multipart stream that broke off: too large (the body limit) or malformed.
pub(crate) fn multipart_problem(
    e: axum::extract::multipart::MultipartError,
    limit: usize,
) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        attachment_too_large(limit)
    } else {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "multipart_invalid",
            format!("El envío multipart no es válido: {}.", e.body_text()),
        )
    }
}

/// Reads one uploaded file up to `limit` bytes: its name without any path, its type, its bytes.
pub(crate) async fn read_upload(
    mut field: axum::extract::multipart::Field<'_>,
    limit: usize,
) -> AppResult<NewAttachment> {
    let filename = field
        .file_name()
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "adjunto".to_string());
    let content_type = field
        .content_type()
        .unwrap_or("application/octet-stream")
        .to_string();
    let mut content = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| multipart_problem(e, limit))?
    {
        if content.len() + chunk.len() > limit {
            return Err(attachment_too_large(limit));
        }
        content.extend_from_slice(&chunk);
    }
    Ok(NewAttachment {
        filename,
        content_type,
        content,
    })
}

#[utoipa::path(get, path = "/requests/{number}/attachments/{id}", tag = "requests",
    responses((status = 200, description = "the file"), (status = 404)))]
async fn download_attachment(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath((number, id)): ApiPath<(String, i64)>,
) -> AppResult<Response> {
    staff.require(Action::ViewRequests)?;
    let number = parse_number(&number)?;
    attachment_download(&state, &number, id).await
}

/// A stored attachment as a download (the API and the request page's links).
pub(crate) async fn attachment_download(
    state: &AppState,
    number: &str,
    id: i64,
) -> AppResult<Response> {
    let (meta, content) = requests::attachment_content(&state.db, number, id)
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                "unknown_attachment",
                format!("La solicitud {number} no tiene el adjunto {id}."),
            )
        })?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        meta.filename.replace(['"', '\\', '\r', '\n'], "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        content,
    )
        .into_response())
}
