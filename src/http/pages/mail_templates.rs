//! The administrator's editor of the mail templates: the list of kinds, and for each its subject,
//! plain text and HTML with the variables it may use, a preview with sample data, the earlier
//! versions and a reset to the default. A template that does not validate is shown again as
//! typed, with the Spanish error beside the field.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::json;
use ventanilla_domain::permissions::Action;

use super::{FieldErrors, FormFields, Page, PageResult, local_time, render, see_other};
use crate::db::mail_templates::{self, TemplateView};
use crate::mail::templates::{self, Rendered, Source};
use crate::state::AppState;

/// The page templates of this module, registered with the others in `pages::TEMPLATES`.
pub const TEMPLATES: [(&str, &str); 2] = [
    (
        "admin_mail_list.html",
        include_str!("templates/admin_mail_list.html"),
    ),
    (
        "admin_mail_edit.html",
        include_str!("templates/admin_mail_edit.html"),
    ),
];

fn when(ms: Option<i64>) -> String {
    ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map(local_time)
        .unwrap_or_default()
}

pub async fn list(State(state): State<AppState>, page: Page) -> PageResult {
    page.require(Action::ManageMail)?;
    let rows: Vec<serde_json::Value> = mail_templates::list(&state.db)
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "key": t.key, "label": t.label, "customized": t.customized,
                "updated_by": t.updated_by, "updated_at": when(t.updated_at),
            })
        })
        .collect();
    let mut ctx = page.context("mail_templates_title");
    ctx.insert("templates", minijinja::Value::from_serialize(&rows));
    Ok(render(
        StatusCode::OK,
        "admin_mail_list.html",
        minijinja::Value::from(ctx),
    ))
}

fn preview_view(r: &Rendered) -> serde_json::Value {
    json!({ "subject": r.subject, "text": r.text, "html": r.html })
}

/// The edit page: `typed` is what the form sent (shown again), `errors` beside its fields.
async fn edit_page(
    state: &AppState,
    page: &Page,
    current: &TemplateView,
    typed: &Source,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> PageResult {
    let kind = mail_templates::kind_of(&current.key)?;
    let preview = if errors.is_empty() {
        templates::render(kind, typed, &(kind.sample)())
            .ok()
            .map(|r| preview_view(&r))
    } else {
        None
    };
    let versions: Vec<serde_json::Value> = mail_templates::versions(&state.db, &current.key)
        .await?
        .into_iter()
        .map(|v| {
            json!({
                "version": v.version, "action": v.action, "changed_by": v.changed_by,
                "changed_at": when(Some(v.changed_at)), "subject": v.subject,
            })
        })
        .collect();
    let mut ctx = page.context("mail_templates_title");
    ctx.insert("t", minijinja::Value::from_serialize(current));
    ctx.insert("v", minijinja::Value::from_serialize(typed));
    ctx.insert("errors", minijinja::Value::from_serialize(errors));
    ctx.insert("preview", minijinja::Value::from_serialize(&preview));
    ctx.insert("versions", minijinja::Value::from_serialize(&versions));
    ctx.insert("notice", minijinja::Value::from_serialize(notice));
    ctx.insert("updated_at", when(current.updated_at).into());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        status,
        "admin_mail_edit.html",
        minijinja::Value::from(ctx),
    ))
}

#[derive(serde::Deserialize)]
pub struct Notice {
    saved: Option<String>,
    reset: Option<String>,
}

/// The edit page; after a save or a reset (303 from `submit`) with its notice.
pub async fn edit(
    State(state): State<AppState>,
    page: Page,
    Path(key): Path<String>,
    Query(notice): Query<Notice>,
) -> PageResult {
    page.require(Action::ManageMail)?;
    let current = mail_templates::get(&state.db, &key).await?;
    let typed = current.source.clone();
    let text = match (notice.saved, notice.reset) {
        (Some(_), _) => Some("mail_templates_saved"),
        (_, Some(_)) => Some("mail_templates_was_reset"),
        _ => None,
    };
    edit_page(&state, &page, &current, &typed, &FieldErrors::new(), text).await
}

/// One form, three buttons: `save`, `preview` (render what was typed, keep it in the form) and
/// `reset` (back to the default).
pub async fn submit(
    State(state): State<AppState>,
    page: Page,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    page.require(Action::ManageMail)?;
    page.check_csrf(&headers, &form)?;
    let kind = mail_templates::kind_of(&key)?;
    let target = format!("/admin/mail/templates/{key}");
    match form.get("action") {
        "reset" => {
            mail_templates::reset(&state.db, &key, page.staff.id.0, state.now_ms()).await?;
            return Ok(see_other(&format!("{target}?reset=1")));
        }
        "save" | "preview" => {}
        _ => return Ok(see_other(&target)),
    }
    let typed = Source {
        subject: form.get("subject").to_string(),
        body_text: form.get("body_text").replace("\r\n", "\n"),
        body_html: form.get("body_html").replace("\r\n", "\n"),
    };
    let mut errors = FieldErrors::new();
    for e in templates::validate(kind, &typed) {
        errors.entry(e.field.to_string()).or_insert(e.detail);
    }
    if errors.is_empty() && form.get("action") == "save" {
        mail_templates::put(&state.db, &key, &typed, page.staff.id.0, state.now_ms()).await?;
        return Ok(see_other(&format!("{target}?saved=1")));
    }
    let current = mail_templates::get(&state.db, &key).await?;
    edit_page(&state, &page, &current, &typed, &errors, None).await
}
