//! The quality survey that validates a solution (L9) and the monthly satisfaction indices (L12).
//!
//! Formulas from DOMAIN.md: items on a 1–5 scale; CSAT % = answers whose general satisfaction is
//! 4 or 5 ÷ all answers × 100; mean per item; response rate = answered ÷ sent. The month of an
//! answer is the month of its *answer date* in the calendar's zone. Unanswered and auto-closed
//! requests are never counted as satisfied (they are not answers). A group with fewer than
//! [`MIN_RELIABLE_ANSWERS`] answers is flagged.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// Below this many answers a group's indices are shown but flagged as not reliable.
pub const MIN_RELIABLE_ANSWERS: usize = 30;

/// The rated items, in the order the survey asks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    /// Oportunidad: timeliness.
    Timeliness,
    /// Trato: courtesy.
    Courtesy,
    /// Conocimiento: competence.
    Competence,
    /// Calidad de la solución.
    SolutionQuality,
    /// Comunicación y seguimiento.
    Communication,
    /// Satisfacción general: the item CSAT is computed from.
    Overall,
}

impl Item {
    pub const ALL: [Item; 6] = [
        Item::Timeliness,
        Item::Courtesy,
        Item::Competence,
        Item::SolutionQuality,
        Item::Communication,
        Item::Overall,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Item::Timeliness => "timeliness",
            Item::Courtesy => "courtesy",
            Item::Competence => "competence",
            Item::SolutionQuality => "solution_quality",
            Item::Communication => "communication",
            Item::Overall => "overall",
        }
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Item::Timeliness => "Oportunidad en la atención",
            Item::Courtesy => "Trato del personal",
            Item::Competence => "Conocimiento del personal",
            Item::SolutionQuality => "Calidad de la solución",
            Item::Communication => "Comunicación y seguimiento",
            Item::Overall => "Satisfacción general",
        }
    }

    fn index(self) -> usize {
        Item::ALL.iter().position(|i| *i == self).unwrap_or(0)
    }
}

/// Labels of the 1–5 scale, 1 first.
pub const SCALE_ES: [&str; 5] = [
    "Muy insatisfecho",
    "Insatisfecho",
    "Ni satisfecho ni insatisfecho",
    "Satisfecho",
    "Muy satisfecho",
];

/// One requester's answer: whether the request was solved, a rating per item, a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub solved: bool,
    /// Ratings 1–5 in the order of [`Item::ALL`].
    pub ratings: [u8; 6],
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("Indique si se resolvió su solicitud (sí o no).")]
    SolvedMissing,
    #[error("Califique «{}» del 1 (muy insatisfecho) al 5 (muy satisfecho).", .0.label_es())]
    Rating(Item),
    #[error("El comentario es demasiado largo: escriba a lo más 4,000 caracteres.")]
    CommentTooLong,
}

impl AnswerError {
    pub fn code(&self) -> &'static str {
        match self {
            AnswerError::SolvedMissing => "survey_solved_missing",
            AnswerError::Rating(_) => "survey_rating",
            AnswerError::CommentTooLong => "survey_comment_too_long",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            AnswerError::SolvedMissing => "solved",
            AnswerError::Rating(item) => item.code(),
            AnswerError::CommentTooLong => "comment",
        }
    }
}

impl Answer {
    /// Builds an answer from raw form values; every item must be rated 1–5.
    pub fn parse(
        solved: Option<bool>,
        ratings: [Option<u8>; 6],
        comment: &str,
    ) -> Result<Answer, AnswerError> {
        let solved = solved.ok_or(AnswerError::SolvedMissing)?;
        let mut checked = [0u8; 6];
        for (slot, (item, rating)) in checked.iter_mut().zip(Item::ALL.iter().zip(ratings)) {
            match rating {
                Some(r @ 1..=5) => *slot = r,
                _ => return Err(AnswerError::Rating(*item)),
            }
        }
        let comment = comment.trim();
        if comment.chars().count() > 4_000 {
            return Err(AnswerError::CommentTooLong);
        }
        Ok(Answer {
            solved,
            ratings: checked,
            comment: comment.to_string(),
        })
    }

    pub fn rating(&self, item: Item) -> u8 {
        self.ratings[item.index()]
    }

    /// L10: a rating of 1 or 2 opens a complaint automatically.
    pub fn has_low_rating(&self) -> bool {
        self.ratings.iter().any(|r| *r <= 2)
    }
}

/// The (year, month) an instant falls in, in the calendar's zone.
pub fn month_of(t: Timestamp, zone: &TimeZone) -> (i16, i8) {
    let date = t.to_zoned(zone.clone()).date();
    (date.year(), date.month())
}

/// The instants that bound a month in `zone`: [first local midnight, next month's first midnight).
pub fn month_bounds(year: i16, month: i8, zone: &TimeZone) -> Option<(Timestamp, Timestamp)> {
    let first = Date::new(year, month, 1).ok()?;
    let next = first.checked_add(1.month()).ok()?;
    let start = first.to_zoned(zone.clone()).ok()?.timestamp();
    let end = next.to_zoned(zone.clone()).ok()?.timestamp();
    Some((start, end))
}

/// Indices of one group (a month, or a month × area, service, channel or unit).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indices {
    pub answers: usize,
    pub sent: usize,
    /// Percentage, `None` without answers.
    pub csat_percent: Option<f64>,
    /// Mean per item in the order of [`Item::ALL`], `None` without answers.
    pub item_means: Vec<Option<f64>>,
    /// Answered ÷ sent, as a percentage.
    pub response_rate_percent: Option<f64>,
    /// Requesters who said "not solved", as a percentage of answers.
    pub not_solved_percent: Option<f64>,
    /// Fewer answers than [`MIN_RELIABLE_ANSWERS`].
    pub low_sample: bool,
}

/// Computes the indices of a group from its answers and the number of surveys sent.
pub fn indices(answers: &[Answer], sent: usize) -> Indices {
    let n = answers.len();
    let percent =
        |part: usize, whole: usize| (whole > 0).then(|| part as f64 * 100.0 / whole as f64);
    let satisfied = answers
        .iter()
        .filter(|a| a.rating(Item::Overall) >= 4)
        .count();
    let not_solved = answers.iter().filter(|a| !a.solved).count();
    let item_means = Item::ALL
        .iter()
        .map(|item| {
            (n > 0).then(|| {
                answers
                    .iter()
                    .map(|a| f64::from(a.rating(*item)))
                    .sum::<f64>()
                    / n as f64
            })
        })
        .collect();
    Indices {
        answers: n,
        sent,
        csat_percent: percent(satisfied, n),
        item_means,
        response_rate_percent: percent(n, sent),
        not_solved_percent: percent(not_solved, n),
        low_sample: n < MIN_RELIABLE_ANSWERS,
    }
}

/// The end of the `n`-th business day after the day of `from` (in the calendar's zone): when a
/// survey without answer auto-closes its request (default 5 business days). `None` if the
/// calendar has no such day within ten years.
pub fn end_of_nth_business_day(calendar: &Calendar, from: Timestamp, n: u32) -> Option<Timestamp> {
    let zone = calendar.zone().clone();
    let mut date = from.to_zoned(zone.clone()).date();
    let mut counted = 0;
    for _ in 0..3_660 {
        date = date.tomorrow().ok()?;
        let start = date.to_zoned(zone.clone()).ok()?.timestamp();
        let end = date
            .tomorrow()
            .ok()?
            .to_zoned(zone.clone())
            .ok()?
            .timestamp();
        let open = calendar.business_between(start, end);
        if open > SignedDuration::ZERO {
            counted += 1;
            if counted == n {
                return calendar.add_business(start, open);
            }
        }
    }
    None
}

/// Why a closed or cancelled request deserves follow-up (L13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anomaly {
    ReopenedTwice,
    BreachedTarget,
    LowRating,
    ClosedWithoutValidation,
    CancelledAfterAssignment,
}

impl Anomaly {
    pub fn label_es(self) -> &'static str {
        match self {
            Anomaly::ReopenedTwice => "Reabierta dos o más veces",
            Anomaly::BreachedTarget => "Excedió un tiempo comprometido",
            Anomaly::LowRating => "Calificación baja en la encuesta",
            Anomaly::ClosedWithoutValidation => "Cerrada por falta de respuesta",
            Anomaly::CancelledAfterAssignment => "Cancelada después de asignarse",
        }
    }
}

/// What the anomaly rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FollowUpFacts {
    pub reopen_count: i64,
    pub breached: bool,
    pub lowest_rating: Option<u8>,
    pub auto_closed: bool,
    pub cancelled_after_assignment: bool,
}

pub fn anomalies(facts: FollowUpFacts) -> Vec<Anomaly> {
    let mut found = Vec::new();
    if facts.reopen_count >= 2 {
        found.push(Anomaly::ReopenedTwice);
    }
    if facts.breached {
        found.push(Anomaly::BreachedTarget);
    }
    if facts.lowest_rating.is_some_and(|r| r <= 2) {
        found.push(Anomaly::LowRating);
    }
    if facts.auto_closed {
        found.push(Anomaly::ClosedWithoutValidation);
    }
    if facts.cancelled_after_assignment {
        found.push(Anomaly::CancelledAfterAssignment);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn answer(overall: u8, solved: bool) -> Answer {
        Answer {
            solved,
            ratings: [4, 5, 3, 4, 2, overall],
            comment: String::new(),
        }
    }

    #[test]
    fn csat_counts_overall_four_and_five_over_all_answers_l12() {
        let answers = vec![
            answer(5, true),
            answer(4, true),
            answer(3, true),
            answer(1, false),
        ];
        let idx = indices(&answers, 10);
        assert_eq!(idx.csat_percent, Some(50.0));
        assert_eq!(idx.response_rate_percent, Some(40.0));
        assert_eq!(idx.not_solved_percent, Some(25.0));
        assert_eq!(idx.item_means[0], Some(4.0));
        assert_eq!(idx.item_means[5], Some(3.25));
        assert!(idx.low_sample);
    }

    #[test]
    fn unanswered_surveys_never_count_as_satisfied() {
        let idx = indices(&[], 12);
        assert_eq!(idx.csat_percent, None);
        assert_eq!(idx.response_rate_percent, Some(0.0));
        assert!(idx.item_means.iter().all(Option::is_none));
    }

    #[test]
    fn thirty_answers_are_a_reliable_sample() {
        let answers = vec![answer(5, true); MIN_RELIABLE_ANSWERS];
        assert!(!indices(&answers, 40).low_sample);
        assert!(indices(&answers[1..], 40).low_sample);
    }

    #[test]
    fn every_item_must_be_rated_and_the_question_answered() {
        let all = [Some(5); 6];
        assert_eq!(
            Answer::parse(None, all, "").unwrap_err(),
            AnswerError::SolvedMissing
        );
        let mut missing = all;
        missing[2] = None;
        assert_eq!(
            Answer::parse(Some(true), missing, "").unwrap_err().field(),
            "competence"
        );
        let mut out_of_scale = all;
        out_of_scale[0] = Some(6);
        assert!(Answer::parse(Some(true), out_of_scale, "").is_err());
        let ok = Answer::parse(Some(false), all, "  gracias ").unwrap();
        assert_eq!(ok.comment, "gracias");
        assert!(!ok.has_low_rating());
    }

    fn mexico() -> TimeZone {
        TimeZone::get("America/Mexico_City").unwrap()
    }

    #[test]
    fn the_month_is_the_local_month_of_the_answer_date() {
        let zone = mexico();
        // 05:59 UTC on 1 April is 23:59 on 31 March in Mexico City.
        let late_march: Timestamp = "2026-04-01T05:59:59Z".parse().unwrap();
        assert_eq!(month_of(late_march, &zone), (2026, 3));
        let april: Timestamp = "2026-04-01T06:00:00Z".parse().unwrap();
        assert_eq!(month_of(april, &zone), (2026, 4));
        let (start, end) = month_bounds(2026, 3, &zone).unwrap();
        assert_eq!(start.to_string(), "2026-03-01T06:00:00Z");
        assert_eq!(end, april);
        let (_, december_end) = month_bounds(2026, 12, &zone).unwrap();
        assert_eq!(december_end.to_string(), "2027-01-01T06:00:00Z");
    }

    #[test]
    fn auto_close_comes_at_the_end_of_the_fifth_business_day() {
        let calendar = Calendar::ipn_default().unwrap();
        // Sent on Wednesday 11 March 2026 at 10:00: Thu 12, Fri 13, Mon 16, Tue 17, Wed 18.
        let sent: Timestamp = "2026-03-11T16:00:00Z".parse().unwrap();
        let deadline = end_of_nth_business_day(&calendar, sent, 5).unwrap();
        assert_eq!(
            deadline.to_zoned(mexico()).to_string(),
            "2026-03-18T20:00:00-06:00[America/Mexico_City]"
        );
        let with_holidays = calendar
            .with_exceptions(crate::calendar::law_rest_days(2026))
            .unwrap();
        // Monday 16 March is a law day: one day later.
        let deadline = end_of_nth_business_day(&with_holidays, sent, 5).unwrap();
        assert_eq!(
            deadline.to_zoned(mexico()).date(),
            jiff::civil::date(2026, 3, 19)
        );
    }

    #[test]
    fn anomalies_follow_the_rules_of_l13() {
        assert!(anomalies(FollowUpFacts::default()).is_empty());
        let found = anomalies(FollowUpFacts {
            reopen_count: 2,
            lowest_rating: Some(2),
            auto_closed: true,
            ..FollowUpFacts::default()
        });
        assert_eq!(
            found,
            vec![
                Anomaly::ReopenedTwice,
                Anomaly::LowRating,
                Anomaly::ClosedWithoutValidation
            ]
        );
    }

    proptest! {
        #[test]
        fn indices_stay_within_their_ranges(
            ratings in proptest::collection::vec((proptest::array::uniform6(1u8..=5), proptest::bool::ANY), 0..80),
            extra_sent in 0usize..50,
        ) {
            let answers: Vec<Answer> = ratings
                .into_iter()
                .map(|(r, solved)| Answer { solved, ratings: r, comment: String::new() })
                .collect();
            let idx = indices(&answers, answers.len() + extra_sent);
            if let Some(csat) = idx.csat_percent {
                prop_assert!((0.0..=100.0).contains(&csat));
            }
            for mean in idx.item_means.iter().flatten() {
                prop_assert!((1.0..=5.0).contains(mean));
            }
            if let Some(rate) = idx.response_rate_percent {
                prop_assert!((0.0..=100.0).contains(&rate));
            }
        }
    }
}
