//! The administrator's pages (issue 4): the index, resolver areas and units, and the greeting of
//! the attention script. Services and sheets are in `admin_catalogue`, the calendar in
//! `admin_calendar`, staff accounts in `admin_staff`.
//!
//! Every page calls the same `db` functions as the JSON API, so a rule (a name too short, an
//! overlapping interval, an administrator deactivating themself) is checked in one place and
//! its Spanish detail is shown beside the field, with what was typed kept.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use ventanilla_domain::ids::{AreaId, UnitId};
use ventanilla_domain::permissions::{Action, Role, allows};

use super::i18n::{self, Lang};
use super::{
    Ctx, FieldErrors, FormFields, Page, PageError, PageResult, file_error, render, see_other,
};
use super::{admin_calendar, admin_catalogue, admin_staff};
use crate::db::{self, Db, catalogue, settings};
use crate::error::AppError;
use crate::state::AppState;

/// The routes of the administrator's pages, merged into the pages' router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/areas", get(areas).post(create_area))
        .route("/admin/areas/{id}", post(update_area))
        .route("/admin/areas/{id}/active", post(set_area_active))
        .route("/admin/units", post(create_unit))
        .route("/admin/units/{id}", post(update_unit))
        .route("/admin/units/{id}/active", post(set_unit_active))
        .route("/admin/greeting", get(greeting_page).post(save_greeting))
        .merge(admin_catalogue::routes())
        .merge(admin_calendar::routes())
        .merge(admin_staff::routes())
}

/// The templates of these pages, added to the pages' environment.
pub const TEMPLATES: [(&str, &str); 11] = [
    ("admin_form.html", include_str!("templates/admin_form.html")),
    (
        "admin_index.html",
        include_str!("templates/admin_index.html"),
    ),
    (
        "admin_areas.html",
        include_str!("templates/admin_areas.html"),
    ),
    (
        "admin_services.html",
        include_str!("templates/admin_services.html"),
    ),
    (
        "admin_service.html",
        include_str!("templates/admin_service.html"),
    ),
    (
        "admin_calendar.html",
        include_str!("templates/admin_calendar.html"),
    ),
    (
        "admin_staff.html",
        include_str!("templates/admin_staff.html"),
    ),
    (
        "admin_staff_member.html",
        include_str!("templates/admin_staff_member.html"),
    ),
    (
        "admin_greeting.html",
        include_str!("templates/admin_greeting.html"),
    ),
    // The complaints log (L10), `complaints.rs`.
    ("complaints.html", include_str!("templates/complaints.html")),
    ("complaint.html", include_str!("templates/complaint.html")),
];

/// Whether the role sees the administration entry in the navigation.
pub fn shows_admin(role: Role) -> bool {
    [
        Action::ManageCatalogue,
        Action::ManageCalendar,
        Action::ManageStaff,
    ]
    .into_iter()
    .any(|action| allows(role, action))
}

/// One option of a select.
#[derive(Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// One form of a page: the values its fields show and the errors beside them.
#[derive(Serialize, Default, Clone)]
pub struct FormState {
    pub v: BTreeMap<String, String>,
    pub errors: FieldErrors,
}

impl FormState {
    pub fn with(values: &[(&str, String)]) -> FormState {
        FormState {
            v: values
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
            errors: FieldErrors::new(),
        }
    }
}

/// A form that was refused: which one, what was typed, why, and the status to answer.
pub struct Refusal {
    pub form: String,
    pub state: FormState,
    pub status: StatusCode,
}

impl Refusal {
    /// A refusal from the rules' problem (its field and Spanish detail); internal errors pass.
    pub fn from_error(form: &str, typed: &FormFields, e: AppError) -> Result<Refusal, PageError> {
        let status = e
            .problem()
            .map(|p| p.status)
            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        let mut errors = FieldErrors::new();
        file_error(&mut errors, e)?;
        Ok(Refusal::fields(form, typed, errors).with_status(status))
    }

    /// A refusal with errors found while reading the form. A password typed is never sent
    /// back to the browser.
    pub fn fields(form: &str, typed: &FormFields, errors: FieldErrors) -> Refusal {
        let mut v = typed.values();
        v.remove("password");
        Refusal {
            form: form.to_string(),
            state: FormState { v, errors },
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn with_status(mut self, status: StatusCode) -> Refusal {
        self.status = status;
        self
    }
}

/// The answer to a form's POST: 303 to `done_url(&made)` when the change was made, else the
/// page again (`again`) with the refused form's Spanish errors and what was typed.
pub async fn answer<T, Fut>(
    result: Result<T, AppError>,
    done_url: impl FnOnce(&T) -> String,
    form_name: &str,
    form: &FormFields,
    again: impl FnOnce(Refusal) -> Fut,
) -> PageResult
where
    Fut: std::future::Future<Output = PageResult>,
{
    match result {
        Ok(made) => Ok(see_other(&done_url(&made))),
        Err(e) => again(Refusal::from_error(form_name, form, e)?).await,
    }
}

/// The state of form `name`: what was typed if it was the refused one, else `default`.
pub fn form_state(refusal: &Option<Refusal>, name: &str, default: FormState) -> FormState {
    match refusal {
        Some(r) if r.form == name => r.state.clone(),
        _ => default,
    }
}

pub fn status_of(refusal: &Option<Refusal>) -> StatusCode {
    refusal.as_ref().map_or(StatusCode::OK, |r| r.status)
}

/// Renders an administration page with the notice of the last change; the status is the
/// refused form's when there is one.
pub fn finish(
    mut ctx: Ctx,
    page: &Page,
    notice: &Notice,
    refusal: &Option<Refusal>,
    template: &str,
) -> PageResult {
    ctx.insert("notice", notice.text(page.lang).into());
    Ok(render(status_of(refusal), template, ctx.into()))
}

/// Reads a required whole number from a form field, or files a Spanish error beside it.
pub fn number_field(form: &FormFields, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    match form.get(field).trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.insert(
                field.to_string(),
                format!(
                    "Escriba un número entero (se escribió «{}»).",
                    form.get(field).trim()
                ),
            );
            None
        }
    }
}

/// The `?done=…` notice after a change (`n`: how many requests had their deadlines recomputed).
#[derive(Deserialize, Default)]
pub struct Notice {
    pub done: Option<String>,
    pub n: Option<u64>,
}

impl Notice {
    /// The notice's text: a known key of the catalogue, or nothing.
    pub fn text(&self, lang: Lang) -> Option<String> {
        let key = format!("admin_done_{}", self.done.as_deref()?);
        let text = i18n::text(lang, &key);
        (!text.is_empty()).then(|| text.replace("{n}", &self.n.unwrap_or(0).to_string()))
    }
}

pub async fn index(page: Page) -> PageResult {
    if !shows_admin(page.staff.role) {
        page.require(Action::ManageCatalogue)?;
    }
    let ctx = page.context("title_admin");
    Ok(render(StatusCode::OK, "admin_index.html", ctx.into()))
}

// ---------------------------------------------------------------------------
// Areas and units
// ---------------------------------------------------------------------------

#[derive(Serialize)]
struct Row {
    id: i64,
    active: bool,
    form: FormState,
}

fn area_values(area: &catalogue::Area) -> FormFields {
    FormFields(vec![
        ("name".into(), area.name.clone()),
        ("email".into(), area.email.clone().unwrap_or_default()),
    ])
}

fn unit_values(unit: &catalogue::Unit) -> FormFields {
    FormFields(vec![
        ("acronym".into(), unit.acronym.clone()),
        ("name".into(), unit.name.clone()),
        ("level".into(), unit.level.clone()),
    ])
}

async fn areas_page(
    state: &AppState,
    page: &Page,
    refusal: Option<Refusal>,
    notice: Notice,
) -> PageResult {
    let areas: Vec<Row> = catalogue::list_areas(&state.db)
        .await?
        .into_iter()
        .map(|a| Row {
            id: a.id,
            active: a.active,
            form: form_state(
                &refusal,
                &format!("area-{}", a.id),
                FormState {
                    v: area_values(&a).values(),
                    errors: FieldErrors::new(),
                },
            ),
        })
        .collect();
    let units: Vec<Row> = catalogue::list_units(&state.db)
        .await?
        .into_iter()
        .map(|u| Row {
            id: u.id,
            active: u.active,
            form: form_state(
                &refusal,
                &format!("unit-{}", u.id),
                FormState {
                    v: unit_values(&u).values(),
                    errors: FieldErrors::new(),
                },
            ),
        })
        .collect();
    let mut ctx = page.context("title_admin_areas");
    ctx.insert("areas", minijinja::Value::from_serialize(&areas));
    ctx.insert("units", minijinja::Value::from_serialize(&units));
    for name in ["new_area", "new_unit"] {
        ctx.insert(
            name,
            minijinja::Value::from_serialize(form_state(&refusal, name, FormState::default())),
        );
    }
    finish(ctx, page, &notice, &refusal, "admin_areas.html")
}

pub async fn areas(
    State(state): State<AppState>,
    page: Page,
    Query(notice): Query<Notice>,
) -> PageResult {
    page.require(Action::ManageCatalogue)?;
    areas_page(&state, &page, None, notice).await
}

/// Checks the session, the token and the role of a POST on these pages.
pub fn admit(
    page: &Page,
    headers: &HeaderMap,
    form: &FormFields,
    action: Action,
) -> Result<(), PageError> {
    page.check_csrf(headers, form)?;
    page.require(action)
}

pub fn path_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>().map_err(|_| {
        PageError(AppError::not_found(
            "unknown_id",
            format!("«{raw}» no es un identificador válido."),
        ))
    })
}

/// Answers a POST on the areas page: back to it with a notice, or the page with the refused
/// form's errors.
async fn areas_result<T>(
    state: &AppState,
    page: &Page,
    form_name: &str,
    form: &FormFields,
    result: Result<T, AppError>,
    done: &str,
) -> PageResult {
    answer(
        result,
        |_| format!("/admin/areas?done={done}"),
        form_name,
        form,
        |r| areas_page(state, page, Some(r), Notice::default()),
    )
    .await
}

async fn save_area(db: &Db, id: Option<AreaId>, form: &FormFields) -> Result<(), AppError> {
    let email = db::optional_email(Some(form.get("email")))?;
    match id {
        Some(id) => {
            catalogue::update_area(db, id, form.get("name"), email.as_deref(), None).await?
        }
        None => catalogue::create_area(db, form.get("name"), email.as_deref()).await?,
    };
    Ok(())
}

pub async fn create_area(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let result = save_area(&state.db, None, &form).await;
    areas_result(&state, &page, "new_area", &form, result, "area_created").await
}

pub async fn update_area(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let id = path_id(&id)?;
    let result = save_area(&state.db, Some(AreaId(id)), &form).await;
    areas_result(
        &state,
        &page,
        &format!("area-{id}"),
        &form,
        result,
        "area_saved",
    )
    .await
}

pub async fn create_unit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let result = catalogue::create_unit(
        &state.db,
        form.get("acronym"),
        form.get("name"),
        form.get("level"),
    )
    .await;
    areas_result(&state, &page, "new_unit", &form, result, "unit_created").await
}

pub async fn update_unit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let id = path_id(&id)?;
    let result = catalogue::update_unit(
        &state.db,
        UnitId(id),
        form.get("acronym"),
        form.get("name"),
        form.get("level"),
        None,
    )
    .await;
    areas_result(
        &state,
        &page,
        &format!("unit-{id}"),
        &form,
        result,
        "unit_saved",
    )
    .await
}

/// What the deactivate/reactivate buttons send: `active` is 1 or 0.
fn wanted_active(form: &FormFields) -> (bool, &'static str) {
    if form.get("active") == "1" {
        (true, "reactivated")
    } else {
        (false, "deactivated")
    }
}

/// Deactivates or reactivates an area: an inactive one is not offered when assigning or for
/// services; the requests that have it keep it.
pub async fn set_area_active(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let id = path_id(&id)?;
    let area = catalogue::area(&state.db, AreaId(id))
        .await?
        .ok_or_else(|| AppError::not_found("unknown_area", format!("No existe el área {id}.")))?;
    let (active, done) = wanted_active(&form);
    let result = catalogue::update_area(
        &state.db,
        AreaId(id),
        &area.name,
        area.email.as_deref(),
        Some(active),
    )
    .await;
    let shown = area_values(&area);
    areas_result(
        &state,
        &page,
        &format!("area-{id}"),
        &shown,
        result,
        &format!("area_{done}"),
    )
    .await
}

/// Deactivates or reactivates a unit: an inactive one is not offered for new or changed
/// requesters; those who have it keep it.
pub async fn set_unit_active(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let id = path_id(&id)?;
    let unit = catalogue::unit(&state.db, UnitId(id))
        .await?
        .ok_or_else(|| AppError::not_found("unknown_unit", format!("No existe la unidad {id}.")))?;
    let (active, done) = wanted_active(&form);
    let result = catalogue::update_unit(
        &state.db,
        UnitId(id),
        &unit.acronym,
        &unit.name,
        &unit.level,
        Some(active),
    )
    .await;
    let shown = unit_values(&unit);
    areas_result(
        &state,
        &page,
        &format!("unit-{id}"),
        &shown,
        result,
        &format!("unit_{done}"),
    )
    .await
}

// ---------------------------------------------------------------------------
// The greeting of the attention script (CGSI-PO-01/01)
// ---------------------------------------------------------------------------

/// The longest greeting accepted: a few sentences an agent reads aloud.
const GREETING_MAX_CHARS: usize = 500;

fn greeting_key(lang: Lang) -> String {
    format!("script_greeting_{}", lang.code())
}

/// The greeting the script shows in `lang`, with `{name}` still in it: the administrator's
/// text, or the built-in one.
pub async fn greeting(db: &Db, lang: Lang) -> Result<String, PageError> {
    Ok(settings::get(db, &greeting_key(lang))
        .await?
        .unwrap_or_else(|| i18n::text(lang, "greeting_text").to_string()))
}

async fn greeting_form(
    state: &AppState,
    page: &Page,
    refusal: Option<Refusal>,
    notice: Notice,
) -> PageResult {
    let mut values = Vec::new();
    for lang in [Lang::Es, Lang::En] {
        values.push((
            if lang == Lang::Es {
                "greeting_es"
            } else {
                "greeting_en"
            },
            greeting(&state.db, lang).await?,
        ));
    }
    let form = form_state(&refusal, "greeting", FormState::with(&values));
    let mut ctx = page.context("title_admin_greeting");
    ctx.insert("form", minijinja::Value::from_serialize(&form));
    finish(ctx, page, &notice, &refusal, "admin_greeting.html")
}

pub async fn greeting_page(
    State(state): State<AppState>,
    page: Page,
    Query(notice): Query<Notice>,
) -> PageResult {
    page.require(Action::ManageCatalogue)?;
    greeting_form(&state, &page, None, notice).await
}

/// Saves both languages' greeting; an empty text, or the reset button, restores the default.
pub async fn save_greeting(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let reset = form.get("reset") == "1";
    let mut errors = FieldErrors::new();
    let mut texts = Vec::new();
    for lang in [Lang::Es, Lang::En] {
        let field = format!("greeting_{}", lang.code());
        let text = form.get(&field).trim();
        if text.chars().count() > GREETING_MAX_CHARS {
            errors.insert(
                field.clone(),
                format!(
                    "El saludo tiene {} caracteres; el máximo es {GREETING_MAX_CHARS}.",
                    text.chars().count()
                ),
            );
        }
        let default = i18n::text(lang, "greeting_text");
        let stored = (!reset && !text.is_empty() && text != default).then(|| text.to_string());
        texts.push((greeting_key(lang), stored));
    }
    if !errors.is_empty() {
        let refusal = Refusal::fields("greeting", &form, errors);
        return greeting_form(&state, &page, Some(refusal), Notice::default()).await;
    }
    for (key, value) in texts {
        settings::set(
            &state.db,
            &key,
            value.as_deref(),
            page.staff.id.0,
            state.now_ms(),
        )
        .await?;
    }
    Ok(see_other("/admin/greeting?done=greeting_saved"))
}
