//! Staff accounts: who am I, and the administrator's list, creation and tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::ids::{AreaId, StaffId};
use ventanilla_domain::permissions::{Action, Role};

use crate::db::staff::{self, NewStaff, StaffMember};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, CurrentStaff};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(issue_token))
}

#[derive(Serialize, ToSchema)]
pub struct StaffView {
    id: i64,
    username: String,
    full_name: String,
    email: Option<String>,
    role: String,
    role_label: String,
    area_id: Option<i64>,
    active: bool,
}

impl From<StaffMember> for StaffView {
    fn from(s: StaffMember) -> Self {
        StaffView {
            id: s.id.0,
            username: s.username,
            full_name: s.full_name,
            email: s.email,
            role: s.role.code().into(),
            role_label: s.role.label_es().into(),
            area_id: s.area_id.map(|a| a.0),
            active: s.active,
        }
    }
}

#[utoipa::path(get, path = "/me", tag = "staff", responses((status = 200, body = StaffView)))]
async fn me(staff: CurrentStaff) -> Json<StaffView> {
    Json(staff.0.into())
}

#[utoipa::path(get, path = "/staff", tag = "staff", responses((status = 200, body = [StaffView])))]
async fn list_staff(
    State(state): State<AppState>,
    staff: CurrentStaff,
) -> AppResult<Json<Vec<StaffView>>> {
    staff.require(Action::ManageStaff)?;
    Ok(Json(
        staff::list(&state.db)
            .await?
            .into_iter()
            .map(StaffView::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
struct NewStaffInput {
    username: String,
    full_name: String,
    email: Option<String>,
    /// agent, supervisor, coordinator, engineer, administrator.
    role: String,
    /// Required for engineers: their resolver area.
    area_id: Option<i64>,
    password: String,
}

#[utoipa::path(post, path = "/staff", tag = "staff", request_body = NewStaffInput,
    responses((status = 201, body = StaffView), (status = 409)))]
async fn create_staff(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiJson(input): ApiJson<NewStaffInput>,
) -> AppResult<(StatusCode, Json<StaffView>)> {
    staff.require(Action::ManageStaff)?;
    let role = Role::from_code(input.role.trim()).ok_or_else(|| {
        AppError::invalid(
            "role",
            "unknown_role",
            "El perfil debe ser agent, supervisor, coordinator, engineer o administrator.",
        )
    })?;
    if let Some(area) = input.area_id
        && crate::db::catalogue::area(&state.db, AreaId(area))
            .await?
            .is_none()
    {
        return Err(AppError::invalid(
            "area_id",
            "unknown_area",
            format!("No existe el área {area}."),
        ));
    }
    let created = staff::create(
        &state.db,
        NewStaff {
            username: &input.username,
            full_name: &input.full_name,
            email: input.email.as_deref(),
            role,
            area_id: input.area_id.map(AreaId),
            password: &input.password,
        },
        state.now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Deserialize, ToSchema)]
struct TokenInput {
    label: String,
}

#[derive(Serialize, ToSchema)]
struct TokenIssued {
    /// Shown once; only its hash is stored.
    token: String,
}

#[utoipa::path(post, path = "/staff/{id}/tokens", tag = "staff", request_body = TokenInput,
    responses((status = 201, body = TokenIssued)))]
async fn issue_token(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<TokenInput>,
) -> AppResult<(StatusCode, Json<TokenIssued>)> {
    staff.require(Action::ManageStaff)?;
    if staff::by_id(&state.db, StaffId(id)).await?.is_none() {
        return Err(AppError::not_found(
            "unknown_staff",
            format!("No existe la cuenta {id}."),
        ));
    }
    let token =
        staff::issue_token(&state.db, StaffId(id), input.label.trim(), state.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(TokenIssued { token })))
}
