//! Leased background jobs started by `ventanilla serve`: the service-level monitor (A16, A19),
//! the scheduled digest (A17), and the removal of the script's staged uploads nobody used
//! within 24 hours (`db::staged`).
//!
//! Every tick each node tries to take the job's lease (`outbox::try_lease`); only the holder
//! works, so several server processes over one PostgreSQL database never double the work.
//! The digest is also claimed once per local business day (`claim_once`), so a node that
//! takes the lease over later the same day does not send it again. Errors are logged and the
//! loop goes on; they carry no personal data.

use std::time::Duration;

use crate::db::outbox::try_lease;
use crate::db::service_levels::{self, claim_once, digest_due, load_calendar};
use crate::db::staged;
use crate::state::AppState;

/// Seconds between passes of the monitor.
pub const DEFAULT_INTERVAL_SECS: u64 = 60;

/// Starts the jobs on the runtime; they stop with the process.
pub fn spawn(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    let owner = format!("node-{}", uuid::Uuid::new_v4().simple());
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = tick(&state, &owner, interval).await {
                tracing::error!(error = %format!("{e:#}"), "service-level jobs");
            }
        }
    })
}

/// One tick: the monitor pass, expired staged uploads and, when due, today's digest.
pub async fn tick(state: &AppState, owner: &str, interval: Duration) -> anyhow::Result<()> {
    let now = state.now();
    let now_ms = now.as_millisecond();
    // The lease outlives one interval a little, so the holder keeps it while alive.
    let ttl_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX / 4) * 3;
    if !try_lease(&state.db, "sla_monitor", owner, ttl_ms, now_ms)
        .await
        .map_err(crate::error::AppError::into_anyhow)?
    {
        return Ok(());
    }
    let report = service_levels::run_monitor_once(&state.db, now)
        .await
        .map_err(crate::error::AppError::into_anyhow)?;
    if report.warnings + report.breaches > 0 {
        tracing::info!(
            warnings = report.warnings,
            breaches = report.breaches,
            "service-level alerts fired"
        );
    }
    let purged = staged::purge_expired(&state.db, now_ms)
        .await
        .map_err(crate::error::AppError::into_anyhow)?;
    if purged > 0 {
        tracing::info!(files = purged, "expired staged uploads removed");
    }
    let calendar = load_calendar(state.db.read(), now_ms)
        .await
        .map_err(crate::error::AppError::into_anyhow)?;
    if let Some(date) = digest_due(&calendar, now)
        && claim_once(&state.db, &format!("digest:{date}"), owner)
            .await
            .map_err(crate::error::AppError::into_anyhow)?
    {
        let sent = service_levels::send_digests(&state.db, now_ms)
            .await
            .map_err(crate::error::AppError::into_anyhow)?;
        tracing::info!(areas = sent.len(), "digests written to the outbox");
    }
    Ok(())
}
