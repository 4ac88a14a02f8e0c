//! The monthly report (L11, L12) as JSON, CSV and XLSX.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ventanilla_domain::permissions::Action;

use super::surveys::{institution_zone, parse_month};
use crate::db::reports::{self, MonthlyReport};
use crate::error::AppResult;
use crate::http::extract::{ApiQuery, CurrentStaff};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(monthly))
        .routes(routes!(monthly_csv))
        .routes(routes!(monthly_xlsx))
}

#[derive(Deserialize, IntoParams)]
struct MonthQuery {
    /// AAAA-MM; months begin at midnight in Mexico City.
    month: String,
}

async fn build(state: &AppState, staff: &CurrentStaff, month: &str) -> AppResult<MonthlyReport> {
    staff.require(Action::ViewReports)?;
    let (year, month) = parse_month(month)?;
    reports::monthly(&state.db, &institution_zone()?, year, month).await
}

#[utoipa::path(get, path = "/reports/monthly", tag = "reports", params(MonthQuery),
    responses((status = 200, body = MonthlyReport)))]
async fn monthly(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> AppResult<Json<MonthlyReport>> {
    Ok(Json(build(&state, &staff, &q.month).await?))
}

#[utoipa::path(get, path = "/reports/monthly.csv", tag = "reports", params(MonthQuery),
    responses((status = 200, content_type = "text/csv")))]
async fn monthly_csv(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> AppResult<impl IntoResponse> {
    let report = build(&state, &staff, &q.month).await?;
    let bytes = reports::to_csv(&report)?;
    let disposition = format!("attachment; filename=\"satisfaccion-{}.csv\"", report.month);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    ))
}

#[utoipa::path(get, path = "/reports/monthly.xlsx", tag = "reports", params(MonthQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
async fn monthly_xlsx(
    State(state): State<AppState>,
    staff: CurrentStaff,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> AppResult<impl IntoResponse> {
    let report = build(&state, &staff, &q.month).await?;
    let bytes = reports::to_xlsx(&report)?;
    let disposition = format!(
        "attachment; filename=\"satisfaccion-{}.xlsx\"",
        report.month
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    ))
}
