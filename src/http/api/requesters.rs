//! Requesters (Q1): look up by key data (A5), register (A6), verify and update (A7).
//! Only roles allowed `ViewPersonalData` reach these records; every access is logged.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::curp::Curp;
use ventanilla_domain::eligibility::UdiRole;
use ventanilla_domain::identifiers::{Boleta, Email, EmployeeNumber, Extension, PersonName};
use ventanilla_domain::ids::{RequesterId, UnitId};
use ventanilla_domain::permissions::Action;

use crate::db::requesters::{self, FieldChange, Lookup, Requester, RequesterData};
use crate::db::requests::{self, ListFilter, RequestSummary};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentStaff};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_requesters, create_requester))
        .routes(routes!(get_requester, update_requester))
        .routes(routes!(requester_history))
        .routes(routes!(requester_requests))
}

/// A requester as sent by a client; every field is checked by its domain type.
#[derive(Deserialize, ToSchema, Clone)]
pub struct RequesterInput {
    pub full_name: String,
    /// Validated: structure, date, state, check digit, inconvenient words.
    pub curp: String,
    pub boleta: Option<String>,
    pub employee_number: Option<String>,
    /// Phone extension (employees).
    pub extension: Option<String>,
    /// Personal e-mail (recommended).
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit_id: i64,
    /// none, head (Jefe de UDI) or work_group.
    #[serde(default)]
    pub udi_role: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub technical_data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
struct RequesterResponse {
    #[serde(flatten)]
    requester: Requester,
    /// Accepted values that deserve a second look (e.g. a boleta that is not year + 6 digits).
    warnings: Vec<String>,
}

fn optional(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Parse, don't validate: raw strings become domain values here, at the edge.
pub async fn parse_requester(
    state: &AppState,
    input: &RequesterInput,
) -> AppResult<(RequesterData, Vec<String>)> {
    let field = |name: &str, code: &str, message: String| AppError::invalid(name, code, message);
    let full_name = PersonName::parse(&input.full_name)
        .map_err(|e| field("full_name", e.code(), e.to_string()))?;
    let curp = Curp::parse(&input.curp, state.today())
        .map_err(|e| field("curp", e.code(), e.to_string()))?;
    let mut warnings = Vec::new();
    let boleta = match optional(&input.boleta) {
        Some(raw) => {
            let boleta =
                Boleta::parse(raw).map_err(|e| field("boleta", e.code(), e.to_string()))?;
            if let Some(w) = boleta.warning() {
                warnings.push(w.to_string());
            }
            Some(boleta.as_str().to_string())
        }
        None => None,
    };
    let employee_number = optional(&input.employee_number)
        .map(|raw| EmployeeNumber::parse(raw, &state.config.employee_number_rule))
        .transpose()
        .map_err(|e| field("employee_number", e.code(), e.to_string()))?
        .map(|v| v.as_str().to_string());
    let extension = optional(&input.extension)
        .map(Extension::parse)
        .transpose()
        .map_err(|e| field("extension", e.code(), e.to_string()))?
        .map(|v| v.as_str().to_string());
    let email = optional(&input.email)
        .map(Email::parse)
        .transpose()
        .map_err(|e| field("email", e.code(), e.to_string()))?
        .map(|v| v.as_str().to_string());
    let phone = optional(&input.phone).map(String::from);
    if let Some(p) = &phone
        && (p.len() > 20 || !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)))
    {
        return Err(field(
            "phone",
            "phone_format",
            "El teléfono admite sólo dígitos, espacios, +, - y paréntesis (hasta 20 caracteres)."
                .into(),
        ));
    }
    let udi_role = match optional(&input.udi_role) {
        None => UdiRole::None,
        Some(code) => UdiRole::from_code(code).ok_or_else(|| {
            field(
                "udi_role",
                "udi_role",
                "udi_role debe ser none, head (Jefe de UDI) o work_group (grupo de trabajo)."
                    .into(),
            )
        })?,
    };
    if boleta.is_none() && employee_number.is_none() {
        warnings.push(
            "Sin boleta ni número de empleado: regístrelos si la persona los tiene (Q1).".into(),
        );
    }
    Ok((
        RequesterData {
            full_name: full_name.as_str().to_string(),
            curp: Some(curp.as_str().to_string()),
            boleta,
            employee_number,
            extension,
            email,
            phone,
            unit_id: Some(UnitId(input.unit_id)),
            udi_role,
            technical_data: input.technical_data.clone(),
        },
        warnings,
    ))
}

#[utoipa::path(post, path = "/requesters", tag = "requesters", request_body = RequesterInput,
    responses((status = 201, body = RequesterResponse), (status = 409, description = "CURP, boleta or employee number already registered"), (status = 422)))]
async fn create_requester(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiJson(input): ApiJson<RequesterInput>,
) -> AppResult<(StatusCode, Json<RequesterResponse>)> {
    staff.require(Action::EditRequester)?;
    let (data, warnings) = parse_requester(&state, &input).await?;
    let requester = requesters::create(&state.db, &data, Some(staff.0.id), state.now_ms()).await?;
    Ok((
        StatusCode::CREATED,
        Json(RequesterResponse {
            requester,
            warnings,
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
struct LookupQuery {
    curp: Option<String>,
    boleta: Option<String>,
    employee_number: Option<String>,
    email: Option<String>,
    /// Part of the name; accents and case do not matter.
    name: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/requesters", tag = "requesters", params(LookupQuery),
    responses((status = 200, body = [Requester])))]
async fn search_requesters(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(query): ApiQuery<LookupQuery>,
) -> AppResult<Json<Vec<Requester>>> {
    staff.require(Action::ViewPersonalData)?;
    let lookup = Lookup {
        curp: query.curp,
        boleta: query.boleta,
        employee_number: query.employee_number,
        email: query.email,
        name: query.name,
    };
    let found = requesters::search(
        &state.db,
        &lookup,
        staff.0.id,
        query.limit.unwrap_or(20),
        state.now_ms(),
    )
    .await?;
    Ok(Json(found))
}

fn unknown_requester(id: i64) -> AppError {
    AppError::not_found(
        "unknown_requester",
        format!("No existe el solicitante {id}."),
    )
}

#[utoipa::path(get, path = "/requesters/{id}", tag = "requesters",
    responses((status = 200, body = Requester), (status = 404)))]
async fn get_requester(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Requester>> {
    staff.require(Action::ViewPersonalData)?;
    requesters::get(&state.db, RequesterId(id), staff.0.id, state.now_ms())
        .await?
        .map(Json)
        .ok_or_else(|| unknown_requester(id))
}

#[utoipa::path(put, path = "/requesters/{id}", tag = "requesters", request_body = RequesterInput,
    responses((status = 200, body = RequesterResponse), (status = 404), (status = 409), (status = 422)))]
async fn update_requester(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RequesterInput>,
) -> AppResult<Json<RequesterResponse>> {
    staff.require(Action::EditRequester)?;
    let (data, warnings) = parse_requester(&state, &input).await?;
    let requester = requesters::update(
        &state.db,
        RequesterId(id),
        &data,
        Some(staff.0.id),
        state.now_ms(),
    )
    .await?;
    Ok(Json(RequesterResponse {
        requester,
        warnings,
    }))
}

#[utoipa::path(get, path = "/requesters/{id}/history", tag = "requesters",
    responses((status = 200, body = [FieldChange])))]
async fn requester_history(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<FieldChange>>> {
    staff.require(Action::ViewPersonalData)?;
    if requesters::get_unlogged(&state.db, RequesterId(id))
        .await?
        .is_none()
    {
        return Err(unknown_requester(id));
    }
    Ok(Json(
        requesters::history(&state.db, RequesterId(id), staff.0.id, state.now_ms()).await?,
    ))
}

/// A8: earlier requests of the person, newest first.
#[utoipa::path(get, path = "/requesters/{id}/requests", tag = "requesters",
    responses((status = 200, body = [RequestSummary])))]
async fn requester_requests(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<RequestSummary>>> {
    staff.require(Action::ViewPersonalData)?;
    let filter = ListFilter {
        requester_id: Some(RequesterId(id)),
        limit: 200,
        ..ListFilter::default()
    };
    Ok(Json(requests::list(&state.db, &filter).await?.0))
}
