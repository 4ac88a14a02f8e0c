//! Arithmetic on open time: is it open, when does it open next, when is a deadline,
//! how much open time lies between two instants, and how a deadline was reached.
//!
//! Conventions (shared by every function here so they agree with each other):
//! - Open time is a union of half-open spans `[opening, closing)` of instants. An
//!   instant at a closing time is closed; at an opening time it is open.
//! - [`Calendar::add_business`] returns the *earliest* instant at which `duration`
//!   of open time has elapsed. So a duration that runs out exactly at a closing
//!   time ends *at* that closing instant (Friday 18:00 + 2 h = Friday 20:00, not
//!   Monday 08:00), and `business_between(start, add_business(start, d)) == d`.
//! - A zero duration returns the start unchanged, even in closed time.
//! - A negative duration returns `None`: a deadline before the request makes no sense.
//! - Searches forward are bounded by [`SEARCH_HORIZON_DAYS`] local days after the
//!   start's local date; past that they give `None`.
//! - Each local date's spans come from its wall-clock intervals converted through
//!   the tz database, so a day with a clock change has its true length.
//!
//! Work is done one local day at a time, so 400 business hours is a few dozen
//! iterations, never a loop over seconds.

use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp, Zoned};
use serde::Serialize;

use super::{Calendar, DayRule, ExceptionKind, OpenInterval, weekday_name};

/// How many local days past the start a forward search looks (10 years) before
/// giving up with `None`. Only a calendar whose exceptions close a decade
/// (impossible with ranges of at most a year unless stacked) or a duration of
/// many years reach it.
pub const SEARCH_HORIZON_DAYS: i32 = 3_653;

/// How a deadline was reached, in order, for showing to users.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    pub start: Timestamp,
    pub deadline: Timestamp,
    /// Business time asked for.
    pub requested_seconds: i64,
    /// Business time that fell inside pauses and so did not count.
    pub paused_seconds: i64,
    /// IANA zone the local dates and times refer to.
    pub zone: String,
    pub segments: Vec<Segment>,
}

/// One step of an [`Explanation`]. `seconds` are whole seconds (any fraction is
/// truncated; `from`/`to` stay exact).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "segment", rename_all = "snake_case")]
pub enum Segment {
    /// Open time that counted toward the deadline.
    Open {
        date: Date,
        from: Zoned,
        to: Zoned,
        seconds: i64,
        /// Name of the special-hours exception that set this day's hours, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        special_hours: Option<String>,
    },
    /// Open time that did not count because the request was paused.
    Paused {
        date: Date,
        from: Zoned,
        to: Zoned,
        seconds: i64,
    },
    /// A whole local day without open time that was skipped.
    Closed { date: Date, reason: ClosedReason },
}

/// Why a whole day is closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ClosedReason {
    /// The weekly hours have no interval on this weekday (e.g. the weekend).
    WeeklyRest { weekday: &'static str },
    /// A dated exception closes the day (or gives it empty special hours).
    Exception { name: String, kind: ExceptionKind },
}

/// One local day's open spans as instants, sorted and disjoint.
struct DayPlan<'a> {
    date: Date,
    spans: Vec<(Timestamp, Timestamp)>,
    /// Set when `spans` is empty.
    closed: Option<ClosedReason>,
    /// Name of the special-hours exception ruling the day.
    special: Option<&'a str>,
}

/// A pause clipped to the start: `end == None` means it has not ended.
#[derive(Clone, Copy, Debug)]
struct Pause {
    start: Timestamp,
    end: Option<Timestamp>,
}

/// Running state of a forward walk; `log` is only kept when explaining.
struct Walk {
    remaining: SignedDuration,
    paused: SignedDuration,
    log: Option<Vec<Segment>>,
}

impl Calendar {
    /// True when `t` is inside open time (closing instants are closed).
    pub fn is_open(&self, t: Timestamp) -> bool {
        let plan = self.day_plan(self.local_date(t));
        plan.spans.iter().any(|&(s, e)| s <= t && t < e)
    }

    /// The first open instant at or after `t` (`t` itself if open), or `None`
    /// if there is none within [`SEARCH_HORIZON_DAYS`].
    pub fn next_opening(&self, t: Timestamp) -> Option<Timestamp> {
        let mut date = self.local_date(t);
        for _ in 0..=SEARCH_HORIZON_DAYS {
            let plan = self.day_plan(date);
            if let Some(&(s, _)) = plan.spans.iter().find(|&&(_, e)| e > t) {
                return Some(s.max(t));
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// Why the local `date` is closed all day, or `None` if it has open time.
    pub fn day_closure(&self, date: Date) -> Option<ClosedReason> {
        self.day_plan(date).closed
    }

    /// The earliest instant at which `duration` of open time has elapsed after
    /// `start` (see the module conventions: closing-boundary results, zero returns
    /// `start`, negative gives `None`, bounded search).
    pub fn add_business(&self, start: Timestamp, duration: SignedDuration) -> Option<Timestamp> {
        self.walk(start, duration, &[], false)
            .map(|(deadline, _)| deadline)
    }

    /// Like [`Calendar::add_business`], but open time inside a pause does not
    /// count: pauses are measured on this same calendar, so a pause over a weekend
    /// costs nothing and a pause of 3 business hours moves the deadline 3 business
    /// hours later.
    ///
    /// Each pause is `(from, until)`; `until == None` means still paused. If the
    /// clock is still stopped when the deadline would be reached, there is no
    /// deadline (`None`); an open pause that starts after the deadline changes
    /// nothing. Parts of pauses before `start` are ignored, overlapping pauses are
    /// merged, and a pause that ends before it starts is ignored.
    pub fn add_business_with_pauses(
        &self,
        start: Timestamp,
        duration: SignedDuration,
        pauses: &[(Timestamp, Option<Timestamp>)],
    ) -> Option<Timestamp> {
        self.walk(start, duration, pauses, false)
            .map(|(deadline, _)| deadline)
    }

    /// The deadline of [`Calendar::add_business`] with the steps that led to it.
    pub fn explain_add(&self, start: Timestamp, duration: SignedDuration) -> Option<Explanation> {
        self.explain_add_with_pauses(start, duration, &[])
    }

    /// The deadline of [`Calendar::add_business_with_pauses`] with its steps,
    /// including the paused open time.
    pub fn explain_add_with_pauses(
        &self,
        start: Timestamp,
        duration: SignedDuration,
        pauses: &[(Timestamp, Option<Timestamp>)],
    ) -> Option<Explanation> {
        let (deadline, walk) = self.walk(start, duration, pauses, true)?;
        Some(Explanation {
            start,
            deadline,
            requested_seconds: duration.as_secs(),
            paused_seconds: walk.paused.as_secs(),
            zone: self.zone_name.clone(),
            segments: walk.log.unwrap_or_default(),
        })
    }

    /// Open time in `[a, b)`; zero when `b <= a`.
    pub fn business_between(&self, a: Timestamp, b: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        if b <= a {
            return total;
        }
        let last = self.local_date(b);
        let mut date = self.local_date(a);
        while date <= last {
            for (s, e) in self.day_plan(date).spans {
                let from = s.max(a);
                let to = e.min(b);
                if to > from {
                    total += to.duration_since(from);
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }

    /// The single forward walk behind every deadline function, so that adding,
    /// pausing and explaining cannot disagree. Returns the deadline and the walk's
    /// final state (with its log when `explain`).
    fn walk(
        &self,
        start: Timestamp,
        duration: SignedDuration,
        pauses: &[(Timestamp, Option<Timestamp>)],
        explain: bool,
    ) -> Option<(Timestamp, Walk)> {
        let mut walk = Walk {
            remaining: duration,
            paused: SignedDuration::ZERO,
            log: explain.then(Vec::new),
        };
        if duration.is_negative() {
            return None;
        }
        if duration.is_zero() {
            return Some((start, walk));
        }
        let pauses = normalize_pauses(start, pauses);
        let mut date = self.local_date(start);
        for _ in 0..=SEARCH_HORIZON_DAYS {
            let plan = self.day_plan(date);
            if let Some(reason) = &plan.closed {
                walk.push(|| Segment::Closed {
                    date,
                    reason: reason.clone(),
                });
            }
            for &(span_start, span_end) in &plan.spans {
                let from = span_start.max(start);
                if span_end <= from {
                    continue;
                }
                if let Some(deadline) = self.walk_span(&plan, from, span_end, &pauses, &mut walk)? {
                    return Some((deadline, walk));
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// Consumes the open span `[from, to)` minus pauses. `Some(Some(t))`: the
    /// deadline `t` was reached; `Some(None)`: keep walking; `None`: the clock is
    /// stopped by a pause that never ends.
    fn walk_span(
        &self,
        plan: &DayPlan<'_>,
        from: Timestamp,
        to: Timestamp,
        pauses: &[Pause],
        walk: &mut Walk,
    ) -> Option<Option<Timestamp>> {
        let mut cursor = from;
        for pause in pauses {
            if pause.end.is_some_and(|end| end <= cursor) {
                continue;
            }
            if pause.start >= to {
                break;
            }
            if pause.start > cursor {
                if let Some(deadline) = self.count(plan, cursor, pause.start, walk) {
                    return Some(Some(deadline));
                }
                cursor = pause.start;
            }
            // Open time remains to count and a pause that never ends covers the
            // rest of time: the clock is stopped, there is no deadline.
            let pause_end = pause.end?;
            let paused_to = pause_end.min(to);
            let length = paused_to.duration_since(cursor);
            walk.paused += length;
            walk.push(|| Segment::Paused {
                date: plan.date,
                from: cursor.to_zoned(self.zone.clone()),
                to: paused_to.to_zoned(self.zone.clone()),
                seconds: length.as_secs(),
            });
            cursor = paused_to;
            if cursor >= to {
                return Some(None);
            }
        }
        Some(self.count(plan, cursor, to, walk))
    }

    /// Counts the unpaused open piece `[from, to)`; returns the deadline if it
    /// falls inside the piece or at its end.
    fn count(
        &self,
        plan: &DayPlan<'_>,
        from: Timestamp,
        to: Timestamp,
        walk: &mut Walk,
    ) -> Option<Timestamp> {
        let length = to.duration_since(from);
        let (end, done) = if walk.remaining <= length {
            // Adding less than the piece's length to `from` stays below `to`,
            // which is a valid instant, so this cannot overflow.
            (from.checked_add(walk.remaining).unwrap_or(to), true)
        } else {
            (to, false)
        };
        let counted = end.duration_since(from);
        walk.remaining -= counted;
        walk.push(|| Segment::Open {
            date: plan.date,
            from: from.to_zoned(self.zone.clone()),
            to: end.to_zoned(self.zone.clone()),
            seconds: counted.as_secs(),
            special_hours: plan.special.map(str::to_owned),
        });
        done.then_some(end)
    }

    /// Local date of an instant in the calendar's zone.
    fn local_date(&self, t: Timestamp) -> Date {
        self.zone.to_datetime(t).date()
    }

    /// Instant of a local wall-clock time; a time skipped by a clock change maps
    /// forward and a repeated one to its first occurrence (jiff's "compatible").
    fn instant(&self, date: Date, time: Time) -> Option<Timestamp> {
        self.zone.to_timestamp(date.to_datetime(time)).ok()
    }

    /// The open spans of one local date, after exceptions.
    fn day_plan(&self, date: Date) -> DayPlan<'_> {
        let weekly_rest = || ClosedReason::WeeklyRest {
            weekday: weekday_name(date.weekday()),
        };
        let exception_reason = |index: usize| {
            let exception = &self.exceptions[index];
            ClosedReason::Exception {
                name: exception.name.clone(),
                kind: exception.kind.clone(),
            }
        };
        let (intervals, special, fallback): (&[OpenInterval], Option<&str>, ClosedReason) =
            match self.by_date.get(&date) {
                Some(&DayRule::Closed(index)) => {
                    return DayPlan {
                        date,
                        spans: Vec::new(),
                        closed: Some(exception_reason(index)),
                        special: None,
                    };
                }
                Some(&DayRule::Special(index)) => {
                    let exception = &self.exceptions[index];
                    let hours: &[OpenInterval] = match &exception.kind {
                        ExceptionKind::SpecialHours(hours) => hours,
                        _ => &[],
                    };
                    (
                        hours,
                        Some(exception.name.as_str()),
                        exception_reason(index),
                    )
                }
                None => (self.weekly.day(date.weekday()), None, weekly_rest()),
            };
        let spans = self.spans(date, intervals);
        let closed = spans.is_empty().then_some(fallback);
        DayPlan {
            date,
            spans,
            closed,
            special,
        }
    }

    /// Converts a day's sorted wall-clock intervals to instants, clamped to the
    /// day and to each other so the spans stay ordered and disjoint even when a
    /// clock change squeezes or repeats part of the day.
    fn spans(&self, date: Date, intervals: &[OpenInterval]) -> Vec<(Timestamp, Timestamp)> {
        let mut spans = Vec::with_capacity(intervals.len());
        if intervals.is_empty() {
            return spans;
        }
        let Some(day_start) = self.instant(date, Time::midnight()) else {
            return spans;
        };
        let Some(next_day_start) = date
            .tomorrow()
            .ok()
            .and_then(|next| self.instant(next, Time::midnight()))
        else {
            return spans;
        };
        let mut floor = day_start;
        for interval in intervals {
            let Some(start) = self.instant(date, interval.start) else {
                continue;
            };
            let end = if interval.ends_at_midnight() {
                next_day_start
            } else {
                match self.instant(date, interval.end) {
                    Some(end) => end.min(next_day_start),
                    None => continue,
                }
            };
            let start = start.max(floor);
            if end > start {
                spans.push((start, end));
                floor = end;
            }
        }
        spans
    }
}

impl Walk {
    /// Records a segment when explaining; builds it lazily otherwise.
    fn push(&mut self, segment: impl FnOnce() -> Segment) {
        if let Some(log) = &mut self.log {
            log.push(segment());
        }
    }
}

/// Clips pauses to `start`, drops empty ones, sorts and merges overlaps so open
/// time inside two overlapping pauses is not subtracted twice.
fn normalize_pauses(start: Timestamp, pauses: &[(Timestamp, Option<Timestamp>)]) -> Vec<Pause> {
    let mut clipped: Vec<Pause> = pauses
        .iter()
        .filter_map(|&(from, until)| {
            let from = from.max(start);
            match until {
                Some(until) if until <= from => None,
                _ => Some(Pause {
                    start: from,
                    end: until,
                }),
            }
        })
        .collect();
    clipped.sort_by_key(|p| p.start);
    let mut merged: Vec<Pause> = Vec::with_capacity(clipped.len());
    for pause in clipped {
        match merged.last_mut() {
            Some(last) if last.end.is_none_or(|end| pause.start <= end) => {
                last.end = match (last.end, pause.end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push(pause),
        }
    }
    merged
}

#[cfg(test)]
#[path = "business_tests.rs"]
mod tests;
