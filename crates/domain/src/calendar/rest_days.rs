//! Rest days generated from rules, as *suggestions* for the administrator (L4).
//!
//! The law days follow the Mexican federal labour law, art. 74; the institutional
//! days follow the IPN's usual yearly calendar. Both return plain
//! [`DatedException`] values: the administrator reviews them, adds election days
//! and vacation periods (which no rule gives), and stores the result as data.

use jiff::civil::{Date, Weekday};

use super::{DatedException, ExceptionKind};

/// First year of the six-yearly 1 October rest day (transfer of the federal
/// executive); before the 2024 term it fell on 1 December and is not generated.
const FIRST_TRANSFER_YEAR: i16 = 2024;

/// Rest days of art. 74 for `year`, sorted by date: 1 Jan; first Monday of
/// February; third Monday of March; 1 May; 16 Sep; 1 Oct every six years from
/// 2024 (2030, 2036 …); third Monday of November; 25 Dec. Election days are data,
/// not generated. Years outside what `jiff` can represent give an empty list.
pub fn law_rest_days(year: i16) -> Vec<DatedException> {
    let fixed = |month: i8, day: i8| Date::new(year, month, day).ok();
    let nth_monday = |month: i8, nth: i8| {
        Date::new(year, month, 1)
            .ok()
            .and_then(|first| first.nth_weekday_of_month(nth, Weekday::Monday).ok())
    };
    let transfer_year = year >= FIRST_TRANSFER_YEAR && (year - FIRST_TRANSFER_YEAR) % 6 == 0;

    let mut days: Vec<(Option<Date>, &str)> = vec![
        (fixed(1, 1), "Año Nuevo"),
        (
            nth_monday(2, 1),
            "Día de la Constitución (primer lunes de febrero)",
        ),
        (
            nth_monday(3, 3),
            "Natalicio de Benito Juárez (tercer lunes de marzo)",
        ),
        (fixed(5, 1), "Día del Trabajo"),
        (fixed(9, 16), "Día de la Independencia"),
        (
            nth_monday(11, 3),
            "Día de la Revolución (tercer lunes de noviembre)",
        ),
        (fixed(12, 25), "Navidad"),
    ];
    if transfer_year {
        days.push((fixed(10, 1), "Transmisión del Poder Ejecutivo Federal"));
    }
    let mut exceptions: Vec<DatedException> = days
        .into_iter()
        .filter_map(|(date, name)| {
            date.map(|d| DatedException::day(d, ExceptionKind::LawHoliday, name))
        })
        .collect();
    exceptions.sort_by_key(|e| e.start);
    exceptions
}

/// Easter Sunday of `year` by the anonymous Gregorian algorithm (Meeus/Jones/
/// Butcher). `None` before 1583 (the Gregorian reform) or after 9999.
pub fn easter_sunday(year: i16) -> Option<Date> {
    if !(1583..=9999).contains(&year) {
        return None;
    }
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // month is 3 or 4 and day 1..=31, so both fit in i8.
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// The IPN's usual non-working days for `year`, as `Institutional` suggestions,
/// sorted: Holy Thursday and Good Friday (from Easter), 5 May, 15 May (teachers'
/// day) and 2 Nov. Vacation periods are not generated: they change every year.
pub fn ipn_institutional_days(year: i16) -> Vec<DatedException> {
    let mut days: Vec<(Option<Date>, &str)> = Vec::new();
    if let Some(easter) = easter_sunday(year) {
        let before = |n: i64| {
            easter
                .checked_sub(jiff::SignedDuration::from_hours(24 * n))
                .ok()
        };
        days.push((before(3), "Jueves Santo"));
        days.push((before(2), "Viernes Santo"));
    }
    days.push((Date::new(year, 5, 5).ok(), "Batalla de Puebla"));
    days.push((Date::new(year, 5, 15).ok(), "Día del Maestro"));
    days.push((Date::new(year, 11, 2).ok(), "Día de Muertos"));
    let mut exceptions: Vec<DatedException> = days
        .into_iter()
        .filter_map(|(date, name)| {
            date.map(|d| DatedException::day(d, ExceptionKind::Institutional, name))
        })
        .collect();
    exceptions.sort_by_key(|e| e.start);
    exceptions
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn dates(exceptions: &[DatedException]) -> Vec<Date> {
        exceptions.iter().map(|e| e.start).collect()
    }

    // DOMAIN.md "Rest days": the 2026 rule days, exactly.
    #[test]
    fn law_rest_days_of_2026_are_the_seven_listed_in_the_domain_notes() {
        let days = law_rest_days(2026);
        assert_eq!(
            dates(&days),
            vec![
                date(2026, 1, 1),
                date(2026, 2, 2),
                date(2026, 3, 16),
                date(2026, 5, 1),
                date(2026, 9, 16),
                date(2026, 11, 16),
                date(2026, 12, 25),
            ]
        );
        assert!(
            days.iter()
                .all(|d| d.kind == ExceptionKind::LawHoliday && d.start == d.end)
        );
    }

    #[test]
    fn law_rest_days_of_2027_are_the_seven_listed_in_the_domain_notes() {
        assert_eq!(
            dates(&law_rest_days(2027)),
            vec![
                date(2027, 1, 1),
                date(2027, 2, 1),
                date(2027, 3, 15),
                date(2027, 5, 1),
                date(2027, 9, 16),
                date(2027, 11, 15),
                date(2027, 12, 25),
            ]
        );
    }

    #[test]
    fn the_first_of_october_is_a_rest_day_only_every_six_years_from_2024() {
        let has_october_first =
            |year: i16| dates(&law_rest_days(year)).contains(&date(year, 10, 1));
        assert!(has_october_first(2024));
        assert!(has_october_first(2030));
        assert!(has_october_first(2036));
        assert!(!has_october_first(2026));
        assert!(!has_october_first(2029));
        assert!(!has_october_first(2018));
        assert_eq!(law_rest_days(2030).len(), 8);
    }

    #[test]
    fn easter_sunday_matches_known_dates() {
        assert_eq!(easter_sunday(2026), Some(date(2026, 4, 5)));
        assert_eq!(easter_sunday(2027), Some(date(2027, 3, 28)));
        assert_eq!(easter_sunday(2024), Some(date(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(date(2025, 4, 20)));
        assert_eq!(easter_sunday(2000), Some(date(2000, 4, 23)));
        assert_eq!(easter_sunday(2038), Some(date(2038, 4, 25)));
        assert_eq!(easter_sunday(1818), Some(date(1818, 3, 22)));
        assert_eq!(easter_sunday(1500), None);
    }

    #[test]
    fn every_easter_sunday_is_a_sunday_between_22_march_and_25_april() {
        for year in 1583..=9999 {
            let easter = easter_sunday(year).expect("in range");
            assert_eq!(easter.weekday(), Weekday::Sunday, "{year}");
            assert!(
                easter >= date(year, 3, 22) && easter <= date(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn institutional_days_of_2026_include_holy_week_and_may_and_november_days() {
        let days = ipn_institutional_days(2026);
        assert_eq!(
            dates(&days),
            vec![
                date(2026, 4, 2),
                date(2026, 4, 3),
                date(2026, 5, 5),
                date(2026, 5, 15),
                date(2026, 11, 2),
            ]
        );
        assert!(days.iter().all(|d| d.kind == ExceptionKind::Institutional));
        assert_eq!(days[1].name, "Viernes Santo");
    }
}
