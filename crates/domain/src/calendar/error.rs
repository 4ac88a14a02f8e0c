//! Errors raised while building a calendar or reading calendar data.
//!
//! Each variant has a stable machine code (`code()`) for the API and tests, the
//! name of the offending field (`field()`) so a form can highlight it, and a
//! Spanish message (`Display`) for the administrator who typed the data.

use jiff::civil::Date;

/// Why a calendar, one of its intervals or exceptions, or an iCalendar file was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The zone name is not in the tz database.
    #[error(
        "La zona horaria «{name}» no existe en la base de datos de zonas horarias (ejemplo válido: America/Mexico_City)."
    )]
    UnknownZone { name: String },

    /// A time of day could not be read, or is not allowed where it appears.
    #[error(
        "El valor «{value}» en {field} no es una hora válida: use HH:MM entre 00:00 y 24:00, sin fracciones de segundo (24:00 solo como hora de cierre)."
    )]
    InvalidTime { field: String, value: String },

    /// An interval closes at or before the moment it opens.
    #[error(
        "El intervalo {field} ({interval}) termina antes o en el mismo momento en que empieza."
    )]
    IntervalNotIncreasing { field: String, interval: String },

    /// Two intervals of the same day share some time.
    #[error("Los intervalos de {field} se traslapan: {first} y {second}.")]
    OverlappingIntervals {
        field: String,
        first: String,
        second: String,
    },

    /// The week has no open time at all, so no deadline could ever be reached.
    #[error(
        "El calendario no tiene ningún horario de atención en la semana; ningún plazo podría cumplirse."
    )]
    NoOpenTime,

    /// An exception ends before it starts (or at the last representable date).
    #[error(
        "La excepción {field} tiene un rango de fechas inválido ({start} a {end}): debe terminar el mismo día en que empieza o después."
    )]
    ExceptionRangeInvalid {
        field: String,
        start: Date,
        end: Date,
    },

    /// An exception covers more than a year, which is almost surely a typo.
    #[error(
        "La excepción {field} abarca {days} días; el máximo es {max} (revise el año de las fechas)."
    )]
    ExceptionTooLong { field: String, days: i64, max: i64 },

    /// An exception has no name, so it could not be explained to users.
    #[error("La excepción {field} no tiene nombre; el nombre se muestra al explicar los plazos.")]
    ExceptionNameEmpty { field: String },

    /// A special-hours exception lacks its hours.
    #[error(
        "Falta «{field}»: una excepción de horario especial (special_hours) debe indicar su horario."
    )]
    SpecialHoursMissing { field: String },

    /// Hours were given for an exception that is not special hours.
    #[error(
        "Sobra «{field}»: solo las excepciones de horario especial (special_hours) llevan horario."
    )]
    HoursNotAllowed { field: String },

    /// Two special-hours exceptions give different hours for the same day.
    #[error(
        "La excepción {field} da un horario especial para el {date}, que ya tiene otro horario especial."
    )]
    ConflictingSpecialHours { field: String, date: Date },

    /// An iCalendar text could not be read.
    #[error("iCalendar, línea {line}: {detail}")]
    Ics { line: usize, detail: String },
}

impl CalendarError {
    /// Stable snake_case code, safe to match on in the API and in tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownZone { .. } => "unknown_zone",
            Self::InvalidTime { .. } => "invalid_time",
            Self::IntervalNotIncreasing { .. } => "interval_not_increasing",
            Self::OverlappingIntervals { .. } => "overlapping_intervals",
            Self::NoOpenTime => "no_open_time",
            Self::ExceptionRangeInvalid { .. } => "exception_range_invalid",
            Self::ExceptionTooLong { .. } => "exception_too_long",
            Self::ExceptionNameEmpty { .. } => "exception_name_empty",
            Self::SpecialHoursMissing { .. } => "special_hours_missing",
            Self::HoursNotAllowed { .. } => "hours_not_allowed",
            Self::ConflictingSpecialHours { .. } => "conflicting_special_hours",
            Self::Ics { .. } => "ics_invalid",
        }
    }

    /// Path of the offending field in the calendar's JSON shape, e.g.
    /// `weekly.monday[1]` or `exceptions[3]`; `ics` for iCalendar input.
    pub fn field(&self) -> &str {
        match self {
            Self::UnknownZone { .. } => "zone",
            Self::NoOpenTime => "weekly",
            Self::Ics { .. } => "ics",
            Self::InvalidTime { field, .. }
            | Self::IntervalNotIncreasing { field, .. }
            | Self::OverlappingIntervals { field, .. }
            | Self::ExceptionRangeInvalid { field, .. }
            | Self::ExceptionTooLong { field, .. }
            | Self::ExceptionNameEmpty { field }
            | Self::SpecialHoursMissing { field }
            | Self::HoursNotAllowed { field }
            | Self::ConflictingSpecialHours { field, .. } => field,
        }
    }
}
