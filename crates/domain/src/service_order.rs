//! Pre-printed service orders (X2): accepted only in extraordinary, justified cases, and only when
//! every rule holds. Each refusal says why; all reasons are returned at once so the person at the
//! counter can tell the department head everything that is wrong.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::identifiers::RequestNumber;

/// At most this many business days between the service and the order's reception (X2 d).
pub const MAX_BUSINESS_DAYS_LATE: u32 = 5;

/// Where the order was delivered (X2 b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveredAt {
    /// Recepción del edificio de la CGSI.
    CgsiReception,
    Cau,
    Elsewhere,
}

/// What was handed in (X2 c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyKind {
    Original,
    Photocopy,
    /// The yellow carbon copy of the block.
    YellowCopy,
}

/// A paper service order as received at the counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceOrder {
    /// The number printed on the block.
    pub number: String,
    pub delivered_at: DeliveredAt,
    pub copy: CopyKind,
    /// The date the service was done, as written on the order.
    pub service_date: Date,
    pub signed: bool,
    pub stamped: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    #[error(
        "El número {number} es de una solicitud generada por el sistema: ya está registrada y no se registra otra vez (X2 a)."
    )]
    SystemNumber { number: String },
    #[error("La orden no tiene número de folio; escriba el número impreso en el block.")]
    MissingNumber,
    #[error("Las órdenes se entregan en la recepción de la CGSI o directamente en el CAU (X2 b).")]
    WrongPlace,
    #[error("Sólo se registran originales: no se aceptan fotocopias ni copias amarillas (X2 c).")]
    NotOriginal,
    #[error("La orden llegó {days} días hábiles después del servicio; el límite es {max} (X2 d).")]
    TooLate { days: u32, max: u32 },
    #[error(
        "La fecha del servicio es posterior a la fecha de recepción; revise la fecha escrita en la orden."
    )]
    ServiceInTheFuture,
    #[error("Falta la firma de la unidad donde se realizó el servicio (X2 e).")]
    Unsigned,
    #[error("Falta el sello de la unidad donde se realizó el servicio (X2 e).")]
    Unstamped,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::SystemNumber { .. } => "service_order_system_number",
            Refusal::MissingNumber => "service_order_number_missing",
            Refusal::WrongPlace => "service_order_wrong_place",
            Refusal::NotOriginal => "service_order_not_original",
            Refusal::TooLate { .. } => "service_order_too_late",
            Refusal::ServiceInTheFuture => "service_order_future_date",
            Refusal::Unsigned => "service_order_unsigned",
            Refusal::Unstamped => "service_order_unstamped",
        }
    }
}

/// An accepted order and the month it is counted in (the month of its reception: an order for a
/// service at the end of a month that arrives in the next month counts in the next one, X2 d).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub business_days_late: u32,
    pub counted_in: (i16, i8),
}

/// Business days from the service date to the reception date: open days after the service date
/// up to and including the reception date.
pub fn business_days_between(calendar: &Calendar, service: Date, received: Date) -> Option<u32> {
    let zone = calendar.zone().clone();
    let mut days = 0;
    let mut date = service;
    while date < received {
        date = date.tomorrow().ok()?;
        let start = date.to_zoned(zone.clone()).ok()?.timestamp();
        let end = date
            .tomorrow()
            .ok()?
            .to_zoned(zone.clone())
            .ok()?
            .timestamp();
        if calendar.business_between(start, end) > SignedDuration::ZERO {
            days += 1;
        }
    }
    Some(days)
}

/// Checks every rule of X2; returns all refusals, or the acceptance.
pub fn check(
    order: &ServiceOrder,
    received_at: Timestamp,
    calendar: &Calendar,
) -> Result<Accepted, Vec<Refusal>> {
    let mut refusals = Vec::new();
    let number = order.number.trim();
    if number.is_empty() {
        refusals.push(Refusal::MissingNumber);
    } else if RequestNumber::parse(number).is_ok() {
        refusals.push(Refusal::SystemNumber {
            number: number.to_uppercase(),
        });
    }
    if order.delivered_at == DeliveredAt::Elsewhere {
        refusals.push(Refusal::WrongPlace);
    }
    if order.copy != CopyKind::Original {
        refusals.push(Refusal::NotOriginal);
    }
    let received = received_at.to_zoned(calendar.zone().clone()).date();
    let mut late = 0;
    if order.service_date > received {
        refusals.push(Refusal::ServiceInTheFuture);
    } else {
        late = business_days_between(calendar, order.service_date, received).unwrap_or(u32::MAX);
        if late > MAX_BUSINESS_DAYS_LATE {
            refusals.push(Refusal::TooLate {
                days: late,
                max: MAX_BUSINESS_DAYS_LATE,
            });
        }
    }
    if !order.signed {
        refusals.push(Refusal::Unsigned);
    }
    if !order.stamped {
        refusals.push(Refusal::Unstamped);
    }
    if refusals.is_empty() {
        Ok(Accepted {
            business_days_late: late,
            counted_in: (received.year(), received.month()),
        })
    } else {
        Err(refusals)
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;
    use crate::calendar::law_rest_days;

    fn calendar() -> Calendar {
        Calendar::ipn_default()
            .unwrap()
            .with_exceptions(law_rest_days(2026))
            .unwrap()
    }

    fn order(service_date: Date) -> ServiceOrder {
        ServiceOrder {
            number: "A-004512".into(),
            delivered_at: DeliveredAt::Cau,
            copy: CopyKind::Original,
            service_date,
            signed: true,
            stamped: true,
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse::<jiff::Zoned>().unwrap().timestamp()
    }

    #[test]
    fn a_proper_order_within_five_business_days_is_accepted_x2() {
        // Service on Tuesday 10 March; received Tuesday 17 March (Monday 16 is a law day): 4 days.
        let accepted = check(
            &order(date(2026, 3, 10)),
            at("2026-03-17T10:00-06:00[America/Mexico_City]"),
            &calendar(),
        )
        .unwrap();
        assert_eq!(accepted.business_days_late, 4);
        assert_eq!(accepted.counted_in, (2026, 3));
    }

    #[test]
    fn an_order_for_the_end_of_a_month_is_counted_in_the_next_month_x2_d() {
        let accepted = check(
            &order(date(2026, 3, 31)),
            at("2026-04-02T10:00-06:00[America/Mexico_City]"),
            &calendar(),
        )
        .unwrap();
        assert_eq!(accepted.counted_in, (2026, 4));
    }

    #[test]
    fn six_business_days_late_is_refused_with_the_count_x2_d() {
        let refusals = check(
            &order(date(2026, 3, 10)),
            at("2026-03-19T10:00-06:00[America/Mexico_City]"),
            &calendar(),
        )
        .unwrap_err();
        assert_eq!(refusals, vec![Refusal::TooLate { days: 6, max: 5 }]);
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_reason() {
        let bad = ServiceOrder {
            number: "ss-2026-000123".into(),
            delivered_at: DeliveredAt::Elsewhere,
            copy: CopyKind::YellowCopy,
            service_date: date(2026, 3, 10),
            signed: false,
            stamped: false,
        };
        let refusals = check(
            &bad,
            at("2026-03-11T10:00-06:00[America/Mexico_City]"),
            &calendar(),
        )
        .unwrap_err();
        let codes: Vec<&str> = refusals.iter().map(Refusal::code).collect();
        assert_eq!(
            codes,
            vec![
                "service_order_system_number",
                "service_order_wrong_place",
                "service_order_not_original",
                "service_order_unsigned",
                "service_order_unstamped"
            ]
        );
        assert!(refusals[0].to_string().contains("SS-2026-000123"));
        let photocopy = ServiceOrder {
            copy: CopyKind::Photocopy,
            ..order(date(2026, 3, 10))
        };
        assert_eq!(
            check(
                &photocopy,
                at("2026-03-11T10:00-06:00[America/Mexico_City]"),
                &calendar()
            )
            .unwrap_err(),
            vec![Refusal::NotOriginal]
        );
    }

    #[test]
    fn a_service_date_after_reception_is_refused() {
        let refusals = check(
            &order(date(2026, 3, 20)),
            at("2026-03-11T10:00-06:00[America/Mexico_City]"),
            &calendar(),
        )
        .unwrap_err();
        assert_eq!(refusals, vec![Refusal::ServiceInTheFuture]);
    }

    proptest! {
        /// Business days never exceed calendar days, and a later reception is never fewer days.
        #[test]
        fn business_days_are_monotonic_and_bounded(offset in 0i64..60, extra in 0i64..10) {
            let cal = calendar();
            let service = date(2026, 1, 5);
            let received = service.checked_add(jiff::Span::new().days(offset)).unwrap();
            let later = received.checked_add(jiff::Span::new().days(extra)).unwrap();
            let a = business_days_between(&cal, service, received).unwrap();
            let b = business_days_between(&cal, service, later).unwrap();
            prop_assert!(a <= b);
            prop_assert!(i64::from(a) <= offset);
        }
    }
}
