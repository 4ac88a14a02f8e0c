//! The mail channel's dead letters: messages that could not be parsed or applied, with the reason,
//! and a retry once the cause is fixed; and the mail templates (administrators only).

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::permissions::Action;

use crate::db::mail_templates::{self, TemplateView, Version};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, CurrentStaff};
use crate::mail::inbound::{self, DeadLetter, Outcome};
use crate::mail::templates::Source;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dead_letters))
        .routes(routes!(retry_dead_letter))
        .routes(routes!(list_templates))
        .routes(routes!(get_template, put_template))
        .routes(routes!(preview_template))
        .routes(routes!(reset_template))
        .routes(routes!(template_versions))
}

#[derive(Deserialize, IntoParams)]
struct DeadLetterQuery {
    /// Also list the ones a retry already resolved.
    #[serde(default)]
    include_resolved: bool,
}

#[utoipa::path(get, path = "/mail/dead-letters", tag = "mail", params(DeadLetterQuery),
    responses((status = 200, body = [DeadLetter])))]
async fn list_dead_letters(
    State(state): State<AppState>,
    staff: CurrentStaff,
    Query(query): Query<DeadLetterQuery>,
) -> AppResult<Json<Vec<DeadLetter>>> {
    staff.require(Action::ManageMail)?;
    Ok(Json(
        inbound::dead_letters(&state.db, query.include_resolved).await?,
    ))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct RetryView {
    inbound_id: i64,
    /// request, comment, bounce, loop or dead (still failing).
    outcome: String,
    request_number: Option<String>,
}

impl From<Outcome> for RetryView {
    fn from(o: Outcome) -> Self {
        RetryView {
            inbound_id: o.inbound_id,
            outcome: o.outcome,
            request_number: o.request_number,
        }
    }
}

#[utoipa::path(post, path = "/mail/dead-letters/{id}/retry", tag = "mail",
    responses((status = 200, body = RetryView), (status = 404, description = "no such dead letter")))]
async fn retry_dead_letter(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<RetryView>> {
    staff.require(Action::ManageMail)?;
    let outcome =
        inbound::retry_dead_letter(&state.db, &state.config.mail, id, state.now_ms()).await?;
    Ok(Json(outcome.into()))
}

#[utoipa::path(get, path = "/mail/templates", tag = "mail",
    responses((status = 200, body = [TemplateView]), (status = 403, description = "not an administrator")))]
async fn list_templates(
    State(state): State<AppState>,
    staff: CurrentStaff,
) -> AppResult<Json<Vec<TemplateView>>> {
    staff.require(Action::ManageMail)?;
    Ok(Json(mail_templates::list(&state.db).await?))
}

#[utoipa::path(get, path = "/mail/templates/{key}", tag = "mail",
    responses((status = 200, body = TemplateView), (status = 404, description = "no such template")))]
async fn get_template(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(key): ApiPath<String>,
) -> AppResult<Json<TemplateView>> {
    staff.require(Action::ManageMail)?;
    Ok(Json(mail_templates::get(&state.db, &key).await?))
}

/// Saves a template; 422 naming the field (`subject`, `body_text`, `body_html`) on a syntax error
/// or an unknown variable.
#[utoipa::path(put, path = "/mail/templates/{key}", tag = "mail", request_body = Source,
    responses((status = 200, body = TemplateView), (status = 422, description = "invalid template")))]
async fn put_template(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(key): ApiPath<String>,
    ApiJson(source): ApiJson<Source>,
) -> AppResult<Json<TemplateView>> {
    staff.require(Action::ManageMail)?;
    Ok(Json(
        mail_templates::put(&state.db, &key, &source, staff.0.id.0, state.now_ms()).await?,
    ))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct PreviewView {
    subject: String,
    body_text: String,
    body_html: String,
}

/// Renders a template as typed (not saved) with sample data.
#[utoipa::path(post, path = "/mail/templates/{key}/preview", tag = "mail", request_body = Source,
    responses((status = 200, body = PreviewView), (status = 422, description = "invalid template")))]
async fn preview_template(
    staff: CurrentStaff,
    ApiPath(key): ApiPath<String>,
    ApiJson(source): ApiJson<Source>,
) -> AppResult<Json<PreviewView>> {
    staff.require(Action::ManageMail)?;
    let r = mail_templates::preview(&key, &source)?;
    Ok(Json(PreviewView {
        subject: r.subject,
        body_text: r.text,
        body_html: r.html,
    }))
}

#[utoipa::path(post, path = "/mail/templates/{key}/reset", tag = "mail",
    responses((status = 200, body = TemplateView)))]
async fn reset_template(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(key): ApiPath<String>,
) -> AppResult<Json<TemplateView>> {
    staff.require(Action::ManageMail)?;
    Ok(Json(
        mail_templates::reset(&state.db, &key, staff.0.id.0, state.now_ms()).await?,
    ))
}

#[utoipa::path(get, path = "/mail/templates/{key}/versions", tag = "mail",
    responses((status = 200, body = [Version])))]
async fn template_versions(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(key): ApiPath<String>,
) -> AppResult<Json<Vec<Version>>> {
    staff.require(Action::ManageMail)?;
    Ok(Json(mail_templates::versions(&state.db, &key).await?))
}
