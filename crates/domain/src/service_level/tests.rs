//! Service levels from event logs: starts (L4), pauses, reopening, states, and properties.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::calendar::{Calendar, law_rest_days};

fn calendar() -> Calendar {
    Calendar::ipn_default()
        .and_then(|c| c.with_exceptions(law_rest_days(2026)))
        .expect("IPN calendar")
}

/// A Mexico City wall-clock instant, `YYYY-MM-DD HH:MM`.
fn mx(text: &str) -> Timestamp {
    format!("{}[America/Mexico_City]", text.replace(' ', "T"))
        .parse::<jiff::Zoned>()
        .expect("zoned")
        .timestamp()
}

fn status(at: &str, to: Status, step: Option<Step>) -> LogEntry {
    LogEntry {
        at: mx(at),
        to_status: Some(to),
        step,
    }
}

const TWO_HOURS: Targets = Targets {
    response_minutes: 60,
    resolution_minutes: 120,
};

fn registered(at: &str) -> Vec<LogEntry> {
    vec![
        status(at, Status::Registered, None),
        status(at, Status::Assigned, Some(Step::Assign)),
    ]
}

fn resolution(levels: &[TargetLevel]) -> &TargetLevel {
    &levels[1]
}

#[test]
fn friday_evening_with_a_law_monday_is_due_tuesday_at_nine_l3() {
    let cal = calendar();
    let log = registered("2026-03-13 19:00");
    let levels = evaluate(
        &cal,
        mx("2026-03-13 19:00"),
        &log,
        TWO_HOURS,
        mx("2026-03-13 19:30"),
    )
    .unwrap();
    let r = resolution(&levels);
    assert_eq!(r.deadline, Some(mx("2026-03-17 09:00")));
    assert_eq!(r.state, State::Running);
    assert_eq!(r.elapsed_seconds, 30 * 60);
    assert_eq!(r.remaining_seconds, 90 * 60);
    let explanation = r.explain(&cal).unwrap();
    assert!(explanation.segments.iter().any(|s| matches!(
        s,
        crate::calendar::Segment::Closed {
            reason: crate::calendar::ClosedReason::Exception { .. },
            ..
        }
    )));
}

#[test]
fn weekend_mail_starts_on_monday_at_eight_l4() {
    let cal = calendar();
    let mut log = vec![status("2026-03-07 11:00", Status::Received, None)];
    log.extend(registered("2026-03-09 09:00"));
    let levels = evaluate(
        &cal,
        mx("2026-03-07 11:00"),
        &log,
        TWO_HOURS,
        mx("2026-03-09 09:00"),
    )
    .unwrap();
    assert_eq!(levels[0].start, mx("2026-03-09 08:00"));
    assert_eq!(levels[0].deadline, Some(mx("2026-03-09 09:00")));
    assert_eq!(levels[0].state, State::Breached);
    assert_eq!(resolution(&levels).deadline, Some(mx("2026-03-09 10:00")));
}

#[test]
fn three_business_hours_of_waiting_move_the_deadline_three_business_hours() {
    let cal = calendar();
    let mut log = registered("2026-03-10 10:00");
    log.push(status(
        "2026-03-10 10:30",
        Status::InProgress,
        Some(Step::Start),
    ));
    log.push(status(
        "2026-03-10 19:00",
        Status::Waiting,
        Some(Step::Wait),
    ));
    // 19:00–20:00 Tuesday and 08:00–10:00 Wednesday: three business hours.
    log.push(status(
        "2026-03-11 10:00",
        Status::InProgress,
        Some(Step::Resume),
    ));
    let targets = Targets {
        response_minutes: 60,
        resolution_minutes: 12 * 60,
    };
    let levels = evaluate(
        &cal,
        mx("2026-03-10 10:00"),
        &log,
        targets,
        mx("2026-03-11 10:00"),
    )
    .unwrap();
    assert_eq!(levels[0].state, State::Met);
    assert_eq!(levels[0].stopped_at, Some(mx("2026-03-10 10:30")));
    let r = resolution(&levels);
    // Without the pause: Wednesday 10:00; with it: Wednesday 13:00.
    assert_eq!(r.deadline, Some(mx("2026-03-11 13:00")));
    assert_eq!(r.elapsed_seconds, 9 * 3600);
    assert_eq!(r.explain(&cal).unwrap().paused_seconds, 3 * 3600);
}

#[test]
fn a_request_still_waiting_is_paused_without_deadline() {
    let cal = calendar();
    let mut log = registered("2026-03-10 10:00");
    log.push(status(
        "2026-03-10 10:30",
        Status::InProgress,
        Some(Step::Start),
    ));
    log.push(status(
        "2026-03-10 11:00",
        Status::Waiting,
        Some(Step::Wait),
    ));
    let levels = evaluate(
        &cal,
        mx("2026-03-10 10:00"),
        &log,
        TWO_HOURS,
        mx("2026-03-12 10:00"),
    )
    .unwrap();
    let r = resolution(&levels);
    assert_eq!(r.state, State::Paused);
    assert_eq!(r.deadline, None);
    assert_eq!(r.elapsed_seconds, 3600);
    assert!(r.explain(&cal).is_none());
    assert_eq!(
        r.share_reached_at(&cal, 50),
        Some(mx("2026-03-10 11:00")),
        "a share reached before the pause is still known"
    );
}

#[test]
fn solving_meets_and_reopening_resumes_from_where_it_stopped() {
    let cal = calendar();
    let mut log = registered("2026-03-10 10:00");
    log.push(status(
        "2026-03-10 10:30",
        Status::InProgress,
        Some(Step::Start),
    ));
    log.push(status(
        "2026-03-10 11:00",
        Status::Solved,
        Some(Step::Solve),
    ));
    let solved = evaluate(
        &cal,
        mx("2026-03-10 10:00"),
        &log,
        TWO_HOURS,
        mx("2026-03-11 10:00"),
    )
    .unwrap();
    assert_eq!(resolution(&solved).state, State::Met);
    assert_eq!(resolution(&solved).elapsed_seconds, 3600);

    log.push(status(
        "2026-03-11 09:00",
        Status::Reopened,
        Some(Step::Reopen),
    ));
    let reopened = evaluate(
        &cal,
        mx("2026-03-10 10:00"),
        &log,
        TWO_HOURS,
        mx("2026-03-11 09:30"),
    )
    .unwrap();
    let r = resolution(&reopened);
    assert_eq!(r.state, State::Running);
    assert_eq!(r.stopped_at, None);
    assert_eq!(r.elapsed_seconds, 90 * 60);
    // One hour was left when it was solved: due one business hour after reopening.
    assert_eq!(r.deadline, Some(mx("2026-03-11 10:00")));
}

#[test]
fn a_late_solution_is_breached() {
    let cal = calendar();
    let mut log = registered("2026-03-10 10:00");
    log.push(status(
        "2026-03-10 13:00",
        Status::InProgress,
        Some(Step::Start),
    ));
    log.push(status(
        "2026-03-10 13:30",
        Status::Solved,
        Some(Step::Solve),
    ));
    let levels = evaluate(
        &cal,
        mx("2026-03-10 10:00"),
        &log,
        TWO_HOURS,
        mx("2026-03-10 14:00"),
    )
    .unwrap();
    assert_eq!(levels[0].state, State::Breached);
    assert_eq!(levels[1].state, State::Breached);
    assert_eq!(levels[1].remaining_seconds, -90 * 60);
    assert!(!levels[1].is_live());
}

#[test]
fn cancelling_stops_both_clocks() {
    let cal = calendar();
    let mut log = registered("2026-03-10 10:00");
    log.push(status(
        "2026-03-10 10:20",
        Status::Cancelled,
        Some(Step::Cancel),
    ));
    let levels = evaluate(
        &cal,
        mx("2026-03-10 10:00"),
        &log,
        TWO_HOURS,
        mx("2026-03-12 10:00"),
    )
    .unwrap();
    assert!(levels.iter().all(|l| l.state == State::Met && !l.is_live()));
    assert!(levels.iter().all(|l| l.elapsed_seconds == 20 * 60));
}

#[test]
fn requirements_to_confirm_pause_the_clock_v5() {
    let cal = calendar();
    let log = vec![
        status("2026-03-10 10:00", Status::ToConfirm, None),
        status(
            "2026-03-10 12:00",
            Status::Registered,
            Some(Step::ConfirmRequirements),
        ),
        status("2026-03-10 12:00", Status::Assigned, Some(Step::Assign)),
    ];
    let levels = evaluate(
        &cal,
        mx("2026-03-10 10:00"),
        &log,
        TWO_HOURS,
        mx("2026-03-10 12:30"),
    )
    .unwrap();
    assert_eq!(levels[1].elapsed_seconds, 30 * 60);
    assert_eq!(levels[1].deadline, Some(mx("2026-03-10 14:00")));
}

#[test]
fn zero_or_negative_targets_are_refused() {
    let cal = calendar();
    let bad = Targets {
        response_minutes: 0,
        resolution_minutes: 60,
    };
    let err = evaluate(
        &cal,
        mx("2026-03-10 10:00"),
        &[],
        bad,
        mx("2026-03-10 10:00"),
    )
    .unwrap_err();
    assert_eq!(err.field(), "response_target_minutes");
    let bad = Targets {
        response_minutes: 60,
        resolution_minutes: -5,
    };
    let err = evaluate(
        &cal,
        mx("2026-03-10 10:00"),
        &[],
        bad,
        mx("2026-03-10 10:00"),
    )
    .unwrap_err();
    assert_eq!(err.field(), "resolution_target_minutes");
    assert_eq!(err.code(), "sheet_target");
}

fn base() -> Timestamp {
    mx("2026-03-02 08:00")
}

proptest! {
    /// Elapsed plus remaining is always the target; the deadline is never in closed time
    /// unless it ends exactly at a closing; and measuring back from the start to the
    /// deadline (minus pauses) gives the target.
    #[test]
    fn elapsed_and_remaining_add_up(
        received in 0i64..(20 * 24 * 60),
        wait_at in 0i64..(10 * 24 * 60),
        wait_len in 0i64..(5 * 24 * 60),
        minutes in 1i64..(40 * 60),
        now_after in 0i64..(30 * 24 * 60),
    ) {
        let cal = calendar();
        let received = base() + SignedDuration::from_mins(received);
        let wait_from = received + SignedDuration::from_mins(wait_at);
        let wait_until = wait_from + SignedDuration::from_mins(wait_len);
        let log = vec![
            LogEntry { at: received, to_status: Some(Status::Registered), step: None },
            LogEntry { at: received, to_status: Some(Status::InProgress), step: Some(Step::Start) },
            LogEntry { at: wait_from, to_status: Some(Status::Waiting), step: Some(Step::Wait) },
            LogEntry { at: wait_until, to_status: Some(Status::InProgress), step: Some(Step::Resume) },
        ];
        let now = received + SignedDuration::from_mins(now_after);
        let targets = Targets { response_minutes: minutes, resolution_minutes: minutes };
        let levels = evaluate(&cal, received, &log, targets, now).unwrap();
        let r = &levels[1];
        prop_assert_eq!(r.elapsed_seconds + r.remaining_seconds, minutes * 60);
        prop_assert!(r.elapsed_seconds >= 0);
        if let Some(deadline) = r.deadline {
            let counted = counted_between(&cal, r.start, deadline, &r.pauses);
            prop_assert_eq!(counted.as_secs(), minutes * 60);
            prop_assert_eq!(r.state == State::Breached, deadline <= now);
        } else {
            prop_assert_eq!(r.state, State::Paused);
        }
    }

    /// Later "now" never decreases the elapsed time (monotonic clock).
    #[test]
    fn elapsed_is_monotonic_in_now(a in 0i64..(30 * 24 * 60), b in 0i64..(30 * 24 * 60)) {
        let cal = calendar();
        let log = registered("2026-03-02 08:00");
        let (early, late) = (a.min(b), a.max(b));
        let at = |m: i64| base() + SignedDuration::from_mins(m);
        let first = evaluate(&cal, base(), &log, TWO_HOURS, at(early)).unwrap();
        let second = evaluate(&cal, base(), &log, TWO_HOURS, at(late)).unwrap();
        prop_assert!(first[1].elapsed_seconds <= second[1].elapsed_seconds);
        prop_assert_eq!(first[1].deadline, second[1].deadline);
    }
}
