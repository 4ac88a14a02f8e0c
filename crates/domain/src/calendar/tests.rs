//! Tests of construction, validation and the plain-data shape, plus helpers
//! shared by the submodules' tests.

use jiff::civil::{Time, date};
use jiff::{SignedDuration, Timestamp};

use super::*;

/// An instant given as local time in Mexico City: `"2026-03-13 19:00"` or with seconds.
pub(super) fn mx(local: &str) -> Timestamp {
    let civil: jiff::civil::DateTime = local.replace(' ', "T").parse().expect("local date-time");
    civil
        .to_zoned(TimeZone::get(IPN_ZONE).expect("zone"))
        .expect("in range")
        .timestamp()
}

/// A duration in jiff's friendly format, e.g. `"2h 30m"`.
pub(super) fn dur(text: &str) -> SignedDuration {
    text.parse().expect("duration")
}

pub(super) fn hours(start: &str, end: &str) -> OpenInterval {
    OpenInterval::parse(start, end).expect("interval")
}

/// The IPN calendar (L3) with no exceptions.
pub(super) fn ipn() -> Calendar {
    Calendar::ipn_default().expect("default calendar")
}

/// The IPN calendar (L3) holding the rest days of L4 for 2025–2027: law days by
/// rule, institutional days of 2026, the vacations named in DOMAIN.md and one
/// special-hours day (Monday 21 Dec 2026, 08:00–14:00).
pub(super) fn ipn_2026() -> Calendar {
    let mut exceptions = Vec::new();
    for year in 2025..=2028 {
        exceptions.extend(law_rest_days(year));
    }
    exceptions.extend(ipn_institutional_days(2026));
    exceptions.push(DatedException::range(
        date(2025, 12, 22),
        date(2026, 1, 2),
        ExceptionKind::Vacation,
        "Vacaciones de invierno 2025",
    ));
    exceptions.push(DatedException::range(
        date(2026, 3, 30),
        date(2026, 4, 10),
        ExceptionKind::Vacation,
        "Vacaciones de Semana Santa 2026",
    ));
    exceptions.push(DatedException::range(
        date(2026, 12, 22),
        date(2027, 1, 2),
        ExceptionKind::Vacation,
        "Vacaciones de invierno 2026",
    ));
    exceptions.push(DatedException::day(
        date(2026, 12, 21),
        ExceptionKind::SpecialHours(vec![hours("08:00", "14:00")]),
        "Jornada reducida antes de vacaciones",
    ));
    exceptions.push(DatedException::day(
        date(2026, 2, 24),
        ExceptionKind::Optional,
        "Día de la Bandera",
    ));
    ipn().with_exceptions(exceptions).expect("valid calendar")
}

fn spec_with(weekday_hours: Vec<OpenInterval>) -> CalendarSpec {
    let mut spec = CalendarSpec::ipn_default();
    spec.weekly.monday = weekday_hours;
    spec
}

fn error_of(spec: CalendarSpec) -> CalendarError {
    Calendar::new(spec).expect_err("must be refused")
}

// L3: the default calendar is Monday–Friday 08:00–20:00 in America/Mexico_City.
#[test]
fn the_default_calendar_is_monday_to_friday_eight_to_eight_in_mexico_city() {
    let calendar = ipn();
    assert_eq!(calendar.zone_name(), "America/Mexico_City");
    assert!(calendar.exceptions().is_empty());
    assert_eq!(calendar.weekly().monday, vec![hours("08:00", "20:00")]);
    assert_eq!(calendar.weekly().friday, vec![hours("08:00", "20:00")]);
    assert!(calendar.weekly().saturday.is_empty());
    assert!(calendar.weekly().sunday.is_empty());
}

// L3: the zone is taken from the tz database: 08:00 in Mexico City is 14:00 UTC
// in 2026 (no DST since 2022).
#[test]
fn opening_time_is_read_in_the_calendar_zone_not_in_utc() {
    let calendar = ipn();
    let opening: Timestamp = "2026-03-09T14:00:00Z".parse().unwrap();
    assert!(calendar.is_open(opening));
    assert!(!calendar.is_open(opening - SignedDuration::from_secs(1)));
    let closing: Timestamp = "2026-03-10T02:00:00Z".parse().unwrap();
    assert!(!calendar.is_open(closing));
    assert!(calendar.is_open(closing - SignedDuration::from_secs(1)));
}

#[test]
fn is_open_is_false_on_weekends_holidays_and_vacations_and_true_on_optional_days() {
    let calendar = ipn_2026();
    assert!(!calendar.is_open(mx("2026-03-14 10:00")), "Saturday");
    assert!(!calendar.is_open(mx("2026-03-16 10:00")), "law day");
    assert!(
        !calendar.is_open(mx("2026-04-02 10:00")),
        "Holy Thursday in vacation"
    );
    assert!(!calendar.is_open(mx("2026-12-24 10:00")), "winter vacation");
    assert!(
        calendar.is_open(mx("2026-02-24 10:00")),
        "optional day stays open"
    );
    assert!(calendar.is_open(mx("2026-12-21 13:59:59")), "special hours");
    assert!(
        !calendar.is_open(mx("2026-12-21 14:00")),
        "special hours closed"
    );
}

#[test]
fn next_opening_returns_the_instant_itself_when_open_and_the_next_opening_otherwise() {
    let calendar = ipn_2026();
    assert_eq!(
        calendar.next_opening(mx("2026-03-10 10:00")),
        Some(mx("2026-03-10 10:00"))
    );
    assert_eq!(
        calendar.next_opening(mx("2026-03-10 07:00")),
        Some(mx("2026-03-10 08:00"))
    );
    assert_eq!(
        calendar.next_opening(mx("2026-03-13 20:00")),
        Some(mx("2026-03-17 08:00"))
    );
    assert_eq!(
        calendar.next_opening(mx("2026-03-27 20:00")),
        Some(mx("2026-04-13 08:00"))
    );
}

#[test]
fn day_closure_names_the_weekend_or_the_most_specific_exception() {
    let calendar = ipn_2026();
    assert_eq!(
        calendar.day_closure(date(2026, 3, 14)),
        Some(ClosedReason::WeeklyRest {
            weekday: "saturday"
        })
    );
    // Good Friday lies inside the Easter vacation: the institutional day is shown.
    assert_eq!(
        calendar.day_closure(date(2026, 4, 3)),
        Some(ClosedReason::Exception {
            name: "Viernes Santo".to_owned(),
            kind: ExceptionKind::Institutional,
        })
    );
    // 25 Dec is a law day inside the winter vacation.
    assert!(matches!(
        calendar.day_closure(date(2026, 12, 25)),
        Some(ClosedReason::Exception {
            kind: ExceptionKind::LawHoliday,
            ..
        })
    ));
    assert_eq!(calendar.day_closure(date(2026, 3, 17)), None);
    assert_eq!(calendar.exceptions_on(date(2026, 4, 3)).count(), 2);
}

#[test]
fn overlapping_intervals_are_refused_with_the_day_as_field() {
    let error = error_of(spec_with(vec![
        hours("08:00", "14:00"),
        hours("13:00", "20:00"),
    ]));
    assert_eq!(error.code(), "overlapping_intervals");
    assert_eq!(error.field(), "weekly.monday");
    assert!(error.to_string().contains("se traslapan"), "{error}");
}

#[test]
fn touching_intervals_are_accepted_and_sorted() {
    let calendar = Calendar::new(spec_with(vec![
        hours("14:00", "20:00"),
        hours("08:00", "14:00"),
    ]))
    .unwrap();
    assert_eq!(
        calendar.weekly().monday,
        vec![hours("08:00", "14:00"), hours("14:00", "20:00")]
    );
}

#[test]
fn an_interval_ending_before_or_at_its_start_is_refused() {
    for (start, end) in [("20:00", "08:00"), ("08:00", "08:00")] {
        let error = error_of(spec_with(vec![hours(start, end)]));
        assert_eq!(error.code(), "interval_not_increasing");
        assert_eq!(error.field(), "weekly.monday[0]");
    }
}

#[test]
fn an_interval_may_end_at_24_00() {
    let calendar = Calendar::new(spec_with(vec![hours("00:00", "24:00")])).unwrap();
    let monday = &calendar.weekly().monday[0];
    assert!(monday.ends_at_midnight());
    assert_eq!(monday.nominal_length(), SignedDuration::from_hours(24));
    assert_eq!(monday.to_string(), "00:00–24:00");
}

#[test]
fn times_outside_the_documented_shapes_are_refused() {
    for (start, end) in [
        ("24:00", "24:00"),
        ("8", "20:00"),
        ("08:00", "25:00"),
        ("08:0", "20:00"),
        ("08:00:5", "20:00"),
        ("ocho", "20:00"),
    ] {
        let error = OpenInterval::parse(start, end).expect_err(start);
        assert_eq!(error.code(), "invalid_time");
    }
    assert_eq!(hours("8:00", "20:00:30").to_string(), "08:00–20:00:30");
}

#[test]
fn sub_second_interval_bounds_are_refused() {
    let bad = OpenInterval::new(Time::constant(8, 0, 0, 5), Time::constant(9, 0, 0, 0));
    let error = error_of(spec_with(vec![bad]));
    assert_eq!(error.code(), "invalid_time");
    assert_eq!(error.field(), "weekly.monday[0].start");
}

#[test]
fn an_unknown_zone_is_refused() {
    let mut spec = CalendarSpec::ipn_default();
    spec.zone = "America/Ciudad_Gotica".to_owned();
    let error = error_of(spec);
    assert_eq!(error.code(), "unknown_zone");
    assert_eq!(error.field(), "zone");
    assert!(error.to_string().contains("America/Ciudad_Gotica"));
}

#[test]
fn a_week_without_open_time_is_refused() {
    let mut spec = CalendarSpec::ipn_default();
    spec.weekly = WeeklyHours::default();
    let error = error_of(spec);
    assert_eq!(error, CalendarError::NoOpenTime);
    assert_eq!(error.code(), "no_open_time");
    assert_eq!(error.field(), "weekly");
}

#[test]
fn an_exception_ending_before_it_starts_is_refused() {
    let mut spec = CalendarSpec::ipn_default();
    spec.exceptions.push(DatedException::day(
        date(2026, 1, 1),
        ExceptionKind::LawHoliday,
        "Año Nuevo",
    ));
    spec.exceptions.push(DatedException::range(
        date(2026, 4, 10),
        date(2026, 3, 30),
        ExceptionKind::Vacation,
        "Semana Santa",
    ));
    let error = error_of(spec);
    assert_eq!(error.code(), "exception_range_invalid");
    assert_eq!(error.field(), "exceptions[1]");
}

#[test]
fn an_exception_longer_than_a_year_or_without_name_is_refused() {
    let mut spec = CalendarSpec::ipn_default();
    spec.exceptions.push(DatedException::range(
        date(2026, 12, 22),
        date(2028, 1, 2),
        ExceptionKind::Vacation,
        "Invierno",
    ));
    assert_eq!(error_of(spec).code(), "exception_too_long");

    let mut spec = CalendarSpec::ipn_default();
    spec.exceptions.push(DatedException::day(
        date(2026, 5, 1),
        ExceptionKind::LawHoliday,
        "  ",
    ));
    assert_eq!(error_of(spec).code(), "exception_name_empty");
}

#[test]
fn special_hours_are_validated_like_weekly_hours() {
    let mut spec = CalendarSpec::ipn_default();
    spec.exceptions.push(DatedException::day(
        date(2026, 12, 21),
        ExceptionKind::SpecialHours(vec![hours("14:00", "08:00")]),
        "Jornada reducida",
    ));
    let error = error_of(spec);
    assert_eq!(error.code(), "interval_not_increasing");
    assert_eq!(error.field(), "exceptions[0].hours[0]");
}

#[test]
fn two_special_hours_on_the_same_day_are_refused_but_a_holiday_may_cover_special_hours() {
    let special = |name: &str| {
        DatedException::day(
            date(2026, 12, 21),
            ExceptionKind::SpecialHours(vec![hours("09:00", "10:00")]),
            name,
        )
    };
    let mut spec = CalendarSpec::ipn_default();
    spec.exceptions = vec![special("A"), special("B")];
    let error = error_of(spec);
    assert_eq!(error.code(), "conflicting_special_hours");
    assert_eq!(error.field(), "exceptions[1]");

    let mut spec = CalendarSpec::ipn_default();
    spec.exceptions = vec![
        special("A"),
        DatedException::day(date(2026, 12, 21), ExceptionKind::Institutional, "Cierre"),
    ];
    let calendar = Calendar::new(spec).unwrap();
    assert!(!calendar.is_open(mx("2026-12-21 09:30")));
}

#[test]
fn the_plain_data_form_round_trips_through_validation() {
    let calendar = ipn_2026();
    let spec = calendar.to_spec();
    let again = Calendar::try_from(spec.clone()).unwrap();
    assert_eq!(again, calendar);
    assert_eq!(CalendarSpec::from(again), spec);
}

#[test]
fn every_error_has_a_snake_case_code_and_a_spanish_message() {
    let errors = [
        CalendarError::UnknownZone { name: "X".into() },
        CalendarError::NoOpenTime,
        CalendarError::Ics {
            line: 3,
            detail: "x".into(),
        },
        CalendarError::SpecialHoursMissing {
            field: "hours".into(),
        },
        CalendarError::HoursNotAllowed {
            field: "hours".into(),
        },
    ];
    for error in errors {
        assert!(
            error
                .code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_')
        );
        assert!(!error.field().is_empty());
        assert!(!error.to_string().is_empty());
    }
    assert_eq!(
        CalendarError::Ics {
            line: 3,
            detail: "x".into()
        }
        .to_string(),
        "iCalendar, línea 3: x"
    );
}

// Deserialization goes through the spec types' `TryFrom`, checked here through
// serde's own value deserializers (the crate has no JSON dependency).
#[test]
fn an_interval_deserializes_from_hh_mm_strings_and_refuses_bad_times() {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as ValueError, MapDeserializer};

    let read = |start: &'static str, end: &'static str| {
        let map = MapDeserializer::<_, ValueError>::new(
            [("start", start), ("end", end)]
                .into_iter()
                .map(|(k, v)| (k.into_deserializer(), v.into_deserializer())),
        );
        OpenInterval::deserialize(map)
    };
    assert_eq!(read("08:00", "24:00").unwrap(), hours("08:00", "24:00"));
    let error = read("08:00", "25:00").unwrap_err();
    assert!(
        error.to_string().contains("no es una hora válida"),
        "{error}"
    );
}

#[test]
fn a_dst_zone_gives_days_of_their_true_length() {
    // Not a fixed offset: in New York, 8 Mar 2026 lasts 23 h and 1 Nov 2026 25 h.
    let mut spec = CalendarSpec::ipn_default();
    spec.zone = "America/New_York".to_owned();
    spec.weekly.sunday = vec![hours("00:00", "24:00")];
    let calendar = Calendar::new(spec).unwrap();
    let ny = |s: &str| -> Timestamp {
        let civil: jiff::civil::DateTime = s.parse().unwrap();
        civil.to_zoned(calendar.zone().clone()).unwrap().timestamp()
    };
    assert_eq!(
        calendar.business_between(ny("2026-03-08T00:00"), ny("2026-03-09T00:00")),
        SignedDuration::from_hours(23)
    );
    assert_eq!(
        calendar.business_between(ny("2026-11-01T00:00"), ny("2026-11-02T00:00")),
        SignedDuration::from_hours(25)
    );
    assert_eq!(
        calendar.add_business(ny("2026-03-08T00:00"), SignedDuration::from_hours(23)),
        Some(ny("2026-03-09T00:00"))
    );
}

#[test]
fn mexico_city_2022_dst_end_made_a_25_hour_sunday() {
    // Historic rule from the tz database: Mexico City left DST on 30 Oct 2022.
    let mut spec = CalendarSpec::ipn_default();
    spec.weekly.sunday = vec![hours("00:00", "24:00")];
    let calendar = Calendar::new(spec).unwrap();
    assert_eq!(
        calendar.business_between(mx("2022-10-30 00:00"), mx("2022-10-31 00:00")),
        SignedDuration::from_hours(25)
    );
}

#[test]
fn adjacent_intervals_across_midnight_form_continuous_open_time() {
    let mut spec = CalendarSpec::ipn_default();
    spec.weekly.friday = vec![hours("08:00", "24:00")];
    spec.weekly.saturday = vec![hours("00:00", "02:00")];
    let calendar = Calendar::new(spec).unwrap();
    assert!(calendar.is_open(mx("2026-03-14 00:00")));
    assert_eq!(
        calendar.add_business(mx("2026-03-13 23:00"), dur("2h")),
        Some(mx("2026-03-14 01:00"))
    );
    assert_eq!(
        calendar.add_business(mx("2026-03-13 23:00"), dur("1h")),
        Some(mx("2026-03-14 00:00"))
    );
}
