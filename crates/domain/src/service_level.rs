//! Service levels (A16, L3, L4): where each committed time of a request stands, computed
//! only from the request's event log, its sheet's targets and the calendar.
//!
//! Rules, decided here once so storage, monitor and API agree:
//! - **Start.** The clock starts when CAU received the request (`received_at`: the
//!   registration instant for phone or counter requests, the arrival of a mail or form in the
//!   intake queue), moved to the next opening when that was in closed time (L4: weekend mail
//!   starts on Monday at 08:00).
//! - **Pauses.** While the request is `to_confirm` (requirements missing, V5) or `waiting`
//!   (on the requester or a third party) no clock runs. Pauses are measured on the same
//!   calendar, so a pause over a weekend costs nothing.
//! - **Response target**: start → the first action of the resolver area, i.e. the first
//!   `start`, `wait` or `solve` step (the steps only the area's engineer may take). An
//!   assignment or a comment is not an action on the problem: CAU assigns at registration.
//! - **Resolution target**: start → `solved`. While the request is solved, in validation,
//!   closed or cancelled the resolution clock is stopped; sending it back or reopening it
//!   resumes the clock from where it stopped (the stopped time is a pause).
//! - **States.** `running` (the clock runs, deadline ahead), `paused` (stopped by a pause
//!   with time left), `met` (stopped for good before the deadline), `breached` (the deadline
//!   passed while running, or the clock stopped after it).

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::calendar::{Calendar, Explanation};
use crate::lifecycle::{Status, Step};

/// Which committed time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Response,
    Resolution,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::Response, Target::Resolution];

    pub fn code(self) -> &'static str {
        match self {
            Target::Response => "response",
            Target::Resolution => "resolution",
        }
    }

    pub fn from_code(code: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.code() == code)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Target::Response => "tiempo de respuesta",
            Target::Resolution => "tiempo de solución",
        }
    }
}

/// Where a target stands at "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Running,
    Paused,
    Met,
    Breached,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Paused => "paused",
            State::Met => "met",
            State::Breached => "breached",
        }
    }
}

/// One entry of the request's timeline, as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogEntry {
    pub at: Timestamp,
    /// The status the request entered, when the entry changed it.
    pub to_status: Option<Status>,
    /// The life-cycle step, when the entry was one.
    pub step: Option<Step>,
}

/// The committed times of the request's service sheet, in business minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub response_minutes: i64,
    pub resolution_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceLevelError {
    #[error("El {} debe ser mayor que cero minutos hábiles.", .0.label_es())]
    NonPositiveTarget(Target),
}

impl ServiceLevelError {
    pub fn code(&self) -> &'static str {
        "sheet_target"
    }

    pub fn field(&self) -> &'static str {
        match self {
            ServiceLevelError::NonPositiveTarget(Target::Response) => "response_target_minutes",
            ServiceLevelError::NonPositiveTarget(Target::Resolution) => "resolution_target_minutes",
        }
    }
}

/// The clock of one target at "now".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetLevel {
    pub target: Target,
    pub target_seconds: i64,
    /// When the clock started (the next opening at or after reception).
    pub start: Timestamp,
    /// The deadline; `None` while paused with no end in sight (the clock is stopped).
    pub deadline: Option<Timestamp>,
    /// When the clock stopped for good (first action, solution), if it did.
    pub stopped_at: Option<Timestamp>,
    pub elapsed_seconds: i64,
    /// Negative when overdue.
    pub remaining_seconds: i64,
    /// Elapsed ÷ target, 1.0 = 100 %.
    pub share: f64,
    pub state: State,
    /// Pauses that stop this clock, `(from, until)`; `until == None` still paused.
    #[serde(skip)]
    pub pauses: Vec<(Timestamp, Option<Timestamp>)>,
}

impl TargetLevel {
    /// True while the clock may still run (not stopped for good).
    pub fn is_live(&self) -> bool {
        matches!(self.state, State::Running | State::Paused)
            || (self.state == State::Breached && self.stopped_at.is_none())
    }

    /// The instant the clock reaches `percent` % of the target, if it does with the
    /// pauses known so far (`None` while stopped before reaching it).
    pub fn share_reached_at(&self, calendar: &Calendar, percent: i64) -> Option<Timestamp> {
        let seconds = self.target_seconds.saturating_mul(percent) / 100;
        calendar.add_business_with_pauses(
            self.start,
            SignedDuration::from_secs(seconds),
            &self.pauses,
        )
    }

    /// How the deadline is reached: open hours counted, closed days and pauses skipped.
    /// `None` while the clock is stopped by an open pause.
    pub fn explain(&self, calendar: &Calendar) -> Option<Explanation> {
        calendar.explain_add_with_pauses(
            self.start,
            SignedDuration::from_secs(self.target_seconds),
            &self.pauses,
        )
    }
}

/// Statuses in which no clock runs; leaving them resumes the clocks.
fn pauses_clocks(status: Status) -> bool {
    matches!(status, Status::ToConfirm | Status::Waiting)
}

/// Statuses in which the resolution clock is stopped (for good unless sent back or reopened).
fn stops_resolution(status: Status) -> bool {
    matches!(
        status,
        Status::Solved | Status::Validating | Status::Closed | Status::Cancelled
    )
}

/// The first action of the resolver area (see the module rules).
fn is_first_action(step: Step) -> bool {
    matches!(step, Step::Start | Step::Wait | Step::Solve)
}

/// Both targets of a request at `now`. `log` is the timeline in order; `received_at` is when
/// CAU received the request. Entries after `now` are ignored.
pub fn evaluate(
    calendar: &Calendar,
    received_at: Timestamp,
    log: &[LogEntry],
    targets: Targets,
    now: Timestamp,
) -> Result<Vec<TargetLevel>, ServiceLevelError> {
    for (target, minutes) in [
        (Target::Response, targets.response_minutes),
        (Target::Resolution, targets.resolution_minutes),
    ] {
        if minutes <= 0 {
            return Err(ServiceLevelError::NonPositiveTarget(target));
        }
    }
    let start = calendar.next_opening(received_at).unwrap_or(received_at);
    let log: Vec<LogEntry> = log.iter().copied().filter(|e| e.at <= now).collect();

    // Intervals in a pausing status, for both clocks.
    let mut common_pauses: Vec<(Timestamp, Option<Timestamp>)> = Vec::new();
    // Intervals in a stopping status, for the resolution clock.
    let mut stops: Vec<(Timestamp, Option<Timestamp>)> = Vec::new();
    for entry in &log {
        let Some(to) = entry.to_status else { continue };
        close_open(&mut common_pauses, entry.at, pauses_clocks(to));
        close_open(&mut stops, entry.at, stops_resolution(to));
    }

    // Closing or cancelling without any action also stops the response clock.
    let first_action = log
        .iter()
        .find(|e| {
            e.step.is_some_and(is_first_action)
                || matches!(e.to_status, Some(Status::Closed | Status::Cancelled))
        })
        .map(|e| e.at);
    let response = level(
        calendar,
        Target::Response,
        targets.response_minutes,
        start,
        common_pauses.clone(),
        first_action,
        now,
    );

    // The last stop, when still open, ends the resolution clock; earlier ones are pauses.
    let final_stop = match stops.last() {
        Some(&(at, None)) => {
            stops.pop();
            Some(at)
        }
        _ => None,
    };
    let mut resolution_pauses = common_pauses;
    resolution_pauses.extend(stops);
    resolution_pauses.sort_by_key(|p| p.0);
    let resolution = level(
        calendar,
        Target::Resolution,
        targets.resolution_minutes,
        start,
        resolution_pauses,
        final_stop,
        now,
    );
    Ok(vec![response, resolution])
}

/// Opens an interval when `inside` starts, closes the open one when it ends.
fn close_open(intervals: &mut Vec<(Timestamp, Option<Timestamp>)>, at: Timestamp, inside: bool) {
    let open = intervals.last().is_some_and(|last| last.1.is_none());
    match (open, inside) {
        (false, true) => intervals.push((at, None)),
        (true, false) => {
            if let Some(last) = intervals.last_mut() {
                last.1 = Some(at);
            }
        }
        _ => {}
    }
}

fn level(
    calendar: &Calendar,
    target: Target,
    minutes: i64,
    start: Timestamp,
    pauses: Vec<(Timestamp, Option<Timestamp>)>,
    stopped_at: Option<Timestamp>,
    now: Timestamp,
) -> TargetLevel {
    let target_seconds = minutes.saturating_mul(60);
    let duration = SignedDuration::from_secs(target_seconds);
    let end = stopped_at.map_or(now, |s| s.min(now)).max(start);
    let elapsed = counted_between(calendar, start, end, &pauses);
    // A clock stopped for good is judged against the deadline it had with the pauses it
    // went through; an open pause before the stop cannot exist (the stop closed it).
    let deadline = calendar.add_business_with_pauses(start, duration, &pauses);
    let elapsed_seconds = elapsed.as_secs();
    let remaining_seconds = target_seconds - elapsed_seconds;
    let paused_now = pauses.last().is_some_and(|p| p.1.is_none());
    let state = match (stopped_at, deadline) {
        (Some(stop), Some(d)) if stop <= d => State::Met,
        (Some(_), _) => State::Breached,
        (None, Some(d)) if d <= now => State::Breached,
        (None, _) if remaining_seconds <= 0 => State::Breached,
        (None, _) if paused_now => State::Paused,
        (None, _) => State::Running,
    };
    let share = if target_seconds > 0 {
        elapsed_seconds as f64 / target_seconds as f64
    } else {
        0.0
    };
    TargetLevel {
        target,
        target_seconds,
        start,
        deadline,
        stopped_at,
        elapsed_seconds,
        remaining_seconds,
        share,
        state,
        pauses,
    }
}

/// Open time in `[a, b)` that lies outside every pause.
fn counted_between(
    calendar: &Calendar,
    a: Timestamp,
    b: Timestamp,
    pauses: &[(Timestamp, Option<Timestamp>)],
) -> SignedDuration {
    let mut total = calendar.business_between(a, b);
    let mut covered_until = a;
    for &(from, until) in pauses {
        let from = from.max(covered_until);
        let to = until.unwrap_or(b).min(b);
        if to > from {
            total -= calendar.business_between(from, to);
            covered_until = to;
        }
    }
    total
}

#[cfg(test)]
mod tests;
