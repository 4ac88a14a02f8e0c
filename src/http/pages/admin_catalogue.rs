//! The administrator's catalogue pages: every service (inactive ones too), a new service with
//! the first version of its sheet, and a service's page with three forms — name and active
//! (a new sheet version noting the change, V7), the next version of its sheet (Q4, V7; earlier
//! versions stay on `/catalogue/{id}`) and its escalation levels (A19).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde::Serialize;
use ventanilla_domain::catalogue::{
    DEFAULT_RESOLUTION_MINUTES, DEFAULT_RESPONSE_MINUTES, Eligibility, SheetContent,
};
use ventanilla_domain::ids::{AreaId, ServiceId};
use ventanilla_domain::permissions::Action;

use super::admin::{
    Choice, FormState, Notice, Refusal, admit, answer, finish, form_state, number_field, path_id,
    status_of,
};
use super::browse::eligibility_label;
use super::i18n;
use super::{FieldErrors, FormFields, Page, PageError, PageResult, render};
use crate::db::catalogue::{self, ServiceSummary};
use crate::db::service_levels::{self as sl, EscalationLevel, Recipient};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/services", get(list))
        .route("/admin/services/new", get(new_form).post(create))
        .route("/admin/services/{id}", get(edit))
        .route("/admin/services/{id}/settings", post(save_settings))
        .route("/admin/services/{id}/sheet", post(revise))
        .route("/admin/services/{id}/escalation", post(save_escalation))
}

const ELIGIBILITIES: [Eligibility; 3] = [
    Eligibility::Open,
    Eligibility::Udi,
    Eligibility::UdiOrInPerson,
];

const RECIPIENTS: [Recipient; 4] = [
    Recipient::Assignee,
    Recipient::Area,
    Recipient::Supervisor,
    Recipient::Coordinator,
];

fn recipient_code(r: Recipient) -> &'static str {
    match r {
        Recipient::Assignee => "assignee",
        Recipient::Area => "area",
        Recipient::Supervisor => "supervisor",
        Recipient::Coordinator => "coordinator",
    }
}

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(notice): Query<Notice>,
) -> PageResult {
    page.require(Action::ManageCatalogue)?;
    let services = catalogue::list_all_services(&state.db).await?;
    let labels: std::collections::BTreeMap<&str, &str> = ELIGIBILITIES
        .into_iter()
        .map(|e| (e.code(), eligibility_label(page.lang, e)))
        .collect();
    let mut ctx = page.context("title_admin_services");
    ctx.insert("services", minijinja::Value::from_serialize(&services));
    ctx.insert(
        "eligibility_labels",
        minijinja::Value::from_serialize(&labels),
    );
    finish(ctx, &page, &notice, &None, "admin_services.html")
}

/// The sheet's fields as the form shows them: lists one item per line.
fn sheet_values(sheet: &SheetContent) -> Vec<(&'static str, String)> {
    vec![
        ("area_id", sheet.area_id.0.to_string()),
        ("eligibility", sheet.eligibility.code().to_string()),
        ("requirements", sheet.requirements.join("\n")),
        ("first_level_tests", sheet.first_level_tests.join("\n")),
        (
            "required_attachments",
            sheet.required_attachments.join("\n"),
        ),
        ("capacity", sheet.capacity.clone()),
        (
            "response_target_minutes",
            sheet.response_target_minutes.to_string(),
        ),
        (
            "resolution_target_minutes",
            sheet.resolution_target_minutes.to_string(),
        ),
        ("attention_policy", sheet.attention_policy.clone()),
        ("procedure_refs", sheet.procedure_refs.join("\n")),
    ]
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Reads the sheet's fields; what cannot even be read (a number, a choice) is filed beside its
/// field here, the rest is checked by `SheetContent::validated` in `db::catalogue`.
fn parse_sheet(form: &FormFields, errors: &mut FieldErrors) -> Option<SheetContent> {
    let area = form.get("area_id").parse::<i64>().ok().map(AreaId);
    if area.is_none() {
        errors.insert(
            "area_id".into(),
            "Elija el área que atiende el servicio.".into(),
        );
    }
    let eligibility = Eligibility::from_code(form.get("eligibility"));
    if eligibility.is_none() {
        errors.insert(
            "eligibility".into(),
            "Elija quién puede solicitar el servicio.".into(),
        );
    }
    let response = number_field(form, "response_target_minutes", errors);
    let resolution = number_field(form, "resolution_target_minutes", errors);
    Some(SheetContent {
        area_id: area?,
        eligibility: eligibility?,
        requirements: lines(form.get("requirements")),
        first_level_tests: lines(form.get("first_level_tests")),
        required_attachments: lines(form.get("required_attachments")),
        capacity: form.get("capacity").to_string(),
        response_target_minutes: response?,
        resolution_target_minutes: resolution?,
        attention_policy: form.get("attention_policy").to_string(),
        procedure_refs: lines(form.get("procedure_refs")),
    })
}

/// The areas a service may be put in (active ones, and `current`, where it already is) and the
/// eligibility choices.
async fn choices(
    state: &AppState,
    page: &Page,
    current: Option<i64>,
) -> Result<(Vec<Choice>, Vec<Choice>), PageError> {
    let areas = catalogue::list_areas(&state.db)
        .await?
        .into_iter()
        .filter(|a| a.active || Some(a.id) == current)
        .map(|a| Choice {
            value: a.id.to_string(),
            label: a.name,
        })
        .collect();
    let eligibilities = ELIGIBILITIES
        .into_iter()
        .map(|e| Choice {
            value: e.code().into(),
            label: eligibility_label(page.lang, e).into(),
        })
        .collect();
    Ok((areas, eligibilities))
}

async fn new_page(state: &AppState, page: &Page, refusal: Option<Refusal>) -> PageResult {
    let (areas, eligibilities) = choices(state, page, None).await?;
    let default = SheetContent {
        area_id: AreaId(0),
        eligibility: Eligibility::Udi,
        requirements: Vec::new(),
        first_level_tests: Vec::new(),
        required_attachments: Vec::new(),
        capacity: String::new(),
        response_target_minutes: DEFAULT_RESPONSE_MINUTES,
        resolution_target_minutes: DEFAULT_RESOLUTION_MINUTES,
        attention_policy: String::new(),
        procedure_refs: vec!["CGSI-PO-01".into()],
    };
    let mut values = sheet_values(&default);
    values.retain(|(k, _)| *k != "area_id");
    let sheet = form_state(&refusal, "sheet", FormState::with(&values));
    let mut ctx = page.context("title_admin_new_service");
    ctx.insert("is_new", true.into());
    ctx.insert("areas", minijinja::Value::from_serialize(&areas));
    ctx.insert(
        "eligibilities",
        minijinja::Value::from_serialize(&eligibilities),
    );
    ctx.insert("sheet", minijinja::Value::from_serialize(&sheet));
    Ok(render(
        status_of(&refusal),
        "admin_service.html",
        ctx.into(),
    ))
}

pub async fn new_form(State(state): State<AppState>, page: Page) -> PageResult {
    page.require(Action::ManageCatalogue)?;
    new_page(&state, &page, None).await
}

pub async fn create(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let mut errors = FieldErrors::new();
    let name = form.get("name");
    if let Err(e) = ventanilla_domain::catalogue::service_name(name) {
        errors.insert(e.field().into(), e.to_string());
    }
    let sheet = parse_sheet(&form, &mut errors);
    let result = match sheet {
        Some(sheet) if errors.is_empty() => {
            catalogue::create_service(&state.db, name, sheet, Some(page.staff.id), state.now_ms())
                .await
        }
        _ => {
            let refusal = Refusal::fields("sheet", &form, errors);
            return new_page(&state, &page, Some(refusal)).await;
        }
    };
    let done_url = |id: &ServiceId| format!("/admin/services/{id}?done=service_created");
    answer(result, done_url, "sheet", &form, |r| {
        new_page(&state, &page, Some(r))
    })
    .await
}

#[derive(Serialize)]
struct LevelRow {
    index: usize,
    recipients: Vec<RecipientBox>,
}

#[derive(Serialize)]
struct RecipientBox {
    code: &'static str,
    label: &'static str,
}

/// How many rows the escalation form shows: the service's levels and two blank ones.
fn level_rows(levels: usize) -> usize {
    levels + 2
}

fn escalation_values(levels: &[EscalationLevel]) -> Vec<(String, String)> {
    let mut values = vec![("rows".to_string(), level_rows(levels.len()).to_string())];
    for (i, level) in levels.iter().enumerate() {
        values.push((format!("pct_{i}"), level.level_percent.to_string()));
        for r in &level.notify {
            values.push((format!("n_{i}_{}", recipient_code(*r)), "1".into()));
        }
    }
    values
}

async fn edit_page(
    state: &AppState,
    page: &Page,
    id: i64,
    refusal: Option<Refusal>,
    notice: Notice,
) -> PageResult {
    let (summary, sheet): (ServiceSummary, SheetContent) =
        catalogue::service(&state.db, ServiceId(id))
            .await?
            .ok_or_else(|| {
                PageError(AppError::not_found(
                    "unknown_service",
                    format!("No existe el servicio «{id}»."),
                ))
            })?;
    let (areas, eligibilities) = choices(state, page, Some(summary.area_id)).await?;
    let settings = form_state(
        &refusal,
        "settings",
        FormState::with(&[
            ("name", summary.name.clone()),
            ("active", if summary.active { "1" } else { "" }.into()),
        ]),
    );
    let sheet_form = form_state(&refusal, "sheet", FormState::with(&sheet_values(&sheet)));
    let levels = {
        let mut conn = state.db.read().acquire().await?;
        sl::levels_for_service(&mut conn, Some(id)).await?
    };
    let escalation_default = FormState {
        v: escalation_values(&levels).into_iter().collect(),
        errors: FieldErrors::new(),
    };
    let escalation = form_state(&refusal, "escalation", escalation_default);
    let rows = escalation
        .v
        .get("rows")
        .and_then(|r| r.parse::<usize>().ok())
        .unwrap_or(level_rows(levels.len()))
        .min(20);
    let rows: Vec<LevelRow> = (0..rows)
        .map(|index| LevelRow {
            index,
            recipients: RECIPIENTS
                .iter()
                .map(|r| RecipientBox {
                    code: recipient_code(*r),
                    label: i18n::text(page.lang, &format!("recipient_{}", recipient_code(*r))),
                })
                .collect(),
        })
        .collect();
    let mut ctx = page.context("title_admin_services");
    ctx.insert("title", summary.name.clone().into());
    ctx.insert("is_new", false.into());
    ctx.insert("service", minijinja::Value::from_serialize(&summary));
    ctx.insert("areas", minijinja::Value::from_serialize(&areas));
    ctx.insert(
        "eligibilities",
        minijinja::Value::from_serialize(&eligibilities),
    );
    ctx.insert("settings", minijinja::Value::from_serialize(&settings));
    ctx.insert("sheet", minijinja::Value::from_serialize(&sheet_form));
    ctx.insert("escalation", minijinja::Value::from_serialize(&escalation));
    ctx.insert("level_rows", minijinja::Value::from_serialize(&rows));
    finish(ctx, page, &notice, &refusal, "admin_service.html")
}

pub async fn edit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> PageResult {
    page.require(Action::ManageCatalogue)?;
    edit_page(&state, &page, path_id(&id)?, None, notice).await
}

/// Back to the service's page: with a notice, or with the refused form's errors.
async fn after<T>(
    state: &AppState,
    page: &Page,
    id: i64,
    form_name: &str,
    form: &FormFields,
    result: Result<T, AppError>,
    done: &str,
) -> PageResult {
    let done_url = |_: &T| format!("/admin/services/{id}?done={done}");
    answer(result, done_url, form_name, form, |r| {
        edit_page(state, page, id, Some(r), Notice::default())
    })
    .await
}

pub async fn save_settings(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let id = path_id(&id)?;
    let result = catalogue::update_service(
        &state.db,
        ServiceId(id),
        form.get("name"),
        form.get("active") == "1",
        form.get("reason"),
        Some(page.staff.id),
        state.now_ms(),
    )
    .await;
    after(
        &state,
        &page,
        id,
        "settings",
        &form,
        result,
        "service_saved",
    )
    .await
}

pub async fn revise(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let id = path_id(&id)?;
    let mut errors = FieldErrors::new();
    let result = match parse_sheet(&form, &mut errors) {
        Some(sheet) if errors.is_empty() => {
            catalogue::revise_sheet(
                &state.db,
                ServiceId(id),
                sheet,
                form.get("change_note"),
                Some(page.staff.id),
                state.now_ms(),
            )
            .await
        }
        _ => {
            let refusal = Refusal::fields("sheet", &form, errors);
            return edit_page(&state, &page, id, Some(refusal), Notice::default()).await;
        }
    };
    after(&state, &page, id, "sheet", &form, result, "sheet_revised").await
}

pub async fn save_escalation(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCatalogue)?;
    let id = path_id(&id)?;
    let rows = form.get("rows").parse::<usize>().unwrap_or(0).min(20);
    let mut errors = FieldErrors::new();
    // The form's row of each level sent, to put an error back beside the right row.
    let mut row_of = Vec::new();
    let mut levels = Vec::new();
    for i in 0..rows {
        let notify: Vec<Recipient> = RECIPIENTS
            .into_iter()
            .filter(|r| form.get(&format!("n_{i}_{}", recipient_code(*r))) == "1")
            .collect();
        let pct_field = format!("pct_{i}");
        if form.get(&pct_field).trim().is_empty() && notify.is_empty() {
            continue;
        }
        if let Some(level_percent) = number_field(&form, &pct_field, &mut errors) {
            row_of.push(i);
            levels.push(EscalationLevel {
                level_percent,
                notify,
            });
        }
    }
    if !errors.is_empty() {
        let refusal = Refusal::fields("escalation", &form, errors);
        return edit_page(&state, &page, id, Some(refusal), Notice::default()).await;
    }
    let result = sl::save_levels(&state.db, id, levels, state.now_ms())
        .await
        .map_err(|e| renumber_level_error(e, &row_of));
    after(
        &state,
        &page,
        id,
        "escalation",
        &form,
        result,
        "escalation_saved",
    )
    .await
}

/// `levels[1].notify` of the levels sent → `notify_3` of the form's rows.
fn renumber_level_error(e: AppError, row_of: &[usize]) -> AppError {
    let Some(field) = e.problem().and_then(|p| p.field.clone()) else {
        return e;
    };
    let parsed = field
        .strip_prefix("levels[")
        .and_then(|rest| rest.split_once("]."))
        .and_then(|(i, tail)| Some((i.parse::<usize>().ok()?, tail.to_string())));
    match parsed {
        Some((i, tail)) => {
            let row = row_of.get(i).copied().unwrap_or(i);
            let name = if tail == "notify" { "notify" } else { "pct" };
            e.with_field(&format!("{name}_{row}"))
        }
        None => e,
    }
}
