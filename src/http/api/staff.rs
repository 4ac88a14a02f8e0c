//! Staff accounts: who am I, and the administrator's list, creation and tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::ids::{AreaId, StaffId};
use ventanilla_domain::permissions::Action;

use crate::db::staff::{self, NewStaff, StaffMember};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, CurrentStaff};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(update_staff))
        .routes(routes!(reset_password))
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
    let role = staff::parse_role(&input.role)?;
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
struct StaffChange {
    /// A new role (with `area_id`, required for engineers); absent leaves role and area as they are.
    role: Option<String>,
    area_id: Option<i64>,
    /// false deactivates the account (not one's own), true reactivates it.
    active: Option<bool>,
}

/// Changes an account's role and area, or deactivates / reactivates it (administrator).
#[utoipa::path(patch, path = "/staff/{id}", tag = "staff", request_body = StaffChange,
    responses((status = 200, body = StaffView), (status = 404), (status = 422)))]
async fn update_staff(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<StaffChange>,
) -> AppResult<Json<StaffView>> {
    staff.require(Action::ManageStaff)?;
    let mut member = staff::by_id(&state.db, StaffId(id)).await?.ok_or_else(|| {
        AppError::not_found("unknown_staff", format!("No existe la cuenta {id}."))
    })?;
    if let Some(role) = input.role.as_deref() {
        let role = staff::parse_role(role)?;
        member = staff::change_role(
            &state.db,
            staff.0.id,
            StaffId(id),
            role,
            input.area_id.map(AreaId),
        )
        .await?;
    }
    if let Some(active) = input.active {
        member = staff::set_active(&state.db, staff.0.id, StaffId(id), active).await?;
    }
    Ok(Json(member.into()))
}

#[derive(Deserialize, ToSchema)]
struct PasswordInput {
    /// At least 10 characters; the person's open sessions end.
    password: String,
}

/// Sets a new password for an account (administrator).
#[utoipa::path(put, path = "/staff/{id}/password", tag = "staff", request_body = PasswordInput,
    responses((status = 204), (status = 404), (status = 422)))]
async fn reset_password(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PasswordInput>,
) -> AppResult<StatusCode> {
    staff.require(Action::ManageStaff)?;
    staff::reset_password(&state.db, StaffId(id), &input.password).await?;
    Ok(StatusCode::NO_CONTENT)
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
