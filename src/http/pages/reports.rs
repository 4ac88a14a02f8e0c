//! The monthly satisfaction page (L11, L12): the month's indices, a six-month CSAT chart drawn as
//! plain SVG, the table by area, and the CSV and XLSX downloads.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::ToSpan;
use serde::Deserialize;
use serde_json::json;
use ventanilla_domain::permissions::Action;
use ventanilla_domain::survey::Indices;

use super::{Page, PageError, render};
use crate::db::reports::{self, MonthlyReport};
use crate::http::api::surveys::{institution_zone, parse_month};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

fn percent(value: Option<f64>) -> String {
    value
        .map(|v| format!("{v:.1} %"))
        .unwrap_or_else(|| "—".into())
}

fn row(group: &str, i: &Indices) -> serde_json::Value {
    json!({
        "group": group, "csat": percent(i.csat_percent), "answers": i.answers, "sent": i.sent,
        "response_rate": percent(i.response_rate_percent), "low_sample": i.low_sample,
    })
}

/// The month asked for, or the current one in Mexico City.
fn month_of(state: &AppState, query: &MonthQuery) -> Result<(i16, i8), PageError> {
    match query.month.as_deref().filter(|m| !m.is_empty()) {
        Some(raw) => Ok(parse_month(raw)?),
        None => {
            let today = state.today();
            Ok((today.year(), today.month()))
        }
    }
}

async fn report(state: &AppState, year: i16, month: i8) -> Result<MonthlyReport, PageError> {
    Ok(reports::monthly(&state.db, &institution_zone()?, year, month).await?)
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<MonthQuery>,
) -> Result<Response, PageError> {
    page.require(Action::ViewReports)?;
    let (year, month) = month_of(&state, &query)?;
    let current = report(&state, year, month).await?;
    // Six bars, oldest first, heights proportional to CSAT (0–100 %).
    let (width, height, base, bar_width) = (640, 240, 200, 70);
    let first = jiff::civil::date(year, month, 1);
    let mut bars = Vec::new();
    for back in (0..6).rev() {
        let date = first
            .checked_sub((back as i64).months())
            .map_err(|e| crate::error::AppError::from(anyhow::Error::from(e)))?;
        let r = report(&state, date.year(), date.month()).await?;
        let csat = r.overall.indices.csat_percent;
        let h = csat
            .map(|c| (c * 160.0 / 100.0).round() as i64)
            .unwrap_or(0);
        let x = 50 + (5 - back) * 98;
        bars.push(json!({
            "month": format!("{:04}-{:02}", date.year(), date.month()),
            "label": csat.map(|c| format!("{c:.0} %")).unwrap_or_else(|| "—".into()),
            "x": x, "y": base - h, "h": h,
        }));
    }
    let mut ctx = page.context("reports_title");
    ctx.insert("month", format!("{year:04}-{month:02}").into());
    ctx.insert(
        "overall",
        minijinja::Value::from_serialize(row(&current.month, &current.overall.indices)),
    );
    ctx.insert("reopen_rate", percent(current.reopen_rate_percent).into());
    ctx.insert(
        "sla_compliance",
        percent(current.sla_compliance_percent).into(),
    );
    ctx.insert(
        "by_area",
        minijinja::Value::from_serialize(
            current
                .by_area
                .iter()
                .map(|g| row(&g.group, &g.indices))
                .collect::<Vec<_>>(),
        ),
    );
    ctx.insert(
        "chart",
        minijinja::Value::from_serialize(json!({ "width": width, "height": height, "base": base, "bar_width": bar_width, "bars": bars })),
    );
    Ok(render(
        StatusCode::OK,
        "reports.html",
        minijinja::Value::from_serialize(&ctx),
    ))
}

pub async fn export_csv(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<MonthQuery>,
) -> Result<Response, PageError> {
    page.require(Action::ViewReports)?;
    let (year, month) = month_of(&state, &query)?;
    let r = report(&state, year, month).await?;
    let bytes = reports::to_csv(&r).map_err(crate::error::AppError::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"satisfaccion-{}.csv\"", r.month),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<MonthQuery>,
) -> Result<Response, PageError> {
    page.require(Action::ViewReports)?;
    let (year, month) = month_of(&state, &query)?;
    let r = report(&state, year, month).await?;
    let bytes = reports::to_xlsx(&r).map_err(crate::error::AppError::from)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"satisfaccion-{}.xlsx\"", r.month),
            ),
        ],
        bytes,
    )
        .into_response())
}
