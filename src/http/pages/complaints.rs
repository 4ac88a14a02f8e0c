//! The complaints and suggestions log (bitácora de quejas, L10) for the CAU supervisor and
//! coordinator: the entries with filters, and an entry's page with its history and the next
//! step of its treatment (received → analysed → action taken → closed), through the same
//! `db::complaints` functions as the API.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use ventanilla_domain::permissions::{Action, allows};

use super::admin::{Choice, FormState, Refusal, admit, form_state, path_id, status_of};
use super::i18n::{self, Lang};
use super::{FieldErrors, FormFields, Page, PageError, PageResult, local_time, render, see_other};
use crate::db::{complaints, from_millis, staff};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/complaints", get(list))
        .route("/complaints/{id}", get(show))
        .route("/complaints/{id}/advance", post(advance))
}

fn label(lang: Lang, group: &str, code: &str) -> String {
    match i18n::text(lang, &format!("{group}_{code}")) {
        "" => code.to_string(),
        text => text.to_string(),
    }
}

fn choices(lang: Lang, group: &str, codes: &[&str], selected: Option<&str>) -> Vec<Option_> {
    codes
        .iter()
        .map(|c| Option_ {
            value: (*c).to_string(),
            label: label(lang, group, c),
            selected: selected == Some(*c),
        })
        .collect()
}

#[derive(Serialize)]
struct Option_ {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct Line {
    id: i64,
    kind: String,
    source: String,
    status: String,
    status_code: String,
    description: String,
    /// The description's start, for the list.
    short: String,
    requests: Vec<String>,
    created: String,
}

fn line(lang: Lang, c: complaints::Complaint) -> Line {
    let mut requests: Vec<String> = c.request_number.into_iter().collect();
    requests.extend(c.linked_requests);
    Line {
        id: c.id,
        kind: label(lang, "complaint_kind", &c.kind),
        source: label(lang, "complaint_source", &c.source),
        status: label(lang, "complaint_status", &c.status),
        status_code: c.status,
        short: if c.description.chars().count() > 120 {
            format!("{}…", c.description.chars().take(120).collect::<String>())
        } else {
            c.description.clone()
        },
        description: c.description,
        requests,
        created: local_time(from_millis(c.created_at)),
    }
}

#[derive(Deserialize)]
pub struct Filters {
    status: Option<String>,
    kind: Option<String>,
}

const KINDS: [&str; 3] = ["complaint", "suggestion", "praise"];

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(filters): Query<Filters>,
) -> PageResult {
    page.require(Action::ManageComplaints)?;
    let status = filters.status.as_deref().filter(|s| !s.is_empty());
    let kind = filters.kind.as_deref().filter(|k| !k.is_empty());
    let lines: Vec<Line> = complaints::list(&state.db, status, kind)
        .await?
        .into_iter()
        .map(|c| line(page.lang, c))
        .collect();
    let mut ctx = page.context("title_complaints");
    ctx.insert("entries", minijinja::Value::from_serialize(&lines));
    ctx.insert(
        "statuses",
        minijinja::Value::from_serialize(choices(
            page.lang,
            "complaint_status",
            &complaints::STATUSES,
            status,
        )),
    );
    ctx.insert(
        "kinds",
        minijinja::Value::from_serialize(choices(page.lang, "complaint_kind", &KINDS, kind)),
    );
    Ok(render(StatusCode::OK, "complaints.html", ctx.into()))
}

#[derive(Serialize)]
struct EventLine {
    at: String,
    who: String,
    status: String,
    note: String,
}

async fn entry_page(
    state: &AppState,
    page: &Page,
    id: i64,
    refusal: Option<Refusal>,
) -> PageResult {
    let (complaint, events) = complaints::get(&state.db, id).await?.ok_or_else(|| {
        PageError(AppError::not_found(
            "unknown_complaint",
            format!("No existe la entrada {id} de la bitácora."),
        ))
    })?;
    let people = staff::list(&state.db).await?;
    let name_of = |staff_id: Option<i64>| {
        people
            .iter()
            .find(|p| Some(p.id.0) == staff_id)
            .map(|p| p.full_name.clone())
            .unwrap_or_default()
    };
    let events: Vec<EventLine> = events
        .into_iter()
        .map(|e| EventLine {
            at: local_time(from_millis(e.at)),
            who: name_of(e.staff_id),
            status: label(page.lang, "complaint_status", &e.to_status),
            note: e.note,
        })
        .collect();
    let next = complaints::next_status(&complaint.status);
    let responsible = name_of(complaint.responsible_id);
    let due = complaint.due_at.map(|d| local_time(from_millis(d)));
    // Who can be made responsible: active CAU staff and engineers.
    let candidates: Vec<Choice> = people
        .iter()
        .filter(|p| p.active && allows(p.role, Action::Comment))
        .map(|p| Choice {
            value: p.id.0.to_string(),
            label: format!("{} ({})", p.full_name, i18n::role_label(page.lang, p.role)),
        })
        .collect();
    let advance_form = form_state(
        &refusal,
        "advance",
        FormState::with(&[(
            "responsible_id",
            complaint
                .responsible_id
                .map(|r| r.to_string())
                .unwrap_or_default(),
        )]),
    );
    let mut ctx = page.context("title_complaints");
    ctx.insert(
        "title",
        format!("{} {id}", i18n::text(page.lang, "complaint_entry")).into(),
    );
    ctx.insert(
        "entry",
        minijinja::Value::from_serialize(line(page.lang, complaint)),
    );
    ctx.insert("responsible", responsible.into());
    ctx.insert("due", due.into());
    ctx.insert("events", minijinja::Value::from_serialize(&events));
    ctx.insert(
        "next",
        next.map(|n| (n, label(page.lang, "complaint_status", n)))
            .map(|(code, text)| minijinja::Value::from_serialize([code.to_string(), text]))
            .into(),
    );
    ctx.insert("candidates", minijinja::Value::from_serialize(&candidates));
    ctx.insert("advance", minijinja::Value::from_serialize(&advance_form));
    Ok(render(status_of(&refusal), "complaint.html", ctx.into()))
}

pub async fn show(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> PageResult {
    page.require(Action::ManageComplaints)?;
    entry_page(&state, &page, path_id(&id)?, None).await
}

/// A due date typed as `AAAA-MM-DD`: the end of that business day (20:00, Mexico City).
fn due_at(form: &FormFields, errors: &mut FieldErrors) -> Option<i64> {
    let raw = form.get("due_date").trim();
    if raw.is_empty() {
        return None;
    }
    let parsed = raw
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.at(20, 0, 0, 0).in_tz("America/Mexico_City").ok());
    match parsed {
        Some(zoned) => Some(zoned.timestamp().as_millisecond()),
        None => {
            errors.insert(
                "due_date".into(),
                format!("Escriba la fecha como AAAA-MM-DD (se escribió «{raw}»)."),
            );
            None
        }
    }
}

pub async fn advance(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageComplaints)?;
    let id = path_id(&id)?;
    let mut errors = FieldErrors::new();
    let due = due_at(&form, &mut errors);
    if !errors.is_empty() {
        let refusal = Refusal::fields("advance", &form, errors);
        return entry_page(&state, &page, id, Some(refusal)).await;
    }
    let step = complaints::Advance {
        to: form.get("status"),
        note: form.get("note"),
        responsible_id: form.get("responsible_id").parse().ok(),
        due_at: due,
    };
    match complaints::advance(&state.db, id, step, page.staff.id.0, state.now_ms()).await {
        Ok(()) => Ok(see_other(&format!("/complaints/{id}"))),
        Err(e) => {
            let mut refusal = Refusal::from_error("advance", &form, e)?;
            // The step itself has no visible field: its refusal heads the form.
            if let Some(detail) = refusal.state.errors.remove("status") {
                refusal.state.errors.insert("_form".into(), detail);
            }
            entry_page(&state, &page, id, Some(refusal)).await
        }
    }
}
