//! CURP (Clave Única de Registro de Población): parsing, validation, masking and synthesis.
//!
//! Requirement Q1 asks for the CURP to be validated for structure, date, state code and check
//! digit. The rules are those of `DOMAIN.md` ("CURP" section). Parsing needs "today" to refuse
//! birth dates in the future, so the crate never reads the clock and `Curp` does not implement
//! `Deserialize`: stored values are re-parsed through [`Curp::parse`].
//!
//! Order of checks — the first failure wins:
//! 1. length: 18 characters after trimming and upper-casing;
//! 2. character classes, left to right, of positions 1–10 and 14–18 (letters, vowel, date digits,
//!    consonants, century marker, check digit). Positions 11–13 are left to the sex and state
//!    checks, whose errors say more than "wrong character";
//! 3. birth date: a real calendar date (the century comes from position 17), then not after today;
//! 4. state code (positions 12–13);
//! 5. sex (position 11);
//! 6. inconvenient word (positions 1–4);
//! 7. check digit (position 18).
//!
//! The check digit goes last because a typo anywhere changes it: reporting the more specific
//! error first tells the user where the typo is.

use std::fmt;

use jiff::civil::Date;
use serde::Serialize;

/// Number of characters of every CURP.
pub const LENGTH: usize = 18;

/// Characters and their values for the check digit: value = index. Ñ sits between N and O, so
/// this is not plain base 36.
const DICTIONARY: &str = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";

/// Birth-state codes of positions 12–13: the 32 federal entities plus `NE` (born abroad).
pub const STATE_CODES: [&str; 33] = [
    "AS", "BC", "BS", "CC", "CL", "CM", "CS", "CH", "DF", "DG", "GT", "GR", "HG", "JC", "MC", "MN",
    "MS", "NT", "NL", "OC", "PL", "QT", "QR", "SP", "SL", "SR", "TC", "TS", "TL", "VZ", "YN", "ZS",
    "NE",
];

/// RENAPO's annex of inconvenient words: when positions 1–4 would spell one of them, RENAPO
/// issues position 2 as `X`, so a CURP that still starts with one of them is invalid.
pub const INCONVENIENT_WORDS: [&str; 81] = [
    "BACA", "BAKA", "BUEI", "BUEY", "CACA", "CACO", "CAGA", "CAGO", "CAKA", "CAKO", "COGE", "COGI",
    "COJA", "COJE", "COJI", "COJO", "COLA", "CULO", "FALO", "FETO", "GETA", "GUEI", "GUEY", "JETA",
    "JOTO", "KACA", "KACO", "KAGA", "KAGO", "KAKA", "KAKO", "KOGE", "KOGI", "KOJA", "KOJE", "KOJI",
    "KOJO", "KOLA", "KULO", "LILO", "LOCA", "LOCO", "LOKA", "LOKO", "MAME", "MAMO", "MEAR", "MEAS",
    "MEON", "MIAR", "MION", "MOCO", "MOKO", "MULA", "MULO", "NACA", "NACO", "PEDA", "PEDO", "PENE",
    "PIPI", "PITO", "POPO", "PUTA", "PUTO", "QULO", "RATA", "ROBA", "ROBE", "ROBO", "RUIN", "SENO",
    "TETA", "VACA", "VAGA", "VAGO", "VAKA", "VUEI", "VUEY", "WUEI", "WUEY",
];

// Spanish descriptions of what a position expects, shown inside `CurpError::Character`.
const EXPECTED_LETTER: &str = "una letra de la A a la Z (la Ñ se escribe X)";
const EXPECTED_VOWEL: &str = "una vocal (A, E, I, O, U) o X";
const EXPECTED_DIGIT: &str = "un dígito del 0 al 9";
const EXPECTED_CONSONANT: &str = "una consonante (una letra que no sea vocal; la Ñ se escribe X)";
const EXPECTED_DIGIT_OR_LETTER: &str =
    "un dígito (nacidos en 1900–1999) o una letra (nacidos desde 2000)";

/// A valid CURP: always the 18 upper-case ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Curp(String);

/// Why a text is not a valid CURP. `Display` is the Spanish message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurpError {
    #[error(
        "La CURP debe tener 18 caracteres y se escribieron {found}. Escríbala completa, sin espacios ni guiones."
    )]
    Length { found: usize },

    /// `position` is 1-based, as printed on the CURP certificate.
    #[error(
        "La CURP tiene «{found}» en la posición {position}, donde va {expected}. Corrija esa posición comparándola con su constancia de CURP."
    )]
    Character {
        position: usize,
        found: char,
        expected: &'static str,
    },

    #[error(
        "Las posiciones 5 a 10 de la CURP (año, mes y día de nacimiento: AAMMDD) no forman una fecha real. Revise la fecha; la posición 17 indica el siglo (dígito: 1900–1999, letra: desde 2000)."
    )]
    Date,

    #[error(
        "La fecha de nacimiento de la CURP (posiciones 5 a 10) es posterior a hoy. Revise la fecha y la posición 17, que indica el siglo (dígito: 1900–1999, letra: desde 2000)."
    )]
    FutureDate,

    #[error(
        "«{found}» (posiciones 12 y 13 de la CURP) no es una clave de entidad de nacimiento. Escriba la clave de dos letras del estado (por ejemplo DF o JC) o NE si nació en el extranjero."
    )]
    State { found: String },

    #[error("La posición 11 de la CURP indica el sexo y debe ser H, M o X; se escribió «{found}».")]
    Sex { found: char },

    #[error(
        "El dígito verificador (posición 18) no corresponde: debería ser {expected} y se escribió «{found}». Seguramente hay un carácter mal capturado; compare la CURP con su constancia."
    )]
    CheckDigit { expected: u8, found: char },

    #[error(
        "Las primeras cuatro letras de la CURP («{word}») forman una palabra que RENAPO no asigna (en su lugar la posición 2 es X). Revise las primeras cuatro letras."
    )]
    InconvenientWord { word: String },
}

impl CurpError {
    /// Stable machine-readable code, for the API and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            CurpError::Length { .. } => "curp_length",
            CurpError::Character { .. } => "curp_character",
            CurpError::Date => "curp_date",
            CurpError::FutureDate => "curp_future_date",
            CurpError::State { .. } => "curp_state",
            CurpError::Sex { .. } => "curp_sex",
            CurpError::CheckDigit { .. } => "curp_check_digit",
            CurpError::InconvenientWord { .. } => "curp_inconvenient_word",
        }
    }
}

impl Curp {
    /// Parses user input: trims it, upper-cases it, then applies the checks in the order given in
    /// the module documentation. `today` is the current date in Mexico City.
    pub fn parse(input: &str, today: Date) -> Result<Curp, CurpError> {
        let normalized = input.trim().to_uppercase();
        let chars: Vec<char> = normalized.chars().collect();
        if chars.len() != LENGTH {
            return Err(CurpError::Length { found: chars.len() });
        }

        check_character_classes(&chars)?;

        let birth = birth_date_of(&chars).ok_or(CurpError::Date)?;
        if birth > today {
            return Err(CurpError::FutureDate);
        }

        let state: String = chars[11..13].iter().collect();
        if !STATE_CODES.contains(&state.as_str()) {
            return Err(CurpError::State { found: state });
        }

        let sex = chars[10];
        if !matches!(sex, 'H' | 'M' | 'X') {
            return Err(CurpError::Sex { found: sex });
        }

        let word: String = chars[..4].iter().collect();
        if INCONVENIENT_WORDS.contains(&word.as_str()) {
            return Err(CurpError::InconvenientWord { word });
        }

        let first17: String = chars[..17].iter().collect();
        let expected = Curp::check_digit(&first17)
            .expect("positions 1-17 were checked against letters and digits above");
        let found = chars[17];
        if found.to_digit(10) != Some(u32::from(expected)) {
            return Err(CurpError::CheckDigit { expected, found });
        }

        Ok(Curp(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Birth date from positions 5–10; position 17 gives the century (digit: 19YY, letter: 20YY).
    pub fn birth_date(&self) -> Date {
        let chars: Vec<char> = self.0.chars().collect();
        birth_date_of(&chars).expect("a parsed CURP holds a real birth date")
    }

    /// `'H'`, `'M'` or `'X'`.
    pub fn sex(&self) -> char {
        // A parsed CURP is ASCII, so byte 10 is position 11.
        char::from(self.0.as_bytes()[10])
    }

    /// Two-letter birth-state code, e.g. `"DF"`, or `"NE"` for born abroad.
    pub fn state_code(&self) -> &str {
        &self.0[11..13]
    }

    /// First 6 characters, `****`, last 2 characters (e.g. `TOMA98****07`): what roles that may
    /// not see personal data are shown.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..6], &self.0[16..])
    }

    /// Check digit for the first 17 characters of a CURP (upper-case). `None` when the text is not
    /// exactly 17 characters or one of them is outside the dictionary
    /// `0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ`.
    pub fn check_digit(first17: &str) -> Option<u8> {
        if first17.chars().count() != LENGTH - 1 {
            return None;
        }
        let mut sum: u32 = 0;
        for (index, c) in first17.chars().enumerate() {
            let value = DICTIONARY.chars().position(|d| d == c)?;
            let weight = LENGTH - index; // 18 for position 1 down to 2 for position 17
            sum += u32::try_from(value * weight).ok()?;
        }
        u8::try_from((10 - sum % 10) % 10).ok()
    }
}

impl fmt::Display for Curp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_letter(c: char) -> bool {
    c.is_ascii_uppercase()
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'A' | 'E' | 'I' | 'O' | 'U')
}

fn is_consonant(c: char) -> bool {
    is_letter(c) && !is_vowel(c)
}

/// Character classes of positions 1–10 and 14–18 (1-based), checked left to right.
fn check_character_classes(chars: &[char]) -> Result<(), CurpError> {
    for (index, &c) in chars.iter().enumerate() {
        let position = index + 1;
        let (valid, expected) = match position {
            1 | 3 | 4 => (is_letter(c), EXPECTED_LETTER),
            2 => (is_vowel(c) || c == 'X', EXPECTED_VOWEL),
            5..=10 | 18 => (c.is_ascii_digit(), EXPECTED_DIGIT),
            // Sex and state have their own errors, checked later.
            11..=13 => continue,
            // X (no consonant) is itself a consonant, so it needs no special case.
            14..=16 => (is_consonant(c), EXPECTED_CONSONANT),
            _ => (c.is_ascii_digit() || is_letter(c), EXPECTED_DIGIT_OR_LETTER),
        };
        if !valid {
            return Err(CurpError::Character {
                position,
                found: c,
                expected,
            });
        }
    }
    Ok(())
}

/// Birth date of 18 characters whose positions 5–10 are digits and 17 a digit or letter. `None`
/// when the date does not exist (e.g. 29 February 1900).
fn birth_date_of(chars: &[char]) -> Option<Date> {
    let two_digits = |at: usize| -> Option<i8> {
        let tens = chars[at].to_digit(10)?;
        let units = chars[at + 1].to_digit(10)?;
        i8::try_from(tens * 10 + units).ok()
    };
    let century: i16 = if chars[16].is_ascii_digit() {
        1900
    } else {
        2000
    };
    let year = century + i16::from(two_digits(4)?);
    Date::new(year, two_digits(6)?, two_digits(8)?).ok()
}

/// Tiny linear congruential generator (Knuth's MMIX constants): deterministic, dependency-free and
/// good enough to spread synthetic names; not for anything secret.
struct Lcg(u64);

impl Lcg {
    fn pick(&mut self, alphabet: &[u8]) -> char {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // The high bits of an LCG are the least predictable ones.
        let high = self.0 >> 33;
        let len = alphabet.len() as u64;
        let index = usize::try_from(high % len).unwrap_or(0);
        char::from(alphabet[index])
    }
}

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const VOWELS_OR_X: &[u8] = b"AEIOUX";
const CONSONANTS: &[u8] = b"BCDFGHJKLMNPQRSTVWXYZ";
const DIGITS: &[u8] = b"0123456789";

/// A deterministic valid CURP for benchmarks, demos and tests: the same seed and fields always give
/// the same CURP. Letters and consonants come from the seed; a name that would spell an
/// inconvenient word gets `X` in position 2, as RENAPO does; the check digit is computed.
///
/// # Panics
/// When `birth` is outside 1900–2099, `sex` is not `H`, `M` or `X`, or `state` is not one of
/// [`STATE_CODES`]: these are programming errors in the caller, not user input.
pub fn synthesize(seed: u64, birth: Date, sex: char, state: &str) -> Curp {
    assert!(
        (1900..=2099).contains(&birth.year()),
        "synthesize: birth year {} is outside 1900..=2099",
        birth.year()
    );
    assert!(
        matches!(sex, 'H' | 'M' | 'X'),
        "synthesize: sex {sex:?} is not H, M or X"
    );
    assert!(
        STATE_CODES.contains(&state),
        "synthesize: {state:?} is not a CURP state code"
    );

    let mut rng = Lcg(seed);
    let mut name = [
        rng.pick(LETTERS),
        rng.pick(VOWELS_OR_X),
        rng.pick(LETTERS),
        rng.pick(LETTERS),
    ];
    let word: String = name.iter().collect();
    if INCONVENIENT_WORDS.contains(&word.as_str()) {
        name[1] = 'X';
    }
    let consonants = [
        rng.pick(CONSONANTS),
        rng.pick(CONSONANTS),
        rng.pick(CONSONANTS),
    ];
    let homonym = if birth.year() < 2000 {
        rng.pick(DIGITS)
    } else {
        rng.pick(LETTERS)
    };

    let mut text: String = name.iter().collect();
    text.push_str(&format!(
        "{:02}{:02}{:02}",
        birth.year() % 100,
        birth.month(),
        birth.day()
    ));
    text.push(sex);
    text.push_str(state);
    text.extend(consonants);
    text.push(homonym);
    let digit = Curp::check_digit(&text).expect("synthesized characters are in the dictionary");
    text.push(char::from(b'0' + digit));

    // Parsing with today = birth re-checks every rule without needing a clock.
    Curp::parse(&text, birth).expect("a synthesized CURP is valid by construction")
}

#[cfg(test)]
mod tests {
    // Requirement Q1: the CURP is validated for structure, date, state code and check digit.
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const TODAY: Date = date(2026, 3, 15);

    /// Appends the right check digit to 17 characters.
    fn with_check_digit(first17: &str) -> String {
        let digit = Curp::check_digit(first17).expect("17 dictionary characters");
        format!("{first17}{digit}")
    }

    fn parse(input: &str) -> Result<Curp, CurpError> {
        Curp::parse(input, TODAY)
    }

    #[test]
    fn the_published_examples_are_valid() {
        for example in [
            "BOXW310820HNERXN09",
            "SABC560626MDFLRN01",
            "PEGJ900512HJCRRS04",
        ] {
            let curp = parse(example).unwrap_or_else(|e| panic!("{example}: {e}"));
            assert_eq!(curp.as_str(), example);
        }
    }

    #[test]
    fn the_fields_of_a_published_example_are_read_back() {
        let curp = parse("BOXW310820HNERXN09").unwrap();
        assert_eq!(curp.birth_date(), date(1931, 8, 20));
        assert_eq!(curp.sex(), 'H');
        assert_eq!(curp.state_code(), "NE");
        assert_eq!(curp.to_string(), "BOXW310820HNERXN09");

        let curp = parse("SABC560626MDFLRN01").unwrap();
        assert_eq!(curp.birth_date(), date(1956, 6, 26));
        assert_eq!(curp.sex(), 'M');
        assert_eq!(curp.state_code(), "DF");
    }

    #[test]
    fn lower_case_and_surrounding_spaces_are_accepted_and_stored_upper_case() {
        let curp = parse("  pegj900512hjcrrs04 \t").unwrap();
        assert_eq!(curp.as_str(), "PEGJ900512HJCRRS04");
    }

    #[test]
    fn a_short_a_long_and_an_empty_input_are_length_errors() {
        assert_eq!(
            parse("PEGJ900512HJCRRS0"),
            Err(CurpError::Length { found: 17 })
        );
        assert_eq!(
            parse("PEGJ900512HJCRRS041"),
            Err(CurpError::Length { found: 19 })
        );
        assert_eq!(parse("   "), Err(CurpError::Length { found: 0 }));
    }

    #[test]
    fn inner_spaces_count_towards_the_length() {
        assert_eq!(
            parse("PEGJ 900512HJCRRS04"),
            Err(CurpError::Length { found: 19 })
        );
    }

    #[test]
    fn a_wrong_character_reports_its_one_based_position_and_what_is_expected() {
        let cases = [
            ("1EGJ900512HJCRRS04", 1, '1', EXPECTED_LETTER),
            ("PBGJ900512HJCRRS04", 2, 'B', EXPECTED_VOWEL),
            ("PE4J900512HJCRRS04", 3, '4', EXPECTED_LETTER),
            ("PEG-900512HJCRRS04", 4, '-', EXPECTED_LETTER),
            ("PEGJ9O0512HJCRRS04", 6, 'O', EXPECTED_DIGIT),
            ("PEGJ90051IHJCRRS04", 10, 'I', EXPECTED_DIGIT),
            ("PEGJ900512HJCARS04", 14, 'A', EXPECTED_CONSONANT),
            ("PEGJ900512HJCRES04", 15, 'E', EXPECTED_CONSONANT),
            ("PEGJ900512HJCRRU04", 16, 'U', EXPECTED_CONSONANT),
            ("PEGJ900512HJCRRS*4", 17, '*', EXPECTED_DIGIT_OR_LETTER),
            ("PEGJ900512HJCRRS0A", 18, 'A', EXPECTED_DIGIT),
        ];
        for (input, position, found, expected) in cases {
            assert_eq!(
                parse(input),
                Err(CurpError::Character {
                    position,
                    found,
                    expected
                }),
                "{input}"
            );
        }
    }

    #[test]
    fn enye_is_refused_in_the_name_letters_because_it_is_written_x() {
        assert_eq!(
            parse("ÑEGJ900512HJCRRS04"),
            Err(CurpError::Character {
                position: 1,
                found: 'Ñ',
                expected: EXPECTED_LETTER
            })
        );
        assert_eq!(
            parse("PEGJ900512HJCÑRS04"),
            Err(CurpError::Character {
                position: 14,
                found: 'Ñ',
                expected: EXPECTED_CONSONANT
            })
        );
    }

    #[test]
    fn x_is_accepted_as_vowel_and_as_consonant() {
        let curp = with_check_digit("PXXX900512HJCXXX0");
        assert!(parse(&curp).is_ok(), "{curp}");
    }

    #[test]
    fn a_date_that_does_not_exist_is_refused() {
        assert_eq!(
            parse(&with_check_digit("PEGJ901312HJCRRS0")),
            Err(CurpError::Date)
        );
        assert_eq!(
            parse(&with_check_digit("PEGJ900431HJCRRS0")),
            Err(CurpError::Date)
        );
        assert_eq!(
            parse(&with_check_digit("PEGJ900100HJCRRS0")),
            Err(CurpError::Date)
        );
    }

    #[test]
    fn the_twenty_ninth_of_february_depends_on_the_century_marker() {
        // 1900 was not a leap year; 2000 was.
        assert_eq!(
            parse(&with_check_digit("PEGJ000229HJCRRS0")),
            Err(CurpError::Date)
        );
        let curp = parse(&with_check_digit("PEGJ000229HJCRRSA")).unwrap();
        assert_eq!(curp.birth_date(), date(2000, 2, 29));
    }

    #[test]
    fn a_letter_in_position_17_means_born_in_the_2000s() {
        let curp = parse(&with_check_digit("PEGJ050512HJCRRSA")).unwrap();
        assert_eq!(curp.birth_date(), date(2005, 5, 12));
        let curp = parse(&with_check_digit("PEGJ050512HJCRRS3")).unwrap();
        assert_eq!(curp.birth_date(), date(1905, 5, 12));
    }

    #[test]
    fn a_curp_born_after_today_is_refused() {
        assert_eq!(
            parse(&with_check_digit("PEGJ260316HJCRRSA")),
            Err(CurpError::FutureDate)
        );
        // Born today is fine.
        assert!(parse(&with_check_digit("PEGJ260315HJCRRSA")).is_ok());
    }

    #[test]
    fn an_unknown_state_code_is_refused() {
        assert_eq!(
            parse(&with_check_digit("PEGJ900512HXXRRS0")),
            Err(CurpError::State {
                found: "XX".to_owned()
            })
        );
        assert_eq!(
            parse(&with_check_digit("PEGJ900512HJ1RRS0")),
            Err(CurpError::State {
                found: "J1".to_owned()
            })
        );
    }

    #[test]
    fn every_listed_state_code_is_accepted() {
        for state in STATE_CODES {
            let curp = with_check_digit(&format!("PEGJ900512H{state}RRS0"));
            assert_eq!(parse(&curp).unwrap().state_code(), state);
        }
    }

    #[test]
    fn a_sex_other_than_h_m_or_x_is_refused() {
        assert_eq!(
            parse(&with_check_digit("PEGJ900512FJCRRS0")),
            Err(CurpError::Sex { found: 'F' })
        );
        let curp = parse(&with_check_digit("PEGJ900512XJCRRS0")).unwrap();
        assert_eq!(curp.sex(), 'X');
    }

    #[test]
    fn a_curp_starting_with_an_inconvenient_word_is_refused() {
        assert_eq!(
            parse(&with_check_digit("PEDO900512HJCRRS0")),
            Err(CurpError::InconvenientWord {
                word: "PEDO".to_owned()
            })
        );
        // What RENAPO actually issues for that name.
        assert!(parse(&with_check_digit("PXDO900512HJCRRS0")).is_ok());
    }

    #[test]
    fn a_wrong_check_digit_is_refused_with_the_expected_one() {
        assert_eq!(
            parse("PEGJ900512HJCRRS05"),
            Err(CurpError::CheckDigit {
                expected: 4,
                found: '5'
            })
        );
    }

    #[test]
    fn a_more_specific_error_wins_over_the_check_digit() {
        // Bad state and bad check digit: the state is reported.
        assert_eq!(
            parse("PEGJ900512HZZRRS04"),
            Err(CurpError::State {
                found: "ZZ".to_owned()
            })
        );
    }

    #[test]
    fn the_check_digit_uses_the_dictionary_with_enye() {
        // Ñ is worth 24 and O 25, unlike base 36.
        assert_eq!(Curp::check_digit("ÑAAA000101HDFRRS0"), Some(2));
        assert_eq!(Curp::check_digit("OAAA000101HDFRRS0"), Some(4));
        assert_eq!(Curp::check_digit("PEGJ900512HJCRRS0"), Some(4));
        assert_eq!(Curp::check_digit("PEGJ900512HJCRRS"), None);
        assert_eq!(Curp::check_digit("PEGJ900512HJCRRS-"), None);
        assert_eq!(Curp::check_digit("pegj900512hjcrrs0"), None);
    }

    #[test]
    fn masking_keeps_the_first_six_and_last_two_characters() {
        let curp = parse("BOXW310820HNERXN09").unwrap();
        assert_eq!(curp.masked(), "BOXW31****09");
    }

    #[test]
    fn error_codes_are_distinct_and_messages_are_spanish() {
        let errors = [
            CurpError::Length { found: 3 },
            CurpError::Character {
                position: 1,
                found: '1',
                expected: EXPECTED_LETTER,
            },
            CurpError::Date,
            CurpError::FutureDate,
            CurpError::State {
                found: "ZZ".to_owned(),
            },
            CurpError::Sex { found: 'F' },
            CurpError::CheckDigit {
                expected: 4,
                found: '5',
            },
            CurpError::InconvenientWord {
                word: "PEDO".to_owned(),
            },
        ];
        let mut codes: Vec<&str> = errors.iter().map(CurpError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        for error in &errors {
            assert!(error.code().starts_with("curp_"));
            assert!(error.to_string().contains("CURP"), "{error}");
        }
    }

    #[test]
    fn synthesize_is_deterministic_and_valid_at_the_century_edges() {
        let a = synthesize(42, date(1900, 1, 1), 'H', "DF");
        let b = synthesize(42, date(1900, 1, 1), 'H', "DF");
        assert_eq!(a, b);
        assert_eq!(a.birth_date(), date(1900, 1, 1));

        let c = synthesize(7, date(2099, 12, 31), 'X', "NE");
        assert_eq!(c.birth_date(), date(2099, 12, 31));
        assert_eq!(c.sex(), 'X');
        assert_eq!(c.state_code(), "NE");
        assert_ne!(
            synthesize(1, date(1990, 5, 5), 'M', "JC"),
            synthesize(2, date(1990, 5, 5), 'M', "JC")
        );
    }

    #[test]
    #[should_panic(expected = "outside 1900..=2099")]
    fn synthesize_refuses_a_year_outside_its_range() {
        synthesize(1, date(1899, 12, 31), 'H', "DF");
    }

    fn letter() -> impl Strategy<Value = char> {
        proptest::char::range('A', 'Z')
    }

    fn consonant() -> impl Strategy<Value = char> {
        letter().prop_filter("consonant", |c| !is_vowel(*c))
    }

    fn birth() -> impl Strategy<Value = Date> {
        (1900i16..=2099, 1i8..=12, 1i8..=31).prop_map(|(year, month, day)| {
            let last = date(year, month, 1).days_in_month();
            date(year, month, day.min(last))
        })
    }

    /// Valid CURPs from random valid fields, built independently of `synthesize`.
    fn valid_curp() -> impl Strategy<Value = (String, Date, char, &'static str)> {
        (
            letter(),
            proptest::sample::select(vec!['A', 'E', 'I', 'O', 'U', 'X']),
            letter(),
            letter(),
            birth(),
            proptest::sample::select(vec!['H', 'M', 'X']),
            proptest::sample::select(STATE_CODES.to_vec()),
            [consonant(), consonant(), consonant()],
            0u8..10,
            letter(),
        )
            .prop_filter("no inconvenient word", |(a, b, c, d, ..)| {
                !INCONVENIENT_WORDS.contains(&String::from_iter([*a, *b, *c, *d]).as_str())
            })
            .prop_map(|(a, b, c, d, birth, sex, state, cons, digit, letter)| {
                let homonym = if birth.year() < 2000 {
                    char::from(b'0' + digit)
                } else {
                    letter
                };
                let first17 = format!(
                    "{a}{b}{c}{d}{:02}{:02}{:02}{sex}{state}{}{homonym}",
                    birth.year() % 100,
                    birth.month(),
                    birth.day(),
                    String::from_iter(cons)
                );
                (with_check_digit(&first17), birth, sex, state)
            })
    }

    const LAST_DAY: Date = date(2099, 12, 31);

    proptest! {
        #[test]
        fn any_generated_valid_curp_parses_and_round_trips(
            (text, birth, sex, state) in valid_curp()
        ) {
            let curp = Curp::parse(&text, LAST_DAY).unwrap();
            prop_assert_eq!(curp.as_str(), text.as_str());
            prop_assert_eq!(curp.birth_date(), birth);
            prop_assert_eq!(curp.sex(), sex);
            prop_assert_eq!(curp.state_code(), state);
            prop_assert_eq!(Curp::parse(&curp.to_string(), LAST_DAY).unwrap(), curp.clone());
            let sloppy = format!("  {}\n", text.to_lowercase());
            prop_assert_eq!(Curp::parse(&sloppy, LAST_DAY).unwrap(), curp);
        }

        #[test]
        fn synthesized_curps_are_valid(
            seed in any::<u64>(),
            birth in birth(),
            sex in proptest::sample::select(vec!['H', 'M', 'X']),
            state in proptest::sample::select(STATE_CODES.to_vec()),
        ) {
            let curp = synthesize(seed, birth, sex, state);
            prop_assert_eq!(Curp::parse(curp.as_str(), LAST_DAY).unwrap(), curp.clone());
            prop_assert_eq!(curp.birth_date(), birth);
            prop_assert_eq!(curp.sex(), sex);
            prop_assert_eq!(curp.state_code(), state);
        }

        #[test]
        fn any_other_check_digit_is_a_check_digit_error(
            (text, ..) in valid_curp(),
            other in 0u8..10,
        ) {
            let right = text.as_bytes()[17] - b'0';
            prop_assume!(other != right);
            let wrong = format!("{}{other}", &text[..17]);
            prop_assert_eq!(
                Curp::parse(&wrong, LAST_DAY),
                Err(CurpError::CheckDigit { expected: right, found: char::from(b'0' + other) })
            );
        }

        #[test]
        fn parse_never_panics_on_arbitrary_text(input in any::<String>()) {
            let _ = Curp::parse(&input, TODAY);
        }

        #[test]
        fn parse_never_panics_on_curp_like_text(input in "[A-Z0-9ÑñßéaxX *-]{16,20}") {
            let _ = Curp::parse(&input, TODAY);
        }

        #[test]
        fn parse_never_panics_when_one_character_of_a_valid_curp_changes(
            (text, ..) in valid_curp(),
            position in 0usize..18,
            replacement in any::<char>(),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            chars[position] = replacement;
            let _ = Curp::parse(&String::from_iter(chars), TODAY);
        }
    }
}
