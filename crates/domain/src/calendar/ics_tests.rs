//! Tests of the iCalendar export and import (L4: the calendar is editable data).

use jiff::civil::date;

use super::super::tests::{hours, ipn, ipn_2026};
use super::super::{DatedException, ExceptionKind};
use super::{exceptions_from_ics, fold};

#[test]
fn exported_exceptions_read_back_identically() {
    let calendar = ipn_2026();
    let text = calendar.to_ics();
    let read = exceptions_from_ics(&text).expect("own export is readable");
    assert_eq!(read, calendar.exceptions());
    let rebuilt = ipn().with_exceptions(read).unwrap();
    assert_eq!(rebuilt, calendar);
}

#[test]
fn the_export_uses_crlf_all_day_dates_with_exclusive_end_and_kind_categories() {
    let calendar = ipn()
        .with_exceptions([DatedException::range(
            date(2026, 3, 30),
            date(2026, 4, 10),
            ExceptionKind::Vacation,
            "Vacaciones de Semana Santa",
        )])
        .unwrap();
    let text = calendar.to_ics();
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "only CRLF line endings"
    );
    assert!(text.contains("\r\nDTSTART;VALUE=DATE:20260330\r\n"));
    assert!(text.contains("\r\nDTEND;VALUE=DATE:20260411\r\n"));
    assert!(text.contains("\r\nSUMMARY:Vacaciones de Semana Santa\r\n"));
    assert!(text.contains("\r\nCATEGORIES:vacation\r\n"));
    assert!(text.contains("\r\nX-WR-TIMEZONE:America/Mexico_City\r\n"));
}

#[test]
fn long_lines_are_folded_at_75_octets_without_splitting_characters() {
    let name = "Día de asueto por la conmemoración del aniversario de la fundación del Instituto \
                Politécnico Nacional; año «2026», edición única";
    let calendar = ipn()
        .with_exceptions([DatedException::day(
            date(2026, 1, 1),
            ExceptionKind::Institutional,
            name,
        )])
        .unwrap();
    let text = calendar.to_ics();
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(text.contains("\r\n "), "the summary was folded");
    let read = exceptions_from_ics(&text).unwrap();
    assert_eq!(read[0].name, name, "escaping and folding round-trip");

    let folded = fold(&"ñ".repeat(60));
    let lengths: Vec<usize> = folded.split("\r\n").map(str::len).collect();
    assert_eq!(lengths, vec![74, 47]);
}

#[test]
fn special_hours_travel_in_a_private_property() {
    let calendar = ipn_2026();
    let text = calendar.to_ics();
    assert!(text.contains("\r\nX-VENTANILLA-HOURS:08:00-14:00\r\n"));
    let read = exceptions_from_ics(&text).unwrap();
    let special = read.iter().find(|e| e.start == date(2026, 12, 21)).unwrap();
    assert_eq!(
        special.kind,
        ExceptionKind::SpecialHours(vec![hours("08:00", "14:00")])
    );
}

#[test]
fn real_world_shapes_are_read() {
    // LF endings, a folded summary, a date-time start, a missing DTEND, an
    // all-day event whose DTEND equals DTSTART, a UTC time read in the declared
    // zone, several categories, and a cancelled event.
    let text = "BEGIN:VCALENDAR\n\
                VERSION:2.0\n\
                X-WR-TIMEZONE:America/Mexico_City\n\
                BEGIN:VEVENT\n\
                DTSTART;TZID=America/Mexico_City:20260916T000000\n\
                SUMMARY:Día de la\n  Independencia\n\
                CATEGORIES:Festivo,LAW_HOLIDAY\n\
                END:VEVENT\n\
                BEGIN:VEVENT\n\
                DTSTART;VALUE=DATE:20260505\n\
                DTEND;VALUE=DATE:20260505\n\
                SUMMARY:Batalla de Puebla\n\
                END:VEVENT\n\
                BEGIN:VEVENT\n\
                DTSTART:20261103T030000Z\n\
                DTEND:20261104T060000Z\n\
                SUMMARY:Muertos\\, traslado\n\
                CATEGORIES:institutional\n\
                END:VEVENT\n\
                BEGIN:VEVENT\n\
                STATUS:CANCELLED\n\
                DTSTART;VALUE=DATE:20260101\n\
                SUMMARY:Cancelado\n\
                END:VEVENT\n\
                END:VCALENDAR\n";
    let read = exceptions_from_ics(text).unwrap();
    assert_eq!(
        read,
        vec![
            DatedException::day(
                date(2026, 9, 16),
                ExceptionKind::LawHoliday,
                "Día de la Independencia"
            ),
            // No category: informational, it closes nothing until the admin says so.
            DatedException::day(
                date(2026, 5, 5),
                ExceptionKind::Optional,
                "Batalla de Puebla"
            ),
            // 03:00Z on 3 Nov is 21:00 on 2 Nov in Mexico City; 06:00Z on 4 Nov is midnight.
            DatedException::range(
                date(2026, 11, 2),
                date(2026, 11, 3),
                ExceptionKind::Institutional,
                "Muertos, traslado"
            ),
        ]
    );
}

#[test]
fn import_errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("hola: mundo\n", 1, "no es un archivo iCalendar"),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026-01-01\nSUMMARY:x\nEND:VEVENT\n",
            3,
            "fecha",
        ),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\n",
            2,
            "DTSTART",
        ),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101\nEND:VEVENT\n",
            2,
            "SUMMARY",
        ),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101\nSUMMARY:x\n",
            2,
            "END:VEVENT",
        ),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nsin dos puntos\n",
            3,
            "NOMBRE:valor",
        ),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260110\nDTEND:20260105\nSUMMARY:x\nEND:VEVENT\n",
            4,
            "DTEND",
        ),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261221\nSUMMARY:x\nCATEGORIES:special_hours\nX-VENTANILLA-HOURS:8-14\nEND:VEVENT\n",
            6,
            "horario",
        ),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261221\nSUMMARY:x\nCATEGORIES:special_hours\nEND:VEVENT\n",
            2,
            "X-VENTANILLA-HOURS",
        ),
        (" suelta\nBEGIN:VCALENDAR\n", 1, "continuación"),
    ];
    for &(text, line, needle) in cases {
        let error = exceptions_from_ics(text).expect_err(text);
        assert_eq!(error.code(), "ics_invalid");
        assert_eq!(error.field(), "ics");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("iCalendar, línea {line}:")),
            "{message}"
        );
        assert!(message.contains(needle), "{message}");
    }
}
