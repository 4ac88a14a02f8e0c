//! Identifiers other than the CURP: student number (boleta), employee number, personal e-mail,
//! phone extension, request number and a person's full name.
//!
//! Each type is parsed once at the edge (requirement Q1: what a requester record holds) and keeps
//! its normalised text, so equal identifiers compare equal however they were typed. Errors carry
//! a stable code and a Spanish message that tells the user what to type.

use std::fmt;

use serde::{Serialize, Serializer};

/// Why an identifier could not be parsed. `Display` is the Spanish message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error(
        "La boleta debe tener 10 caracteres, solo dígitos y letras sin acento (por ejemplo 2019630123), sin espacios ni guiones."
    )]
    BoletaFormat,

    #[error(
        "El número de empleado debe tener solo dígitos, entre {min} y {max}, sin espacios ni guiones."
    )]
    EmployeeNumberFormat { min: usize, max: usize },

    #[error(
        "El correo electrónico no es válido: {reason}. Escríbalo como nombre@dominio.mx, sin espacios."
    )]
    EmailFormat { reason: EmailProblem },

    #[error(
        "La extensión telefónica debe tener de 3 a 6 dígitos, sin espacios ni guiones (por ejemplo 51234)."
    )]
    ExtensionFormat,

    #[error(
        "El número de solicitud debe tener la forma SS-AAAA-NNNNNN, con el año y al menos 6 dígitos (por ejemplo SS-2026-000123)."
    )]
    RequestNumberFormat,

    #[error("Escriba el nombre completo.")]
    NameEmpty,

    #[error("El nombre completo debe tener al menos {min} caracteres.")]
    NameTooShort { min: usize },

    #[error(
        "El nombre completo no puede pasar de {max} caracteres; abrevie el segundo nombre si es necesario."
    )]
    NameTooLong { max: usize },

    #[error(
        "El nombre contiene caracteres invisibles de control; vuelva a escribirlo en lugar de pegarlo desde otro programa."
    )]
    NameCharacters,

    #[error("El nombre completo debe tener al menos una letra.")]
    NameWithoutLetter,
}

impl IdentifierError {
    /// Stable machine-readable code, for the API and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            IdentifierError::BoletaFormat => "boleta_format",
            IdentifierError::EmployeeNumberFormat { .. } => "employee_number_format",
            IdentifierError::EmailFormat { .. } => "email_format",
            IdentifierError::ExtensionFormat => "extension_format",
            IdentifierError::RequestNumberFormat => "request_number_format",
            IdentifierError::NameEmpty => "name_empty",
            IdentifierError::NameTooShort { .. } => "name_too_short",
            IdentifierError::NameTooLong { .. } => "name_too_long",
            IdentifierError::NameCharacters => "name_characters",
            IdentifierError::NameWithoutLetter => "name_without_letter",
        }
    }
}

/// What exactly is wrong with an e-mail address; `Display` is a Spanish fragment that completes
/// the [`IdentifierError::EmailFormat`] message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailProblem {
    Empty,
    Whitespace,
    MissingAt,
    SeveralAt,
    EmptyLocalPart,
    LocalPartTooLong,
    DomainWithoutDot,
    DomainLabel,
    TooLong,
}

impl fmt::Display for EmailProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            EmailProblem::Empty => "está vacío",
            EmailProblem::Whitespace => "tiene espacios o caracteres invisibles",
            EmailProblem::MissingAt => "le falta la arroba (@)",
            EmailProblem::SeveralAt => "tiene más de una arroba (@)",
            EmailProblem::EmptyLocalPart => "falta el nombre antes de la arroba (@)",
            EmailProblem::LocalPartTooLong => {
                "la parte antes de la arroba (@) pasa de 64 caracteres"
            }
            EmailProblem::DomainWithoutDot => {
                "el dominio después de la arroba (@) debe tener un punto, como en gmail.com"
            }
            EmailProblem::DomainLabel => {
                "el dominio solo admite letras sin acento, dígitos, guiones y puntos, sin puntos seguidos ni guiones al principio o al final de cada parte"
            }
            EmailProblem::TooLong => "pasa de 254 caracteres",
        };
        f.write_str(text)
    }
}

/// Trims and upper-cases, the normalisation shared by the alphanumeric identifiers.
fn normalize_upper(input: &str) -> String {
    input.trim().to_uppercase()
}

fn is_ascii_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Student number (boleta): exactly 10 characters matching `^[A-Z0-9]{10}$` after trimming and
/// upper-casing. Most are the enrolment year and 6 digits; others are accepted with a warning.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Boleta(String);

impl Boleta {
    pub fn parse(input: &str) -> Result<Boleta, IdentifierError> {
        let normalized = normalize_upper(input);
        let well_formed = normalized.len() == 10
            && normalized
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if well_formed {
            Ok(Boleta(normalized))
        } else {
            Err(IdentifierError::BoletaFormat)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the usual shape: a 4-digit year 19xx or 20xx followed by 6 digits.
    pub fn is_year_and_sequence(&self) -> bool {
        is_ascii_digits(&self.0) && (self.0.starts_with("19") || self.0.starts_with("20"))
    }

    /// Spanish warning to show when the boleta is accepted but has an unusual shape, since a typo
    /// is more likely than a letter-prefixed boleta.
    pub fn warning(&self) -> Option<&'static str> {
        if self.is_year_and_sequence() {
            None
        } else {
            Some(
                "La boleta no tiene la forma habitual (año de ingreso de 4 dígitos y 6 dígitos, por ejemplo 2019630123). Se aceptó; verifique que esté bien escrita.",
            )
        }
    }
}

impl fmt::Display for Boleta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Allowed length of employee numbers. There is no public format, so the length is configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EmployeeNumberRule {
    pub min_len: usize,
    pub max_len: usize,
}

impl Default for EmployeeNumberRule {
    fn default() -> Self {
        EmployeeNumberRule {
            min_len: 4,
            max_len: 10,
        }
    }
}

/// Employee number: digits only, with a length within an [`EmployeeNumberRule`]. Leading zeros
/// are kept because they are part of the number as printed on the staff card.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmployeeNumber(String);

impl EmployeeNumber {
    pub fn parse(
        input: &str,
        rule: &EmployeeNumberRule,
    ) -> Result<EmployeeNumber, IdentifierError> {
        let trimmed = input.trim();
        let length_ok = (rule.min_len..=rule.max_len).contains(&trimmed.len());
        if is_ascii_digits(trimmed) && length_ok {
            Ok(EmployeeNumber(trimmed.to_owned()))
        } else {
            Err(IdentifierError::EmployeeNumberFormat {
                min: rule.min_len,
                max: rule.max_len,
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmployeeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Personal e-mail address: trimmed, domain lower-cased (the local part keeps its case because
/// the receiving server may distinguish it). One `@`; a local part of 1 to 64 bytes; a domain with
/// a dot whose labels are 1 to 63 characters of `[A-Za-z0-9-]` not starting or ending with `-`;
/// at most 254 bytes in all; no spaces or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, IdentifierError> {
        let invalid = |reason| IdentifierError::EmailFormat { reason };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(invalid(EmailProblem::Empty));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(EmailProblem::Whitespace));
        }
        let (local, domain) = match trimmed.split_once('@') {
            None => return Err(invalid(EmailProblem::MissingAt)),
            Some((_, domain)) if domain.contains('@') => {
                return Err(invalid(EmailProblem::SeveralAt));
            }
            Some(parts) => parts,
        };
        if local.is_empty() {
            return Err(invalid(EmailProblem::EmptyLocalPart));
        }
        // Limits are in bytes (octets), as in RFC 5321.
        if local.len() > 64 {
            return Err(invalid(EmailProblem::LocalPartTooLong));
        }
        if !domain.contains('.') {
            return Err(invalid(EmailProblem::DomainWithoutDot));
        }
        if !domain.split('.').all(is_domain_label) {
            return Err(invalid(EmailProblem::DomainLabel));
        }
        let address = format!("{local}@{}", domain.to_ascii_lowercase());
        if address.len() > 254 {
            return Err(invalid(EmailProblem::TooLong));
        }
        Ok(Email(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`, lower-case.
    pub fn domain(&self) -> &str {
        match self.0.rsplit_once('@') {
            Some((_, domain)) => domain,
            None => "",
        }
    }
}

fn is_domain_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Phone extension of an employee: 3 to 6 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Extension(String);

impl Extension {
    pub fn parse(input: &str) -> Result<Extension, IdentifierError> {
        let trimmed = input.trim();
        if is_ascii_digits(trimmed) && (3..=6).contains(&trimmed.len()) {
            Ok(Extension(trimmed.to_owned()))
        } else {
            Err(IdentifierError::ExtensionFormat)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Request number `SS-YYYY-NNNNNN`: the year of registration in Mexico City and a gap-free
/// sequence per year starting at 1, zero-padded to six digits (more digits past 999999).
///
/// Ordering is by year, then sequence, which is registration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestNumber {
    pub year: i16,
    pub sequence: u32,
}

impl RequestNumber {
    /// No validation: the numbering service hands out years of four digits and sequences from 1;
    /// [`RequestNumber::parse`] refuses anything else.
    pub fn new(year: i16, sequence: u32) -> Self {
        RequestNumber { year, sequence }
    }

    /// Accepts `SS-2026-000123`, trimmed, with any case of `SS`. Only the canonical text is
    /// accepted (a year 1000–9999; a sequence of exactly six digits, or more without leading
    /// zeros; never zero), so a number has one spelling, which mail threading by subject relies on.
    pub fn parse(input: &str) -> Result<RequestNumber, IdentifierError> {
        let invalid = IdentifierError::RequestNumberFormat;
        let trimmed = input.trim();
        let rest = match trimmed.get(..3) {
            Some(prefix) if prefix.eq_ignore_ascii_case("SS-") => &trimmed[3..],
            _ => return Err(invalid),
        };
        let Some((year_text, sequence_text)) = rest.split_once('-') else {
            return Err(invalid);
        };
        if year_text.len() != 4 || !is_ascii_digits(year_text) || year_text.starts_with('0') {
            return Err(invalid);
        }
        let padded_beyond_six = sequence_text.len() > 6 && sequence_text.starts_with('0');
        if sequence_text.len() < 6 || !is_ascii_digits(sequence_text) || padded_beyond_six {
            return Err(invalid);
        }
        let year: i16 = year_text.parse().map_err(|_| invalid.clone())?;
        // Too many digits for u32 overflows here and is refused like any other bad text.
        let sequence: u32 = sequence_text.parse().map_err(|_| invalid.clone())?;
        if sequence == 0 {
            return Err(invalid);
        }
        Ok(RequestNumber { year, sequence })
    }
}

impl fmt::Display for RequestNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SS-{:04}-{:06}", self.year, self.sequence)
    }
}

impl Serialize for RequestNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A person's full name: trimmed, inner whitespace collapsed to single spaces, 2 to 200
/// characters, at least one letter, no control characters. Accents, Ñ, apostrophes and hyphens
/// are kept as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub const MIN_CHARS: usize = 2;
    pub const MAX_CHARS: usize = 200;

    /// Checks, in order: empty, control characters, too long, too short, no letter.
    pub fn parse(input: &str) -> Result<PersonName, IdentifierError> {
        // Tabs and line breaks are whitespace, so they collapse to a space instead of being
        // refused as control characters.
        let collapsed = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(IdentifierError::NameEmpty);
        }
        if collapsed.chars().any(char::is_control) {
            return Err(IdentifierError::NameCharacters);
        }
        let length = collapsed.chars().count();
        if length > Self::MAX_CHARS {
            return Err(IdentifierError::NameTooLong {
                max: Self::MAX_CHARS,
            });
        }
        if length < Self::MIN_CHARS {
            return Err(IdentifierError::NameTooShort {
                min: Self::MIN_CHARS,
            });
        }
        if !collapsed.chars().any(char::is_alphabetic) {
            return Err(IdentifierError::NameWithoutLetter);
        }
        Ok(PersonName(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    // Requirement Q1: a requester record holds a full name, a boleta or employee number, a phone
    // extension (employees) and a personal e-mail; these tests pin how each is accepted.
    use super::*;
    use proptest::prelude::*;

    fn email_problem(input: &str) -> Option<EmailProblem> {
        match Email::parse(input) {
            Err(IdentifierError::EmailFormat { reason }) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn a_year_and_sequence_boleta_is_accepted_without_warning() {
        let boleta = Boleta::parse(" 2019630123 ").unwrap();
        assert_eq!(boleta.as_str(), "2019630123");
        assert!(boleta.is_year_and_sequence());
        assert_eq!(boleta.warning(), None);
    }

    #[test]
    fn a_boleta_with_letters_is_accepted_upper_case_with_a_warning() {
        let boleta = Boleta::parse("pe12345678").unwrap();
        assert_eq!(boleta.as_str(), "PE12345678");
        assert!(!boleta.is_year_and_sequence());
        assert!(boleta.warning().is_some());
    }

    #[test]
    fn a_boleta_of_ten_digits_not_starting_with_a_year_gets_a_warning() {
        let boleta = Boleta::parse("3019630123").unwrap();
        assert!(!boleta.is_year_and_sequence());
        assert!(boleta.warning().is_some());
    }

    #[test]
    fn a_boleta_of_wrong_length_or_characters_is_refused() {
        for input in [
            "",
            "201963012",
            "20196301234",
            "2019-63012",
            "2019 63012",
            "ÑE12345678",
            "2019630é23",
        ] {
            assert_eq!(
                Boleta::parse(input),
                Err(IdentifierError::BoletaFormat),
                "{input:?}"
            );
        }
    }

    #[test]
    fn an_employee_number_within_the_default_rule_is_accepted_with_leading_zeros() {
        let rule = EmployeeNumberRule::default();
        assert_eq!(
            rule,
            EmployeeNumberRule {
                min_len: 4,
                max_len: 10
            }
        );
        assert_eq!(
            EmployeeNumber::parse(" 0042 ", &rule).unwrap().as_str(),
            "0042"
        );
        assert!(EmployeeNumber::parse("1234567890", &rule).is_ok());
    }

    #[test]
    fn an_employee_number_outside_the_rule_or_with_non_digits_is_refused() {
        let rule = EmployeeNumberRule {
            min_len: 5,
            max_len: 6,
        };
        let error = IdentifierError::EmployeeNumberFormat { min: 5, max: 6 };
        for input in ["1234", "1234567", "12a45", "12 345", "", "١٢٣٤٥"] {
            assert_eq!(
                EmployeeNumber::parse(input, &rule),
                Err(error.clone()),
                "{input:?}"
            );
        }
        assert!(error.to_string().contains("entre 5 y 6"));
    }

    #[test]
    fn an_email_is_trimmed_and_its_domain_lower_cased() {
        let email = Email::parse("  Ana.Lopez+cau@IPN.MX ").unwrap();
        assert_eq!(email.as_str(), "Ana.Lopez+cau@ipn.mx");
        assert_eq!(email.domain(), "ipn.mx");
        assert!(Email::parse("a@alumno.ipn.mx").is_ok());
        assert!(Email::parse("x@mi-correo.com.mx").is_ok());
    }

    #[test]
    fn each_email_problem_is_reported() {
        let long_local = format!("{}@ipn.mx", "a".repeat(65));
        let long_total = format!("a@{}.mx", vec!["b".repeat(60); 5].join("."));
        let cases = [
            ("   ", EmailProblem::Empty),
            ("ana lopez@ipn.mx", EmailProblem::Whitespace),
            ("ana\u{7}@ipn.mx", EmailProblem::Whitespace),
            ("ana.ipn.mx", EmailProblem::MissingAt),
            ("ana@lopez@ipn.mx", EmailProblem::SeveralAt),
            ("@ipn.mx", EmailProblem::EmptyLocalPart),
            (long_local.as_str(), EmailProblem::LocalPartTooLong),
            ("ana@localhost", EmailProblem::DomainWithoutDot),
            ("ana@", EmailProblem::DomainWithoutDot),
            ("ana@ipn..mx", EmailProblem::DomainLabel),
            ("ana@.ipn.mx", EmailProblem::DomainLabel),
            ("ana@ipn.mx.", EmailProblem::DomainLabel),
            ("ana@-ipn.mx", EmailProblem::DomainLabel),
            ("ana@ipn-.mx", EmailProblem::DomainLabel),
            ("ana@ipn_cau.mx", EmailProblem::DomainLabel),
            ("ana@médico.mx", EmailProblem::DomainLabel),
            (long_total.as_str(), EmailProblem::TooLong),
        ];
        for (input, problem) in cases {
            assert_eq!(email_problem(input), Some(problem), "{input:?}");
        }
    }

    #[test]
    fn the_email_limits_are_inclusive() {
        assert!(Email::parse(&format!("{}@ipn.mx", "a".repeat(64))).is_ok());
        // "a@" + 4 × 61 + 5 + ".mx" = 254 bytes.
        let label = "b".repeat(60);
        let at_limit = format!("a@{label}.{label}.{label}.{label}.{}.mx", "c".repeat(5));
        assert_eq!(at_limit.len(), 254);
        assert!(Email::parse(&at_limit).is_ok());
    }

    #[test]
    fn an_extension_has_three_to_six_digits() {
        assert_eq!(Extension::parse(" 123 ").unwrap().as_str(), "123");
        assert!(Extension::parse("512345").is_ok());
        for input in ["12", "1234567", "12-34", "ext 123", ""] {
            assert_eq!(
                Extension::parse(input),
                Err(IdentifierError::ExtensionFormat),
                "{input:?}"
            );
        }
    }

    #[test]
    fn a_request_number_displays_zero_padded_and_parses_back() {
        let number = RequestNumber::new(2026, 1);
        assert_eq!(number.to_string(), "SS-2026-000001");
        assert_eq!(RequestNumber::parse(" ss-2026-000001 "), Ok(number));
        assert_eq!(
            RequestNumber::new(2026, 1_234_567).to_string(),
            "SS-2026-1234567"
        );
        assert_eq!(
            RequestNumber::parse("SS-2026-1234567"),
            Ok(RequestNumber::new(2026, 1_234_567))
        );
    }

    #[test]
    fn request_numbers_sort_by_year_then_sequence() {
        let mut numbers = vec![
            RequestNumber::new(2027, 1),
            RequestNumber::new(2026, 10),
            RequestNumber::new(2026, 2),
        ];
        numbers.sort();
        assert_eq!(
            numbers,
            vec![
                RequestNumber::new(2026, 2),
                RequestNumber::new(2026, 10),
                RequestNumber::new(2027, 1),
            ]
        );
    }

    #[test]
    fn malformed_request_numbers_are_refused() {
        for input in [
            "",
            "SS-2026-12345",
            "SS-2026-000000",
            "SS-2026-0001234",
            "SS-26-000001",
            "SS-0999-000001",
            "SS-20266-000001",
            "SX-2026-000001",
            "SS2026000001",
            "SS-2026-00001a",
            "SS-2026-+00001",
            "SS-2026-99999999999",
            "SS-2026-000001-1",
            "ÑS-2026-000001",
        ] {
            assert_eq!(
                RequestNumber::parse(input),
                Err(IdentifierError::RequestNumberFormat),
                "{input:?}"
            );
        }
    }

    #[test]
    fn a_name_is_trimmed_and_its_inner_whitespace_collapsed() {
        let name = PersonName::parse("  María   José\tPeña\nO'Brien ").unwrap();
        assert_eq!(name.as_str(), "María José Peña O'Brien");
        assert_eq!(name.to_string(), name.as_str());
    }

    #[test]
    fn each_name_problem_is_reported() {
        assert_eq!(PersonName::parse(" \t "), Err(IdentifierError::NameEmpty));
        assert_eq!(
            PersonName::parse("A"),
            Err(IdentifierError::NameTooShort { min: 2 })
        );
        assert_eq!(
            PersonName::parse(&"a".repeat(201)),
            Err(IdentifierError::NameTooLong { max: 200 })
        );
        assert!(PersonName::parse(&"ñ".repeat(200)).is_ok());
        assert_eq!(
            PersonName::parse("Ana\u{0}Paz"),
            Err(IdentifierError::NameCharacters)
        );
        assert_eq!(
            PersonName::parse("123 456"),
            Err(IdentifierError::NameWithoutLetter)
        );
    }

    #[test]
    fn error_codes_are_distinct_snake_case() {
        let errors = [
            IdentifierError::BoletaFormat,
            IdentifierError::EmployeeNumberFormat { min: 4, max: 10 },
            IdentifierError::EmailFormat {
                reason: EmailProblem::MissingAt,
            },
            IdentifierError::ExtensionFormat,
            IdentifierError::RequestNumberFormat,
            IdentifierError::NameEmpty,
            IdentifierError::NameTooShort { min: 2 },
            IdentifierError::NameTooLong { max: 200 },
            IdentifierError::NameCharacters,
            IdentifierError::NameWithoutLetter,
        ];
        let mut codes: Vec<&str> = errors.iter().map(IdentifierError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        for error in &errors {
            assert!(
                error
                    .code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
            assert!(!error.to_string().is_empty());
        }
    }

    proptest! {
        #[test]
        fn request_numbers_round_trip_through_display(
            year in 1000i16..=9999,
            sequence in 1u32..,
        ) {
            let number = RequestNumber::new(year, sequence);
            let text = number.to_string();
            prop_assert_eq!(RequestNumber::parse(&text), Ok(number));
            prop_assert_eq!(RequestNumber::parse(&text.to_lowercase()), Ok(number));
        }

        #[test]
        fn a_parsed_request_number_displays_as_its_upper_case_input(input in "(SS|ss|Ss)-[0-9]{4}-[0-9]{6,10}") {
            if let Ok(number) = RequestNumber::parse(&input) {
                prop_assert_eq!(number.to_string(), input.to_uppercase());
            }
        }

        #[test]
        fn parsers_never_panic_on_arbitrary_text(input in any::<String>()) {
            let _ = Boleta::parse(&input).map(|b| b.warning());
            let _ = EmployeeNumber::parse(&input, &EmployeeNumberRule::default());
            let _ = Email::parse(&input).map(|e| e.domain().to_owned());
            let _ = Extension::parse(&input);
            let _ = RequestNumber::parse(&input);
            let _ = PersonName::parse(&input);
        }

        #[test]
        fn parsers_never_panic_on_identifier_like_text(input in "[SsÑñ0-9@.a-zA-Z -]{0,20}") {
            let _ = Boleta::parse(&input);
            let _ = Email::parse(&input);
            let _ = RequestNumber::parse(&input);
            let _ = PersonName::parse(&input);
        }

        #[test]
        fn valid_boletas_round_trip(input in "[A-Za-z0-9]{10}") {
            let boleta = Boleta::parse(&input).unwrap();
            prop_assert_eq!(boleta.as_str(), input.to_uppercase());
            prop_assert_eq!(Boleta::parse(&boleta.to_string()), Ok(boleta));
        }
    }
}
