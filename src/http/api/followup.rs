//! Anomaly follow-up (L13) and escalation (A19). Expediting is the `reopen` step.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::permissions::Action;
use ventanilla_domain::survey::month_bounds;

use super::surveys::{institution_zone, parse_month};
use crate::db::followup::{self, AnomalousRequest};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentStaff, parse_number};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(anomalies))
        .routes(routes!(escalate))
}

#[derive(Deserialize, IntoParams)]
struct MonthQuery {
    /// AAAA-MM, in Mexico City time.
    month: String,
}

/// The month's closed or cancelled requests that need follow-up, with the reasons.
#[utoipa::path(get, path = "/anomalies", tag = "follow-up", params(MonthQuery),
    responses((status = 200, body = [AnomalousRequest])))]
async fn anomalies(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(query): ApiQuery<MonthQuery>,
) -> AppResult<Json<Vec<AnomalousRequest>>> {
    staff.require(Action::ManageComplaints)?;
    let (year, month) = parse_month(&query.month)?;
    let (start, end) = month_bounds(year, month, &institution_zone()?)
        .ok_or_else(|| AppError::invalid("month", "month_format", "Mes fuera de rango."))?;
    Ok(Json(
        followup::anomaly_queue(&state.db, start.as_millisecond(), end.as_millisecond()).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
struct EscalateInput {
    /// What happened and what is needed: recorded on the timeline and mailed.
    circumstances: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Escalated {
    /// How many people were told (the area's mailbox, CAU's supervisors and coordinators).
    pub(crate) notified: usize,
    pub(crate) warning: Option<String>,
}

#[utoipa::path(post, path = "/requests/{number}/escalate", tag = "follow-up", request_body = EscalateInput,
    responses((status = 200, body = Escalated), (status = 404), (status = 422)))]
async fn escalate(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiPath(number): ApiPath<String>,
    ApiJson(input): ApiJson<EscalateInput>,
) -> AppResult<Json<Escalated>> {
    staff.require(Action::Escalate)?;
    let number = parse_number(&number)?;
    Ok(Json(
        escalate_request(&state, &number, &input.circumstances, staff.actor()).await?,
    ))
}

/// A19 with its circumstances checked; the API and the request page escalate through here.
pub(crate) async fn escalate_request(
    state: &AppState,
    number: &str,
    circumstances: &str,
    actor: ventanilla_domain::lifecycle::Actor,
) -> AppResult<Escalated> {
    let circumstances = circumstances.trim();
    if circumstances.chars().count() < 10 {
        return Err(AppError::invalid(
            "circumstances",
            "circumstances_required",
            "Describa las circunstancias (al menos 10 caracteres): qué pasó y qué se necesita del área.",
        ));
    }
    let domain = state.config.survey.message_id_domain.clone();
    let notified = followup::escalate(
        &state.db,
        number,
        circumstances,
        actor,
        &domain,
        state.now_ms(),
    )
    .await?;
    let warning = (notified == 0).then(|| {
        "Quedó registrado, pero ni el área ni los supervisores tienen correo: registre sus correos para que reciban el aviso.".to_string()
    });
    Ok(Escalated { notified, warning })
}
