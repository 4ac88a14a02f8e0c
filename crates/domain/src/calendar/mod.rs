//! Business-hours calendar: when the service desk is open, exact to the second.
//!
//! A [`Calendar`] is one time zone, weekly open intervals per weekday, and dated
//! exceptions (law holidays, institutional days, vacations, optional days and
//! special hours). It is data the administrator edits (L3, L4): nothing here
//! hard-codes a holiday; [`law_rest_days`] and [`ipn_institutional_days`] only
//! *generate suggestions* from rules.
//!
//! All local-time reasoning goes through the tz database via `jiff` (never a fixed
//! offset), so the same code stays right if a zone changes its rules.
//!
//! Submodules: `business` (arithmetic on open time: deadlines, measuring, pauses,
//! explanations), `rest_days` (rule-generated days), `ics` (iCalendar export and
//! import of exceptions).

mod business;
mod error;
mod ics;
mod rest_days;

pub use business::{ClosedReason, Explanation, SEARCH_HORIZON_DAYS, Segment};
pub use error::CalendarError;
pub use ics::exceptions_from_ics;
pub use rest_days::{easter_sunday, ipn_institutional_days, law_rest_days};

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// The institution's zone (L3).
pub const IPN_ZONE: &str = "America/Mexico_City";

/// Longest accepted exception, in days. A longer range is almost surely a typo in a
/// year, and refusing it also bounds the per-day index built at construction.
pub const MAX_EXCEPTION_DAYS: i64 = 366;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;

// ---------------------------------------------------------------------------
// Open intervals
// ---------------------------------------------------------------------------

/// One open interval of a day, `[start, end)` in local wall-clock time.
///
/// `end == 00:00` means **24:00**, the midnight that ends the day (a `civil::Time`
/// cannot hold 24:00). It is written and read as `"24:00"` in JSON. An interval is
/// only checked when a [`Calendar`] is built, so the error can name its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "IntervalSpec", into = "IntervalSpec")]
pub struct OpenInterval {
    pub start: Time,
    /// Closing time; `00:00` stands for 24:00 (end of the day).
    pub end: Time,
}

impl OpenInterval {
    /// An interval from two wall-clock times; pass `Time::midnight()` as `end` for 24:00.
    pub const fn new(start: Time, end: Time) -> Self {
        Self { start, end }
    }

    /// Reads `"08:00"`/`"20:00"` (or `HH:MM:SS`); `end` may be `"24:00"`.
    pub fn parse(start: &str, end: &str) -> Result<Self, CalendarError> {
        Ok(Self {
            start: parse_time(start, false).ok_or_else(|| CalendarError::InvalidTime {
                field: "start".to_owned(),
                value: start.to_owned(),
            })?,
            end: parse_time(end, true).ok_or_else(|| CalendarError::InvalidTime {
                field: "end".to_owned(),
                value: end.to_owned(),
            })?,
        })
    }

    /// True when the interval runs until the end of the day (24:00).
    pub fn ends_at_midnight(&self) -> bool {
        self.end == Time::midnight()
    }

    /// Nominal length on a day without clock changes.
    pub fn nominal_length(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_nanos(self.end_nanos() - self.start_nanos())
    }

    /// Start as nanoseconds since local midnight.
    fn start_nanos(&self) -> i64 {
        time_nanos(self.start)
    }

    /// End as nanoseconds since local midnight, 24:00 being a whole day.
    fn end_nanos(&self) -> i64 {
        if self.ends_at_midnight() {
            NANOS_PER_DAY
        } else {
            time_nanos(self.end)
        }
    }
}

impl fmt::Display for OpenInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}–{}",
            format_time(self.start, false),
            format_time(self.end, true)
        )
    }
}

/// The JSON shape of an interval: `{"start":"08:00","end":"20:00"}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntervalSpec {
    start: String,
    end: String,
}

impl TryFrom<IntervalSpec> for OpenInterval {
    type Error = CalendarError;

    fn try_from(spec: IntervalSpec) -> Result<Self, Self::Error> {
        OpenInterval::parse(&spec.start, &spec.end)
    }
}

impl From<OpenInterval> for IntervalSpec {
    fn from(interval: OpenInterval) -> Self {
        Self {
            start: format_time(interval.start, false),
            end: format_time(interval.end, true),
        }
    }
}

fn time_nanos(t: Time) -> i64 {
    (i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second()))
        * NANOS_PER_SECOND
        + i64::from(t.subsec_nanosecond())
}

/// `HH:MM`, or `HH:MM:SS` when seconds matter; midnight as an end is `24:00`.
fn format_time(t: Time, as_end: bool) -> String {
    if as_end && t == Time::midnight() {
        return "24:00".to_owned();
    }
    if t.second() == 0 {
        format!("{:02}:{:02}", t.hour(), t.minute())
    } else {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

/// Reads `H:MM`, `HH:MM` or `HH:MM:SS`. `24:00[:00]` is accepted only as an end and
/// becomes `00:00` (see [`OpenInterval`]). Written by hand because 24:00 is not a
/// `civil::Time` and the accepted shapes should be exactly the documented ones.
fn parse_time(text: &str, as_end: bool) -> Option<Time> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let number = |part: &str, max_len: usize| -> Option<i8> {
        let ok =
            !part.is_empty() && part.len() <= max_len && part.bytes().all(|b| b.is_ascii_digit());
        if ok { part.parse().ok() } else { None }
    };
    let hour = number(parts[0], 2)?;
    let minute = if parts[1].len() == 2 {
        number(parts[1], 2)?
    } else {
        return None;
    };
    let second = match parts.get(2) {
        Some(s) if s.len() == 2 => number(s, 2)?,
        Some(_) => return None,
        None => 0,
    };
    if hour == 24 && minute == 0 && second == 0 {
        return as_end.then(Time::midnight);
    }
    Time::new(hour, minute, second, 0).ok()
}

// ---------------------------------------------------------------------------
// Weekly hours
// ---------------------------------------------------------------------------

/// Open intervals for each weekday. A missing day in JSON means closed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeeklyHours {
    pub monday: Vec<OpenInterval>,
    pub tuesday: Vec<OpenInterval>,
    pub wednesday: Vec<OpenInterval>,
    pub thursday: Vec<OpenInterval>,
    pub friday: Vec<OpenInterval>,
    pub saturday: Vec<OpenInterval>,
    pub sunday: Vec<OpenInterval>,
}

impl WeeklyHours {
    /// The same intervals Monday to Friday, weekends closed.
    pub fn weekdays(intervals: &[OpenInterval]) -> Self {
        Self {
            monday: intervals.to_vec(),
            tuesday: intervals.to_vec(),
            wednesday: intervals.to_vec(),
            thursday: intervals.to_vec(),
            friday: intervals.to_vec(),
            saturday: Vec::new(),
            sunday: Vec::new(),
        }
    }

    /// Intervals of one weekday.
    pub fn day(&self, weekday: Weekday) -> &[OpenInterval] {
        match weekday {
            Weekday::Monday => &self.monday,
            Weekday::Tuesday => &self.tuesday,
            Weekday::Wednesday => &self.wednesday,
            Weekday::Thursday => &self.thursday,
            Weekday::Friday => &self.friday,
            Weekday::Saturday => &self.saturday,
            Weekday::Sunday => &self.sunday,
        }
    }

    /// Mutable intervals of one weekday (for building a spec).
    pub fn day_mut(&mut self, weekday: Weekday) -> &mut Vec<OpenInterval> {
        match weekday {
            Weekday::Monday => &mut self.monday,
            Weekday::Tuesday => &mut self.tuesday,
            Weekday::Wednesday => &mut self.wednesday,
            Weekday::Thursday => &mut self.thursday,
            Weekday::Friday => &mut self.friday,
            Weekday::Saturday => &mut self.saturday,
            Weekday::Sunday => &mut self.sunday,
        }
    }
}

/// English lowercase weekday name, as used for JSON field names.
fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

const ALL_WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

// ---------------------------------------------------------------------------
// Dated exceptions
// ---------------------------------------------------------------------------

/// What a dated exception does to its days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Rest day of the federal labour law (art. 74): closes the day.
    LawHoliday,
    /// Day the institution does not work (e.g. Good Friday, 15 May): closes the day.
    Institutional,
    /// Vacation period: closes the day.
    Vacation,
    /// Informational only (e.g. a civic date): does **not** close the day.
    Optional,
    /// Replaces the day's weekly intervals with these (empty = closed).
    SpecialHours(Vec<OpenInterval>),
}

impl ExceptionKind {
    /// Stable snake_case name, used in JSON and as the iCalendar category.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LawHoliday => "law_holiday",
            Self::Institutional => "institutional",
            Self::Vacation => "vacation",
            Self::Optional => "optional",
            Self::SpecialHours(_) => "special_hours",
        }
    }

    /// Spanish label for explanations shown to users.
    pub fn label_es(&self) -> &'static str {
        match self {
            Self::LawHoliday => "día de descanso obligatorio",
            Self::Institutional => "día inhábil institucional",
            Self::Vacation => "periodo vacacional",
            Self::Optional => "fecha informativa",
            Self::SpecialHours(_) => "horario especial",
        }
    }

    /// True when the kind closes the whole day.
    pub fn closes_day(&self) -> bool {
        matches!(
            self,
            Self::LawHoliday | Self::Institutional | Self::Vacation
        )
    }

    /// Which closing exception names a day closed by several (lower wins): the law
    /// day is the most specific reason to show, a vacation the least.
    fn closing_rank(&self) -> u8 {
        match self {
            Self::LawHoliday => 0,
            Self::Institutional => 1,
            _ => 2,
        }
    }
}

/// A named exception over an inclusive range of local dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ExceptionSpec", into = "ExceptionSpec")]
pub struct DatedException {
    /// First day (inclusive).
    pub start: Date,
    /// Last day (inclusive); equal to `start` for a single day.
    pub end: Date,
    pub kind: ExceptionKind,
    pub name: String,
}

impl DatedException {
    /// A one-day exception.
    pub fn day(date: Date, kind: ExceptionKind, name: impl Into<String>) -> Self {
        Self::range(date, date, kind, name)
    }

    /// An exception from `start` to `end`, both inclusive.
    pub fn range(start: Date, end: Date, kind: ExceptionKind, name: impl Into<String>) -> Self {
        Self {
            start,
            end,
            kind,
            name: name.into(),
        }
    }

    /// True when `date` is inside the range.
    pub fn covers(&self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }
}

/// The JSON shape of an exception:
/// `{"start":"2026-03-16","end":"2026-03-16","kind":"law_holiday","name":"…"}`,
/// plus `"hours":[…]` for `special_hours`. `end` defaults to `start`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionSpec {
    start: Date,
    #[serde(default)]
    end: Option<Date>,
    kind: KindCode,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hours: Option<Vec<OpenInterval>>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindCode {
    LawHoliday,
    Institutional,
    Vacation,
    Optional,
    SpecialHours,
}

impl TryFrom<ExceptionSpec> for DatedException {
    type Error = CalendarError;

    fn try_from(spec: ExceptionSpec) -> Result<Self, Self::Error> {
        let field = || "hours".to_owned();
        let kind = match (spec.kind, spec.hours) {
            (KindCode::SpecialHours, Some(hours)) => ExceptionKind::SpecialHours(hours),
            (KindCode::SpecialHours, None) => {
                return Err(CalendarError::SpecialHoursMissing { field: field() });
            }
            (_, Some(_)) => return Err(CalendarError::HoursNotAllowed { field: field() }),
            (KindCode::LawHoliday, None) => ExceptionKind::LawHoliday,
            (KindCode::Institutional, None) => ExceptionKind::Institutional,
            (KindCode::Vacation, None) => ExceptionKind::Vacation,
            (KindCode::Optional, None) => ExceptionKind::Optional,
        };
        Ok(Self {
            start: spec.start,
            end: spec.end.unwrap_or(spec.start),
            kind,
            name: spec.name,
        })
    }
}

impl From<DatedException> for ExceptionSpec {
    fn from(exception: DatedException) -> Self {
        let (kind, hours) = match exception.kind {
            ExceptionKind::LawHoliday => (KindCode::LawHoliday, None),
            ExceptionKind::Institutional => (KindCode::Institutional, None),
            ExceptionKind::Vacation => (KindCode::Vacation, None),
            ExceptionKind::Optional => (KindCode::Optional, None),
            ExceptionKind::SpecialHours(hours) => (KindCode::SpecialHours, Some(hours)),
        };
        Self {
            start: exception.start,
            end: Some(exception.end),
            kind,
            name: exception.name,
            hours,
        }
    }
}

// ---------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------

/// The unvalidated, plain-data form of a calendar: what an admin API accepts and
/// what [`Calendar`] serializes to.
///
/// ```json
/// {"zone":"America/Mexico_City",
///  "weekly":{"monday":[{"start":"08:00","end":"20:00"}], "...": []},
///  "exceptions":[{"start":"2026-03-16","end":"2026-03-16","kind":"law_holiday","name":"…"}]}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// IANA zone name, e.g. `America/Mexico_City`.
    pub zone: String,
    pub weekly: WeeklyHours,
    #[serde(default)]
    pub exceptions: Vec<DatedException>,
}

impl CalendarSpec {
    /// The institution's hours (L3): America/Mexico_City, Monday–Friday 08:00–20:00,
    /// no exceptions (those are data, added by the administrator).
    pub fn ipn_default() -> Self {
        let hours = OpenInterval::new(Time::constant(8, 0, 0, 0), Time::constant(20, 0, 0, 0));
        Self {
            zone: IPN_ZONE.to_owned(),
            weekly: WeeklyHours::weekdays(&[hours]),
            exceptions: Vec::new(),
        }
    }
}

/// A validated business-hours calendar. Build it with [`Calendar::new`] (or
/// `TryFrom<CalendarSpec>`, which deserialization goes through), so every
/// `Calendar` value has a known zone, well-formed intervals and some open time.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "CalendarSpec", into = "CalendarSpec")]
pub struct Calendar {
    zone_name: String,
    zone: TimeZone,
    /// Each day's intervals sorted by start.
    weekly: WeeklyHours,
    exceptions: Vec<DatedException>,
    /// Derived index: what overrides the weekly hours on a date.
    by_date: BTreeMap<Date, DayRule>,
}

/// What overrides the weekly hours on one date; the `usize` indexes `exceptions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DayRule {
    Closed(usize),
    Special(usize),
}

impl PartialEq for Calendar {
    fn eq(&self, other: &Self) -> bool {
        // `by_date` and `zone` are derived from the other fields.
        self.zone_name == other.zone_name
            && self.weekly == other.weekly
            && self.exceptions == other.exceptions
    }
}

impl Eq for Calendar {}

impl TryFrom<CalendarSpec> for Calendar {
    type Error = CalendarError;

    fn try_from(spec: CalendarSpec) -> Result<Self, Self::Error> {
        Calendar::new(spec)
    }
}

impl From<Calendar> for CalendarSpec {
    fn from(calendar: Calendar) -> Self {
        calendar.to_spec()
    }
}

impl Calendar {
    /// Validates `spec` and builds the calendar.
    ///
    /// Refuses: an unknown zone; an interval whose end is not after its start; two
    /// overlapping intervals in a day (touching is fine); a week without open time;
    /// an exception with an empty name, an end before its start or longer than
    /// [`MAX_EXCEPTION_DAYS`]; special hours with bad intervals; two special-hours
    /// exceptions on the same date. Overlapping closing exceptions are allowed
    /// (Good Friday inside the Easter vacation), and a closing exception wins over
    /// special hours on the same date.
    pub fn new(spec: CalendarSpec) -> Result<Self, CalendarError> {
        let zone = TimeZone::get(spec.zone.trim()).map_err(|_| CalendarError::UnknownZone {
            name: spec.zone.clone(),
        })?;
        // Keep the canonical spelling when the tz database gives one.
        let zone_name = zone
            .iana_name()
            .map_or_else(|| spec.zone.trim().to_owned(), str::to_owned);

        let mut weekly = spec.weekly;
        for weekday in ALL_WEEKDAYS {
            let field = format!("weekly.{}", weekday_name(weekday));
            validate_intervals(weekly.day_mut(weekday), &field)?;
        }
        if ALL_WEEKDAYS.iter().all(|&w| weekly.day(w).is_empty()) {
            return Err(CalendarError::NoOpenTime);
        }

        let mut exceptions = spec.exceptions;
        let mut by_date: BTreeMap<Date, DayRule> = BTreeMap::new();
        for index in 0..exceptions.len() {
            let field = format!("exceptions[{index}]");
            validate_exception(&mut exceptions[index], &field)?;
            index_exception(&exceptions, index, &field, &mut by_date)?;
        }

        Ok(Self {
            zone_name,
            zone,
            weekly,
            exceptions,
            by_date,
        })
    }

    /// The institution's calendar without exceptions (L3). Fails only if the tz
    /// database lacks America/Mexico_City.
    pub fn ipn_default() -> Result<Self, CalendarError> {
        Self::new(CalendarSpec::ipn_default())
    }

    /// A copy with more exceptions appended, validated again.
    pub fn with_exceptions(
        &self,
        more: impl IntoIterator<Item = DatedException>,
    ) -> Result<Self, CalendarError> {
        let mut spec = self.to_spec();
        spec.exceptions.extend(more);
        Self::new(spec)
    }

    /// The plain-data form (what serialization writes).
    pub fn to_spec(&self) -> CalendarSpec {
        CalendarSpec {
            zone: self.zone_name.clone(),
            weekly: self.weekly.clone(),
            exceptions: self.exceptions.clone(),
        }
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// IANA name of the zone, as stored.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// Weekly intervals, each day sorted by start.
    pub fn weekly(&self) -> &WeeklyHours {
        &self.weekly
    }

    pub fn exceptions(&self) -> &[DatedException] {
        &self.exceptions
    }

    /// The exceptions that cover `date`, including informational ones.
    pub fn exceptions_on(&self, date: Date) -> impl Iterator<Item = &DatedException> {
        self.exceptions.iter().filter(move |e| e.covers(date))
    }
}

/// Sorts a day's intervals and checks each one and their pairwise overlap.
fn validate_intervals(intervals: &mut [OpenInterval], field: &str) -> Result<(), CalendarError> {
    for (i, interval) in intervals.iter().enumerate() {
        let item = format!("{field}[{i}]");
        // Sub-second bounds cannot be written back in the HH:MM:SS shape.
        for (name, t) in [("start", interval.start), ("end", interval.end)] {
            if t.subsec_nanosecond() != 0 {
                return Err(CalendarError::InvalidTime {
                    field: format!("{item}.{name}"),
                    value: t.to_string(),
                });
            }
        }
        if interval.end_nanos() <= interval.start_nanos() {
            return Err(CalendarError::IntervalNotIncreasing {
                field: item,
                interval: interval.to_string(),
            });
        }
    }
    intervals.sort_by_key(OpenInterval::start_nanos);
    for pair in intervals.windows(2) {
        if pair[0].end_nanos() > pair[1].start_nanos() {
            return Err(CalendarError::OverlappingIntervals {
                field: field.to_owned(),
                first: pair[0].to_string(),
                second: pair[1].to_string(),
            });
        }
    }
    Ok(())
}

fn validate_exception(exception: &mut DatedException, field: &str) -> Result<(), CalendarError> {
    if exception.name.trim().is_empty() {
        return Err(CalendarError::ExceptionNameEmpty {
            field: field.to_owned(),
        });
    }
    // The last representable date is refused too: the iCalendar export needs the
    // day after the end (DTEND is exclusive).
    if exception.end < exception.start || exception.end == Date::MAX {
        return Err(CalendarError::ExceptionRangeInvalid {
            field: field.to_owned(),
            start: exception.start,
            end: exception.end,
        });
    }
    let days = day_count(exception.start, exception.end);
    if days > MAX_EXCEPTION_DAYS {
        return Err(CalendarError::ExceptionTooLong {
            field: field.to_owned(),
            days,
            max: MAX_EXCEPTION_DAYS,
        });
    }
    if let ExceptionKind::SpecialHours(hours) = &mut exception.kind {
        validate_intervals(hours, &format!("{field}.hours"))?;
    }
    Ok(())
}

/// Number of days in the inclusive range (1 for a single day).
fn day_count(start: Date, end: Date) -> i64 {
    start.duration_until(end).as_hours() / 24 + 1
}

/// Records which exception rules each date of `exceptions[index]`.
fn index_exception(
    exceptions: &[DatedException],
    index: usize,
    field: &str,
    by_date: &mut BTreeMap<Date, DayRule>,
) -> Result<(), CalendarError> {
    let exception = &exceptions[index];
    if exception.kind == ExceptionKind::Optional {
        return Ok(());
    }
    let mut date = exception.start;
    loop {
        let new_rule = if exception.kind.closes_day() {
            DayRule::Closed(index)
        } else {
            DayRule::Special(index)
        };
        let chosen = match (by_date.get(&date).copied(), new_rule) {
            (None, rule) => rule,
            (Some(DayRule::Special(_)), DayRule::Special(_)) => {
                return Err(CalendarError::ConflictingSpecialHours {
                    field: field.to_owned(),
                    date,
                });
            }
            // A closed day stays closed whatever special hours say.
            (Some(DayRule::Special(_)), closed @ DayRule::Closed(_)) => closed,
            (Some(closed @ DayRule::Closed(_)), DayRule::Special(_)) => closed,
            (Some(DayRule::Closed(old)), DayRule::Closed(new)) => {
                if exceptions[new].kind.closing_rank() < exceptions[old].kind.closing_rank() {
                    DayRule::Closed(new)
                } else {
                    DayRule::Closed(old)
                }
            }
        };
        by_date.insert(date, chosen);
        if date >= exception.end {
            return Ok(());
        }
        // Cannot fail: `end` is a valid date after `date`.
        date = date
            .tomorrow()
            .map_err(|_| CalendarError::ExceptionRangeInvalid {
                field: field.to_owned(),
                start: exception.start,
                end: exception.end,
            })?;
    }
}

#[cfg(test)]
mod tests;
