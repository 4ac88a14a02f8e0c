//! The administrator's staff pages: every account, a new account, and an account's page to
//! change its role and area, deactivate or reactivate it, or set a new password. The rules
//! (an engineer needs an area, a password of 10 characters, an administrator cannot deactivate
//! themself) are in `db::staff`, shared with the API.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde::Serialize;
use ventanilla_domain::ids::{AreaId, StaffId};
use ventanilla_domain::permissions::{Action, Role};

use super::admin::{
    Choice, FormState, Notice, Refusal, admit, answer, finish, form_state, path_id,
};
use super::i18n;
use super::{FormFields, Page, PageError, PageResult};
use crate::db::catalogue;
use crate::db::staff::{self, NewStaff, StaffMember};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/staff", get(list).post(create))
        .route("/admin/staff/{id}", get(show))
        .route("/admin/staff/{id}/role", post(change_role))
        .route("/admin/staff/{id}/active", post(set_active))
        .route("/admin/staff/{id}/password", post(reset_password))
}

#[derive(Serialize)]
struct StaffLine {
    id: i64,
    username: String,
    full_name: String,
    email: String,
    role: &'static str,
    area: String,
    active: bool,
}

struct Lists {
    roles: Vec<Choice>,
    areas: Vec<catalogue::Area>,
}

impl Lists {
    /// The areas an account may be put in: the active ones and the one it is in already.
    fn area_options(&self, current: Option<AreaId>) -> Vec<Choice> {
        self.areas
            .iter()
            .filter(|a| a.active || current == Some(AreaId(a.id)))
            .map(|a| Choice {
                value: a.id.to_string(),
                label: a.name.clone(),
            })
            .collect()
    }
}

async fn lists(state: &AppState, page: &Page) -> Result<Lists, PageError> {
    let roles = Role::ALL
        .into_iter()
        .map(|r| Choice {
            value: r.code().into(),
            label: i18n::role_label(page.lang, r).into(),
        })
        .collect();
    let areas = catalogue::list_areas(&state.db).await?;
    Ok(Lists { roles, areas })
}

fn area_name(lists: &Lists, area: Option<AreaId>) -> String {
    area.and_then(|a| lists.areas.iter().find(|known| known.id == a.0))
        .map(|known| known.name.clone())
        .unwrap_or_default()
}

fn line(page: &Page, lists: &Lists, m: StaffMember) -> StaffLine {
    StaffLine {
        id: m.id.0,
        area: area_name(lists, m.area_id),
        role: i18n::role_label(page.lang, m.role),
        username: m.username,
        full_name: m.full_name,
        email: m.email.unwrap_or_default(),
        active: m.active,
    }
}

async fn list_page(
    state: &AppState,
    page: &Page,
    refusal: Option<Refusal>,
    notice: Notice,
) -> PageResult {
    let lists = lists(state, page).await?;
    let members: Vec<StaffLine> = staff::list(&state.db)
        .await?
        .into_iter()
        .map(|m| line(page, &lists, m))
        .collect();
    let new = form_state(
        &refusal,
        "new",
        FormState::with(&[("role", "agent".into())]),
    );
    let mut ctx = page.context("title_admin_staff");
    ctx.insert("members", minijinja::Value::from_serialize(&members));
    ctx.insert("roles", minijinja::Value::from_serialize(&lists.roles));
    ctx.insert(
        "areas",
        minijinja::Value::from_serialize(lists.area_options(None)),
    );
    ctx.insert("new", minijinja::Value::from_serialize(&new));
    finish(ctx, page, &notice, &refusal, "admin_staff.html")
}

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(notice): Query<Notice>,
) -> PageResult {
    page.require(Action::ManageStaff)?;
    list_page(&state, &page, None, notice).await
}

fn area_of(form: &FormFields) -> Option<AreaId> {
    form.get("area_id").parse::<i64>().ok().map(AreaId)
}

pub async fn create(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageStaff)?;
    let result = match staff::parse_role(form.get("role")) {
        Ok(role) => {
            staff::create(
                &state.db,
                NewStaff {
                    username: form.get("username"),
                    full_name: form.get("full_name"),
                    email: Some(form.get("email")),
                    role,
                    area_id: area_of(&form),
                    password: form.get("password"),
                },
                state.now_ms(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let done_url = |member: &StaffMember| format!("/admin/staff/{}?done=staff_created", member.id);
    answer(result, done_url, "new", &form, |r| {
        list_page(&state, &page, Some(r), Notice::default())
    })
    .await
}

async fn member_page(
    state: &AppState,
    page: &Page,
    id: i64,
    refusal: Option<Refusal>,
    notice: Notice,
) -> PageResult {
    let member = staff::by_id(&state.db, StaffId(id)).await?.ok_or_else(|| {
        PageError(AppError::not_found(
            "unknown_staff",
            format!("No existe la cuenta «{id}»."),
        ))
    })?;
    let lists = lists(state, page).await?;
    let role = form_state(
        &refusal,
        "role",
        FormState::with(&[
            ("role", member.role.code().into()),
            (
                "area_id",
                member.area_id.map(|a| a.0.to_string()).unwrap_or_default(),
            ),
        ]),
    );
    let active_error = form_state(&refusal, "active", FormState::default()).errors;
    let password = form_state(&refusal, "password", FormState::default());
    let is_self = member.id == page.staff.id;
    let area_options = lists.area_options(member.area_id);
    let mut ctx = page.context("title_admin_staff");
    ctx.insert("title", member.full_name.clone().into());
    ctx.insert(
        "member",
        minijinja::Value::from_serialize(line(page, &lists, member)),
    );
    ctx.insert("is_self", is_self.into());
    ctx.insert("roles", minijinja::Value::from_serialize(&lists.roles));
    ctx.insert("areas", minijinja::Value::from_serialize(area_options));
    ctx.insert("role_form", minijinja::Value::from_serialize(&role));
    ctx.insert(
        "active_errors",
        minijinja::Value::from_serialize(&active_error),
    );
    ctx.insert("password_form", minijinja::Value::from_serialize(&password));
    finish(ctx, page, &notice, &refusal, "admin_staff_member.html")
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> PageResult {
    page.require(Action::ManageStaff)?;
    member_page(&state, &page, path_id(&id)?, None, notice).await
}

/// Back to the account's page: with a notice, or with the refused form's errors.
async fn after<T>(
    state: &AppState,
    page: &Page,
    id: i64,
    form_name: &str,
    form: &FormFields,
    result: Result<T, AppError>,
    done: &str,
) -> PageResult {
    let done_url = |_: &T| format!("/admin/staff/{id}?done={done}");
    answer(result, done_url, form_name, form, |r| {
        member_page(state, page, id, Some(r), Notice::default())
    })
    .await
}

pub async fn change_role(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageStaff)?;
    let id = path_id(&id)?;
    let result = match staff::parse_role(form.get("role")) {
        Ok(role) => {
            staff::change_role(&state.db, page.staff.id, StaffId(id), role, area_of(&form)).await
        }
        Err(e) => Err(e),
    };
    after(&state, &page, id, "role", &form, result, "staff_saved").await
}

pub async fn set_active(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageStaff)?;
    let id = path_id(&id)?;
    let active = form.get("active") == "1";
    let result = staff::set_active(&state.db, page.staff.id, StaffId(id), active).await;
    let done = if active {
        "staff_reactivated"
    } else {
        "staff_deactivated"
    };
    after(&state, &page, id, "active", &form, result, done).await
}

pub async fn reset_password(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageStaff)?;
    let id = path_id(&id)?;
    let result = staff::reset_password(&state.db, StaffId(id), form.get("password")).await;
    after(
        &state,
        &page,
        id,
        "password",
        &form,
        result,
        "password_reset",
    )
    .await
}
