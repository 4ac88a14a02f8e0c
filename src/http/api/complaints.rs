//! The complaints and suggestions log (L10): record, list, evaluate and treat, export.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::identifiers::RequestNumber;
use ventanilla_domain::permissions::Action;

use crate::db::complaints::{self, Complaint, ComplaintEvent, Kind, NewComplaint, Source};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentStaff};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_complaints, record_complaint))
        .routes(routes!(get_complaint))
        .routes(routes!(advance_complaint))
        .routes(routes!(link_request))
        .routes(routes!(export_complaints))
}

#[derive(Deserialize, ToSchema)]
struct NewComplaintInput {
    /// complaint, suggestion or praise.
    kind: String,
    /// email, phone or in_person (survey entries are opened by the survey itself).
    source: String,
    description: String,
    requester_id: Option<i64>,
    /// The request it concerns, SS-AAAA-NNNNNN.
    request_number: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Created {
    id: i64,
}

#[utoipa::path(post, path = "/complaints", tag = "complaints", request_body = NewComplaintInput,
    responses((status = 201, body = Created), (status = 422)))]
async fn record_complaint(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiJson(input): ApiJson<NewComplaintInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    staff.require(Action::RecordComplaint)?;
    let kind = Kind::from_code(input.kind.trim()).ok_or_else(|| {
        AppError::invalid(
            "kind",
            "complaint_kind",
            "kind debe ser complaint (queja), suggestion (sugerencia) o praise (felicitación).",
        )
    })?;
    let source = Source::from_code(input.source.trim())
        .filter(|s| *s != Source::Survey)
        .ok_or_else(|| {
            AppError::invalid(
                "source",
                "complaint_source",
                "source debe ser email, phone o in_person.",
            )
        })?;
    let description = input.description.trim();
    if description.chars().count() < 5 {
        return Err(AppError::invalid(
            "description",
            "description_length",
            "Describa la queja o sugerencia (al menos 5 caracteres).",
        ));
    }
    let request_id = match input
        .request_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(raw) => {
            let number = RequestNumber::parse(raw)
                .map_err(|e| AppError::invalid("request_number", e.code(), e.to_string()))?
                .to_string();
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM requests WHERE number = $1")
                .bind(&number)
                .fetch_optional(state.db.read())
                .await?;
            Some(id.ok_or_else(|| {
                AppError::invalid(
                    "request_number",
                    "unknown_request",
                    format!("No existe la solicitud {number}."),
                )
            })?)
        }
        None => None,
    };
    let id = complaints::open(
        &state.db,
        NewComplaint {
            kind,
            source,
            description,
            requester_id: input.requester_id,
            request_id,
            survey_id: None,
            created_by: Some(staff.0.id.0),
        },
        state.now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, IntoParams)]
struct ListQuery {
    status: Option<String>,
    kind: Option<String>,
}

#[utoipa::path(get, path = "/complaints", tag = "complaints", params(ListQuery),
    responses((status = 200, body = [Complaint])))]
async fn list_complaints(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<Json<Vec<Complaint>>> {
    staff.require(Action::ManageComplaints)?;
    Ok(Json(
        complaints::list(&state.db, query.status.as_deref(), query.kind.as_deref()).await?,
    ))
}

#[derive(Serialize, ToSchema)]
struct ComplaintDetail {
    #[serde(flatten)]
    complaint: Complaint,
    events: Vec<ComplaintEvent>,
}

#[utoipa::path(get, path = "/complaints/{id}", tag = "complaints",
    responses((status = 200, body = ComplaintDetail), (status = 404)))]
async fn get_complaint(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ComplaintDetail>> {
    staff.require(Action::ManageComplaints)?;
    let (complaint, events) = complaints::get(&state.db, id).await?.ok_or_else(|| {
        AppError::not_found(
            "unknown_complaint",
            format!("No existe la entrada {id} de la bitácora."),
        )
    })?;
    Ok(Json(ComplaintDetail { complaint, events }))
}

#[derive(Deserialize, ToSchema)]
struct AdvanceInput {
    /// The next status: analysed, action_taken or closed.
    status: String,
    /// The evaluation, the action taken or the closing note.
    note: String,
    responsible_id: Option<i64>,
    /// RFC 3339.
    due_at: Option<String>,
}

#[utoipa::path(post, path = "/complaints/{id}/advance", tag = "complaints", request_body = AdvanceInput,
    responses((status = 204), (status = 409, description = "not the next step")))]
async fn advance_complaint(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AdvanceInput>,
) -> AppResult<StatusCode> {
    staff.require(Action::ManageComplaints)?;
    let due_at = match input.due_at.as_deref() {
        Some(raw) => Some(
            raw.parse::<jiff::Timestamp>()
                .map_err(|_| {
                    AppError::invalid(
                        "due_at",
                        "due_at_format",
                        "due_at debe ser RFC 3339, p. ej. 2026-03-20T18:00:00-06:00.",
                    )
                })?
                .as_millisecond(),
        ),
        None => None,
    };
    let step = complaints::Advance {
        to: input.status.trim(),
        note: input.note.trim(),
        responsible_id: input.responsible_id,
        due_at,
    };
    complaints::advance(&state.db, id, step, staff.0.id.0, state.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
struct LinkInput {
    /// SS-AAAA-NNNNNN.
    request_number: String,
}

/// Links one more request the entry concerns (the same complaint about several requests).
#[utoipa::path(post, path = "/complaints/{id}/links", tag = "complaints", request_body = LinkInput,
    responses((status = 204), (status = 404), (status = 422)))]
async fn link_request(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<LinkInput>,
) -> AppResult<StatusCode> {
    staff.require(Action::ManageComplaints)?;
    let number = RequestNumber::parse(&input.request_number)
        .map_err(|e| AppError::invalid("request_number", e.code(), e.to_string()))?
        .to_string();
    complaints::link(&state.db, id, &number, staff.0.id.0, state.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The whole log as CSV (UTF-8), for analysis outside the system (L11).
#[utoipa::path(get, path = "/complaints/export.csv", tag = "complaints",
    responses((status = 200, content_type = "text/csv")))]
async fn export_complaints(
    State(state): State<AppState>,
    staff: CurrentStaff,
) -> AppResult<impl IntoResponse> {
    staff.require(Action::ManageComplaints)?;
    let rows = complaints::list(&state.db, None, None).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "id",
            "tipo",
            "origen",
            "estado",
            "descripcion",
            "solicitud",
            "vinculadas",
            "responsable",
            "vence",
            "creada",
        ])
        .map_err(anyhow::Error::from)?;
    let date = |ms: i64| crate::db::from_millis(ms).to_string();
    for c in rows {
        writer
            .write_record([
                c.id.to_string(),
                c.kind,
                c.source,
                c.status,
                c.description,
                c.request_number.unwrap_or_default(),
                c.linked_requests.join(" "),
                c.responsible_id.map(|r| r.to_string()).unwrap_or_default(),
                c.due_at.map(date).unwrap_or_default(),
                date(c.created_at),
            ])
            .map_err(anyhow::Error::from)?;
    }
    let bytes = writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes))
}
