//! The request page: number, status, service, area, assignee, the timeline, and a form for each
//! step the signed-in role may take from the current status (decided by
//! `lifecycle::next_status` and `permissions::allows`, the same rules `apply_step` enforces).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use ventanilla_domain::identifiers::RequestNumber;
use ventanilla_domain::ids::{AreaId, ServiceId, StaffId};
use ventanilla_domain::lifecycle::{RequestFacts, Status, Step, next_status};
use ventanilla_domain::permissions::{Action, Role, allows};

use super::i18n;
use super::upload::MultipartForm;
use super::{
    FieldErrors, FormFields, Page, PageError, PageResult, file_error, local_time, render, see_other,
};
use crate::db::requests::{self, RequestDetail, StepInput};
use crate::db::service_levels::business_text;
use crate::db::{catalogue, staff};
use crate::error::AppError;
use crate::http::api::followup::escalate_request;
use crate::http::api::requests::attachment_download;
use crate::http::api::service_levels::{ServiceLevelView, service_level_view};
use crate::state::AppState;
use ventanilla_domain::permissions::sees_requester_name;

/// The steps offered on the page, in the order of the procedure. `register` (from the intake
/// queue) is done with the script, not here.
const OFFERED: [Step; 11] = [
    Step::ConfirmRequirements,
    Step::Assign,
    Step::Start,
    Step::Wait,
    Step::Resume,
    Step::Solve,
    Step::Verify,
    Step::SendBack,
    Step::Close,
    Step::Reopen,
    Step::Cancel,
];

pub(super) fn parse_number(raw: &str) -> Result<String, PageError> {
    RequestNumber::parse(raw)
        .map(|n| n.to_string())
        .map_err(|e| {
            PageError(AppError::new(
                StatusCode::NOT_FOUND,
                e.code(),
                e.to_string(),
            ))
        })
}

/// The steps this staff member may take on this request now.
pub fn available_steps(page: &Page, detail: &RequestDetail) -> Vec<Step> {
    let role = page.staff.role;
    let facts = RequestFacts {
        area: detail.summary.area_id.map(AreaId),
        requirements_complete: true,
    };
    OFFERED
        .into_iter()
        .filter(|step| allows(role, Action::Step(*step)))
        .filter(|step| next_status(detail.summary.status, *step, facts).is_ok())
        .filter(|_| role != Role::Engineer || page.staff.area_id == facts.area)
        .collect()
}

#[derive(Serialize)]
struct ActionView {
    step: &'static str,
    label: &'static str,
    needs_reason: bool,
    reason_label: &'static str,
    danger: bool,
}

#[derive(Serialize)]
struct EventView {
    at: String,
    who: String,
    what: String,
    status: Option<String>,
    reason: Option<String>,
    body: Option<String>,
    internal: bool,
    /// The download of the file an `attachment_added` event added.
    file: Option<FileView>,
}

#[derive(Serialize, Clone)]
struct FileView {
    id: i64,
    filename: String,
    size: String,
}

/// One service-level clock as a bar (L3, L4, A16): business time used of the time allowed, the
/// time left or overdue in words, and the state in words (never colour only).
#[derive(Serialize)]
struct BarView {
    target: &'static str,
    /// 0–100 for the bar; the text says the real share when it is over.
    value: i64,
    percent: String,
    used: String,
    allowed: String,
    left: String,
    state: &'static str,
    state_code: String,
    /// running or paused past 75 %, not yet overdue.
    at_risk: bool,
    deadline: Option<String>,
    explanation: String,
}

pub(super) fn size_text(bytes: i64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn bars(lang: i18n::Lang, view: &ServiceLevelView) -> Vec<BarView> {
    view.targets
        .iter()
        .map(|t| {
            let live = matches!(t.state.as_str(), "running" | "paused");
            let at_risk = live && t.share_percent >= 75.0 && t.remaining_seconds > 0;
            let left = match t.state.as_str() {
                "met" => i18n::text(lang, "sla_met_in_time").to_string(),
                _ if t.remaining_seconds < 0 => i18n::text(lang, "sla_overdue_by")
                    .replace("{time}", &business_text(t.remaining_seconds)),
                _ => i18n::text(lang, "sla_left")
                    .replace("{time}", &business_text(t.remaining_seconds)),
            };
            BarView {
                target: i18n::text(lang, &format!("sla_target_{}", t.target)),
                value: t.share_percent.clamp(0.0, 100.0).round() as i64,
                percent: format!("{:.0} %", t.share_percent),
                used: business_text(t.elapsed_seconds),
                allowed: business_text(t.target_minutes * 60),
                left,
                state: i18n::text(lang, &format!("sla_state_{}", t.state)),
                state_code: t.state.clone(),
                at_risk,
                deadline: t.deadline_local.clone(),
                explanation: t.explanation_es.clone(),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct Named {
    id: i64,
    name: String,
    selected: bool,
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    new: Option<String>,
    done: Option<String>,
}

/// A form on the page that was refused: its errors, what was typed, and the problem's status.
struct Refused<'a> {
    errors: FieldErrors,
    form_id: &'a str,
    typed: &'a FormFields,
    status: StatusCode,
}

async fn page_for(
    state: &AppState,
    page: &Page,
    number: &str,
    notice: ShowQuery,
    refused: Option<Refused<'_>>,
) -> PageResult {
    let no_typed = FormFields(Vec::new());
    let (errors, error_step, typed, status) = match &refused {
        Some(r) => (r.errors.clone(), Some(r.form_id), r.typed, r.status),
        None => (FieldErrors::new(), None, &no_typed, StatusCode::OK),
    };
    let errors = &errors;
    let detail = requests::get(&state.db, number)
        .await?
        .ok_or_else(|| PageError(requests::unknown_number(number)))?;
    let lang = page.lang;
    let s = &detail.summary;
    let steps = available_steps(page, &detail);
    let actions: Vec<ActionView> = steps
        .iter()
        .map(|step| ActionView {
            step: step.code(),
            label: i18n::step_button(lang, *step),
            needs_reason: step.needs_reason(),
            reason_label: i18n::text(
                lang,
                if *step == Step::Solve {
                    "solution"
                } else {
                    "reason"
                },
            ),
            danger: *step == Step::Cancel,
        })
        .collect();
    let files: Vec<(String, FileView)> = detail
        .attachments
        .iter()
        .map(|a| {
            (
                a.sha256.clone(),
                FileView {
                    id: a.id,
                    filename: a.filename.clone(),
                    size: size_text(a.size_bytes),
                },
            )
        })
        .collect();
    let timeline: Vec<EventView> = detail
        .timeline
        .iter()
        .map(|e| EventView {
            file: files
                .iter()
                .find(|(sha, f)| {
                    e.kind == "attachment_added"
                        && e.payload["sha256"].as_str() == Some(sha.as_str())
                        && e.payload["filename"].as_str() == Some(f.filename.as_str())
                })
                .map(|(_, f)| f.clone()),
            at: local_time(e.at),
            who: e.actor_name.clone().unwrap_or_else(|| e.actor_kind.clone()),
            what: i18n::event_label(lang, &e.kind),
            status: e
                .to_status
                .as_deref()
                .and_then(ventanilla_domain::lifecycle::Status::from_code)
                .map(|st| i18n::status_label(lang, st).to_string()),
            reason: e.reason.clone(),
            body: e.payload["body"].as_str().map(String::from).or_else(|| {
                e.payload["after"]
                    .as_str()
                    .map(|after| format!("→ {after}"))
            }),
            internal: e.payload["internal"].as_bool().unwrap_or(false),
        })
        .collect();
    // Assignment offers the active areas and their engineers only (the request keeps an
    // inactive area it already has, shown above).
    let areas: Vec<Named> = catalogue::list_areas(&state.db)
        .await?
        .into_iter()
        .filter(|a| a.active)
        .map(|a| Named {
            selected: Some(a.id) == s.area_id,
            id: a.id,
            name: a.name,
        })
        .collect();
    let engineers: Vec<Named> = if steps.contains(&Step::Assign) {
        staff::list(&state.db)
            .await?
            .into_iter()
            .filter(|m| m.role == Role::Engineer && m.active)
            .filter(|m| areas.iter().any(|a| Some(AreaId(a.id)) == m.area_id))
            .map(|m| Named {
                selected: Some(m.id.0) == s.assignee_id,
                id: m.id.0,
                name: format!(
                    "{} ({})",
                    m.full_name,
                    areas
                        .iter()
                        .find(|a| Some(AreaId(a.id)) == m.area_id)
                        .map(|a| a.name.as_str())
                        .unwrap_or("")
                ),
            })
            .collect()
    } else {
        Vec::new()
    };
    let requirements: Vec<String> = match (s.service_id, s.sheet_version) {
        (Some(id), Some(v)) if steps.contains(&Step::ConfirmRequirements) => {
            catalogue::sheet_version(&state.db, ServiceId(id), v)
                .await?
                .map(|sheet| sheet.content.requirements)
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let service_level = service_level_view(state, number).await?;
    let mut ctx = page.context("title_home");
    ctx.insert(
        "bars",
        minijinja::Value::from_serialize(bars(lang, &service_level)),
    );
    ctx.insert(
        "files",
        minijinja::Value::from_serialize(files.iter().map(|(_, f)| f).collect::<Vec<_>>()),
    );
    ctx.insert("can_attach", allows(page.staff.role, Action::Attach).into());
    ctx.insert(
        "can_escalate",
        (allows(page.staff.role, Action::Escalate) && s.status.is_open()).into(),
    );
    ctx.insert(
        "can_register",
        (s.status == Status::Received && allows(page.staff.role, Action::Step(Step::Register)))
            .into(),
    );
    ctx.insert(
        "max_mib",
        (state.config.max_attachment_bytes / (1024 * 1024)).into(),
    );
    ctx.insert("title", s.number.clone().into());
    ctx.insert("number", s.number.clone().into());
    ctx.insert("status", i18n::status_label(lang, s.status).into());
    ctx.insert("status_code", s.status.code().into());
    ctx.insert("subject", s.subject.clone().into());
    ctx.insert("description", detail.description.clone().into());
    ctx.insert("service", s.service_name.clone().into());
    ctx.insert("area", s.area_name.clone().into());
    ctx.insert("assignee", s.assignee_name.clone().into());
    ctx.insert("channel", s.channel.label_es().into());
    ctx.insert("received", local_time(s.received_at).into());
    if sees_requester_name(page.staff.role) {
        ctx.insert("requester", s.requester_name.clone().into());
    }
    if allows(page.staff.role, Action::ViewPersonalData) {
        ctx.insert("requester_id", s.requester_id.into());
    }
    ctx.insert("created", notice.new.is_some().into());
    ctx.insert("done", notice.done.is_some().into());
    ctx.insert("actions", minijinja::Value::from_serialize(&actions));
    ctx.insert("timeline", minijinja::Value::from_serialize(&timeline));
    ctx.insert("areas", minijinja::Value::from_serialize(&areas));
    ctx.insert("engineers", minijinja::Value::from_serialize(&engineers));
    ctx.insert(
        "requirements",
        minijinja::Value::from_serialize(&requirements),
    );
    ctx.insert(
        "can_comment",
        allows(page.staff.role, Action::Comment).into(),
    );
    ctx.insert(
        "can_change_conditions",
        (allows(page.staff.role, Action::ChangeConditions) && s.status.is_open()).into(),
    );
    ctx.insert("errors", minijinja::Value::from_serialize(errors));
    ctx.insert("error_step", error_step.into());
    ctx.insert("v", minijinja::Value::from_serialize(typed.values()));
    Ok(render(status, "request.html", ctx.into()))
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(number): Path<String>,
    Query(query): Query<ShowQuery>,
) -> PageResult {
    page.require(Action::ViewRequests)?;
    let number = parse_number(&number)?;
    page_for(&state, &page, &number, query, None).await
}

/// Re-renders the page with the error beside the form that caused it and what was typed.
async fn again(
    state: &AppState,
    page: &Page,
    number: &str,
    error: AppError,
    form_id: &str,
    form: &FormFields,
) -> PageResult {
    // The page says what went wrong with the status of the problem (403, 409, 422…).
    let status = error
        .problem()
        .map(|p| p.status)
        .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let mut errors = FieldErrors::new();
    file_error(&mut errors, error)?;
    let refused = Refused {
        errors,
        form_id,
        typed: form,
        status,
    };
    page_for(state, page, number, ShowQuery::default(), Some(refused)).await
}

/// After a form: back to the page with a notice, or the page again with the error beside it.
async fn done_or_again(
    state: &AppState,
    page: &Page,
    number: &str,
    result: Result<(), AppError>,
    form_id: &str,
    form: &FormFields,
) -> PageResult {
    match result {
        Ok(()) => Ok(see_other(&format!("/requests/{number}?done=1"))),
        Err(e) => again(state, page, number, e, form_id, form).await,
    }
}

pub async fn step(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path((number, step)): Path<(String, String)>,
    form: FormFields,
) -> PageResult {
    page.check_csrf(&headers, &form)?;
    let number = parse_number(&number)?;
    let Some(step) = Step::from_code(&step).filter(|s| OFFERED.contains(s)) else {
        return Err(PageError(AppError::not_found(
            "unknown_step",
            format!("«{step}» no es una acción de esta página."),
        )));
    };
    let input = StepInput {
        reason: form.opt("reason"),
        area_id: form.get("area_id").parse().ok().map(AreaId),
        assignee_id: form.get("assignee_id").parse().ok().map(StaffId),
        confirmed_requirements: (step == Step::ConfirmRequirements).then(|| form.all("req")),
        ..StepInput::default()
    };
    let result = requests::apply_step(
        &state.db,
        &number,
        step,
        page.actor(),
        input,
        state.now_ms(),
    )
    .await
    .map(|_| ());
    done_or_again(&state, &page, &number, result, step.code(), &form).await
}

pub async fn comment(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(number): Path<String>,
    form: FormFields,
) -> PageResult {
    page.check_csrf(&headers, &form)?;
    let number = parse_number(&number)?;
    let body = form.get("body").trim().to_string();
    let result = if !allows(page.staff.role, Action::Comment) {
        Err(AppError::forbidden("Su perfil no permite comentar."))
    } else if body.is_empty() || body.chars().count() > 20_000 {
        Err(AppError::invalid(
            "body",
            "body_length",
            "Escriba el comentario (hasta 20 000 caracteres).",
        ))
    } else {
        requests::comment(
            &state.db,
            &number,
            &body,
            form.get("internal") == "1",
            page.actor(),
            state.now_ms(),
        )
        .await
        .map(|_| ())
    };
    done_or_again(&state, &page, &number, result, "comment", &form).await
}

pub async fn conditions(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(number): Path<String>,
    form: FormFields,
) -> PageResult {
    page.check_csrf(&headers, &form)?;
    let number = parse_number(&number)?;
    let description = form.get("description").trim().to_string();
    let reason = form.get("reason").trim().to_string();
    let result = if !allows(page.staff.role, Action::ChangeConditions) {
        Err(AppError::forbidden(
            "Su perfil no permite cambiar las condiciones.",
        ))
    } else if description.is_empty() {
        Err(AppError::invalid(
            "description",
            "description_length",
            "Escriba la nueva descripción de lo que la persona necesita.",
        ))
    } else if reason.chars().count() < 3 {
        Err(AppError::invalid(
            "reason",
            "reason_length",
            "Diga qué cambió y quién lo pidió (al menos 3 caracteres).",
        ))
    } else {
        requests::change_conditions(
            &state.db,
            &number,
            &description,
            &reason,
            page.actor(),
            state.now_ms(),
        )
        .await
    };
    done_or_again(&state, &page, &number, result, "conditions", &form).await
}

/// A19: the circumstances go on the timeline and to the area's officials.
pub async fn escalate(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(number): Path<String>,
    form: FormFields,
) -> PageResult {
    page.check_csrf(&headers, &form)?;
    let number = parse_number(&number)?;
    let result = match page.require(Action::Escalate) {
        Err(PageError(e)) => Err(e),
        Ok(()) => escalate_request(&state, &number, form.get("circumstances"), page.actor())
            .await
            .map(|_| ()),
    };
    done_or_again(&state, &page, &number, result, "escalate", &form).await
}

/// Q3: a file added to the request from its page (the API's limit, its Spanish message).
pub async fn upload(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(number): Path<String>,
    mut form: MultipartForm,
) -> PageResult {
    let number = parse_number(&number)?;
    page.check_csrf(&headers, &form.fields)?;
    let mut files = form.take_files();
    let result = if let Err(PageError(e)) = page.require(Action::Attach) {
        Err(e)
    } else if let Some((field, detail)) = form.errors.pop_first() {
        Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "attachment_too_large",
            detail,
        )
        .with_field(if field == "_form" { "file" } else { &field }))
    } else if let Some(index) = files.iter().position(|(name, _)| name == "file") {
        let (_, file) = files.swap_remove(index);
        requests::attach(&state.db, &number, file, page.actor(), state.now_ms())
            .await
            .map(|_| ())
    } else {
        Err(AppError::invalid(
            "file",
            "file_missing",
            "Elija el archivo que quiere adjuntar.",
        ))
    };
    done_or_again(&state, &page, &number, result, "upload", &form.fields).await
}

/// The download behind a link of the timeline.
pub async fn download(
    State(state): State<AppState>,
    page: Page,
    Path((number, id)): Path<(String, String)>,
) -> PageResult {
    page.require(Action::ViewRequests)?;
    let number = parse_number(&number)?;
    let id = id.parse::<i64>().map_err(|_| {
        PageError(AppError::not_found(
            "unknown_attachment",
            format!("La solicitud {number} no tiene el adjunto {id}."),
        ))
    })?;
    Ok(attachment_download(&state, &number, id).await?)
}
