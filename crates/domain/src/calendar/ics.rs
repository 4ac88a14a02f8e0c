//! iCalendar (RFC 5545) export and import of a calendar's exceptions.
//!
//! Only what the service desk needs, written by hand: exceptions travel as
//! all-day `VEVENT`s with `DTSTART;VALUE=DATE`, an exclusive `DTEND`, `SUMMARY`
//! (the name) and `CATEGORIES` (the kind code, e.g. `law_holiday`). Special hours
//! use the private property `X-VENTANILLA-HOURS:08:00-14:00,16:00-18:00`.
//!
//! Import also accepts the shapes real calendars use: folded lines, LF or CRLF,
//! `DTSTART` as a date-time (its date is taken), a missing `DTEND` (one day),
//! `DTEND` equal to `DTSTART`, and cancelled events (skipped). An event without a
//! recognised category becomes `Optional` — informational, it closes nothing —
//! so importing a public holiday feed never silently closes days; the
//! administrator then chooses which ones close. Recurrence rules are not expanded.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

use super::{Calendar, CalendarError, DatedException, ExceptionKind, OpenInterval, format_time};

const HOURS_PROPERTY: &str = "X-VENTANILLA-HOURS";
/// RFC 5545 §3.1: lines longer than 75 octets are folded.
const MAX_LINE_OCTETS: usize = 75;

impl Calendar {
    /// The exceptions as an iCalendar text: CRLF line endings, lines folded at 75
    /// octets, deterministic output (no clock read: `DTSTAMP` is the event's
    /// first day, `UID` its date and position).
    pub fn to_ics(&self) -> String {
        let mut lines: Vec<String> = vec![
            "BEGIN:VCALENDAR".to_owned(),
            "VERSION:2.0".to_owned(),
            "PRODID:-//IPN//Ventanilla//ES".to_owned(),
            "CALSCALE:GREGORIAN".to_owned(),
            format!("X-WR-TIMEZONE:{}", self.zone_name),
        ];
        for (index, exception) in self.exceptions.iter().enumerate() {
            let start = compact_date(exception.start);
            // Validation refuses `Date::MAX` as an end, so the next day exists.
            let end_exclusive = exception.end.tomorrow().unwrap_or(exception.end);
            lines.push("BEGIN:VEVENT".to_owned());
            lines.push(format!("UID:{start}-{index}@ventanilla"));
            lines.push(format!("DTSTAMP:{start}T000000Z"));
            lines.push(format!("DTSTART;VALUE=DATE:{start}"));
            lines.push(format!("DTEND;VALUE=DATE:{}", compact_date(end_exclusive)));
            lines.push(format!("SUMMARY:{}", escape_text(&exception.name)));
            lines.push(format!("CATEGORIES:{}", exception.kind.code()));
            if let ExceptionKind::SpecialHours(hours) = &exception.kind {
                let hours: Vec<String> = hours
                    .iter()
                    .map(|h| {
                        format!(
                            "{}-{}",
                            format_time(h.start, false),
                            format_time(h.end, true)
                        )
                    })
                    .collect();
                lines.push(format!("{HOURS_PROPERTY}:{}", hours.join(",")));
            }
            lines.push("TRANSP:TRANSPARENT".to_owned());
            lines.push("END:VEVENT".to_owned());
        }
        lines.push("END:VCALENDAR".to_owned());

        let mut out = String::new();
        for line in &lines {
            out.push_str(&fold(line));
            out.push_str("\r\n");
        }
        out
    }
}

/// Reads the all-day events of an iCalendar text as exceptions, in file order.
/// Errors name the (physical, 1-based) line. The result is not yet validated as
/// a whole: pass it to [`Calendar::with_exceptions`].
pub fn exceptions_from_ics(text: &str) -> Result<Vec<DatedException>, CalendarError> {
    let lines = unfold(text)?;
    if !lines
        .iter()
        .any(|l| l.name == "BEGIN" && l.value.eq_ignore_ascii_case("VCALENDAR"))
    {
        return Err(ics_error(
            1,
            "no es un archivo iCalendar (falta BEGIN:VCALENDAR)",
        ));
    }
    // A `...Z` (UTC) date-time is read in the calendar's declared zone, if any.
    let declared_zone = lines
        .iter()
        .find(|l| l.name == "X-WR-TIMEZONE")
        .and_then(|l| TimeZone::get(l.value.trim()).ok());

    let mut exceptions = Vec::new();
    let mut event: Option<EventLines> = None;
    for line in &lines {
        match (line.name.as_str(), event.as_mut()) {
            ("BEGIN", None) if line.value.eq_ignore_ascii_case("VEVENT") => {
                event = Some(EventLines::new(line.number));
            }
            ("END", Some(current)) if line.value.eq_ignore_ascii_case("VEVENT") => {
                if let Some(exception) = current.build(declared_zone.as_ref())? {
                    exceptions.push(exception);
                }
                event = None;
            }
            (_, Some(current)) => current.absorb(line),
            (_, None) => {}
        }
    }
    if let Some(open) = event {
        return Err(ics_error(
            open.begin,
            "el evento no termina (falta END:VEVENT)",
        ));
    }
    Ok(exceptions)
}

/// One unfolded content line: `NAME;PARAM=V:value`.
struct ContentLine {
    number: usize,
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

impl ContentLine {
    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// The properties of one `VEVENT` being read.
struct EventLines {
    begin: usize,
    start: Option<ContentLine>,
    end: Option<ContentLine>,
    summary: Option<ContentLine>,
    categories: Vec<ContentLine>,
    hours: Option<ContentLine>,
    cancelled: bool,
}

impl EventLines {
    fn new(begin: usize) -> Self {
        Self {
            begin,
            start: None,
            end: None,
            summary: None,
            categories: Vec::new(),
            hours: None,
            cancelled: false,
        }
    }

    fn absorb(&mut self, line: &ContentLine) {
        let copy = || ContentLine {
            number: line.number,
            name: line.name.clone(),
            params: line.params.clone(),
            value: line.value.clone(),
        };
        match line.name.as_str() {
            "DTSTART" => self.start = Some(copy()),
            "DTEND" => self.end = Some(copy()),
            "SUMMARY" => self.summary = Some(copy()),
            "CATEGORIES" => self.categories.push(copy()),
            HOURS_PROPERTY => self.hours = Some(copy()),
            "STATUS" => self.cancelled = line.value.trim().eq_ignore_ascii_case("CANCELLED"),
            _ => {}
        }
    }

    /// The exception of this event, or `None` for a cancelled event.
    fn build(&self, zone: Option<&TimeZone>) -> Result<Option<DatedException>, CalendarError> {
        if self.cancelled {
            return Ok(None);
        }
        let start_line = self
            .start
            .as_ref()
            .ok_or_else(|| ics_error(self.begin, "el evento no tiene DTSTART"))?;
        let start = parse_date_or_datetime(start_line, zone)?;
        let start_date = start.date();
        let end_date = match &self.end {
            None => start_date,
            Some(end_line) => {
                let end = parse_date_or_datetime(end_line, zone)?;
                // DTEND is exclusive: an all-day event ending on D covers up to
                // D-1, and so does a timed one ending exactly at midnight.
                let last = if end.time() == Time::midnight() && end.date() > start_date {
                    end.date().yesterday().unwrap_or(start_date)
                } else {
                    end.date()
                };
                if last < start_date {
                    return Err(ics_error(end_line.number, "DTEND es anterior a DTSTART"));
                }
                last
            }
        };
        let summary = self
            .summary
            .as_ref()
            .ok_or_else(|| ics_error(self.begin, "el evento no tiene SUMMARY (nombre)"))?;
        let name = unescape_text(&summary.value);
        if name.trim().is_empty() {
            return Err(ics_error(summary.number, "el nombre (SUMMARY) está vacío"));
        }
        let kind = self.kind()?;
        Ok(Some(DatedException::range(
            start_date, end_date, kind, name,
        )))
    }

    /// The first recognised category gives the kind; none gives `Optional`.
    fn kind(&self) -> Result<ExceptionKind, CalendarError> {
        for line in &self.categories {
            for category in split_unescaped_commas(&line.value) {
                let category = category.trim().to_ascii_lowercase();
                let kind = match category.as_str() {
                    "law_holiday" => ExceptionKind::LawHoliday,
                    "institutional" => ExceptionKind::Institutional,
                    "vacation" => ExceptionKind::Vacation,
                    "optional" => ExceptionKind::Optional,
                    "special_hours" => ExceptionKind::SpecialHours(self.special_hours()?),
                    _ => continue,
                };
                return Ok(kind);
            }
        }
        Ok(ExceptionKind::Optional)
    }

    fn special_hours(&self) -> Result<Vec<OpenInterval>, CalendarError> {
        let line = self.hours.as_ref().ok_or_else(|| {
            ics_error(
                self.begin,
                "el horario especial no indica X-VENTANILLA-HOURS",
            )
        })?;
        line.value
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(|part| {
                let bad = || {
                    ics_error(
                        line.number,
                        &format!("horario «{part}» inválido; use HH:MM-HH:MM separados por comas"),
                    )
                };
                let (start, end) = part.split_once('-').ok_or_else(bad)?;
                OpenInterval::parse(start, end).map_err(|_| bad())
            })
            .collect()
    }
}

fn ics_error(line: usize, detail: &str) -> CalendarError {
    CalendarError::Ics {
        line,
        detail: detail.to_owned(),
    }
}

/// Joins folded lines (a line starting with a space or tab continues the previous
/// one) and splits each logical line into name, parameters and value.
fn unfold(text: &str) -> Result<Vec<ContentLine>, CalendarError> {
    let mut logical: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let number = index + 1;
        if let Some(rest) = raw.strip_prefix([' ', '\t']) {
            match logical.last_mut() {
                Some((_, previous)) => previous.push_str(rest),
                None => return Err(ics_error(number, "línea de continuación sin línea previa")),
            }
        } else if !raw.trim().is_empty() {
            logical.push((number, raw.to_owned()));
        }
    }
    logical
        .into_iter()
        .map(|(number, line)| parse_content_line(number, &line))
        .collect()
}

fn parse_content_line(number: usize, line: &str) -> Result<ContentLine, CalendarError> {
    // The value starts at the first ':' outside a quoted parameter value.
    let mut in_quotes = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon =
        colon.ok_or_else(|| ics_error(number, "la línea no tiene la forma NOMBRE:valor"))?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next().unwrap_or_default().trim().to_ascii_uppercase();
    if name.is_empty() {
        return Err(ics_error(number, "la línea no tiene nombre de propiedad"));
    }
    let params = parts
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.trim().to_owned(), v.trim_matches('"').to_owned())
        })
        .collect();
    Ok(ContentLine {
        number,
        name,
        params,
        value: value.to_owned(),
    })
}

/// Reads `YYYYMMDD`, `YYYYMMDDTHHMMSS` or `YYYYMMDDTHHMMSSZ` as a local date-time.
/// A floating or `TZID` time is taken as written; a UTC one is converted to the
/// file's declared zone when there is one.
fn parse_date_or_datetime(
    line: &ContentLine,
    zone: Option<&TimeZone>,
) -> Result<DateTime, CalendarError> {
    let value = line.value.trim();
    let bad = || {
        ics_error(
            line.number,
            &format!(
                "fecha «{value}» inválida en {}; se espera AAAAMMDD",
                line.name
            ),
        )
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let number = |s: &str| s.parse::<i16>().map_err(|_| bad());
    if value.len() < 8 || !digits(&value[..8]) {
        return Err(bad());
    }
    let date = Date::new(
        number(&value[0..4])?,
        i8::try_from(number(&value[4..6])?).map_err(|_| bad())?,
        i8::try_from(number(&value[6..8])?).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let is_date_only = line
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    let rest = &value[8..];
    if rest.is_empty() {
        return Ok(date.to_datetime(Time::midnight()));
    }
    if is_date_only {
        return Err(bad());
    }
    let (clock, utc) = match rest.strip_suffix(['Z', 'z']) {
        Some(clock) => (clock, true),
        None => (rest, false),
    };
    let clock = clock.strip_prefix(['T', 't']).ok_or_else(bad)?;
    if clock.len() != 6 || !digits(clock) {
        return Err(bad());
    }
    let part = |range: std::ops::Range<usize>| clock[range].parse::<i8>().map_err(|_| bad());
    // RFC 5545 allows a leap second "60"; it is read as :59.
    let time = Time::new(part(0..2)?, part(2..4)?, part(4..6)?.min(59), 0).map_err(|_| bad())?;
    let local = date.to_datetime(time);
    match (utc, zone) {
        (true, Some(zone)) => {
            let instant = TimeZone::UTC.to_timestamp(local).map_err(|_| bad())?;
            Ok(zone.to_datetime(instant))
        }
        _ => Ok(local),
    }
}

fn compact_date(date: Date) -> String {
    format!("{:04}{:02}{:02}", date.year(), date.month(), date.day())
}

/// TEXT escaping of RFC 5545 §3.3.11.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            other => out.push(other),
        }
    }
    out
}

fn unescape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Splits a multi-valued property on commas that are not escaped.
fn split_unescaped_commas(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ',' => parts.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    parts.push(current);
    parts
}

/// Folds a line so no physical line exceeds 75 octets, never splitting a UTF-8
/// character (names carry accents). Continuations start with one space, which
/// counts toward their 75.
fn fold(line: &str) -> String {
    if line.len() <= MAX_LINE_OCTETS {
        return line.to_owned();
    }
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut budget = MAX_LINE_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > budget {
            out.push_str("\r\n ");
            budget = MAX_LINE_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out
}

#[cfg(test)]
#[path = "ics_tests.rs"]
mod tests;
