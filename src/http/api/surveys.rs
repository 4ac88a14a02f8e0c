//! The requester's side of the quality survey (L9), reached by the signed link of the invitation
//! without signing in; and the monthly satisfaction indices (L12) for CAU's supervisors.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::lifecycle::Status;
use ventanilla_domain::permissions::Action;
use ventanilla_domain::survey::{Answer, Item, SCALE_ES};

use crate::db::surveys::{self, GroupBy, GroupIndices, SurveyView};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentStaff};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_survey, answer_survey))
        .routes(routes!(satisfaction))
}

#[derive(Serialize, ToSchema)]
struct SurveyPage {
    #[serde(flatten)]
    survey: SurveyView,
    /// The items to rate, in order: code and Spanish label.
    items: Vec<(String, String)>,
    /// Labels of the 1–5 scale.
    scale: Vec<String>,
}

/// What the survey link shows: its state (open, answered, expired, withdrawn) and the questions.
#[utoipa::path(get, path = "/surveys/{token}", tag = "surveys", security(()),
    responses((status = 200, body = SurveyPage), (status = 404, description = "invalid link")))]
async fn get_survey(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> AppResult<Json<SurveyPage>> {
    let survey = surveys::view(&state.db, &token, state.now_ms()).await?;
    Ok(Json(SurveyPage {
        survey,
        items: Item::ALL
            .iter()
            .map(|i| (i.code().to_string(), i.label_es().to_string()))
            .collect(),
        scale: SCALE_ES.iter().map(|s| s.to_string()).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct SurveyAnswerInput {
    /// ¿Se resolvió su solicitud?
    pub solved: Option<bool>,
    /// 1–5 for each item code: timeliness, courtesy, competence, solution_quality, communication, overall.
    #[serde(default)]
    pub ratings: std::collections::HashMap<String, u8>,
    #[serde(default)]
    pub comment: String,
}

impl SurveyAnswerInput {
    pub fn parse(&self) -> AppResult<Answer> {
        let ratings = Item::ALL.map(|item| self.ratings.get(item.code()).copied());
        Answer::parse(self.solved, ratings, &self.comment)
            .map_err(|e| AppError::invalid(e.field(), e.code(), e.to_string()))
    }
}

#[derive(Serialize, ToSchema)]
struct SurveyAnswered {
    #[schema(value_type = String)]
    status: Status,
}

/// "Sí" closes the request; "No" reopens it with the requester's words. A used, expired or
/// withdrawn link answers 409 and changes nothing.
#[utoipa::path(post, path = "/surveys/{token}", tag = "surveys", security(()), request_body = SurveyAnswerInput,
    responses((status = 200, body = SurveyAnswered), (status = 404), (status = 409), (status = 422)))]
async fn answer_survey(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(input): ApiJson<SurveyAnswerInput>,
) -> AppResult<Json<SurveyAnswered>> {
    let answer = input.parse()?;
    let status = surveys::answer(&state.db, &token, &answer, state.now_ms()).await?;
    Ok(Json(SurveyAnswered { status }))
}

/// `AAAA-MM` → (year, month).
pub fn parse_month(raw: &str) -> AppResult<(i16, i8)> {
    let bad_month = || {
        AppError::invalid(
            "month",
            "month_format",
            "El mes debe tener la forma AAAA-MM, por ejemplo 2026-03.",
        )
    };
    let (year, month) = raw.trim().split_once('-').ok_or_else(bad_month)?;
    let year: i16 = year.parse().map_err(|_| bad_month())?;
    let month: i8 = month.parse().map_err(|_| bad_month())?;
    if !(1..=12).contains(&month) || !(2000..=2100).contains(&year) {
        return Err(bad_month());
    }
    Ok((year, month))
}

/// The institution's zone, where months begin at local midnight.
pub fn institution_zone() -> AppResult<jiff::tz::TimeZone> {
    Ok(jiff::tz::TimeZone::get("America/Mexico_City").map_err(anyhow::Error::from)?)
}

#[derive(Deserialize, IntoParams)]
struct SatisfactionQuery {
    /// AAAA-MM; the month of the answer date in Mexico City time.
    month: String,
    /// month (default), area, service, channel or unit.
    group: Option<String>,
}

/// L12: CSAT %, mean per item, response rate; groups under 30 answers are flagged `low_sample`.
#[utoipa::path(get, path = "/reports/satisfaction", tag = "reports", params(SatisfactionQuery),
    responses((status = 200, body = [GroupIndices])))]
async fn satisfaction(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(query): ApiQuery<SatisfactionQuery>,
) -> AppResult<Json<Vec<GroupIndices>>> {
    staff.require(Action::ViewReports)?;
    let bad_month = || {
        AppError::invalid(
            "month",
            "month_format",
            "El mes debe tener la forma AAAA-MM, por ejemplo 2026-03.",
        )
    };
    let (year, month) = query.month.split_once('-').ok_or_else(bad_month)?;
    let year: i16 = year.parse().map_err(|_| bad_month())?;
    let month: i8 = month.parse().map_err(|_| bad_month())?;
    if !(1..=12).contains(&month) || !(2000..=2100).contains(&year) {
        return Err(bad_month());
    }
    let group_by = match query.group.as_deref() {
        None => GroupBy::Month,
        Some(code) => GroupBy::from_code(code).ok_or_else(|| {
            AppError::invalid(
                "group",
                "group_unknown",
                "group debe ser month, area, service, channel o unit.",
            )
        })?,
    };
    let zone = jiff::tz::TimeZone::get("America/Mexico_City").map_err(anyhow::Error::from)?;
    Ok(Json(
        surveys::monthly(&state.db, &zone, year, month, group_by).await?,
    ))
}
