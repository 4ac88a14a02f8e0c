//! `GET /metrics` in the Prometheus text format: the mail channel's dead letters by reason kind,
//! the outbox by status, inbound messages ingested, each fetched mailbox's health, and process
//! basics. Counts and states only, never an address or a subject. When a token is configured
//! (`VENTANILLA_METRICS_TOKEN`) the scraper must send it as a bearer token.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::pages::constant_time_eq;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// When this process started, for the uptime.
static STARTED: std::sync::LazyLock<std::time::Instant> =
    std::sync::LazyLock::new(std::time::Instant::now);

/// The `/metrics` route; building it starts the uptime clock.
pub fn router() -> axum::Router<AppState> {
    std::sync::LazyLock::force(&STARTED);
    axum::Router::new().route("/metrics", axum::routing::get(metrics))
}

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return true;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), token.as_bytes()))
}

/// One metric family: its help, type and samples (labels already formatted).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

/// A label value with `\`, `"` and newlines escaped as the format asks.
fn label(name: &str, value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("{{{name}=\"{escaped}\"}}")
}

async fn counts(state: &AppState, sql: &'static str) -> AppResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as(sql).fetch_all(state.db.read()).await?)
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return AppError::new(
            StatusCode::UNAUTHORIZED,
            "metrics_token",
            "Las métricas requieren el token configurado en VENTANILLA_METRICS_TOKEN (Authorization: Bearer …).",
        )
        .into_response();
    }
    match render(&state).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn render(state: &AppState) -> AppResult<String> {
    let mut out = String::new();
    let by = |rows: Vec<(String, i64)>, name: &str| -> Vec<(String, f64)> {
        rows.into_iter()
            .map(|(k, n)| (label(name, &k), n as f64))
            .collect()
    };
    let open = counts(
        state,
        "SELECT reason_kind, COUNT(*) FROM mail_dead_letters WHERE resolved_at IS NULL GROUP BY reason_kind ORDER BY reason_kind",
    )
    .await?;
    family(
        &mut out,
        "ventanilla_mail_dead_letters_open",
        "gauge",
        "Inbound messages on the dead-letter list not yet resolved, by reason kind.",
        &by(open, "reason_kind"),
    );
    let all = counts(
        state,
        "SELECT reason_kind, COUNT(*) FROM mail_dead_letters GROUP BY reason_kind ORDER BY reason_kind",
    )
    .await?;
    family(
        &mut out,
        "ventanilla_mail_dead_letters_total",
        "counter",
        "Inbound messages that ever went to the dead-letter list, by reason kind.",
        &by(all, "reason_kind"),
    );
    let outbox = counts(
        state,
        "SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status",
    )
    .await?;
    let mut outbox_samples = Vec::new();
    for status in ["pending", "sending", "sent", "failed"] {
        let n = outbox
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        outbox_samples.push((label("status", status), n as f64));
    }
    family(
        &mut out,
        "ventanilla_outbox_messages",
        "gauge",
        "Outgoing messages in the outbox, by status.",
        &outbox_samples,
    );
    let inbound: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_inbound")
        .fetch_one(state.db.read())
        .await?;
    family(
        &mut out,
        "ventanilla_mail_inbound_messages_total",
        "counter",
        "Inbound messages stored (mailgate and IMAP), each counted once.",
        &[(String::new(), inbound as f64)],
    );
    let health = crate::mail::imap::mailbox_health();
    let now = jiff::Timestamp::now().as_millisecond();
    let per_mailbox = |value: &dyn Fn(&crate::mail::imap::MailboxHealth) -> Option<f64>| {
        health
            .iter()
            .filter_map(|(m, h)| value(h).map(|v| (label("mailbox", m), v)))
            .collect::<Vec<_>>()
    };
    family(
        &mut out,
        "ventanilla_mail_mailbox_unreachable",
        "gauge",
        "1 when the last attempt to read the mailbox failed.",
        &per_mailbox(&|h| Some(if h.unreachable { 1.0 } else { 0.0 })),
    );
    family(
        &mut out,
        "ventanilla_mail_mailbox_consecutive_failures",
        "gauge",
        "Failed connections or fetch rounds since the last good one.",
        &per_mailbox(&|h| Some(h.consecutive_failures as f64)),
    );
    family(
        &mut out,
        "ventanilla_mail_mailbox_seconds_since_success",
        "gauge",
        "Seconds since the mailbox was last read completely.",
        &per_mailbox(&|h| h.last_success_ms.map(|t| (now - t) as f64 / 1000.0)),
    );
    family(
        &mut out,
        "ventanilla_process_uptime_seconds",
        "gauge",
        "Seconds since this process built its HTTP router.",
        &[(String::new(), STARTED.elapsed().as_secs_f64().floor())],
    );
    if let Some(rss) = resident_bytes() {
        family(
            &mut out,
            "ventanilla_process_resident_memory_bytes",
            "gauge",
            "Resident memory of this process.",
            &[(String::new(), rss)],
        );
    }
    Ok(out)
}

/// Resident memory from /proc (Linux); none elsewhere.
fn resident_bytes() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0)
}
