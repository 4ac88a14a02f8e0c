//! Service levels in storage (L3, L4, A16, A17, A19): the calendar row, the deadline columns
//! of `requests`, the monitor that fires warnings and breaches, and the per-area digest.
//!
//! A deadline is a pure function of the event log, the sheet's targets and the calendar
//! (`ventanilla_domain::service_level`). The columns written here are a copy kept only to sort
//! and filter queues with one indexed query; they are recomputed in the transaction that
//! changes a request's events, by the monitor after it fires an alert, and in bulk when the
//! calendar changes. The targets are those of the sheet version the request was registered
//! under (V7: a request keeps its sheet), so a new sheet version does not move old deadlines;
//! registering under another service does.
//!
//! The calendar: one row, `default`, holding the `CalendarSpec` JSON. It is seeded on first
//! start (`ensure_calendar`, called by `serve` and the demo seed) with L3 hours and the law
//! and institutional days of the current and next year; until then the same calendar is
//! built in memory, so deadlines never depend on whether the row exists yet.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AssertSqlSafe, FromRow};
use ventanilla_domain::calendar::{
    Calendar, CalendarError, CalendarSpec, ipn_institutional_days, law_rest_days,
};
use ventanilla_domain::catalogue::SheetContent;
use ventanilla_domain::lifecycle::{Status, Step};
use ventanilla_domain::service_level::{self, LogEntry, State, Target, TargetLevel, Targets};

use super::{Db, Engine, bind_list, from_millis, id_list, outbox, requests::registration_year};
use crate::error::{AppError, AppResult};

/// Name of the calendar row every deadline uses.
pub const DEFAULT_CALENDAR: &str = "default";
/// Share of a target at which the assignee and the area are warned when the service has no
/// escalation levels of its own.
pub const DEFAULT_WARNING_PERCENT: i64 = 75;
/// The breach level; always watched, whatever the service's levels say.
pub const BREACH_PERCENT: i64 = 100;
/// Queue key of an open request without a running clock: after every deadline.
pub const NO_RUNNING_DEADLINE: i64 = i64::MAX;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

/// A calendar the administrator sent that breaks a rule: 422 naming the field.
pub fn calendar_problem(e: &CalendarError) -> AppError {
    AppError::invalid(e.field(), e.code(), e.to_string())
}

/// L3 hours with the law days (art. 74) and the IPN's institutional days of `year` and the
/// next one.
pub fn ipn_calendar_for(year: i16) -> Result<Calendar, CalendarError> {
    let mut days = Vec::new();
    for y in [year, year.saturating_add(1)] {
        days.extend(law_rest_days(y));
        days.extend(ipn_institutional_days(y));
    }
    Calendar::ipn_default()?.with_exceptions(days)
}

/// Stores the default calendar unless one is stored already.
pub async fn ensure_calendar(db: &Db, now_ms: i64) -> AppResult<()> {
    let calendar = ipn_calendar_for(registration_year(now_ms)).map_err(internal)?;
    let spec = serde_json::to_string(&calendar.to_spec()).map_err(internal)?;
    sqlx::query(
        "INSERT INTO calendars (name, spec, updated_by, updated_at) VALUES ($1, $2, NULL, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(DEFAULT_CALENDAR)
    .bind(spec)
    .bind(now_ms)
    .execute(db.write())
    .await?;
    Ok(())
}

/// The calendar deadlines are computed on (see the module doc for the fallback).
pub async fn load_calendar<'e, E>(executor: E, now_ms: i64) -> AppResult<Calendar>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let spec: Option<String> = sqlx::query_scalar("SELECT spec FROM calendars WHERE name = $1")
        .bind(DEFAULT_CALENDAR)
        .fetch_optional(executor)
        .await?;
    match spec {
        Some(json) => parse_stored_calendar(json),
        None => ipn_calendar_for(registration_year(now_ms)).map_err(internal),
    }
}

/// The stored calendar as last parsed: parsing it (time zone lookup, exception index) cost
/// more than the rest of a registration, and it changes a few times a year. Keyed by the
/// stored text itself, so another node's change, or another database, is never missed.
static PARSED_CALENDAR: std::sync::Mutex<Option<(String, Calendar)>> = std::sync::Mutex::new(None);

fn parse_stored_calendar(json: String) -> AppResult<Calendar> {
    if let Ok(cache) = PARSED_CALENDAR.lock()
        && let Some((text, calendar)) = cache.as_ref()
        && *text == json
    {
        return Ok(calendar.clone());
    }
    let calendar = serde_json::from_str::<Calendar>(&json).map_err(internal)?;
    if let Ok(mut cache) = PARSED_CALENDAR.lock() {
        *cache = Some((json, calendar.clone()));
    }
    Ok(calendar)
}

/// Validates and stores the calendar; the caller recomputes deadlines afterwards.
pub async fn save_calendar(
    db: &Db,
    spec: CalendarSpec,
    staff_id: Option<i64>,
    now_ms: i64,
) -> AppResult<Calendar> {
    let calendar = Calendar::new(spec).map_err(|e| calendar_problem(&e))?;
    let json = serde_json::to_string(&calendar.to_spec()).map_err(internal)?;
    sqlx::query(
        "INSERT INTO calendars (name, spec, updated_by, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_by = excluded.updated_by,
            updated_at = excluded.updated_at",
    )
    .bind(DEFAULT_CALENDAR)
    .bind(json)
    .bind(staff_id)
    .bind(now_ms)
    .execute(db.write())
    .await?;
    Ok(calendar)
}

/// A calendar stored and the open requests' deadlines recomputed on it.
pub struct CalendarSaved {
    pub calendar: Calendar,
    pub recomputed: u64,
    pub recompute_ms: u64,
}

/// The one way to change the calendar (API and pages): validate and store it, then recompute
/// every open request's deadlines.
pub async fn save_and_recompute(
    db: &Db,
    spec: CalendarSpec,
    staff_id: Option<i64>,
    now_ms: i64,
) -> AppResult<CalendarSaved> {
    let calendar = save_calendar(db, spec, staff_id, now_ms).await?;
    let started = std::time::Instant::now();
    let recomputed = recompute_all(db, now_ms).await?;
    Ok(CalendarSaved {
        calendar,
        recomputed,
        recompute_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

// ---------------------------------------------------------------------------
// Escalation levels
// ---------------------------------------------------------------------------

/// Who is told when a level is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The engineer the request is assigned to.
    Assignee,
    /// The resolver area's mailbox.
    Area,
    /// Every active CAU supervisor.
    Supervisor,
    /// Every active CAU coordinator.
    Coordinator,
}

/// One escalation level of a service: at `level_percent` % of a target, tell `notify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationLevel {
    pub level_percent: i64,
    pub notify: Vec<Recipient>,
}

/// 75 %: assignee and area; 100 %: the CAU supervisor.
pub fn default_levels() -> Vec<EscalationLevel> {
    vec![
        EscalationLevel {
            level_percent: DEFAULT_WARNING_PERCENT,
            notify: vec![Recipient::Assignee, Recipient::Area],
        },
        EscalationLevel {
            level_percent: BREACH_PERCENT,
            notify: vec![Recipient::Supervisor],
        },
    ]
}

/// Checks levels sent by the administrator; returns them sorted by share.
pub fn validate_levels(mut levels: Vec<EscalationLevel>) -> AppResult<Vec<EscalationLevel>> {
    let mut seen = HashSet::new();
    for (i, level) in levels.iter().enumerate() {
        if !(1..=1000).contains(&level.level_percent) {
            return Err(AppError::invalid(
                &format!("levels[{i}].level_percent"),
                "escalation_percent_range",
                "El porcentaje de un nivel va de 1 a 1000 (100 = tiempo vencido).",
            ));
        }
        if level.notify.is_empty() {
            return Err(AppError::invalid(
                &format!("levels[{i}].notify"),
                "escalation_notify_empty",
                "Indique a quién avisar: assignee, area, supervisor o coordinator.",
            ));
        }
        if !seen.insert(level.level_percent) {
            return Err(AppError::invalid(
                &format!("levels[{i}].level_percent"),
                "escalation_percent_repeated",
                format!("El nivel {} % está repetido.", level.level_percent),
            ));
        }
    }
    levels.sort_by_key(|l| l.level_percent);
    Ok(levels)
}

/// The levels of a service: its own, or the defaults; the breach level is always present.
pub async fn levels_for_service(
    conn: &mut AnyConnection,
    service_id: Option<i64>,
) -> AppResult<Vec<EscalationLevel>> {
    let rows: Vec<(i64, String)> = match service_id {
        Some(id) => {
            sqlx::query_as(
                "SELECT level_percent, notify FROM sla_escalation_levels WHERE service_id = $1
                 ORDER BY level_percent",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
        }
        None => Vec::new(),
    };
    levels_from_rows(rows)
}

/// `levels_for_service` for several services in one statement (a registration batch); every
/// service asked for has an entry.
pub async fn levels_for_services(
    conn: &mut AnyConnection,
    service_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<EscalationLevel>>> {
    let mut rows_by_service: HashMap<i64, Vec<(i64, String)>> =
        service_ids.iter().map(|id| (*id, Vec::new())).collect();
    if !service_ids.is_empty() {
        let sql = format!(
            "SELECT service_id, level_percent, notify FROM sla_escalation_levels
             WHERE service_id IN ({}) ORDER BY service_id, level_percent",
            id_list(1, service_ids.len())
        );
        let query = sqlx::query_as::<_, (i64, i64, String)>(AssertSqlSafe(sql));
        let rows = bind_list(query, service_ids).fetch_all(&mut *conn).await?;
        for (service_id, level_percent, notify) in rows {
            if let Some(service_rows) = rows_by_service.get_mut(&service_id) {
                service_rows.push((level_percent, notify));
            }
        }
    }
    rows_by_service
        .into_iter()
        .map(|(id, rows)| Ok((id, levels_from_rows(rows)?)))
        .collect()
}

/// A service's stored levels, or the defaults when it has none; the breach level is always there.
fn levels_from_rows(rows: Vec<(i64, String)>) -> AppResult<Vec<EscalationLevel>> {
    if rows.is_empty() {
        return Ok(default_levels());
    }
    let mut levels = Vec::new();
    for (level_percent, notify) in rows {
        levels.push(EscalationLevel {
            level_percent,
            notify: serde_json::from_str(&notify).map_err(internal)?,
        });
    }
    if !levels.iter().any(|l| l.level_percent == BREACH_PERCENT) {
        levels.push(EscalationLevel {
            level_percent: BREACH_PERCENT,
            notify: vec![Recipient::Supervisor],
        });
    }
    Ok(levels)
}

/// Replaces a service's levels (empty = back to the defaults) and recomputes its requests.
pub async fn save_levels(
    db: &Db,
    service_id: i64,
    levels: Vec<EscalationLevel>,
    now_ms: i64,
) -> AppResult<Vec<EscalationLevel>> {
    let levels = validate_levels(levels)?;
    let mut tx = db.begin_write().await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM services WHERE id = $1")
        .bind(service_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(AppError::not_found(
            "unknown_service",
            format!("No existe el servicio {service_id}."),
        ));
    }
    sqlx::query("DELETE FROM sla_escalation_levels WHERE service_id = $1")
        .bind(service_id)
        .execute(&mut *tx)
        .await?;
    for level in &levels {
        sqlx::query(
            "INSERT INTO sla_escalation_levels (service_id, level_percent, notify) VALUES ($1, $2, $3)",
        )
        .bind(service_id)
        .bind(level.level_percent)
        .bind(serde_json::to_string(&level.notify).map_err(internal)?)
        .execute(&mut *tx)
        .await?;
    }
    let calendar = load_calendar(&mut *tx, now_ms).await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM requests WHERE service_id = $1 AND sla_due_at IS NOT NULL",
    )
    .bind(service_id)
    .fetch_all(&mut *tx)
    .await?;
    for id in ids {
        recompute_in_tx(&mut tx, &calendar, id, now_ms).await?;
    }
    tx.commit().await?;
    let mut conn = db.read().acquire().await?;
    levels_for_service(&mut conn, Some(service_id)).await
}

// ---------------------------------------------------------------------------
// Computing and storing a request's deadlines
// ---------------------------------------------------------------------------

#[derive(FromRow)]
struct FactsRow {
    id: i64,
    number: String,
    status: String,
    subject: String,
    service_id: Option<i64>,
    sheet_version: Option<i64>,
    area_id: Option<i64>,
    assignee_id: Option<i64>,
    received_at: i64,
    registered_at: Option<i64>,
}

/// A request's facts with its clocks at some instant.
pub struct RequestLevels {
    pub request_id: i64,
    pub number: String,
    pub status: Status,
    pub subject: String,
    pub service_id: Option<i64>,
    pub area_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// Response and resolution; empty while the request has no registered service.
    pub levels: Vec<TargetLevel>,
}

/// Reads what the rules need and evaluates both clocks at `now_ms`.
pub async fn evaluate_request(
    conn: &mut AnyConnection,
    calendar: &Calendar,
    request_id: i64,
    now_ms: i64,
) -> AppResult<Option<RequestLevels>> {
    let row: Option<FactsRow> = sqlx::query_as(
        "SELECT id, number, status, subject, service_id, sheet_version, area_id, assignee_id,
            received_at, registered_at
         FROM requests WHERE id = $1",
    )
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let status = Status::from_code(&row.status).ok_or_else(|| internal("unknown stored status"))?;
    let targets = match (row.service_id, row.sheet_version, row.registered_at) {
        (Some(service), Some(version), Some(_)) => {
            let content: Option<String> = sqlx::query_scalar(
                "SELECT content FROM service_sheets WHERE service_id = $1 AND version = $2",
            )
            .bind(service)
            .bind(version)
            .fetch_optional(&mut *conn)
            .await?;
            match content {
                Some(json) => {
                    let sheet: SheetContent = serde_json::from_str(&json).map_err(internal)?;
                    Some(Targets {
                        response_minutes: sheet.response_target_minutes,
                        resolution_minutes: sheet.resolution_target_minutes,
                    })
                }
                None => None,
            }
        }
        _ => None,
    };
    let levels = match targets {
        Some(targets) => {
            let events: Vec<(i64, String, Option<String>)> = sqlx::query_as(
                "SELECT at, kind, to_status FROM request_events WHERE request_id = $1 ORDER BY id",
            )
            .bind(request_id)
            .fetch_all(&mut *conn)
            .await?;
            let log: Vec<LogEntry> = events
                .iter()
                .map(|(at, kind, to)| log_entry(*at, kind, to.as_deref()))
                .collect();
            clocks(calendar, row.received_at, &log, targets, now_ms)?
        }
        None => Vec::new(),
    };
    Ok(Some(RequestLevels {
        request_id: row.id,
        number: row.number,
        status,
        subject: row.subject,
        service_id: row.service_id,
        area_id: row.area_id,
        assignee_id: row.assignee_id,
        levels,
    }))
}

/// One event of the log as the clock rules read it (`kind` and `to_status` as stored).
pub fn log_entry(at_ms: i64, kind: &str, to_status: Option<&str>) -> LogEntry {
    LogEntry {
        at: from_millis(at_ms),
        to_status: to_status.and_then(Status::from_code),
        step: Step::from_code(kind),
    }
}

/// Both clocks of a request registered under a sheet with `targets`, at `now_ms`.
pub fn clocks(
    calendar: &Calendar,
    received_at_ms: i64,
    log: &[LogEntry],
    targets: Targets,
    now_ms: i64,
) -> AppResult<Vec<TargetLevel>> {
    // Stored sheets were validated, so a refused target means a corrupt row.
    service_level::evaluate(
        calendar,
        from_millis(received_at_ms),
        log,
        targets,
        from_millis(now_ms),
    )
    .map_err(internal)
}

/// The state shown for the request as a whole: the worst of its targets.
pub fn overall_state(levels: &[TargetLevel]) -> &'static str {
    let has = |s: State| levels.iter().any(|l| l.state == s);
    if levels.is_empty() {
        "none"
    } else if has(State::Breached) {
        "breached"
    } else if has(State::Running) {
        "running"
    } else if has(State::Paused) {
        "paused"
    } else {
        "met"
    }
}

/// Recomputes and stores a request's deadline columns inside the caller's transaction.
/// Call it whenever the request's events change.
pub async fn recompute_in_tx(
    conn: &mut AnyConnection,
    calendar: &Calendar,
    request_id: i64,
    now_ms: i64,
) -> AppResult<()> {
    let Some(request) = evaluate_request(conn, calendar, request_id, now_ms).await? else {
        return Ok(());
    };
    let escalation = levels_for_service(conn, request.service_id).await?;
    let fired: Vec<(String, i64)> =
        sqlx::query_as("SELECT target, level_percent FROM sla_alerts WHERE request_id = $1")
            .bind(request_id)
            .fetch_all(&mut *conn)
            .await?;
    let columns = DeadlineColumns::compute(
        calendar,
        request.status,
        &request.levels,
        &escalation,
        &fired,
    );
    sqlx::query(
        "UPDATE requests SET response_due_at = $1, resolution_due_at = $2, sla_state = $3,
            sla_due_at = $4, sla_warn_at = $5, sla_next_check_at = $6
         WHERE id = $7",
    )
    .bind(columns.response_due_at)
    .bind(columns.resolution_due_at)
    .bind(columns.sla_state)
    .bind(columns.sla_due_at)
    .bind(columns.sla_warn_at)
    .bind(columns.sla_next_check_at)
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The deadline columns of `requests`: the copy of the clocks that queues sort and filter on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineColumns {
    pub response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    pub sla_state: &'static str,
    /// The nearest running deadline (the queue order); after every deadline when none runs.
    pub sla_due_at: Option<i64>,
    /// When that clock reaches the first warning level ("at risk").
    pub sla_warn_at: Option<i64>,
    /// When the monitor must look again: the next escalation level not yet fired.
    pub sla_next_check_at: Option<i64>,
}

impl DeadlineColumns {
    /// The columns of a request with no clock (no sheet targets yet, e.g. in the intake queue):
    /// what `compute` gives for no levels, without needing the calendar.
    pub fn without_clocks(status: Status) -> DeadlineColumns {
        DeadlineColumns {
            response_due_at: None,
            resolution_due_at: None,
            sla_state: overall_state(&[]),
            sla_due_at: status.is_open().then_some(NO_RUNNING_DEADLINE),
            sla_warn_at: None,
            sla_next_check_at: None,
        }
    }

    /// The columns for a request in `status` whose clocks are `levels`; `fired` holds the
    /// (target, level) alerts already sent, which the monitor need not look at again.
    pub fn compute(
        calendar: &Calendar,
        status: Status,
        levels: &[TargetLevel],
        escalation: &[EscalationLevel],
        fired: &[(String, i64)],
    ) -> DeadlineColumns {
        let ms = |t: Timestamp| t.as_millisecond();
        let due = |target: Target| {
            levels
                .iter()
                .find(|l| l.target == target)
                .and_then(|l| l.deadline)
                .map(ms)
        };
        // The nearest clock still running decides the queue order and the "at risk" mark.
        let nearest = levels
            .iter()
            .filter(|l| l.stopped_at.is_none() && l.state != State::Paused)
            .filter_map(|l| l.deadline.map(|d| (d, l)))
            .min_by_key(|(d, _)| *d);
        let warn_percent = escalation
            .iter()
            .map(|l| l.level_percent)
            .min()
            .unwrap_or(DEFAULT_WARNING_PERCENT);
        let (sla_due_at, sla_warn_at) = match nearest {
            _ if !status.is_open() => (None, None),
            Some((deadline, level)) => (
                Some(ms(deadline)),
                level.share_reached_at(calendar, warn_percent).map(ms),
            ),
            None => (Some(NO_RUNNING_DEADLINE), None),
        };
        let sla_next_check_at = if status.is_open() {
            levels
                .iter()
                .filter(|l| l.stopped_at.is_none())
                .flat_map(|l| {
                    escalation
                        .iter()
                        .filter(|e| {
                            !fired
                                .iter()
                                .any(|(t, p)| t == l.target.code() && *p == e.level_percent)
                        })
                        .filter_map(|e| l.share_reached_at(calendar, e.level_percent))
                })
                .min()
                .map(ms)
        } else {
            None
        };
        DeadlineColumns {
            response_due_at: due(Target::Response),
            resolution_due_at: due(Target::Resolution),
            sla_state: overall_state(levels),
            sla_due_at,
            sla_warn_at,
            sla_next_check_at,
        }
    }
}

/// Recomputes the deadlines of the request just written, in the same transaction.
pub async fn recompute_request(
    conn: &mut AnyConnection,
    request_id: i64,
    now_ms: i64,
) -> AppResult<()> {
    let calendar = load_calendar(&mut *conn, now_ms).await?;
    recompute_in_tx(conn, &calendar, request_id, now_ms).await
}

/// Recomputes every open request (after a calendar change), 500 per transaction. Returns
/// how many were recomputed. Closed and cancelled requests keep their stored values: no
/// clock of theirs runs and no queue shows them.
pub async fn recompute_all(db: &Db, now_ms: i64) -> AppResult<u64> {
    let calendar = load_calendar(db.read(), now_ms).await?;
    let mut after = 0_i64;
    let mut count = 0_u64;
    loop {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM requests WHERE id > $1 AND status NOT IN ('closed', 'cancelled')
             ORDER BY id LIMIT 500",
        )
        .bind(after)
        .fetch_all(db.read())
        .await?;
        let Some(&last) = ids.last() else { break };
        let mut tx = db.begin_write().await?;
        for &id in &ids {
            recompute_in_tx(&mut tx, &calendar, id, now_ms).await?;
        }
        tx.commit().await?;
        count += ids.len() as u64;
        after = last;
    }
    Ok(count)
}

// ---------------------------------------------------------------------------
// Monitor (A16, A19)
// ---------------------------------------------------------------------------

/// What one pass of the monitor did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonitorReport {
    pub examined: usize,
    pub warnings: usize,
    pub breaches: usize,
    pub notifications: usize,
}

/// One pass: every request whose next level is due gets its `sla_warning` or `sla_breached`
/// event and notifications, each once per request, target and level (`sla_alerts` is unique
/// on the three). Safe to run twice; run it under a job lease so one node does the work.
pub async fn run_monitor_once(db: &Db, now: Timestamp) -> AppResult<MonitorReport> {
    let now_ms = now.as_millisecond();
    let calendar = load_calendar(db.read(), now_ms).await?;
    let mut report = MonitorReport::default();
    let mut done: HashSet<i64> = HashSet::new();
    // Bounded: a request whose check does not move forward is not looked at twice.
    for _ in 0..100 {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM requests WHERE sla_next_check_at <= $1
             ORDER BY sla_next_check_at, id LIMIT 200",
        )
        .bind(now_ms)
        .fetch_all(db.read())
        .await?;
        let fresh: Vec<i64> = ids.into_iter().filter(|id| done.insert(*id)).collect();
        if fresh.is_empty() {
            break;
        }
        for id in fresh {
            report.examined += 1;
            monitor_request(db, &calendar, id, now_ms, &mut report).await?;
        }
    }
    Ok(report)
}

async fn monitor_request(
    db: &Db,
    calendar: &Calendar,
    request_id: i64,
    now_ms: i64,
    report: &mut MonitorReport,
) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    if db.engine == Engine::Postgres {
        sqlx::query("SELECT id FROM requests WHERE id = $1 FOR UPDATE")
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
    }
    let Some(request) = evaluate_request(&mut tx, calendar, request_id, now_ms).await? else {
        return Ok(());
    };
    let escalation = levels_for_service(&mut tx, request.service_id).await?;
    if request.status.is_open() {
        for level in request.levels.iter().filter(|l| l.stopped_at.is_none()) {
            for step in &escalation {
                let reached = level
                    .share_reached_at(calendar, step.level_percent)
                    .is_some_and(|t| t.as_millisecond() <= now_ms);
                if !reached {
                    continue;
                }
                let inserted: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO sla_alerts (request_id, target, level_percent, fired_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (request_id, target, level_percent) DO NOTHING RETURNING id",
                )
                .bind(request_id)
                .bind(level.target.code())
                .bind(step.level_percent)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                if inserted.is_none() {
                    continue;
                }
                let sent = fire_alert(&mut tx, calendar, &request, level, step, now_ms).await?;
                report.notifications += sent;
                if step.level_percent >= BREACH_PERCENT {
                    report.breaches += 1;
                } else {
                    report.warnings += 1;
                }
            }
        }
    }
    recompute_in_tx(&mut tx, calendar, request_id, now_ms).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes the timeline event and one outbox row per recipient; returns how many rows.
async fn fire_alert(
    tx: &mut AnyConnection,
    calendar: &Calendar,
    request: &RequestLevels,
    level: &TargetLevel,
    step: &EscalationLevel,
    now_ms: i64,
) -> AppResult<usize> {
    let breached = step.level_percent >= BREACH_PERCENT;
    let kind = if breached {
        "sla_breached"
    } else {
        "sla_warning"
    };
    let recipients = resolve_recipients(tx, request, &step.notify).await?;
    let deadline = level.deadline.map(|d| local_text(calendar, d));
    let payload = serde_json::json!({
        "target": level.target.code(),
        "level_percent": step.level_percent,
        "deadline": level.deadline.map(|d| d.to_string()),
        "notified": step.notify,
    });
    sqlx::query(
        "INSERT INTO request_events (request_id, at, actor_kind, actor_id, kind, from_status, to_status, payload, reason)
         VALUES ($1, $2, 'system', NULL, $3, NULL, NULL, $4, NULL)",
    )
    .bind(request.request_id)
    .bind(now_ms)
    .bind(kind)
    .bind(payload.to_string())
    .execute(&mut *tx)
    .await?;
    let rendered = super::mail_templates::render_in_tx(
        tx,
        kind,
        &serde_json::json!({
            "number": request.number,
            "status": request.status.label_es(),
            "percent": (level.share * 100.0).round(),
            "level_percent": step.level_percent,
            "target": level.target.label_es(),
            "elapsed": business_text(level.elapsed_seconds),
            "target_time": business_text(level.target_seconds),
            "deadline": deadline.unwrap_or_else(|| "reloj detenido (en espera)".to_owned()),
        }),
    )
    .await?;
    for recipient in &recipients {
        let message_id = format!("{}@ventanilla.local", uuid::Uuid::new_v4().simple());
        outbox::enqueue(
            tx,
            outbox::NewMessage {
                topic: kind,
                request_id: Some(request.request_id),
                recipient,
                subject: &rendered.subject,
                body_text: &rendered.text,
                body_html: Some(&rendered.html),
                headers: serde_json::json!({ "Auto-Submitted": "auto-generated" }),
                message_id: &message_id,
            },
            now_ms,
        )
        .await?;
    }
    Ok(recipients.len())
}

/// Addresses of the people a level tells: their e-mail, or `staff:ID` / `area:ID` when none
/// is on file (the mail issue delivers those to the in-app inbox).
async fn resolve_recipients(
    tx: &mut AnyConnection,
    request: &RequestLevels,
    notify: &[Recipient],
) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for recipient in notify {
        let found: Vec<String> = match recipient {
            Recipient::Assignee => match request.assignee_id {
                Some(id) => {
                    let email: Option<Option<String>> =
                        sqlx::query_scalar("SELECT email FROM staff WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    vec![email.flatten().unwrap_or_else(|| format!("staff:{id}"))]
                }
                None => Vec::new(),
            },
            Recipient::Area => match request.area_id {
                Some(id) => {
                    let email: Option<Option<String>> =
                        sqlx::query_scalar("SELECT email FROM areas WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    vec![email.flatten().unwrap_or_else(|| format!("area:{id}"))]
                }
                None => Vec::new(),
            },
            Recipient::Supervisor | Recipient::Coordinator => {
                let role = if *recipient == Recipient::Supervisor {
                    "supervisor"
                } else {
                    "coordinator"
                };
                let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
                    "SELECT id, email FROM staff WHERE role = $1 AND active = 1 ORDER BY id",
                )
                .bind(role)
                .fetch_all(&mut *tx)
                .await?;
                rows.into_iter()
                    .map(|(id, email)| email.unwrap_or_else(|| format!("staff:{id}")))
                    .collect()
            }
        };
        for address in found {
            if !out.contains(&address) {
                out.push(address);
            }
        }
    }
    Ok(out)
}

/// `mar 17/03/2026 09:00` in the calendar's zone.
pub fn local_text(calendar: &Calendar, t: Timestamp) -> String {
    let zoned = t.to_zoned(calendar.zone().clone());
    let day = match zoned.weekday() {
        jiff::civil::Weekday::Monday => "lun",
        jiff::civil::Weekday::Tuesday => "mar",
        jiff::civil::Weekday::Wednesday => "mié",
        jiff::civil::Weekday::Thursday => "jue",
        jiff::civil::Weekday::Friday => "vie",
        jiff::civil::Weekday::Saturday => "sáb",
        jiff::civil::Weekday::Sunday => "dom",
    };
    format!("{day} {}", zoned.strftime("%d/%m/%Y %H:%M"))
}

/// `2 h 30 min`.
pub fn business_text(seconds: i64) -> String {
    let minutes = seconds.abs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

// ---------------------------------------------------------------------------
// Queue (A16)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub area_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub service_id: Option<i64>,
    pub statuses: Vec<Status>,
    /// Past the warning share, not yet overdue.
    pub at_risk: bool,
    /// Overdue and still running.
    pub breached: bool,
    /// Keyset: the `(sla_due_at, id)` of the last row of the previous page.
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct QueueRow {
    #[serde(skip)]
    pub id: i64,
    pub number: String,
    pub status: String,
    pub subject: String,
    pub service_id: Option<i64>,
    pub area_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    /// The queue key: nearest running deadline (ms), or i64::MAX without a running clock.
    pub sla_due_at: i64,
    pub sla_warn_at: Option<i64>,
    pub sla_state: String,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// Open requests by time to breach, nearest first: one query over the `(…, sla_due_at, id)`
/// indexes. Returns the page and whether there is a next one.
pub async fn queue(db: &Db, filter: &QueueFilter, now_ms: i64) -> AppResult<(Vec<QueueRow>, bool)> {
    let mut binds: Vec<Bind> = Vec::new();
    let mut conditions = vec!["sla_due_at IS NOT NULL".to_owned()];
    let mut push = |binds: &mut Vec<Bind>, sql: &str, value: Bind| {
        binds.push(value);
        conditions.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(v) = filter.area_id {
        push(&mut binds, "area_id = ?", Bind::Int(v));
    }
    if let Some(v) = filter.assignee_id {
        push(&mut binds, "assignee_id = ?", Bind::Int(v));
    }
    if let Some(v) = filter.service_id {
        push(&mut binds, "service_id = ?", Bind::Int(v));
    }
    if filter.breached {
        push(&mut binds, "sla_due_at <= ?", Bind::Int(now_ms));
    }
    if filter.at_risk {
        push(&mut binds, "sla_warn_at <= ?", Bind::Int(now_ms));
        push(&mut binds, "sla_due_at > ?", Bind::Int(now_ms));
    }
    if let Some((due, id)) = filter.after {
        binds.push(Bind::Int(due));
        let due_at = binds.len();
        binds.push(Bind::Int(id));
        conditions.push(format!(
            "(sla_due_at > ${due_at} OR (sla_due_at = ${due_at} AND id > ${}))",
            binds.len()
        ));
    }
    if !filter.statuses.is_empty() {
        let mut placeholders = Vec::new();
        for status in &filter.statuses {
            binds.push(Bind::Text(status.code().to_owned()));
            placeholders.push(format!("${}", binds.len()));
        }
        conditions.push(format!("status IN ({})", placeholders.join(", ")));
    }
    let limit = filter.limit.clamp(1, 200);
    let sql = format!(
        "SELECT id, number, status, subject, service_id, area_id, assignee_id, response_due_at,
            resolution_due_at, sla_due_at, sla_warn_at, sla_state
         FROM requests WHERE {} ORDER BY sla_due_at, id LIMIT {}",
        conditions.join(" AND "),
        limit + 1
    );
    let mut query = sqlx::query_as::<_, QueueRow>(AssertSqlSafe(sql));
    for bind in binds {
        query = match bind {
            Bind::Int(v) => query.bind(v),
            Bind::Text(v) => query.bind(v),
        };
    }
    let mut rows = query.fetch_all(db.read()).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

// ---------------------------------------------------------------------------
// Digest (A17)
// ---------------------------------------------------------------------------

/// One digest written to the outbox.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DigestSent {
    pub area_id: i64,
    pub area_name: String,
    pub recipient: String,
    pub pending: usize,
    pub overdue: usize,
    pub outbox_id: i64,
}

/// Most requests listed in one digest; the rest are counted.
const DIGEST_MAX_LINES: i64 = 200;

/// A17: for each area with pending requests, one outbox message listing them, nearest
/// deadline first, with the business time left or overdue. Pending = open and not yet
/// solved (solved requests wait on CAU, not on the area).
pub async fn send_digests(db: &Db, now_ms: i64) -> AppResult<Vec<DigestSent>> {
    let calendar = load_calendar(db.read(), now_ms).await?;
    let now = from_millis(now_ms);
    let areas: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, name, email FROM areas ORDER BY id")
            .fetch_all(db.read())
            .await?;
    let mut sent = Vec::new();
    let mut tx = db.begin_write().await?;
    for (area_id, area_name, email) in areas {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT number, status, sla_due_at FROM requests
             WHERE area_id = $1 AND sla_due_at IS NOT NULL AND status NOT IN ('solved', 'validating')
             ORDER BY sla_due_at, id LIMIT {}",
            DIGEST_MAX_LINES + 1
        )))
        .bind(area_id)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            continue;
        }
        let mut lines = Vec::new();
        let mut overdue = 0;
        for (number, status, due) in rows.iter().take(DIGEST_MAX_LINES as usize) {
            let label = Status::from_code(status).map_or(status.as_str(), |s| s.label_es());
            let when = if *due == NO_RUNNING_DEADLINE {
                "reloj detenido".to_owned()
            } else {
                let due = from_millis(*due);
                if due <= now {
                    overdue += 1;
                    format!(
                        "VENCIDA hace {} hábiles (vencía {})",
                        business_text(calendar.business_between(due, now).as_secs()),
                        local_text(&calendar, due)
                    )
                } else {
                    format!(
                        "quedan {} hábiles (vence {})",
                        business_text(calendar.business_between(now, due).as_secs()),
                        local_text(&calendar, due)
                    )
                }
            };
            lines.push(serde_json::json!({ "number": number, "status": label, "when": when }));
        }
        let recipient = email.unwrap_or_else(|| format!("area:{area_id}"));
        let rendered = super::mail_templates::render_in_tx(
            &mut tx,
            "digest",
            &serde_json::json!({
                "area": area_name,
                "at": local_text(&calendar, now),
                "requests": lines,
                "more": rows.len() as i64 > DIGEST_MAX_LINES,
            }),
        )
        .await?;
        let message_id = format!("{}@ventanilla.local", uuid::Uuid::new_v4().simple());
        let outbox_id = outbox::enqueue(
            &mut tx,
            outbox::NewMessage {
                topic: "digest",
                request_id: None,
                recipient: &recipient,
                subject: &rendered.subject,
                body_text: &rendered.text,
                body_html: Some(&rendered.html),
                headers: serde_json::json!({ "Auto-Submitted": "auto-generated" }),
                message_id: &message_id,
            },
            now_ms,
        )
        .await?;
        sent.push(DigestSent {
            area_id,
            area_name,
            recipient,
            pending: rows.len().min(DIGEST_MAX_LINES as usize),
            overdue,
            outbox_id,
        });
    }
    tx.commit().await?;
    Ok(sent)
}

/// True once per `key` across every node (a row in `job_leases` that never expires).
pub async fn claim_once(db: &Db, key: &str, owner: &str) -> AppResult<bool> {
    let claimed: Option<String> = sqlx::query_scalar(
        "INSERT INTO job_leases (name, owner, lease_until) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING RETURNING name",
    )
    .bind(key)
    .bind(owner)
    .bind(i64::MAX)
    .fetch_optional(db.write())
    .await?;
    Ok(claimed.is_some())
}

/// The scheduled digest is due: a business day of the calendar, at or after 09:00 local.
pub fn digest_due(calendar: &Calendar, now: Timestamp) -> Option<jiff::civil::Date> {
    let local = now.to_zoned(calendar.zone().clone());
    let date = local.date();
    let after_nine = local.time() >= jiff::civil::Time::constant(9, 0, 0, 0);
    (after_nine && calendar.day_closure(date).is_none()).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_without_clocks_needs_no_calendar_for_its_columns_l4() {
        let calendar = ipn_calendar_for(2026).expect("calendar");
        for status in [Status::Received, Status::ToConfirm, Status::Closed] {
            assert_eq!(
                DeadlineColumns::without_clocks(status),
                DeadlineColumns::compute(&calendar, status, &[], &default_levels(), &[])
            );
        }
    }
}
