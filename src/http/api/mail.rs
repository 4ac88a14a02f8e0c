//! The mail channel's dead letters: messages that could not be parsed or applied, with the reason,
//! and a retry once the cause is fixed (administrators).

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::permissions::Action;

use crate::error::AppResult;
use crate::http::extract::{ApiPath, CurrentStaff};
use crate::mail::inbound::{self, DeadLetter, Outcome};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dead_letters))
        .routes(routes!(retry_dead_letter))
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
