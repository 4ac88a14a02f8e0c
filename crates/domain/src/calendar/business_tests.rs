//! Tests of business-time arithmetic: tables for L3/L4 cases and properties.

use std::sync::OnceLock;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::super::tests::{dur, hours, ipn, ipn_2026, mx};
use super::super::{Calendar, CalendarSpec, DatedException, ExceptionKind, law_rest_days};
use super::{ClosedReason, Segment};

// L3 hours (Mon–Fri 08:00–20:00) and L4 rest days (law days by rule, Easter and
// winter vacations, institutional days) as held by `ipn_2026()`.
#[test]
fn add_business_table() {
    let calendar = ipn_2026();
    let cases: &[(&str, &str, &str, &str)] = &[
        // (start, duration, expected deadline, what it shows)
        (
            "2026-03-06 19:30",
            "2h",
            "2026-03-09 09:30",
            "Friday evening rolls to Monday",
        ),
        (
            "2026-03-13 19:00",
            "2h",
            "2026-03-17 09:00",
            "Monday 16 Mar is a law day",
        ),
        (
            "2026-03-07 10:00",
            "1h",
            "2026-03-09 09:00",
            "Saturday start counts from Monday 08:00",
        ),
        (
            "2026-03-08 23:59",
            "1h",
            "2026-03-09 09:00",
            "Sunday night start",
        ),
        (
            "2026-03-10 07:00",
            "1h",
            "2026-03-10 09:00",
            "start before opening counts from 08:00",
        ),
        (
            "2026-03-11 00:00",
            "1h",
            "2026-03-11 09:00",
            "start at midnight",
        ),
        (
            "2026-03-10 07:00",
            "0s",
            "2026-03-10 07:00",
            "zero duration keeps the start",
        ),
        (
            "2026-03-10 20:00",
            "0s",
            "2026-03-10 20:00",
            "zero duration at closing",
        ),
        (
            "2026-03-06 18:00",
            "2h",
            "2026-03-06 20:00",
            "ending exactly at closing stays on Friday",
        ),
        (
            "2026-03-06 18:00",
            "2h 1s",
            "2026-03-09 08:00:01",
            "one second more goes to Monday",
        ),
        (
            "2026-03-10 08:00",
            "12h",
            "2026-03-10 20:00",
            "a whole day ends at its closing",
        ),
        (
            "2026-03-10 08:00",
            "24h",
            "2026-03-11 20:00",
            "two whole days",
        ),
        (
            "2026-03-10 20:00",
            "1s",
            "2026-03-11 08:00:01",
            "start at closing",
        ),
        (
            "2026-03-11 19:59:59",
            "1s",
            "2026-03-11 20:00:00",
            "last second of the day",
        ),
        (
            "2026-03-11 19:59:59",
            "2s",
            "2026-03-12 08:00:01",
            "one second over the night",
        ),
        (
            "2026-03-09 08:00",
            "60h",
            "2026-03-13 20:00",
            "a whole working week",
        ),
        (
            "2026-03-09 08:00",
            "61h",
            "2026-03-17 09:00",
            "a week plus the law day",
        ),
        (
            "2026-03-07 08:00",
            "12h",
            "2026-03-09 20:00",
            "weekend start, whole Monday",
        ),
        (
            "2026-03-26 12:00",
            "24h",
            "2026-04-13 12:00",
            "across the Easter vacation 2026",
        ),
        (
            "2026-04-01 10:00",
            "1h",
            "2026-04-13 09:00",
            "start inside the Easter vacation",
        ),
        (
            "2026-03-16 10:00",
            "30m",
            "2026-03-17 08:30",
            "start during a law day",
        ),
        (
            "2026-01-01 09:00",
            "1h",
            "2026-01-05 09:00",
            "start on New Year in the winter vacation",
        ),
        (
            "2025-12-30 10:00",
            "1h",
            "2026-01-05 09:00",
            "across the winter vacation 2025",
        ),
        (
            "2026-12-21 08:00",
            "6h",
            "2026-12-21 14:00",
            "special hours end exactly at 14:00",
        ),
        (
            "2026-12-21 07:00",
            "6h 30m",
            "2027-01-04 08:30",
            "special hours then the winter vacation",
        ),
        (
            "2026-12-21 13:00",
            "2h",
            "2027-01-04 09:00",
            "special hours, vacation, 1 Jan 2027",
        ),
        (
            "2026-12-21 15:00",
            "1h",
            "2027-01-04 09:00",
            "start after special closing",
        ),
        (
            "2026-12-18 19:00",
            "3h",
            "2026-12-21 10:00",
            "Friday into a special-hours Monday",
        ),
        (
            "2026-12-18 08:00",
            "24h",
            "2027-01-04 14:00",
            "multi-day across the winter vacation",
        ),
        (
            "2026-03-02 08:00",
            "400h",
            "2026-05-04 12:00",
            "400 business hours",
        ),
        (
            "2026-05-01 10:00",
            "12h",
            "2026-05-04 20:00",
            "start on Labour Day",
        ),
        (
            "2026-05-04 19:00",
            "2h",
            "2026-05-06 09:00",
            "5 May is institutional",
        ),
        (
            "2026-09-15 19:00",
            "2h",
            "2026-09-17 09:00",
            "16 Sep is a law day",
        ),
        (
            "2026-10-30 19:00",
            "2h",
            "2026-11-03 09:00",
            "2 Nov is institutional",
        ),
        (
            "2026-11-13 19:00",
            "2h",
            "2026-11-17 09:00",
            "third Monday of November",
        ),
        (
            "2026-01-30 19:00",
            "2h",
            "2026-02-03 09:00",
            "first Monday of February",
        ),
        (
            "2026-02-23 19:00",
            "2h",
            "2026-02-24 09:00",
            "an optional day stays open",
        ),
        (
            "2027-03-12 19:00",
            "2h",
            "2027-03-16 09:00",
            "third Monday of March 2027",
        ),
    ];
    assert!(cases.len() >= 30);
    for &(start, duration, expected, what) in cases {
        assert_eq!(
            calendar.add_business(mx(start), dur(duration)),
            Some(mx(expected)),
            "{what}: {start} + {duration}"
        );
    }
}

#[test]
fn friday_evening_plus_two_hours_is_monday_morning_without_exceptions() {
    // L3 alone: no holidays in the default calendar.
    assert_eq!(
        ipn().add_business(mx("2026-03-13 19:30"), dur("2h")),
        Some(mx("2026-03-16 09:30"))
    );
}

#[test]
fn a_negative_duration_has_no_deadline() {
    assert_eq!(ipn().add_business(mx("2026-03-10 10:00"), dur("-1h")), None);
}

#[test]
fn business_between_table() {
    let calendar = ipn_2026();
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "2026-03-10 09:00",
            "2026-03-10 11:00",
            "2h",
            "inside one day",
        ),
        (
            "2026-03-06 19:00",
            "2026-03-09 09:00",
            "2h",
            "over a weekend",
        ),
        (
            "2026-03-13 19:00",
            "2026-03-17 09:00",
            "2h",
            "over a weekend and a law day",
        ),
        (
            "2026-03-10 11:00",
            "2026-03-10 09:00",
            "0s",
            "reversed interval",
        ),
        (
            "2026-03-10 11:00",
            "2026-03-10 11:00",
            "0s",
            "empty interval",
        ),
        (
            "2026-03-07 00:00",
            "2026-03-09 08:00",
            "0s",
            "a whole weekend",
        ),
        ("2026-03-16 00:00", "2026-03-17 00:00", "0s", "a law day"),
        (
            "2026-03-10 07:00",
            "2026-03-10 21:00",
            "12h",
            "closed to closed",
        ),
        ("2026-03-09 00:00", "2026-03-16 00:00", "60h", "a week"),
        (
            "2026-03-27 08:00",
            "2026-04-13 08:00",
            "12h",
            "over the Easter vacation",
        ),
        (
            "2026-12-21 00:00",
            "2026-12-22 00:00",
            "6h",
            "a special-hours day",
        ),
        (
            "2026-03-11 19:59:59",
            "2026-03-11 20:00:00",
            "1s",
            "last second",
        ),
        (
            "2026-03-02 08:00",
            "2026-05-04 12:00",
            "400h",
            "inverse of the 400 h case",
        ),
        // 2026: 261 weekdays, 28 closed by law days, institutional days and
        // vacations, one 6 h special day: 232 × 12 h + 6 h.
        (
            "2026-01-01 00:00",
            "2027-01-01 00:00",
            "2790h",
            "the whole year 2026",
        ),
    ];
    for &(a, b, expected, what) in cases {
        assert_eq!(
            calendar.business_between(mx(a), mx(b)),
            dur(expected),
            "{what}"
        );
    }
}

// Service levels: pauses are measured on the same calendar as the target.
#[test]
fn a_request_that_waited_three_business_hours_gets_its_deadline_three_business_hours_later() {
    let calendar = ipn_2026();
    let start = mx("2026-03-09 08:00");
    assert_eq!(
        calendar.add_business(start, dur("8h")),
        Some(mx("2026-03-09 16:00"))
    );
    let pauses = [(mx("2026-03-09 10:00"), Some(mx("2026-03-09 13:00")))];
    assert_eq!(
        calendar.add_business_with_pauses(start, dur("8h"), &pauses),
        Some(mx("2026-03-09 19:00"))
    );
}

#[test]
fn a_pause_over_closed_time_only_costs_the_open_time_it_covers() {
    // Paused from Friday 19:00 to Monday 09:00: only 2 business hours are paused.
    let calendar = ipn_2026();
    let start = mx("2026-03-06 18:00");
    assert_eq!(
        calendar.add_business(start, dur("4h")),
        Some(mx("2026-03-09 10:00"))
    );
    let pauses = [(mx("2026-03-06 19:00"), Some(mx("2026-03-09 09:00")))];
    assert_eq!(
        calendar.add_business_with_pauses(start, dur("4h"), &pauses),
        Some(mx("2026-03-09 12:00"))
    );
}

#[test]
fn a_pause_that_has_not_ended_stops_the_clock_only_if_it_starts_before_the_deadline() {
    let calendar = ipn_2026();
    let start = mx("2026-03-09 08:00");
    let before = [(mx("2026-03-09 10:00"), None)];
    assert_eq!(
        calendar.add_business_with_pauses(start, dur("8h"), &before),
        None
    );
    let after = [(mx("2026-03-09 16:00"), None)];
    assert_eq!(
        calendar.add_business_with_pauses(start, dur("8h"), &after),
        Some(mx("2026-03-09 16:00")),
        "a pause starting at the deadline changes nothing"
    );
    // An open pause starting on a Saturday stops the clock too.
    let weekend = [(mx("2026-03-14 10:00"), None)];
    assert_eq!(
        calendar.add_business_with_pauses(start, dur("100h"), &weekend),
        None
    );
}

#[test]
fn pauses_before_the_start_are_ignored_and_overlapping_pauses_count_once() {
    let calendar = ipn_2026();
    let start = mx("2026-03-09 08:00");
    let pauses = [
        (mx("2026-03-06 09:00"), Some(mx("2026-03-06 12:00"))),
        (mx("2026-03-06 10:00"), Some(mx("2026-03-09 09:00"))),
        (mx("2026-03-09 10:00"), Some(mx("2026-03-09 12:00"))),
        (mx("2026-03-09 11:00"), Some(mx("2026-03-09 13:00"))),
        (mx("2026-03-09 15:00"), Some(mx("2026-03-09 14:00"))),
    ];
    // Paused: 08:00–09:00 (clipped) and 10:00–13:00 (merged) = 4 h.
    assert_eq!(
        calendar.add_business_with_pauses(start, dur("8h"), &pauses),
        Some(mx("2026-03-09 20:00"))
    );
    assert_eq!(
        calendar.add_business_with_pauses(start, dur("0s"), &pauses),
        Some(start)
    );
}

// Service levels: explain each deadline (hours counted, days skipped, pauses).
#[test]
fn the_explanation_lists_the_hours_counted_and_the_days_skipped_with_their_reason() {
    let calendar = ipn_2026();
    let explanation = calendar
        .explain_add(mx("2026-03-13 19:00"), dur("2h"))
        .unwrap();
    assert_eq!(explanation.deadline, mx("2026-03-17 09:00"));
    assert_eq!(explanation.requested_seconds, 7200);
    assert_eq!(explanation.paused_seconds, 0);
    assert_eq!(explanation.zone, "America/Mexico_City");
    let zoned = |s: &str| mx(s).to_zoned(calendar.zone().clone());
    assert_eq!(
        explanation.segments,
        vec![
            Segment::Open {
                date: date(2026, 3, 13),
                from: zoned("2026-03-13 19:00"),
                to: zoned("2026-03-13 20:00"),
                seconds: 3600,
                special_hours: None,
            },
            Segment::Closed {
                date: date(2026, 3, 14),
                reason: ClosedReason::WeeklyRest {
                    weekday: "saturday"
                },
            },
            Segment::Closed {
                date: date(2026, 3, 15),
                reason: ClosedReason::WeeklyRest { weekday: "sunday" },
            },
            Segment::Closed {
                date: date(2026, 3, 16),
                reason: ClosedReason::Exception {
                    name: "Natalicio de Benito Juárez (tercer lunes de marzo)".to_owned(),
                    kind: ExceptionKind::LawHoliday,
                },
            },
            Segment::Open {
                date: date(2026, 3, 17),
                from: zoned("2026-03-17 08:00"),
                to: zoned("2026-03-17 09:00"),
                seconds: 3600,
                special_hours: None,
            },
        ]
    );
}

#[test]
fn the_explanation_shows_pauses_and_special_hours_and_agrees_with_the_deadline() {
    let calendar = ipn_2026();
    let start = mx("2026-12-21 09:00");
    let pauses = [(mx("2026-12-21 10:00"), Some(mx("2026-12-21 11:00")))];
    let explanation = calendar
        .explain_add_with_pauses(start, dur("6h"), &pauses)
        .unwrap();
    assert_eq!(
        Some(explanation.deadline),
        calendar.add_business_with_pauses(start, dur("6h"), &pauses)
    );
    assert_eq!(explanation.deadline, mx("2027-01-04 10:00"));
    assert_eq!(explanation.paused_seconds, 3600);
    let counted: i64 = explanation
        .segments
        .iter()
        .map(|s| match s {
            Segment::Open { seconds, .. } => *seconds,
            _ => 0,
        })
        .sum();
    assert_eq!(counted, explanation.requested_seconds);
    assert!(matches!(
        &explanation.segments[0],
        Segment::Open { special_hours: Some(name), .. } if name == "Jornada reducida antes de vacaciones"
    ));
    assert!(matches!(
        explanation.segments[1],
        Segment::Paused { seconds: 3600, .. }
    ));
    // 22 Dec 2026 – 3 Jan 2027 are all skipped, each with its reason.
    let closed = explanation
        .segments
        .iter()
        .filter(|s| matches!(s, Segment::Closed { .. }))
        .count();
    assert_eq!(closed, 13);
}

#[test]
fn the_explanation_of_a_start_during_a_holiday_begins_with_that_holiday() {
    let explanation = ipn_2026()
        .explain_add(mx("2026-03-16 10:00"), dur("30m"))
        .unwrap();
    assert!(matches!(
        &explanation.segments[0],
        Segment::Closed {
            reason: ClosedReason::Exception {
                kind: ExceptionKind::LawHoliday,
                ..
            },
            ..
        }
    ));
    assert_eq!(explanation.segments.len(), 2);
}

#[test]
fn searches_give_up_after_ten_years_without_open_time() {
    // Eleven stacked one-year closures: nothing opens within the horizon.
    let closures = (2026..=2036).map(|year| {
        DatedException::range(
            date(year, 1, 1),
            date(year, 12, 31),
            ExceptionKind::Institutional,
            "Cierre",
        )
    });
    let calendar = ipn().with_exceptions(closures).unwrap();
    assert_eq!(calendar.next_opening(mx("2026-01-01 00:00")), None);
    assert_eq!(
        calendar.add_business(mx("2026-01-01 00:00"), dur("1h")),
        None
    );
    assert_eq!(
        calendar.business_between(mx("2026-01-01 00:00"), mx("2037-01-01 00:00")),
        SignedDuration::ZERO
    );
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// The IPN calendar with rest days, and an odd one: a DST zone, split hours, a
/// 24-hour Saturday touching a Sunday that opens over the clock change.
fn calendars() -> &'static [Calendar; 2] {
    static CALENDARS: OnceLock<[Calendar; 2]> = OnceLock::new();
    CALENDARS.get_or_init(|| {
        let mut spec = CalendarSpec::ipn_default();
        spec.zone = "America/New_York".to_owned();
        for day in [&mut spec.weekly.monday, &mut spec.weekly.wednesday] {
            *day = vec![hours("09:00", "12:00"), hours("13:00", "17:30")];
        }
        spec.weekly.saturday = vec![hours("00:00", "24:00")];
        spec.weekly.sunday = vec![hours("00:00", "03:30")];
        for year in 2025..=2028 {
            spec.exceptions.extend(law_rest_days(year));
        }
        spec.exceptions.push(DatedException::range(
            date(2026, 7, 1),
            date(2026, 7, 31),
            ExceptionKind::SpecialHours(vec![hours("10:00", "11:00")]),
            "Verano",
        ));
        let odd = Calendar::new(spec).expect("odd calendar");
        [ipn_2026(), odd]
    })
}

const FROM_2025: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z
const TO_2029: i64 = 1_861_920_000; // 2029-01-01T00:00:00Z
const MAX_SECONDS: i64 = 500 * 3600;

/// Any second, or a whole half hour so that openings and closings are hit often.
fn instant() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        FROM_2025..TO_2029,
        (FROM_2025 / 1800..TO_2029 / 1800).prop_map(|n| n * 1800),
    ]
    .prop_map(|s| Timestamp::from_second(s).expect("in range"))
}

/// Zero, any number of seconds up to 500 h, or whole half hours up to 500 h.
fn duration() -> impl Strategy<Value = SignedDuration> {
    prop_oneof![
        Just(SignedDuration::ZERO),
        (0..=MAX_SECONDS).prop_map(SignedDuration::from_secs),
        (0..=MAX_SECONDS / 1800).prop_map(|n| SignedDuration::from_secs(n * 1800)),
    ]
}

proptest! {
    #[test]
    fn measuring_the_time_to_a_deadline_gives_back_the_duration(
        which in 0usize..2, start in instant(), d in duration()
    ) {
        let calendar = &calendars()[which];
        let deadline = calendar.add_business(start, d).expect("within horizon");
        prop_assert_eq!(calendar.business_between(start, deadline), d);
    }

    #[test]
    fn a_longer_duration_never_gives_an_earlier_deadline(
        which in 0usize..2, start in instant(), a in duration(), b in duration()
    ) {
        let calendar = &calendars()[which];
        let (short, long) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(calendar.add_business(start, short) <= calendar.add_business(start, long));
    }

    #[test]
    fn a_deadline_is_open_or_exactly_at_a_closing_and_never_inside_closed_time(
        which in 0usize..2, start in instant(), d in duration()
    ) {
        let calendar = &calendars()[which];
        let deadline = calendar.add_business(start, d).expect("within horizon");
        if d.is_zero() {
            prop_assert_eq!(deadline, start);
        } else {
            prop_assert!(deadline > start);
            let just_before = deadline - SignedDuration::from_nanos(1);
            prop_assert!(calendar.is_open(deadline) || calendar.is_open(just_before));
            // The earliest such instant: a closing reached exactly is the deadline.
            prop_assert!(calendar.business_between(start, just_before) < d);
        }
    }

    #[test]
    fn adding_in_two_steps_equals_adding_at_once(
        which in 0usize..2, start in instant(), a in duration(), b in duration()
    ) {
        let calendar = &calendars()[which];
        let first = calendar.add_business(start, a).expect("within horizon");
        prop_assert_eq!(calendar.add_business(first, b), calendar.add_business(start, a + b));
    }

    #[test]
    fn the_next_opening_is_open_and_no_open_time_comes_before_it(
        which in 0usize..2, t in instant()
    ) {
        let calendar = &calendars()[which];
        let opening = calendar.next_opening(t).expect("within horizon");
        prop_assert!(opening >= t);
        prop_assert!(calendar.is_open(opening));
        prop_assert_eq!(calendar.business_between(t, opening), SignedDuration::ZERO);
        prop_assert_eq!(calendar.is_open(t), opening == t);
    }

    #[test]
    fn with_a_pause_the_unpaused_open_time_to_the_deadline_is_the_duration(
        which in 0usize..2,
        start in instant(),
        d in duration(),
        pause_offset in -100_000i64..2_000_000,
        pause_length in 0i64..1_000_000,
    ) {
        let calendar = &calendars()[which];
        let pause_start = start + SignedDuration::from_secs(pause_offset);
        let pause_end = pause_start + SignedDuration::from_secs(pause_length);
        let deadline = calendar
            .add_business_with_pauses(start, d, &[(pause_start, Some(pause_end))])
            .expect("within horizon");
        let paused = calendar.business_between(pause_start.max(start), pause_end.min(deadline));
        prop_assert_eq!(calendar.business_between(start, deadline) - paused, d);
        // A pause can only delay the deadline.
        prop_assert!(Some(deadline) >= calendar.add_business(start, d));
    }
}
