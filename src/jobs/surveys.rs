//! Survey dispatch, reminders and auto-close (L9), every few seconds under one lease.

use std::time::Duration;

use crate::db::outbox::try_lease;
use crate::db::service_levels::load_calendar;
use crate::db::surveys;
use crate::state::AppState;

/// One pass: dispatch new surveys, send due reminders, close what ran out. Returns the counts.
pub async fn run_once(state: &AppState) -> anyhow::Result<(usize, usize, usize)> {
    let now = state.now();
    // The validation period is counted on the administrator's calendar, like the service levels.
    let calendar = load_calendar(state.db.read(), now.as_millisecond())
        .await
        .map_err(crate::error::AppError::into_anyhow)?;
    let settings = &state.config.survey;
    let now_ms = now.as_millisecond();
    let dispatched = surveys::dispatch_once(&state.db, &calendar, settings, now_ms)
        .await
        .map_err(crate::error::AppError::into_anyhow)?;
    let reminded = surveys::remind_once(&state.db, settings, now_ms)
        .await
        .map_err(crate::error::AppError::into_anyhow)?;
    let closed = surveys::auto_close_once(&state.db, now_ms)
        .await
        .map_err(crate::error::AppError::into_anyhow)?;
    Ok((dispatched, reminded, closed))
}

pub async fn run(state: AppState, owner: String, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        let lease_ms = i64::try_from(every.as_millis() * 4).unwrap_or(60_000);
        match try_lease(&state.db, "surveys", &owner, lease_ms, state.now_ms()).await {
            Ok(true) => {
                if let Err(error) = run_once(&state).await {
                    tracing::error!(error = %format!("{error:#}"), "survey job failed");
                }
            }
            Ok(false) => {}
            Err(error) => tracing::error!(error = ?error, "survey job could not take its lease"),
        }
    }
}
