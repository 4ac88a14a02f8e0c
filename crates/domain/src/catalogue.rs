//! The service catalogue: services with versioned service sheets (cédulas, Q4, V7).
//!
//! A sheet is never edited in place: a change creates the next version, and a request keeps
//! the version it was registered under.

use serde::{Deserialize, Serialize};

use crate::ids::AreaId;

/// Who may request a service (L1, X1, Q2). Values as in `data/catalogue.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    /// Any registered requester (L1: the e-mail service).
    Open,
    /// A head of IT unit or a member of that head's work group (L1, X1).
    Udi,
    /// As `Udi`, or the requester in person at CAU (Q2: e-mail account creation).
    UdiOrInPerson,
}

impl Eligibility {
    pub fn code(self) -> &'static str {
        match self {
            Eligibility::Open => "open",
            Eligibility::Udi => "udi",
            Eligibility::UdiOrInPerson => "udi_or_in_person",
        }
    }

    pub fn from_code(code: &str) -> Option<Eligibility> {
        [
            Eligibility::Open,
            Eligibility::Udi,
            Eligibility::UdiOrInPerson,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }
}

/// The content of one version of a service sheet, as an administrator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetContent {
    pub area_id: AreaId,
    pub eligibility: Eligibility,
    /// What the requester must provide (V1–V5).
    #[serde(default)]
    pub requirements: Vec<String>,
    /// First-level tests the agent runs before registering (A4).
    #[serde(default)]
    pub first_level_tests: Vec<String>,
    /// Documents that must be attached to the request (Q3).
    #[serde(default)]
    pub required_attachments: Vec<String>,
    /// The area's capacity to give the service, as the area states it.
    #[serde(default)]
    pub capacity: String,
    /// Business minutes from registration to the first action.
    pub response_target_minutes: i64,
    /// Business minutes from registration to the solution.
    pub resolution_target_minutes: i64,
    /// Text mailed to the requester with the number (A13).
    #[serde(default)]
    pub attention_policy: String,
    /// Procedures that mention this service, updated together (V7).
    #[serde(default)]
    pub procedure_refs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    #[error(
        "El tiempo «{field}» debe ser mayor que cero minutos hábiles; escriba, por ejemplo, 240."
    )]
    NonPositiveTarget { field: &'static str },
    #[error(
        "El tiempo de respuesta ({response} min) no puede ser mayor que el de solución ({resolution} min)."
    )]
    ResponseAfterResolution { response: i64, resolution: i64 },
    #[error("La lista «{field}» tiene un elemento vacío; quítelo o escriba su texto.")]
    EmptyItem { field: &'static str },
    #[error("El servicio necesita un nombre de 2 a 200 caracteres.")]
    ServiceName,
}

impl SheetError {
    pub fn code(&self) -> &'static str {
        match self {
            SheetError::NonPositiveTarget { .. } => "sheet_target",
            SheetError::ResponseAfterResolution { .. } => "sheet_target_order",
            SheetError::EmptyItem { .. } => "sheet_empty_item",
            SheetError::ServiceName => "service_name",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            SheetError::NonPositiveTarget { field } | SheetError::EmptyItem { field } => field,
            SheetError::ResponseAfterResolution { .. } => "response_target_minutes",
            SheetError::ServiceName => "name",
        }
    }
}

/// Default targets for sheets imported from the published catalogue, which states none:
/// one business day to respond, five to solve. Areas replace them (Q4).
pub const DEFAULT_RESPONSE_MINUTES: i64 = 12 * 60;
pub const DEFAULT_RESOLUTION_MINUTES: i64 = 5 * 12 * 60;

impl SheetContent {
    /// Trims every text and checks the targets. Returns the cleaned content.
    pub fn validated(mut self) -> Result<SheetContent, SheetError> {
        for (field, value) in [
            ("response_target_minutes", self.response_target_minutes),
            ("resolution_target_minutes", self.resolution_target_minutes),
        ] {
            if value <= 0 {
                return Err(SheetError::NonPositiveTarget { field });
            }
        }
        if self.response_target_minutes > self.resolution_target_minutes {
            return Err(SheetError::ResponseAfterResolution {
                response: self.response_target_minutes,
                resolution: self.resolution_target_minutes,
            });
        }
        for (field, list) in [
            ("requirements", &mut self.requirements),
            ("first_level_tests", &mut self.first_level_tests),
            ("required_attachments", &mut self.required_attachments),
            ("procedure_refs", &mut self.procedure_refs),
        ] {
            for item in list.iter_mut() {
                *item = item.trim().to_string();
                if item.is_empty() {
                    return Err(SheetError::EmptyItem { field });
                }
            }
        }
        self.capacity = self.capacity.trim().to_string();
        self.attention_policy = self.attention_policy.trim().to_string();
        Ok(self)
    }

    /// The requirements the agent did not confirm (V5): the request waits in `to_confirm`
    /// until they are.
    pub fn missing_requirements<'a>(&'a self, confirmed: &[String]) -> Vec<&'a str> {
        self.requirements
            .iter()
            .filter(|r| !confirmed.iter().any(|c| c.trim() == r.as_str()))
            .map(String::as_str)
            .collect()
    }
}

/// A service name: trimmed, 2..=200 characters.
pub fn service_name(input: &str) -> Result<String, SheetError> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    let len = name.chars().count();
    if (2..=200).contains(&len) {
        Ok(name)
    } else {
        Err(SheetError::ServiceName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> SheetContent {
        SheetContent {
            area_id: AreaId(1),
            eligibility: Eligibility::Udi,
            requirements: vec![" Oficio firmado ".into(), "Número de extensión".into()],
            first_level_tests: vec!["Verificar cable de red".into()],
            required_attachments: vec![],
            capacity: String::new(),
            response_target_minutes: 60,
            resolution_target_minutes: 240,
            attention_policy: "Se atiende en 2 días hábiles.".into(),
            procedure_refs: vec![],
        }
    }

    #[test]
    fn a_valid_sheet_is_trimmed_q4() {
        let cleaned = sheet().validated().unwrap();
        assert_eq!(cleaned.requirements[0], "Oficio firmado");
    }

    #[test]
    fn targets_must_be_positive_and_ordered() {
        let mut zero = sheet();
        zero.resolution_target_minutes = 0;
        assert_eq!(
            zero.validated().unwrap_err().field(),
            "resolution_target_minutes"
        );
        let mut inverted = sheet();
        inverted.response_target_minutes = 500;
        assert_eq!(
            inverted.validated().unwrap_err().code(),
            "sheet_target_order"
        );
    }

    #[test]
    fn an_empty_requirement_is_refused() {
        let mut bad = sheet();
        bad.requirements.push("   ".into());
        assert_eq!(
            bad.validated().unwrap_err(),
            SheetError::EmptyItem {
                field: "requirements"
            }
        );
    }

    #[test]
    fn unconfirmed_requirements_are_listed_v5() {
        let cleaned = sheet().validated().unwrap();
        assert_eq!(
            cleaned.missing_requirements(&["Oficio firmado".into()]),
            vec!["Número de extensión"]
        );
        assert!(
            cleaned
                .missing_requirements(&["Oficio firmado".into(), "Número de extensión".into()])
                .is_empty()
        );
    }

    #[test]
    fn eligibility_codes_match_the_seed_catalogue() {
        for code in ["open", "udi", "udi_or_in_person"] {
            assert_eq!(Eligibility::from_code(code).unwrap().code(), code);
        }
        assert_eq!(Eligibility::from_code("anyone"), None);
    }
}
