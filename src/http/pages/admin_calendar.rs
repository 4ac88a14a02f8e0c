//! The administrator's calendar page (L3, L4): weekly hours, the dated exceptions (law days,
//! institutional days, vacations, special hours) with add and remove, iCalendar import (a .ics
//! file chosen, or its text pasted) and export. Every change goes through `db::service_levels::save_and_recompute`, as the
//! API's does, so the open requests' deadlines are recomputed at once.
//!
//! The calendar's rules (overlaps, an end before its start, a week without hours…) are the
//! domain's `Calendar::new`; its error names a path such as `weekly.monday[1]` or
//! `exceptions[40]`, which is turned here into the form field it concerns.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::civil::{Date, Weekday};
use serde::Serialize;
use ventanilla_domain::calendar::{
    Calendar, CalendarError, CalendarSpec, DatedException, ExceptionKind, OpenInterval,
    exceptions_from_ics,
};
use ventanilla_domain::permissions::Action;

use super::admin::{Choice, FormState, Notice, Refusal, admit, finish, form_state};
use super::i18n::{self, Lang};
use super::upload::MultipartForm;
use super::{FieldErrors, FormFields, Page, PageError, PageResult, see_other};
use crate::db::service_levels as sl;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar", get(show))
        .route("/admin/calendar/weekly", post(save_weekly))
        .route("/admin/calendar/exceptions", post(add_exception))
        .route("/admin/calendar/exceptions/delete", post(remove_exception))
        .route("/admin/calendar/ics", post(import_ics))
        .route("/admin/calendar.ics", get(export_ics))
}

const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Monday, "monday"),
    (Weekday::Tuesday, "tuesday"),
    (Weekday::Wednesday, "wednesday"),
    (Weekday::Thursday, "thursday"),
    (Weekday::Friday, "friday"),
    (Weekday::Saturday, "saturday"),
    (Weekday::Sunday, "sunday"),
];

const KINDS: [&str; 5] = [
    "law_holiday",
    "institutional",
    "vacation",
    "optional",
    "special_hours",
];

fn intervals_text(intervals: &[OpenInterval]) -> String {
    intervals
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `08:00-14:00, 15:00-20:00` (hyphen or en dash; empty = closed).
fn parse_intervals(text: &str, label: &str) -> Result<Vec<OpenInterval>, String> {
    let mut out = Vec::new();
    for piece in text
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((start, end)) = piece.split_once(['-', '–']) else {
            return Err(format!(
                "«{piece}» no es un intervalo: escriba cada uno como 08:00-20:00 y sepárelos con comas."
            ));
        };
        let interval = OpenInterval::parse(start.trim(), end.trim()).map_err(|e| match e {
            CalendarError::InvalidTime { value, .. } => CalendarError::InvalidTime {
                field: label.to_string(),
                value,
            }
            .to_string(),
            other => other.to_string(),
        })?;
        out.push(interval);
    }
    Ok(out)
}

#[derive(Serialize)]
struct DayField {
    name: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
struct ExceptionRow {
    index: usize,
    start: String,
    end: String,
    kind: &'static str,
    name: String,
    hours: String,
}

fn kind_label(lang: Lang, code: &str) -> &'static str {
    i18n::text(lang, &format!("exc_{code}"))
}

async fn page_for(
    state: &AppState,
    page: &Page,
    refusal: Option<Refusal>,
    notice: Notice,
) -> PageResult {
    let calendar = sl::load_calendar(state.db.read(), state.now_ms()).await?;
    let lang = page.lang;
    let days: Vec<DayField> = DAYS
        .iter()
        .map(|(_, name)| DayField {
            name,
            label: i18n::text(lang, &format!("day_{name}")),
        })
        .collect();
    let mut weekly_values = vec![("zone", calendar.zone_name().to_string())];
    for (weekday, name) in DAYS {
        weekly_values.push((name, intervals_text(calendar.weekly().day(weekday))));
    }
    let weekly = form_state(&refusal, "weekly", FormState::with(&weekly_values));
    let mut rows: Vec<ExceptionRow> = calendar
        .exceptions()
        .iter()
        .enumerate()
        .map(|(index, e)| ExceptionRow {
            index,
            start: e.start.to_string(),
            end: e.end.to_string(),
            kind: kind_label(lang, e.kind.code()),
            name: e.name.clone(),
            hours: match &e.kind {
                ExceptionKind::SpecialHours(hours) => intervals_text(hours),
                _ => String::new(),
            },
        })
        .collect();
    rows.sort_by(|a, b| (&a.start, &a.name).cmp(&(&b.start, &b.name)));
    let kinds: Vec<Choice> = KINDS
        .iter()
        .map(|k| Choice {
            value: (*k).to_string(),
            label: kind_label(lang, k).to_string(),
        })
        .collect();
    let mut ctx = page.context("title_admin_calendar");
    ctx.insert("days", minijinja::Value::from_serialize(&days));
    ctx.insert("weekly", minijinja::Value::from_serialize(&weekly));
    ctx.insert("exceptions", minijinja::Value::from_serialize(&rows));
    ctx.insert("kinds", minijinja::Value::from_serialize(&kinds));
    ctx.insert(
        "add",
        minijinja::Value::from_serialize(form_state(
            &refusal,
            "add",
            FormState::with(&[("kind", "law_holiday".into())]),
        )),
    );
    ctx.insert(
        "ics",
        minijinja::Value::from_serialize(form_state(&refusal, "ics", FormState::default())),
    );
    ctx.insert(
        "remove_error",
        refusal
            .as_ref()
            .filter(|r| r.form == "remove")
            .and_then(|r| r.state.errors.get("_form").cloned())
            .into(),
    );
    finish(ctx, page, &notice, &refusal, "admin_calendar.html")
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Query(notice): Query<Notice>,
) -> PageResult {
    page.require(Action::ManageCalendar)?;
    page_for(&state, &page, None, notice).await
}

/// Where a calendar error belongs on form `form`: `(field, Spanish detail)`. The path in the
/// domain's message (`weekly.monday[0]`, `exceptions[40]`) is replaced by words the
/// administrator knows: the day's name, the exception's name.
fn place_error(lang: Lang, form: &str, e: &CalendarError, new_name: &str) -> (String, String) {
    let path = e.field().to_string();
    let mut detail = e.to_string();
    let field = match form {
        "weekly" => {
            let day = path
                .strip_prefix("weekly.")
                .map(|rest| rest.split(['[', '.']).next().unwrap_or(rest).to_string());
            match day {
                Some(day) => {
                    let label = i18n::text(lang, &format!("day_{day}"));
                    let shown = path.split('.').take(2).collect::<Vec<_>>().join(".");
                    detail = detail.replace(&path, label).replace(&shown, label);
                    day
                }
                None if path == "zone" => "zone".into(),
                None => "_form".into(),
            }
        }
        "add" => {
            let item = path.split('.').next().unwrap_or(&path).to_string();
            detail = detail.replace(&item, &format!("«{new_name}»"));
            match e.code() {
                "exception_range_invalid" | "exception_too_long" => "end".into(),
                "exception_name_empty" => "name".into(),
                "conflicting_special_hours" => "start".into(),
                _ => "hours".into(),
            }
        }
        _ => "ics".into(),
    };
    (field, detail)
}

/// Saves the calendar and goes back to the page, or shows the form's error beside its field.
async fn save(
    state: &AppState,
    page: &Page,
    form_name: &str,
    form: &FormFields,
    spec: CalendarSpec,
    new_name: &str,
) -> PageResult {
    if let Err(e) = Calendar::new(spec.clone()) {
        let (mut field, detail) = place_error(page.lang, form_name, &e, new_name);
        if field == "ics" && form.get("ics").trim().is_empty() {
            // The events came from a file chosen, not from the box.
            field = "ics_file".into();
        }
        let errors = FieldErrors::from([(field, detail)]);
        return page_for(
            state,
            page,
            Some(Refusal::fields(form_name, form, errors)),
            Notice::default(),
        )
        .await;
    }
    match sl::save_and_recompute(&state.db, spec, Some(page.staff.id.0), state.now_ms()).await {
        Ok(saved) => Ok(see_other(&format!(
            "/admin/calendar?done=calendar_saved&n={}",
            saved.recomputed
        ))),
        Err(e) => {
            let refusal = Refusal::from_error(form_name, form, e)?;
            page_for(state, page, Some(refusal), Notice::default()).await
        }
    }
}

async fn current_spec(state: &AppState) -> Result<CalendarSpec, PageError> {
    Ok(sl::load_calendar(state.db.read(), state.now_ms())
        .await?
        .to_spec())
}

pub async fn save_weekly(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCalendar)?;
    let mut spec = current_spec(&state).await?;
    let mut errors = FieldErrors::new();
    for (weekday, name) in DAYS {
        let label = i18n::text(page.lang, &format!("day_{name}"));
        match parse_intervals(form.get(name), label) {
            Ok(intervals) => *spec.weekly.day_mut(weekday) = intervals,
            Err(detail) => {
                errors.insert(name.to_string(), detail);
            }
        }
    }
    spec.zone = form.get("zone").trim().to_string();
    if !errors.is_empty() {
        let refusal = Refusal::fields("weekly", &form, errors);
        return page_for(&state, &page, Some(refusal), Notice::default()).await;
    }
    save(&state, &page, "weekly", &form, spec, "").await
}

fn parse_date(form: &FormFields, field: &str, errors: &mut FieldErrors) -> Option<Date> {
    let raw = form.get(field).trim();
    match raw.parse::<Date>() {
        Ok(date) => Some(date),
        Err(_) => {
            errors.insert(
                field.to_string(),
                format!("Escriba la fecha como AAAA-MM-DD, por ejemplo 2026-09-16 (se escribió «{raw}»)."),
            );
            None
        }
    }
}

/// The exception the add form describes, or its errors by field.
fn parse_exception(lang: Lang, form: &FormFields) -> Result<DatedException, FieldErrors> {
    let mut errors = FieldErrors::new();
    let start = parse_date(form, "start", &mut errors);
    let end = if form.get("end").trim().is_empty() {
        start
    } else {
        parse_date(form, "end", &mut errors)
    };
    let hours_text = form.get("hours").trim();
    let kind = match form.get("kind") {
        "law_holiday" => Some(ExceptionKind::LawHoliday),
        "institutional" => Some(ExceptionKind::Institutional),
        "vacation" => Some(ExceptionKind::Vacation),
        "optional" => Some(ExceptionKind::Optional),
        "special_hours" if hours_text.is_empty() => {
            errors.insert(
                "hours".into(),
                "Indique el horario especial, por ejemplo 08:00-14:00.".into(),
            );
            None
        }
        "special_hours" => match parse_intervals(hours_text, i18n::text(lang, "exc_hours")) {
            Ok(hours) => Some(ExceptionKind::SpecialHours(hours)),
            Err(detail) => {
                errors.insert("hours".into(), detail);
                None
            }
        },
        _ => {
            errors.insert("kind".into(), "Elija el tipo de excepción.".into());
            None
        }
    };
    if kind
        .as_ref()
        .is_some_and(|k| !matches!(k, ExceptionKind::SpecialHours(_)))
        && !hours_text.is_empty()
    {
        errors.insert(
            "hours".into(),
            "Solo las excepciones de horario especial llevan horario; deje este campo vacío."
                .into(),
        );
    }
    match (start, end, kind) {
        (Some(start), Some(end), Some(kind)) if errors.is_empty() => Ok(DatedException::range(
            start,
            end,
            kind,
            form.get("name").trim(),
        )),
        _ => Err(errors),
    }
}

pub async fn add_exception(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCalendar)?;
    let exception = match parse_exception(page.lang, &form) {
        Ok(exception) => exception,
        Err(errors) => {
            let refusal = Refusal::fields("add", &form, errors);
            return page_for(&state, &page, Some(refusal), Notice::default()).await;
        }
    };
    let name = exception.name.clone();
    let mut spec = current_spec(&state).await?;
    spec.exceptions.push(exception);
    save(&state, &page, "add", &form, spec, &name).await
}

/// Removes one exception. The form carries its position and what it showed (date and name), so
/// a calendar changed meanwhile is not edited blindly.
pub async fn remove_exception(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    admit(&page, &headers, &form, Action::ManageCalendar)?;
    let mut spec = current_spec(&state).await?;
    let index = form.get("index").parse::<usize>().ok();
    let matches = index
        .and_then(|i| spec.exceptions.get(i))
        .is_some_and(|e| e.start.to_string() == form.get("start") && e.name == form.get("name"));
    match index {
        Some(i) if matches => {
            spec.exceptions.remove(i);
            save(&state, &page, "remove", &form, spec, "").await
        }
        _ => {
            let errors = FieldErrors::from([(
                "_form".to_string(),
                "El calendario cambió mientras tanto: revise la lista y vuelva a intentarlo."
                    .to_string(),
            )]);
            let mut refusal = Refusal::fields("remove", &form, errors);
            refusal.status = StatusCode::CONFLICT;
            page_for(&state, &page, Some(refusal), Notice::default()).await
        }
    }
}

/// Where the iCalendar text to import came from.
enum IcsSource {
    /// Chosen as a file (input `ics_file`), with its name.
    File(String),
    /// Pasted in the box (`ics`).
    Pasted,
}

/// A refusal of the import: the field it concerns and the Spanish reason.
type IcsRefusal = (String, String);

/// The iCalendar text to import: the file chosen or the text pasted, or the Spanish reason
/// beside the field it concerns.
fn ics_text(upload: MultipartForm) -> (FormFields, Result<(String, IcsSource), IcsRefusal>) {
    let MultipartForm {
        fields,
        mut files,
        errors,
    } = upload;
    let refused = |field: &str, detail: String| Err((field.to_string(), detail));
    if let Some(detail) = errors.get("ics_file").or(errors.get("_form")) {
        return (fields, refused("ics_file", detail.clone()));
    }
    let pasted = fields.get("ics").trim().to_string();
    let file = files
        .iter()
        .position(|(name, _)| name == "ics_file")
        .map(|at| files.swap_remove(at).1);
    let text = match (file, pasted.is_empty()) {
        (Some(_), false) => refused(
            "ics_file",
            "Elija un archivo .ics o pegue su contenido, no los dos.".into(),
        ),
        (Some(file), true) => match String::from_utf8(file.content) {
            Ok(text) => Ok((text, IcsSource::File(file.filename))),
            Err(_) => refused(
                "ics_file",
                format!(
                    "«{}» no es un archivo iCalendar (.ics): no es texto.",
                    file.filename
                ),
            ),
        },
        (None, true) => refused(
            "ics",
            "Pegue el contenido de un archivo .ics (BEGIN:VCALENDAR …) o elija el archivo.".into(),
        ),
        (None, false) => Ok((pasted, IcsSource::Pasted)),
    };
    (fields, text)
}

/// Adds the events of an iCalendar file (chosen or pasted) as exceptions.
pub async fn import_ics(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    upload: MultipartForm,
) -> PageResult {
    let (form, text) = ics_text(upload);
    admit(&page, &headers, &form, Action::ManageCalendar)?;
    let parsed = text.and_then(|(text, source)| {
        exceptions_from_ics(&text).map_err(|e| match source {
            IcsSource::File(name) => (
                "ics_file".to_string(),
                format!("«{name}» no es un archivo iCalendar válido: {e}."),
            ),
            IcsSource::Pasted => ("ics".to_string(), e.to_string()),
        })
    });
    match parsed {
        Ok(exceptions) => {
            let mut spec = current_spec(&state).await?;
            spec.exceptions.extend(exceptions);
            save(&state, &page, "ics", &form, spec, "").await
        }
        Err((field, detail)) => {
            let errors = FieldErrors::from([(field, detail)]);
            let refusal = Refusal::fields("ics", &form, errors);
            page_for(&state, &page, Some(refusal), Notice::default()).await
        }
    }
}

/// The calendar's exceptions as an iCalendar file, the same text as `GET /api/v1/calendar/ics`.
pub async fn export_ics(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    page.require(Action::ViewRequests)?;
    let calendar = sl::load_calendar(state.db.read(), state.now_ms())
        .await
        .map_err(PageError::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"calendario.ics\"",
            ),
        ],
        calendar.to_ics(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_read_with_hyphens_or_dashes_and_commas_l3() {
        let read = parse_intervals("08:00-14:00, 15:00–20:00", "lunes").unwrap();
        assert_eq!(intervals_text(&read), "08:00–14:00, 15:00–20:00");
        assert!(parse_intervals("", "lunes").unwrap().is_empty());
        let bad = parse_intervals("8 a 14", "lunes").unwrap_err();
        assert!(bad.contains("08:00-20:00"), "{bad}");
        let bad = parse_intervals("08:00-25:00", "lunes").unwrap_err();
        assert!(bad.contains("lunes") && bad.contains("25:00"), "{bad}");
    }

    #[test]
    fn a_weekly_error_names_the_day_not_the_json_path() {
        let e = CalendarError::OverlappingIntervals {
            field: "weekly.monday".into(),
            first: "08:00–14:00".into(),
            second: "13:00–20:00".into(),
        };
        let (field, detail) = place_error(Lang::Es, "weekly", &e, "");
        assert_eq!(field, "monday");
        assert!(
            detail.contains("lunes") && !detail.contains("weekly"),
            "{detail}"
        );
    }

    #[test]
    fn an_exception_error_goes_beside_its_field_with_its_name() {
        let e = CalendarError::ExceptionRangeInvalid {
            field: "exceptions[40]".into(),
            start: jiff::civil::date(2026, 5, 10),
            end: jiff::civil::date(2026, 5, 1),
        };
        let (field, detail) = place_error(Lang::Es, "add", &e, "Puente");
        assert_eq!(field, "end");
        assert!(
            detail.contains("«Puente»") && !detail.contains("exceptions["),
            "{detail}"
        );
    }
}
