//! Units, resolver areas, services and their versioned sheets (Q4, V7).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::catalogue::SheetContent;
use ventanilla_domain::ids::{AreaId, ServiceId};
use ventanilla_domain::permissions::Action;

use crate::db::catalogue::{self, Area, ServiceSummary, SheetVersion, Unit};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentStaff};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_units, create_unit))
        .routes(routes!(update_unit))
        .routes(routes!(list_areas, create_area))
        .routes(routes!(update_area))
        .routes(routes!(list_services, create_service))
        .routes(routes!(get_service, update_service))
        .routes(routes!(list_sheets, revise_sheet))
        .routes(routes!(get_sheet))
}

#[utoipa::path(get, path = "/units", tag = "catalogue", responses((status = 200, body = [Unit])))]
async fn list_units(
    State(state): State<AppState>,
    staff: CurrentStaff,
) -> AppResult<Json<Vec<Unit>>> {
    staff.require(Action::ViewCatalogue)?;
    Ok(Json(catalogue::list_units(&state.db).await?))
}

#[derive(Deserialize, ToSchema)]
struct NewUnit {
    acronym: String,
    name: String,
    #[serde(default)]
    level: String,
}

#[utoipa::path(post, path = "/units", tag = "catalogue", request_body = NewUnit,
    responses((status = 201, body = Unit), (status = 409, description = "acronym taken")))]
async fn create_unit(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiJson(body): ApiJson<NewUnit>,
) -> AppResult<(StatusCode, Json<Unit>)> {
    staff.require(Action::ManageCatalogue)?;
    let unit = catalogue::create_unit(&state.db, &body.acronym, &body.name, &body.level).await?;
    Ok((StatusCode::CREATED, Json(unit)))
}

#[derive(Deserialize, ToSchema)]
struct UnitChange {
    acronym: String,
    name: String,
    #[serde(default)]
    level: String,
    /// false deactivates the unit (not offered for new or changed requesters; those who have
    /// it keep it), true reactivates it; absent leaves it as it is.
    active: Option<bool>,
}

/// Changes a unit's acronym, name or level, or deactivates or reactivates it (administrator).
#[utoipa::path(put, path = "/units/{id}", tag = "catalogue", request_body = UnitChange,
    responses((status = 200, body = Unit), (status = 404), (status = 409)))]
async fn update_unit(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UnitChange>,
) -> AppResult<Json<Unit>> {
    staff.require(Action::ManageCatalogue)?;
    Ok(Json(
        catalogue::update_unit(
            &state.db,
            ventanilla_domain::ids::UnitId(id),
            &body.acronym,
            &body.name,
            &body.level,
            body.active,
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/areas", tag = "catalogue", responses((status = 200, body = [Area])))]
async fn list_areas(
    State(state): State<AppState>,
    staff: CurrentStaff,
) -> AppResult<Json<Vec<Area>>> {
    staff.require(Action::ViewCatalogue)?;
    Ok(Json(catalogue::list_areas(&state.db).await?))
}

#[derive(Deserialize, ToSchema)]
struct NewArea {
    name: String,
    email: Option<String>,
}

#[utoipa::path(post, path = "/areas", tag = "catalogue", request_body = NewArea,
    responses((status = 201, body = Area)))]
async fn create_area(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiJson(body): ApiJson<NewArea>,
) -> AppResult<(StatusCode, Json<Area>)> {
    staff.require(Action::ManageCatalogue)?;
    let email = crate::db::optional_email(body.email.as_deref())?;
    let area = catalogue::create_area(&state.db, &body.name, email.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(area)))
}

#[derive(Deserialize, ToSchema)]
struct AreaChange {
    name: String,
    email: Option<String>,
    /// false deactivates the area (no new assignments or services; requests keep it), true
    /// reactivates it; absent leaves it as it is.
    active: Option<bool>,
}

/// Renames an area, changes its mailbox, or deactivates or reactivates it (administrator). An
/// area whose services are still offered is not deactivated (409 `area_has_services`).
#[utoipa::path(put, path = "/areas/{id}", tag = "catalogue", request_body = AreaChange,
    responses((status = 200, body = Area), (status = 404), (status = 409)))]
async fn update_area(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AreaChange>,
) -> AppResult<Json<Area>> {
    staff.require(Action::ManageCatalogue)?;
    let email = crate::db::optional_email(body.email.as_deref())?;
    Ok(Json(
        catalogue::update_area(
            &state.db,
            AreaId(id),
            &body.name,
            email.as_deref(),
            body.active,
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
struct ServiceQuery {
    /// Words of the service or area name; accents and case do not matter.
    q: Option<String>,
    area_id: Option<i64>,
}

#[utoipa::path(get, path = "/services", tag = "catalogue", params(ServiceQuery),
    responses((status = 200, body = [ServiceSummary])))]
async fn list_services(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(query): ApiQuery<ServiceQuery>,
) -> AppResult<Json<Vec<ServiceSummary>>> {
    staff.require(Action::ViewCatalogue)?;
    Ok(Json(
        catalogue::list_services(&state.db, query.q.as_deref(), query.area_id.map(AreaId)).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
struct NewService {
    name: String,
    #[schema(value_type = Object)]
    sheet: SheetContent,
}

#[derive(Serialize, ToSchema)]
struct ServiceWithSheet {
    #[serde(flatten)]
    service: ServiceSummary,
    #[schema(value_type = Object)]
    sheet: SheetContent,
}

#[utoipa::path(post, path = "/services", tag = "catalogue", request_body = NewService,
    responses((status = 201, body = ServiceWithSheet)))]
async fn create_service(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiJson(body): ApiJson<NewService>,
) -> AppResult<(StatusCode, Json<ServiceWithSheet>)> {
    staff.require(Action::ManageCatalogue)?;
    let id = catalogue::create_service(
        &state.db,
        &body.name,
        body.sheet,
        Some(staff.0.id),
        state.now_ms(),
    )
    .await?;
    let (service, sheet) = require_service(&state, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(ServiceWithSheet { service, sheet }),
    ))
}

async fn require_service(
    state: &AppState,
    id: ServiceId,
) -> AppResult<(ServiceSummary, SheetContent)> {
    catalogue::service(&state.db, id).await?.ok_or_else(|| {
        AppError::not_found(
            "unknown_service",
            format!("No existe el servicio {id}; consulte GET /api/v1/services."),
        )
    })
}

#[utoipa::path(get, path = "/services/{id}", tag = "catalogue",
    responses((status = 200, body = ServiceWithSheet), (status = 404)))]
async fn get_service(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ServiceWithSheet>> {
    staff.require(Action::ViewCatalogue)?;
    let (service, sheet) = require_service(&state, ServiceId(id)).await?;
    Ok(Json(ServiceWithSheet { service, sheet }))
}

#[derive(Deserialize, ToSchema)]
struct ServiceChange {
    name: String,
    /// An inactive service is no longer offered when registering (its history stays).
    active: bool,
    /// Why, added to the version's change note.
    #[serde(default)]
    reason: String,
}

/// Renames, deactivates or reactivates a service; a change is the next version of its sheet (V7).
#[utoipa::path(patch, path = "/services/{id}", tag = "catalogue", request_body = ServiceChange,
    responses((status = 200, body = ServiceWithSheet), (status = 404), (status = 409)))]
async fn update_service(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ServiceChange>,
) -> AppResult<Json<ServiceWithSheet>> {
    staff.require(Action::ManageCatalogue)?;
    catalogue::update_service(
        &state.db,
        ServiceId(id),
        &body.name,
        body.active,
        &body.reason,
        Some(staff.0.id),
        state.now_ms(),
    )
    .await?;
    let (service, sheet) = require_service(&state, ServiceId(id)).await?;
    Ok(Json(ServiceWithSheet { service, sheet }))
}

#[utoipa::path(get, path = "/services/{id}/sheets", tag = "catalogue",
    responses((status = 200, body = [SheetVersion])))]
async fn list_sheets(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<SheetVersion>>> {
    staff.require(Action::ViewCatalogue)?;
    require_service(&state, ServiceId(id)).await?;
    Ok(Json(
        catalogue::sheet_versions(&state.db, ServiceId(id)).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
struct SheetRevision {
    #[schema(value_type = Object)]
    sheet: SheetContent,
    /// What changed and why (V7).
    change_note: String,
}

#[utoipa::path(post, path = "/services/{id}/sheets", tag = "catalogue", request_body = SheetRevision,
    responses((status = 201, body = SheetVersion)))]
async fn revise_sheet(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SheetRevision>,
) -> AppResult<(StatusCode, Json<SheetVersion>)> {
    staff.require(Action::ManageCatalogue)?;
    let version = catalogue::revise_sheet(
        &state.db,
        ServiceId(id),
        body.sheet,
        &body.change_note,
        Some(staff.0.id),
        state.now_ms(),
    )
    .await?;
    let sheet = catalogue::sheet_version(&state.db, ServiceId(id), version)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("new sheet version not found")))?;
    Ok((StatusCode::CREATED, Json(sheet)))
}

#[utoipa::path(get, path = "/services/{id}/sheets/{version}", tag = "catalogue",
    responses((status = 200, body = SheetVersion), (status = 404)))]
async fn get_sheet(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath((id, version)): ApiPath<(i64, i64)>,
) -> AppResult<Json<SheetVersion>> {
    staff.require(Action::ViewCatalogue)?;
    catalogue::sheet_version(&state.db, ServiceId(id), version)
        .await?
        .map(Json)
        .ok_or_else(|| {
            AppError::not_found(
                "unknown_sheet_version",
                format!("El servicio {id} no tiene la versión {version} de cédula."),
            )
        })
}
