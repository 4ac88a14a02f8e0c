//! Who may ask for a service (L1, X1, Q2), with the reason when the answer is no.

use serde::{Deserialize, Serialize};

use crate::catalogue::Eligibility;
use crate::channel::Channel;

/// A requester's place in the IT organisation of their unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UdiRole {
    /// An ordinary student or employee.
    #[default]
    None,
    /// Jefe de UDI: head of the unit's IT unit.
    Head,
    /// A member of the head of IT unit's work group (X1).
    WorkGroup,
}

impl UdiRole {
    pub fn code(self) -> &'static str {
        match self {
            UdiRole::None => "none",
            UdiRole::Head => "head",
            UdiRole::WorkGroup => "work_group",
        }
    }

    pub fn from_code(code: &str) -> Option<UdiRole> {
        [UdiRole::None, UdiRole::Head, UdiRole::WorkGroup]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ineligible {
    #[error(
        "Este servicio sólo lo puede solicitar el Jefe de la Unidad de Informática (UDI) o un miembro de su grupo de trabajo (L1, X1). Pida a su Jefe de UDI que haga la solicitud."
    )]
    UdiOnly,
    #[error(
        "Este servicio lo solicita el Jefe de UDI o la persona interesada en persona en el CAU (Q2). Acuda al CAU con sus datos o pida a su Jefe de UDI que lo solicite."
    )]
    UdiOrInPersonOnly,
}

impl Ineligible {
    pub fn code(self) -> &'static str {
        match self {
            Ineligible::UdiOnly => "ineligible_udi_only",
            Ineligible::UdiOrInPersonOnly => "ineligible_udi_or_in_person",
        }
    }
}

/// L1: catalogue services are requested by heads of IT units (and their work group, X1);
/// ordinary users may request only the services marked `open`; Q2: e-mail accounts also in person.
pub fn check_eligibility(
    eligibility: Eligibility,
    requester: UdiRole,
    channel: Channel,
) -> Result<(), Ineligible> {
    let is_udi = matches!(requester, UdiRole::Head | UdiRole::WorkGroup);
    match eligibility {
        Eligibility::Open => Ok(()),
        Eligibility::Udi if is_udi => Ok(()),
        Eligibility::Udi => Err(Ineligible::UdiOnly),
        Eligibility::UdiOrInPerson if is_udi || channel == Channel::InPerson => Ok(()),
        Eligibility::UdiOrInPerson => Err(Ineligible::UdiOrInPersonOnly),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordinary_user_may_request_only_open_services_l1() {
        assert_eq!(
            check_eligibility(Eligibility::Open, UdiRole::None, Channel::Phone),
            Ok(())
        );
        assert_eq!(
            check_eligibility(Eligibility::Udi, UdiRole::None, Channel::Phone),
            Err(Ineligible::UdiOnly)
        );
    }

    #[test]
    fn the_head_and_the_work_group_may_request_udi_services_x1() {
        for role in [UdiRole::Head, UdiRole::WorkGroup] {
            for channel in Channel::ALL {
                assert_eq!(check_eligibility(Eligibility::Udi, role, channel), Ok(()));
            }
        }
    }

    #[test]
    fn email_accounts_are_also_requested_in_person_q2() {
        assert_eq!(
            check_eligibility(Eligibility::UdiOrInPerson, UdiRole::None, Channel::InPerson),
            Ok(())
        );
        assert_eq!(
            check_eligibility(Eligibility::UdiOrInPerson, UdiRole::None, Channel::Email),
            Err(Ineligible::UdiOrInPersonOnly)
        );
    }

    #[test]
    fn every_refusal_gives_a_reason() {
        for reason in [Ineligible::UdiOnly, Ineligible::UdiOrInPersonOnly] {
            assert!(reason.to_string().len() > 40);
            assert!(reason.code().starts_with("ineligible_"));
        }
    }
}
