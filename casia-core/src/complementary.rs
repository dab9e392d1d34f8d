//! Complementary data of a case (datos complementarios, DOMAIN.md §4).
//!
//! Each field is a small validated newtype built only by its `parse`
//! ("parse, don't validate"), so a value that reached a case is known to be
//! well formed and already in the normalised form that is stored.
//! [`ComplementaryData`] validates a whole map in the order DOMAIN.md §4 fixes
//! and reports the first failing field.

use std::collections::BTreeMap;
use std::fmt;

/// Field codes of DOMAIN.md §4.
///
/// `Ord` equals the alphabetical order of the wire codes, because submission
/// validates the given fields in ascending code order (DOMAIN.md §4).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
    /// `ccc`: Código de Cuenta de Cotización.
    Ccc,
    /// `naf`: Número de afiliación (NUSS).
    Naf,
    /// `nif`: NIF, NIE or CIF.
    Nif,
    /// `reference`: free reference text.
    Reference,
    /// `settlement_period`: periodo de liquidación, `YYYY-MM`.
    SettlementPeriod,
    /// `submission_code`: código de envío of a RED transmission.
    SubmissionCode,
}

impl FieldCode {
    /// Every code, in ascending (wire-code) order.
    pub const ALL: [FieldCode; 6] = [
        FieldCode::Ccc,
        FieldCode::Naf,
        FieldCode::Nif,
        FieldCode::Reference,
        FieldCode::SettlementPeriod,
        FieldCode::SubmissionCode,
    ];

    /// The code for an exact wire code; anything else (other case, spaces) is unknown.
    pub fn parse(code: &str) -> Option<FieldCode> {
        match code {
            "ccc" => Some(FieldCode::Ccc),
            "naf" => Some(FieldCode::Naf),
            "nif" => Some(FieldCode::Nif),
            "reference" => Some(FieldCode::Reference),
            "settlement_period" => Some(FieldCode::SettlementPeriod),
            "submission_code" => Some(FieldCode::SubmissionCode),
            _ => None,
        }
    }

    /// The wire code (snake_case English, DOMAIN.md §4).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldCode::Ccc => "ccc",
            FieldCode::Naf => "naf",
            FieldCode::Nif => "nif",
            FieldCode::Reference => "reference",
            FieldCode::SettlementPeriod => "settlement_period",
            FieldCode::SubmissionCode => "submission_code",
        }
    }

    /// Validates one raw value for this field and returns its normalised
    /// (stored) form; `None` when invalid. `settlement_period` is checked
    /// against the month of submission (DOMAIN.md §4).
    pub fn normalise_value(
        self,
        raw: &str,
        submission_year: i32,
        submission_month: u32,
    ) -> Option<String> {
        match self {
            FieldCode::Ccc => Ccc::parse(raw).map(|v| v.0),
            FieldCode::Naf => Naf::parse(raw).map(|v| v.0),
            FieldCode::Nif => Nif::parse(raw).map(|v| v.0),
            FieldCode::Reference => Reference::parse(raw).map(|v| v.0),
            FieldCode::SettlementPeriod => {
                SettlementPeriod::parse(raw, submission_year, submission_month)
                    .map(|v| v.as_string())
            }
            FieldCode::SubmissionCode => SubmissionCode::parse(raw).map(|v| v.0),
        }
    }
}

impl fmt::Display for FieldCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The normalisation of DOMAIN.md §4 for `ccc`, `naf`, `nif` and
/// `submission_code`: spaces, `-`, `.` and `/` removed, upper-cased.
///
/// Every Unicode whitespace character counts as a space (a pasted tab or
/// no-break space is as much a separator as U+0020). Upper-casing is ASCII
/// only, so no non-ASCII character (such as `ſ` or `ı`) can turn into a valid
/// ASCII one. The function is idempotent.
pub fn normalise_identifier(raw: &str) -> String {
    raw.chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '.' | '/')))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The value of a run of ASCII digits; `None` if any byte is not a digit.
/// Callers pass at most 9 digits, far below `u64::MAX`.
fn digits_value(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// Implements `Display`, `AsRef<str>` and `as_str` for a `String` newtype.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The normalised form, as stored (DOMAIN.md §4).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// A Código de Cuenta de Cotización: 11 digits `PP NNNNNNN DD` with
/// `DD == int(first 9 digits) mod 97` (DOMAIN.md §4).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ccc(String);

impl Ccc {
    /// Normalises and checks the control digits.
    pub fn parse(raw: &str) -> Option<Ccc> {
        let s = normalise_identifier(raw);
        let b = s.as_bytes();
        if b.len() != 11 {
            return None;
        }
        let body = digits_value(&b[..9])?;
        let control = digits_value(&b[9..])?;
        if control == body % 97 {
            Some(Ccc(s))
        } else {
            None
        }
    }
}
string_newtype!(Ccc);

/// A Número de afiliación (NUSS): 12 digits `PP NNNNNNNN DD` (DOMAIN.md §4).
///
/// Numbers below 10,000,000 are legacy ones whose control was computed on
/// `PP * 10^7 + n`; the others use `PP * 10^8 + n`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Naf(String);

impl Naf {
    /// Normalises and checks the control digits.
    pub fn parse(raw: &str) -> Option<Naf> {
        let s = normalise_identifier(raw);
        let b = s.as_bytes();
        if b.len() != 12 {
            return None;
        }
        let province = digits_value(&b[..2])?;
        let n = digits_value(&b[2..10])?;
        let control = digits_value(&b[10..])?;
        let base = if n < 10_000_000 {
            province * 10_000_000 + n
        } else {
            province * 100_000_000 + n
        };
        if control == base % 97 {
            Some(Naf(s))
        } else {
            None
        }
    }
}
string_newtype!(Naf);

/// Which of the identifiers of DOMAIN.md §4 a [`Nif`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NifKind {
    /// DNI: 8 digits and a letter.
    Dni,
    /// NIE: `X`/`Y`/`Z`, 7 digits and a letter.
    Nie,
    /// `K`/`L`/`M`, 7 digits and a letter.
    Klm,
    /// An entity (CIF): a letter of `ABCDEFGHJNPQRSUVW`, 7 digits and a control.
    Entity,
}

/// Control letters of DNI, NIE and K/L/M numbers, indexed by `n mod 23`.
const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
/// Entity (CIF) letters accepted in first position.
const ENTITY_LETTERS: &[u8; 17] = b"ABCDEFGHJNPQRSUVW";
/// Letter form of the CIF control, indexed by the control digit.
const CIF_CONTROL_LETTERS: &[u8; 10] = b"JABCDEFGHI";

/// A NIF, NIE or CIF, normalised and without the optional `ES` prefix
/// (DOMAIN.md §4), so one identity has one stored form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nif(String);

impl Nif {
    /// Normalises, strips one leading `ES` and checks the control character.
    pub fn parse(raw: &str) -> Option<Nif> {
        let normalised = normalise_identifier(raw);
        // No identifier of §4 starts with "ES" (an `E` entity is followed by a
        // digit), so stripping it never hides a valid value.
        let s = normalised.strip_prefix("ES").unwrap_or(&normalised);
        let b = s.as_bytes();
        if b.len() != 9 {
            return None;
        }
        let (lead, seven, control) = (b[0], digits_value(&b[1..8])?, b[8]);
        let valid = match lead {
            b'0'..=b'9' => {
                dni_control(u64::from(lead - b'0') * 10_000_000 + seven) == Some(control)
            }
            b'X' | b'Y' | b'Z' => {
                dni_control(u64::from(lead - b'X') * 10_000_000 + seven) == Some(control)
            }
            b'K' | b'L' | b'M' => dni_control(seven) == Some(control),
            _ if ENTITY_LETTERS.contains(&lead) => {
                let c = cif_control_digit(&b[1..8]);
                control == b'0' + c || CIF_CONTROL_LETTERS.get(usize::from(c)) == Some(&control)
            }
            _ => false,
        };
        if valid { Some(Nif(s.to_owned())) } else { None }
    }

    /// The kind of identifier, read from its first character.
    pub fn kind(&self) -> NifKind {
        match self.0.as_bytes().first() {
            Some(b'0'..=b'9') => NifKind::Dni,
            Some(b'X' | b'Y' | b'Z') => NifKind::Nie,
            Some(b'K' | b'L' | b'M') => NifKind::Klm,
            _ => NifKind::Entity,
        }
    }
}
string_newtype!(Nif);

/// The DNI control letter of `n`: `TRWAGMYFPDXBNJZSQVHLCKE[n mod 23]`.
fn dni_control(n: u64) -> Option<u8> {
    let index = usize::try_from(n % 23).ok()?;
    DNI_LETTERS.get(index).copied()
}

/// The CIF control digit `c` of seven digits d1…d7 (DOMAIN.md §4): d1, d3,
/// d5, d7 are doubled and the digit sums of the products are added to
/// d2 + d4 + d6; `c = (10 − sum mod 10) mod 10`. Callers pass checked digits.
fn cif_control_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let d = u32::from(b.wrapping_sub(b'0') % 10);
            if i % 2 == 0 {
                let doubled = 2 * d;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    // (10 - sum % 10) % 10 is below 10.
    ((10 - sum % 10) % 10) as u8
}

/// The código de envío of a RED transmission: 1–30 characters `[A-Z0-9]`
/// after normalisation (DOMAIN.md §4).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubmissionCode(String);

impl SubmissionCode {
    /// Normalises and checks length and alphabet.
    pub fn parse(raw: &str) -> Option<SubmissionCode> {
        let s = normalise_identifier(raw);
        let ok = (1..=30).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok { Some(SubmissionCode(s)) } else { None }
    }
}
string_newtype!(SubmissionCode);

/// A settlement period (periodo de liquidación) `YYYY-MM` that is not after
/// the month of submission (DOMAIN.md §4: one cannot settle a future month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SettlementPeriod {
    year: i32,
    month: u32,
}

impl SettlementPeriod {
    /// Parses `YYYY-MM` (surrounding whitespace trimmed), month `01`–`12`, not
    /// after `(submission_year, submission_month)`, the Madrid month of
    /// submission that the caller supplies.
    pub fn parse(
        raw: &str,
        submission_year: i32,
        submission_month: u32,
    ) -> Option<SettlementPeriod> {
        let b = raw.trim().as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return None;
        }
        let year = i32::try_from(digits_value(&b[..4])?).ok()?;
        let month = u32::try_from(digits_value(&b[5..])?).ok()?;
        if !(1..=12).contains(&month) || (year, month) > (submission_year, submission_month) {
            return None;
        }
        Some(SettlementPeriod { year, month })
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(&self) -> u32 {
        self.month
    }

    /// The stored form `YYYY-MM`.
    pub fn as_string(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Display for SettlementPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Free reference text: 1–200 characters (not bytes) after trimming; the
/// trimmed text is what is stored (DOMAIN.md §4).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference(String);

impl Reference {
    /// Trims and checks the length in characters.
    pub fn parse(raw: &str) -> Option<Reference> {
        let s = raw.trim();
        if (1..=200).contains(&s.chars().count()) {
            Some(Reference(s.to_owned()))
        } else {
            None
        }
    }
}
string_newtype!(Reference);

/// The normalised complementary data of a case: field → normalised value
/// (DOMAIN.md §4: values are stored normalised).
///
/// Deserialising parses every field again (as stored data was normalised,
/// this accepts exactly what `parse` produced), so invalid values cannot
/// come in through serde.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "BTreeMap<String, String>")]
pub struct ComplementaryData(BTreeMap<FieldCode, String>);

impl TryFrom<BTreeMap<String, String>> for ComplementaryData {
    type Error = InvalidComplementaryData;
    /// The field rules of DOMAIN.md §4 without the submission month, which
    /// only submission knows (a stored `settlement_period` was checked then).
    fn try_from(raw: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        ComplementaryData::parse(&raw, i32::MAX, 12)
    }
}

/// `invalid_complementary_data`: the named field has an unknown code or an
/// invalid value (DOMAIN.md §4). `field` is the code exactly as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidComplementaryData {
    /// The wire code as given by the user.
    pub field: String,
}

impl fmt::Display for InvalidComplementaryData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid complementary data in field `{}`", self.field)
    }
}

impl std::error::Error for InvalidComplementaryData {}

impl ComplementaryData {
    /// Validates raw user input (wire code → text).
    ///
    /// Fields are checked in ascending code order (DOMAIN.md §4); an unknown
    /// code fails at its place in plain string order among the given codes,
    /// which is the order of the map. The first failure names its field.
    pub fn parse(
        raw: &BTreeMap<String, String>,
        submission_year: i32,
        submission_month: u32,
    ) -> Result<ComplementaryData, InvalidComplementaryData> {
        let mut fields = BTreeMap::new();
        for (code, value) in raw {
            let invalid = || InvalidComplementaryData {
                field: code.clone(),
            };
            let field = FieldCode::parse(code).ok_or_else(invalid)?;
            let normalised = field
                .normalise_value(value, submission_year, submission_month)
                .ok_or_else(invalid)?;
            fields.insert(field, normalised);
        }
        Ok(ComplementaryData(fields))
    }

    /// The first group (in the order given) of which no field is present:
    /// `required_data` of DOMAIN.md §2/§4, each group needing at least one of
    /// its codes. An empty group can never be satisfied, so it is reported.
    pub fn first_missing_group<'g>(&self, groups: &'g [Vec<FieldCode>]) -> Option<&'g [FieldCode]> {
        groups
            .iter()
            .find(|group| !group.iter().any(|code| self.0.contains_key(code)))
            .map(Vec::as_slice)
    }

    /// The normalised value of a field, if given.
    pub fn get(&self, code: FieldCode) -> Option<&str> {
        self.0.get(&code).map(String::as_str)
    }

    /// The given fields in ascending code order.
    pub fn iter(&self) -> impl Iterator<Item = (FieldCode, &str)> {
        self.0.iter().map(|(code, value)| (*code, value.as_str()))
    }

    /// Whether no field was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many fields were given.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The underlying map, e.g. for storage.
    pub fn as_map(&self) -> &BTreeMap<FieldCode, String> {
        &self.0
    }

    /// Rebuilds from stored, already normalised values (e.g. read back from a
    /// database). Unknown codes cannot occur (the keys are [`FieldCode`]s) and
    /// nothing is re-validated: a stored `settlement_period` stays valid even
    /// though the month of submission has passed. See
    /// [`ComplementaryData::try_from_normalised`] for a checked variant.
    pub fn from_normalised(map: BTreeMap<FieldCode, String>) -> ComplementaryData {
        ComplementaryData(map)
    }

    /// Like [`ComplementaryData::from_normalised`], but every value must be
    /// valid and already in normalised form; `settlement_period` is checked
    /// for shape only, not against any month of submission.
    pub fn try_from_normalised(
        map: BTreeMap<FieldCode, String>,
    ) -> Result<ComplementaryData, InvalidComplementaryData> {
        for (code, value) in &map {
            if code.normalise_value(value, i32::MAX, 12).as_deref() != Some(value.as_str()) {
                return Err(InvalidComplementaryData {
                    field: code.as_str().to_owned(),
                });
            }
        }
        Ok(ComplementaryData(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VECTORS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/identifiers.json"
    ));

    /// The vectors of one identifier and validity from identifiers.json.
    fn vectors(identifier: &str, validity: &str) -> Vec<String> {
        let all: serde_json::Value = serde_json::from_str(VECTORS).expect("vectors are JSON");
        let list: Vec<String> = all[identifier][validity]
            .as_array()
            .unwrap_or_else(|| panic!("vectors have {identifier}.{validity}"))
            .iter()
            .map(|v| v.as_str().expect("vector is a string").to_owned())
            .collect();
        assert!(!list.is_empty(), "{identifier}.{validity} is empty");
        list
    }

    fn check_vectors(identifier: &str, accepts: impl Fn(&str) -> bool) {
        for v in vectors(identifier, "valid") {
            assert!(accepts(&v), "valid {identifier} vector {v:?} was rejected");
        }
        for v in vectors(identifier, "invalid") {
            assert!(
                !accepts(&v),
                "invalid {identifier} vector {v:?} was accepted"
            );
        }
    }

    #[test]
    fn nif_vectors() {
        check_vectors("nif", |v| Nif::parse(v).is_some());
    }

    #[test]
    fn naf_vectors() {
        check_vectors("naf", |v| Naf::parse(v).is_some());
    }

    #[test]
    fn ccc_vectors() {
        check_vectors("ccc", |v| Ccc::parse(v).is_some());
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn parse_map(pairs: &[(&str, &str)]) -> Result<ComplementaryData, InvalidComplementaryData> {
        ComplementaryData::parse(&map(pairs), 2026, 11)
    }

    fn failing_field(pairs: &[(&str, &str)]) -> String {
        parse_map(pairs).expect_err("some field is invalid").field
    }

    // ---- field codes ----

    #[test]
    fn field_code_order_is_wire_code_order() {
        let mut by_ord = FieldCode::ALL.to_vec();
        by_ord.sort();
        let mut by_wire = FieldCode::ALL.to_vec();
        by_wire.sort_by_key(|c| c.as_str());
        assert_eq!(by_ord, by_wire);
        assert_eq!(by_ord, FieldCode::ALL.to_vec());
    }

    #[test]
    fn field_code_wire_forms_agree() {
        for code in FieldCode::ALL {
            assert_eq!(FieldCode::parse(code.as_str()), Some(code));
            assert_eq!(code.to_string(), code.as_str());
            let json = serde_json::to_string(&code).expect("serialises");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(FieldCode::parse("NIF"), None);
        assert_eq!(FieldCode::parse(" nif"), None);
        assert_eq!(FieldCode::parse(""), None);
    }

    // ---- ccc / naf ----

    #[test]
    fn ccc_is_normalised() {
        let ccc = Ccc::parse(" 28 1234567-42 ").expect("valid");
        assert_eq!(ccc.as_str(), "28123456742");
    }

    #[test]
    fn naf_legacy_branch_uses_ten_to_the_seven() {
        // n = 01234567 < 10,000,000: base = 8 * 10^7 + 1234567 = 81234567, mod 97 = 74.
        assert!(Naf::parse("080123456774").is_some());
        // 17 is what the modern formula (8 * 10^8 + n) would give: it must be rejected.
        assert!(Naf::parse("080123456717").is_none());
    }

    #[test]
    fn naf_modern_branch_uses_ten_to_the_eight() {
        // n = 12345678: base = 28 * 10^8 + 12345678, mod 97 = 40.
        assert!(Naf::parse("281234567840").is_some());
        // The legacy formula would give (28 * 10^7 + 12345678) mod 97.
        let legacy = (28 * 10_000_000 + 12_345_678u64) % 97;
        assert_ne!(legacy, 40);
        assert!(Naf::parse(&format!("2812345678{legacy:02}")).is_none());
    }

    #[test]
    fn naf_boundary_crossing_can_keep_validity() {
        // 9 * 10 + 7 = 97: changing the first N digit 0 → 7 with PP = 10 keeps the
        // control, because the two bases differ by 10^7 * 97.
        assert!(Naf::parse("100123456732").is_some());
        assert!(Naf::parse("107123456732").is_some());
        assert!(Naf::parse("106123456732").is_none());
    }

    // ---- nif ----

    #[test]
    fn nif_kinds() {
        let kind = |s: &str| Nif::parse(s).map(|n| n.kind());
        assert_eq!(kind("12345678Z"), Some(NifKind::Dni));
        assert_eq!(kind("X1234567L"), Some(NifKind::Nie));
        assert_eq!(kind("K0867756N"), Some(NifKind::Klm));
        assert_eq!(kind("B64717838"), Some(NifKind::Entity));
    }

    #[test]
    fn nif_es_prefix_is_stripped() {
        assert_eq!(
            Nif::parse("ES54362315K").expect("valid").as_str(),
            "54362315K"
        );
        assert_eq!(
            Nif::parse("es-54362315-k").expect("valid").as_str(),
            "54362315K"
        );
        assert_eq!(
            Nif::parse("ESB64717838").expect("valid").as_str(),
            "B64717838"
        );
        assert!(Nif::parse("ES").is_none());
        assert!(
            Nif::parse("ESES54362315K").is_none(),
            "only one prefix is stripped"
        );
        assert!(Nif::parse("ES54362315Z").is_none());
    }

    #[test]
    fn nif_klm_uses_the_seven_digits() {
        // 1234567 mod 23 = 19 → 'L'.
        for lead in ["K", "L", "M"] {
            assert!(Nif::parse(&format!("{lead}1234567L")).is_some(), "{lead}");
            assert!(Nif::parse(&format!("{lead}1234567K")).is_none(), "{lead}");
        }
        assert!(Nif::parse("m-1234567-l").is_some());
    }

    #[test]
    fn nie_prefix_values() {
        // X/Y/Z stand for 0/1/2 in front of the seven digits.
        assert!(Nif::parse("X1234567L").is_some());
        assert!(Nif::parse("Y1234567X").is_some());
        assert!(Nif::parse("Z1234567R").is_some());
        assert!(Nif::parse("Y1234567L").is_none());
    }

    #[test]
    fn cif_control_digit_and_letter() {
        // A1111111: 2+1+2+1+2+1+2 = 11, c = 9, letter "JABCDEFGHI"[9] = 'I'.
        assert!(Nif::parse("A11111119").is_some());
        assert!(Nif::parse("A1111111I").is_some());
        assert!(Nif::parse("A11111118").is_none());
        assert!(Nif::parse("A1111111H").is_none());
        // c = 0 → digit 0 or letter J.
        assert!(Nif::parse("A00000000").is_some());
        assert!(Nif::parse("A0000000J").is_some());
        // Both forms for every entity letter.
        for &lead in ENTITY_LETTERS {
            let lead = char::from(lead);
            assert!(
                Nif::parse(&format!("{lead}11111119")).is_some(),
                "{lead} digit"
            );
            assert!(
                Nif::parse(&format!("{lead}1111111I")).is_some(),
                "{lead} letter"
            );
        }
        // Letters that are not entity letters.
        for lead in ["I", "O", "T"] {
            assert!(Nif::parse(&format!("{lead}11111119")).is_none(), "{lead}");
        }
    }

    #[test]
    fn nif_rejects_odd_shapes() {
        for s in [
            "",
            "1",
            "123456789",
            "1234567Z",
            "123456789Z",
            "X12345678",
            "٣2345678Z",
        ] {
            assert!(Nif::parse(s).is_none(), "{s:?}");
        }
    }

    // ---- submission_code ----

    #[test]
    fn submission_code_length_and_alphabet() {
        assert!(SubmissionCode::parse(&"A".repeat(30)).is_some());
        assert!(SubmissionCode::parse(&"A".repeat(31)).is_none());
        assert!(SubmissionCode::parse("9").is_some());
        assert!(SubmissionCode::parse("").is_none());
        assert!(
            SubmissionCode::parse(" - ./").is_none(),
            "empty after normalisation"
        );
        assert!(SubmissionCode::parse("ABC_123").is_none());
        assert!(SubmissionCode::parse("AÑO1").is_none());
        // Separators do not count towards the length.
        assert!(SubmissionCode::parse(&format!("{}-{}", "A".repeat(15), "B".repeat(15))).is_some());
    }

    #[test]
    fn submission_code_lowercase_is_normalised() {
        let code = SubmissionCode::parse("abc-123.x/y z").expect("valid");
        assert_eq!(code.as_str(), "ABC123XYZ");
    }

    // ---- settlement_period ----

    #[test]
    fn settlement_period_months() {
        let p = |s: &str| SettlementPeriod::parse(s, 2026, 11);
        assert!(p("2026-00").is_none());
        assert!(p("2026-13").is_none());
        assert!(p("2026-01").is_some());
        assert!(p("2025-12").is_some());
    }

    #[test]
    fn settlement_period_not_after_submission_month() {
        let p = |s: &str| SettlementPeriod::parse(s, 2026, 11);
        let same = p("2026-11").expect("the month of submission is allowed");
        assert_eq!((same.year(), same.month()), (2026, 11));
        assert!(p("2026-12").is_none(), "the month after");
        assert!(p("2027-01").is_none(), "January of the next year");
        assert!(SettlementPeriod::parse("2027-01", 2026, 12).is_none());
        assert!(SettlementPeriod::parse("2026-12", 2026, 12).is_some());
    }

    #[test]
    fn settlement_period_shape() {
        let p = |s: &str| SettlementPeriod::parse(s, 2026, 11);
        assert_eq!(p(" 2026-03\n").expect("trimmed").as_string(), "2026-03");
        assert_eq!(p("2026-03").expect("valid").to_string(), "2026-03");
        for bad in [
            "2026-3",
            "2026/03",
            "202603",
            "26-03",
            "2026-003",
            "+026-03",
            "2026-1a",
            "２026-03",
            "",
        ] {
            assert!(p(bad).is_none(), "{bad:?}");
        }
    }

    // ---- reference ----

    #[test]
    fn reference_length_in_characters() {
        // 'ñ' is two bytes: 200 of them are 400 bytes but 200 characters.
        let ok = "ñ".repeat(200);
        assert_eq!(Reference::parse(&ok).expect("200 chars").as_str(), ok);
        assert!(Reference::parse(&"a".repeat(200)).is_some());
        assert!(Reference::parse(&"a".repeat(201)).is_none());
        assert!(Reference::parse(&"ñ".repeat(201)).is_none());
        assert!(
            Reference::parse(&format!("  {}  ", "a".repeat(200))).is_some(),
            "trimmed first"
        );
    }

    #[test]
    fn reference_whitespace_only_fails_and_is_trimmed() {
        assert!(Reference::parse("").is_none());
        assert!(Reference::parse(" \t\n\u{a0} ").is_none());
        assert_eq!(
            Reference::parse("  ref 42 ").expect("valid").as_str(),
            "ref 42"
        );
    }

    // ---- the whole map ----

    #[test]
    fn values_are_stored_normalised() {
        let data = parse_map(&[("nif", "X-2482300w"), ("ccc", "28 1234567 42")]).expect("valid");
        assert_eq!(data.get(FieldCode::Nif), Some("X2482300W"));
        assert_eq!(data.get(FieldCode::Ccc), Some("28123456742"));
        assert_eq!(data.get(FieldCode::Naf), None);
        assert_eq!(data.len(), 2);
        assert!(!data.is_empty());
        let fields: Vec<_> = data.iter().collect();
        assert_eq!(
            fields,
            vec![
                (FieldCode::Ccc, "28123456742"),
                (FieldCode::Nif, "X2482300W")
            ]
        );
    }

    #[test]
    fn every_field_kind_is_accepted() {
        let data = parse_map(&[
            ("ccc", "28123456742"),
            ("naf", "28 12345678 40"),
            ("nif", "ES54362315K"),
            ("reference", "  expediente 7 "),
            ("settlement_period", "2026-11"),
            ("submission_code", "ab12"),
        ])
        .expect("valid");
        let expected = [
            (FieldCode::Ccc, "28123456742"),
            (FieldCode::Naf, "281234567840"),
            (FieldCode::Nif, "54362315K"),
            (FieldCode::Reference, "expediente 7"),
            (FieldCode::SettlementPeriod, "2026-11"),
            (FieldCode::SubmissionCode, "AB12"),
        ];
        assert_eq!(data.iter().collect::<Vec<_>>(), expected.to_vec());
    }

    #[test]
    fn empty_map_is_valid_and_empty() {
        let data = parse_map(&[]).expect("valid");
        assert!(data.is_empty());
        assert_eq!(data, ComplementaryData::default());
    }

    #[test]
    fn unknown_code_is_named() {
        assert_eq!(failing_field(&[("foo", "x")]), "foo");
        assert_eq!(failing_field(&[("NIF", "12345678Z")]), "NIF");
        assert_eq!(failing_field(&[("", "x")]), "");
    }

    #[test]
    fn first_error_in_ascending_code_order() {
        assert_eq!(
            failing_field(&[("nif", "12345678A"), ("ccc", "28123456740")]),
            "ccc"
        );
        assert_eq!(
            failing_field(&[("ccc", "28123456742"), ("nif", "12345678A")]),
            "nif"
        );
        // Unknown codes fail at their place in plain string order.
        assert_eq!(failing_field(&[("zzz", "x"), ("ccc", "bad")]), "ccc");
        assert_eq!(failing_field(&[("aaa", "x"), ("ccc", "bad")]), "aaa");
        assert_eq!(failing_field(&[("nif", "bad"), ("mmm", "x")]), "mmm");
        assert_eq!(
            failing_field(&[("ccc", "28123456742"), ("nif", "bad"), ("o", "x")]),
            "nif"
        );
        assert_eq!(
            failing_field(&[("settlement_period", "2026-12"), ("submission_code", "")]),
            "settlement_period"
        );
        assert_eq!(
            failing_field(&[("reference", " "), ("settlement_period", "2026-12")]),
            "reference"
        );
    }

    #[test]
    fn first_missing_group_in_catalog_order() {
        let groups = vec![
            vec![FieldCode::Naf, FieldCode::Nif],
            vec![FieldCode::Ccc],
            vec![FieldCode::SubmissionCode, FieldCode::SettlementPeriod],
        ];
        let data = parse_map(&[("nif", "12345678Z"), ("submission_code", "A1")]).expect("valid");
        assert_eq!(
            data.first_missing_group(&groups),
            Some(&[FieldCode::Ccc][..])
        );

        let none = ComplementaryData::default();
        assert_eq!(
            none.first_missing_group(&groups),
            Some(&[FieldCode::Naf, FieldCode::Nif][..])
        );

        let all = parse_map(&[
            ("naf", "281234567840"),
            ("ccc", "28123456742"),
            ("settlement_period", "2026-01"),
        ])
        .expect("valid");
        assert_eq!(all.first_missing_group(&groups), None);
        assert_eq!(all.first_missing_group(&[]), None);
        // An empty group can never have "at least one" field given.
        assert_eq!(all.first_missing_group(&[vec![]]), Some(&[][..]));
    }

    #[test]
    fn serde_round_trip_uses_wire_codes() {
        let data =
            parse_map(&[("nif", "12345678z"), ("settlement_period", "2026-02")]).expect("valid");
        let json = serde_json::to_string(&data).expect("serialises");
        assert_eq!(json, r#"{"nif":"12345678Z","settlement_period":"2026-02"}"#);
        let back: ComplementaryData = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, data);
    }

    #[test]
    fn from_normalised_keeps_stored_values() {
        let data = parse_map(&[("settlement_period", "2026-11"), ("ccc", "28-1234567-42")])
            .expect("valid");
        let stored = data.as_map().clone();
        // Read back later: no month-of-submission check any more.
        assert_eq!(ComplementaryData::from_normalised(stored.clone()), data);
        assert_eq!(ComplementaryData::try_from_normalised(stored), Ok(data));
    }

    #[test]
    fn try_from_normalised_rejects_unnormalised_or_invalid() {
        let check = |code: FieldCode, value: &str| {
            ComplementaryData::try_from_normalised(BTreeMap::from([(code, value.to_owned())]))
                .map_err(|e| e.field)
        };
        assert_eq!(
            check(FieldCode::Ccc, "28-1234567-42"),
            Err("ccc".to_owned())
        );
        assert_eq!(check(FieldCode::Nif, "ES54362315K"), Err("nif".to_owned()));
        assert_eq!(check(FieldCode::Nif, "54362315Z"), Err("nif".to_owned()));
        assert_eq!(
            check(FieldCode::Reference, " x"),
            Err("reference".to_owned())
        );
        assert_eq!(
            check(FieldCode::SettlementPeriod, "2026-13"),
            Err("settlement_period".to_owned())
        );
        assert!(check(FieldCode::SettlementPeriod, "9999-12").is_ok());
        assert!(check(FieldCode::SubmissionCode, "AB12").is_ok());
    }

    #[test]
    fn error_display_names_the_field() {
        let err = InvalidComplementaryData {
            field: "nif".to_owned(),
        };
        assert!(err.to_string().contains("`nif`"));
    }

    // ---- property tests ----

    /// Control letter of a DNI-rule number, written independently of the code under test.
    fn reference_dni_letter(n: u64) -> char {
        "TRWAGMYFPDXBNJZSQVHLCKE"
            .chars()
            .nth((n % 23) as usize)
            .expect("23 letters")
    }

    /// CIF control digit, written independently of the code under test: digit sums via text.
    fn reference_cif_digit(seven: &str) -> u32 {
        let mut sum = 0;
        for (i, ch) in seven.chars().enumerate() {
            let d = ch.to_digit(10).expect("digit");
            if i % 2 == 0 {
                sum += (2 * d)
                    .to_string()
                    .chars()
                    .map(|c| c.to_digit(10).expect("digit"))
                    .sum::<u32>();
            } else {
                sum += d;
            }
        }
        (10 - sum % 10) % 10
    }

    fn reference_cif_letter(c: u32) -> char {
        "JABCDEFGHI".chars().nth(c as usize).expect("10 letters")
    }

    fn dni(n: u64) -> String {
        format!("{n:08}{}", reference_dni_letter(n))
    }

    /// NIE with prefix index 0/1/2 (X/Y/Z) and seven digits.
    fn nie(prefix: u64, seven: u64) -> String {
        let lead = ['X', 'Y', 'Z'][prefix as usize];
        format!(
            "{lead}{seven:07}{}",
            reference_dni_letter(prefix * 10_000_000 + seven)
        )
    }

    fn klm(lead: char, seven: u64) -> String {
        format!("{lead}{seven:07}{}", reference_dni_letter(seven))
    }

    fn cif(lead: char, seven: u64, letter_control: bool) -> String {
        let digits = format!("{seven:07}");
        let c = reference_cif_digit(&digits);
        let control = if letter_control {
            reference_cif_letter(c)
        } else {
            char::from_digit(c, 10).expect("digit")
        };
        format!("{lead}{digits}{control}")
    }

    fn naf(pp: u64, n: u64) -> String {
        let base = if n < 10_000_000 {
            pp * 10_000_000 + n
        } else {
            pp * 100_000_000 + n
        };
        format!("{pp:02}{n:08}{:02}", base % 97)
    }

    fn ccc(body: u64) -> String {
        format!("{body:09}{:02}", body % 97)
    }

    fn entity_letter() -> impl Strategy<Value = char> {
        proptest::sample::select(
            ENTITY_LETTERS
                .iter()
                .map(|&b| char::from(b))
                .collect::<Vec<_>>(),
        )
    }

    /// Replacement characters: ASCII digits and letters of both cases, the
    /// separators, look-alikes and arbitrary Unicode.
    fn replacement() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => proptest::char::range('0', '9'),
            3 => proptest::char::range('A', 'Z'),
            1 => proptest::char::range('a', 'z'),
            1 => proptest::sample::select(vec![
                ' ', '-', '.', '/', '\t', '\u{a0}', 'ñ', 'Ñ', '٣', '３', 'ſ', 'ı', '\u{212a}', '_', '+'
            ]),
            1 => any::<char>(),
        ]
    }

    /// `r`, or when it equals `original` after normalisation, another
    /// character of the same class (so no case is rejected).
    fn differ(original: char, r: char, k: u8) -> char {
        if r.to_ascii_uppercase() != original {
            return r;
        }
        let (first, span) = if original.is_ascii_digit() {
            (b'0', 10)
        } else {
            (b'A', 26)
        };
        let shifted = (original as u8 - first + 1 + k % (span - 1)) % span;
        char::from(first + shifted)
    }

    /// `s` (ASCII) with the character at `pos` replaced by `r`.
    fn replace_at(s: &str, pos: usize, r: char) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| if i == pos { r } else { c })
            .collect()
    }

    /// Inserts separators and lower-cases letters, as a user may type.
    fn with_noise(canonical: &str, noise: &[(bool, u8)]) -> String {
        let mut out = String::new();
        for (i, ch) in canonical.chars().enumerate() {
            let (lower, sep) = noise.get(i).copied().unwrap_or((false, 0));
            out.push(if lower { ch.to_ascii_lowercase() } else { ch });
            match sep % 6 {
                1 => out.push(' '),
                2 => out.push('-'),
                3 => out.push('.'),
                4 => out.push('/'),
                _ => {}
            }
        }
        out
    }

    fn noise() -> impl Strategy<Value = Vec<(bool, u8)>> {
        proptest::collection::vec((any::<bool>(), any::<u8>()), 12)
    }

    fn kind_of(s: &str) -> Option<NifKind> {
        Nif::parse(s).map(|n| n.kind())
    }

    /// What a valid DNI, NIE or K/L/M number becomes when its leading
    /// character (worth `lead_value` in the 8-digit number) is replaced by
    /// `r`. The three kinds are one rule over an 8-digit number, so the result
    /// is valid exactly when the new lead stands for the same value; any other
    /// value moves the number by a non-zero multiple of 10^7, never 0 mod 23.
    /// An entity letter makes a CIF, whose independent check may pass by
    /// coincidence, so only its kind is asserted.
    fn check_lead_change(mutated: &str, lead_value: u64, r: char) -> Result<(), TestCaseError> {
        let up = r.to_ascii_uppercase();
        let got = kind_of(mutated);
        match up {
            '0'..='9' => {
                let valid = u64::from(up.to_digit(10).unwrap_or(99)) == lead_value;
                prop_assert_eq!(got, valid.then_some(NifKind::Dni), "{}", mutated);
            }
            'X' | 'Y' | 'Z' => {
                let valid = (up as u64 - 'X' as u64) == lead_value;
                prop_assert_eq!(got, valid.then_some(NifKind::Nie), "{}", mutated);
            }
            'K' | 'L' | 'M' => {
                prop_assert_eq!(
                    got,
                    (lead_value == 0).then_some(NifKind::Klm),
                    "{}",
                    mutated
                );
            }
            _ if up.is_ascii() && ENTITY_LETTERS.contains(&(up as u8)) => {
                prop_assert!(got.is_none() || got == Some(NifKind::Entity), "{}", mutated);
            }
            _ => prop_assert_eq!(got, None, "{}", mutated),
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn valid_dni_parses(n in 0u64..100_000_000, noise in noise()) {
            let s = dni(n);
            prop_assert_eq!(kind_of(&s), Some(NifKind::Dni));
            let typed = with_noise(&s, &noise);
            prop_assert_eq!(Nif::parse(&typed).map(|v| v.as_str().to_owned()), Some(s.clone()), "{}", typed);
            let prefixed = format!("es {typed}");
            prop_assert_eq!(Nif::parse(&prefixed).map(|v| v.as_str().to_owned()), Some(s), "{}", prefixed);
        }

        #[test]
        fn valid_nie_parses(prefix in 0u64..3, seven in 0u64..10_000_000, noise in noise()) {
            let s = nie(prefix, seven);
            prop_assert_eq!(kind_of(&s), Some(NifKind::Nie));
            let typed = with_noise(&s, &noise);
            prop_assert_eq!(Nif::parse(&typed).map(|v| v.as_str().to_owned()), Some(s), "{}", typed);
        }

        #[test]
        fn valid_klm_parses(lead in proptest::sample::select(vec!['K', 'L', 'M']), seven in 0u64..10_000_000, noise in noise()) {
            let s = klm(lead, seven);
            prop_assert_eq!(kind_of(&s), Some(NifKind::Klm));
            let typed = with_noise(&s, &noise);
            prop_assert_eq!(Nif::parse(&typed).map(|v| v.as_str().to_owned()), Some(s), "{}", typed);
        }

        #[test]
        fn valid_cif_parses_in_both_forms(lead in entity_letter(), seven in 0u64..10_000_000, noise in noise()) {
            for letter_control in [false, true] {
                let s = cif(lead, seven, letter_control);
                prop_assert_eq!(kind_of(&s), Some(NifKind::Entity), "{}", s);
                let typed = with_noise(&s, &noise);
                prop_assert_eq!(Nif::parse(&typed).map(|v| v.as_str().to_owned()), Some(s), "{}", typed);
            }
        }

        #[test]
        fn valid_naf_parses_in_both_branches(pp in 0u64..100, legacy in 0u64..10_000_000, modern in 10_000_000u64..100_000_000, noise in noise()) {
            for n in [legacy, modern] {
                let s = naf(pp, n);
                let typed = with_noise(&s, &noise);
                prop_assert_eq!(Naf::parse(&typed).map(|v| v.as_str().to_owned()), Some(s), "{}", typed);
            }
        }

        #[test]
        fn valid_ccc_parses(body in 0u64..1_000_000_000, noise in noise()) {
            let s = ccc(body);
            let typed = with_noise(&s, &noise);
            prop_assert_eq!(Ccc::parse(&typed).map(|v| v.as_str().to_owned()), Some(s), "{}", typed);
        }

        /// Digits: a change by δ·10^k with 0 < |δ| ≤ 9 is never 0 mod 23 (23 is
        /// prime); the 23 control letters are distinct; no kind has a letter
        /// in positions 1–7 or a digit as ninth character after 8 digits.
        #[test]
        fn dni_single_change_is_detected(n in 0u64..100_000_000, pos in 0usize..9, r in replacement(), k in any::<u8>()) {
            let s = dni(n);
            let original = s.as_bytes()[pos] as char;
            let r = differ(original, r, k);
            prop_assert_ne!(r.to_ascii_uppercase(), original);
            let mutated = replace_at(&s, pos, r);
            if pos == 0 {
                check_lead_change(&mutated, n / 10_000_000, r)?;
            } else {
                prop_assert!(Nif::parse(&mutated).is_none(), "{} from {}", mutated, s);
            }
        }

        #[test]
        fn nie_single_change_is_detected(prefix in 0u64..3, seven in 0u64..10_000_000, pos in 0usize..9, r in replacement(), k in any::<u8>()) {
            let s = nie(prefix, seven);
            let original = s.as_bytes()[pos] as char;
            let r = differ(original, r, k);
            prop_assert_ne!(r.to_ascii_uppercase(), original);
            let mutated = replace_at(&s, pos, r);
            if pos == 0 {
                check_lead_change(&mutated, prefix, r)?;
            } else {
                prop_assert!(Nif::parse(&mutated).is_none(), "{} from {}", mutated, s);
            }
        }

        /// The K/L/M letter does not take part in the check: it counts as 0,
        /// like `X` and a leading `0` digit.
        #[test]
        fn klm_single_change_is_detected(lead in proptest::sample::select(vec!['K', 'L', 'M']), seven in 0u64..10_000_000, pos in 0usize..9, r in replacement(), k in any::<u8>()) {
            let s = klm(lead, seven);
            let original = s.as_bytes()[pos] as char;
            let r = differ(original, r, k);
            prop_assert_ne!(r.to_ascii_uppercase(), original);
            let mutated = replace_at(&s, pos, r);
            if pos == 0 {
                check_lead_change(&mutated, 0, r)?;
            } else {
                prop_assert!(Nif::parse(&mutated).is_none(), "{} from {}", mutated, s);
            }
        }

        /// d ↦ digit sum of 2d is a permutation of 0–9 and d2, d4, d6 count
        /// once, so any digit change moves `c`; the control is valid exactly
        /// when it is the digit `c` or the letter "JABCDEFGHI"[c]. The entity
        /// letter takes no part: any other entity letter keeps it valid.
        #[test]
        fn cif_single_change_is_detected(lead in entity_letter(), seven in 0u64..10_000_000, letter_control in any::<bool>(), pos in 0usize..9, r in replacement(), k in any::<u8>()) {
            let s = cif(lead, seven, letter_control);
            let original = s.as_bytes()[pos] as char;
            let r = differ(original, r, k);
            prop_assert_ne!(r.to_ascii_uppercase(), original);
            let mutated = replace_at(&s, pos, r);
            let up = r.to_ascii_uppercase();
            let got = kind_of(&mutated);
            match pos {
                0 if up.is_ascii() && ENTITY_LETTERS.contains(&(up as u8)) => {
                    prop_assert_eq!(got, Some(NifKind::Entity), "{}", mutated);
                }
                // A digit, X/Y/Z or K/L/M lead makes another kind whose own
                // check may pass by coincidence, but only with a letter control.
                0 if up.is_ascii_digit() || "XYZKLM".contains(up) => {
                    if letter_control {
                        let expected = if up.is_ascii_digit() { NifKind::Dni } else if "XYZ".contains(up) { NifKind::Nie } else { NifKind::Klm };
                        prop_assert!(got.is_none() || got == Some(expected), "{}", mutated);
                    } else {
                        prop_assert_eq!(got, None, "{}", mutated);
                    }
                }
                8 => {
                    let c = reference_cif_digit(&format!("{seven:07}"));
                    let valid = up == reference_cif_letter(c) || up.to_digit(10) == Some(c) && up.is_ascii_digit();
                    prop_assert_eq!(got, valid.then_some(NifKind::Entity), "{} from {}", mutated, s);
                }
                _ => prop_assert_eq!(got, None, "{} from {}", mutated, s),
            }
        }

        /// 97 is prime, so a change δ·10^k in PP, in N (within a branch) or in
        /// DD is detected. Changing N's first digit between 0 and d ≠ 0 switches
        /// the formula: the two bases differ by 10^7·(9·PP + d), so the NAF
        /// stays valid exactly when 97 divides 9·PP + d.
        #[test]
        fn naf_single_change_is_detected(
            pp in prop_oneof![0u64..100, proptest::sample::select(vec![10u64, 21, 32, 43, 53, 64, 75, 86, 96])],
            n in prop_oneof![0u64..10_000_000, 10_000_000u64..100_000_000],
            pos in 0usize..12,
            r in prop_oneof![3 => proptest::char::range('0', '9'), 1 => replacement()],
            k in any::<u8>(),
        ) {
            let s = naf(pp, n);
            let original = s.as_bytes()[pos] as char;
            let r = differ(original, r, k);
            prop_assert_ne!(r.to_ascii_uppercase(), original);
            let mutated = replace_at(&s, pos, r);
            let got = Naf::parse(&mutated).is_some();
            let old_first = n / 10_000_000;
            match (pos, r.is_ascii_digit()) {
                (2, true) if (old_first == 0) != (r == '0') => {
                    let d = if old_first == 0 { u64::from(r.to_digit(10).unwrap_or(0)) } else { old_first };
                    prop_assert_eq!(got, (9 * pp + d) % 97 == 0, "{} from {}", mutated, s);
                }
                _ => prop_assert!(!got, "{} from {}", mutated, s),
            }
        }

        #[test]
        fn naf_boundary_pairs_stay_valid(
            pair in proptest::sample::select(vec![(10u64, 7u64), (21, 5), (32, 3), (43, 1), (53, 8), (64, 6), (75, 4), (86, 2), (96, 9)]),
            rest in 0u64..10_000_000,
        ) {
            let (pp, d) = pair;
            prop_assert_eq!((9 * pp + d) % 97, 0);
            let legacy = naf(pp, rest);
            let moved = replace_at(&legacy, 2, char::from_digit(d as u32, 10).expect("digit"));
            prop_assert!(Naf::parse(&legacy).is_some());
            prop_assert!(Naf::parse(&moved).is_some(), "{} from {}", moved, legacy);
        }

        /// The body changes by δ·10^k, never 0 mod 97; the control is compared whole.
        #[test]
        fn ccc_single_change_is_detected(body in 0u64..1_000_000_000, pos in 0usize..11, r in replacement(), k in any::<u8>()) {
            let s = ccc(body);
            let original = s.as_bytes()[pos] as char;
            let r = differ(original, r, k);
            prop_assert_ne!(r.to_ascii_uppercase(), original);
            let mutated = replace_at(&s, pos, r);
            prop_assert!(Ccc::parse(&mutated).is_none(), "{} from {}", mutated, s);
        }

        #[test]
        fn normalisation_is_idempotent(s in ".*") {
            let once = normalise_identifier(&s);
            prop_assert_eq!(normalise_identifier(&once), once.clone());
            prop_assert!(!once.chars().any(|c| c.is_whitespace() || "-./".contains(c) || c.is_ascii_lowercase()));
        }

        /// A parsed value's stored form parses to itself.
        #[test]
        fn stored_forms_are_fixed_points(n in 0u64..100_000_000, body in 0u64..1_000_000_000, noise in noise(), code in "[a-zA-Z0-9 ./-]{0,40}", text in any::<String>()) {
            let nif = Nif::parse(&with_noise(&format!("ES{}", dni(n)), &noise)).expect("valid");
            prop_assert_eq!(Nif::parse(nif.as_str()), Some(nif.clone()));
            let c = Ccc::parse(&with_noise(&ccc(body), &noise)).expect("valid");
            prop_assert_eq!(Ccc::parse(c.as_str()), Some(c.clone()));
            if let Some(sc) = SubmissionCode::parse(&code) {
                prop_assert_eq!(SubmissionCode::parse(sc.as_str()), Some(sc.clone()));
            }
            if let Some(r) = Reference::parse(&text) {
                prop_assert_eq!(Reference::parse(r.as_str()), Some(r.clone()));
            }
        }

        #[test]
        fn parsers_never_panic_on_regex_strings(s in ".*", y in any::<i32>(), m in any::<u32>()) {
            exercise(&s, y, m);
        }

        #[test]
        fn parsers_never_panic_on_any_unicode(s in any::<String>(), y in any::<i32>(), m in any::<u32>()) {
            exercise(&s, y, m);
        }

        #[test]
        fn parsers_never_panic_on_near_miss_shapes(s in "(ES|es)?[0-9XYZKLMA-Zñ٣ ./-]{0,14}", y in 2000i32..2100, m in 0u32..14) {
            exercise(&s, y, m);
        }

        #[test]
        fn map_parse_reports_a_given_field(entries in proptest::collection::btree_map(
            prop_oneof![proptest::sample::select(FieldCode::ALL.iter().map(|c| c.as_str().to_owned()).collect::<Vec<_>>()), ".{0,20}"],
            ".{0,40}",
            0..8,
        )) {
            match ComplementaryData::parse(&entries, 2026, 11) {
                Ok(data) => {
                    prop_assert_eq!(data.len(), entries.len());
                    for (code, _) in data.iter() {
                        prop_assert!(entries.contains_key(code.as_str()));
                    }
                }
                Err(e) => {
                    prop_assert!(entries.contains_key(&e.field));
                    // Every field before the failing one is valid.
                    let before: BTreeMap<String, String> = entries.range(..e.field.clone()).map(|(k, v)| (k.clone(), v.clone())).collect();
                    prop_assert!(ComplementaryData::parse(&before, 2026, 11).is_ok());
                }
            }
        }
    }

    fn exercise(s: &str, y: i32, m: u32) {
        let _ = normalise_identifier(s);
        let _ = Ccc::parse(s);
        let _ = Naf::parse(s);
        let _ = Nif::parse(s).map(|n| n.kind());
        let _ = SubmissionCode::parse(s);
        let _ = Reference::parse(s);
        let _ = SettlementPeriod::parse(s, y, m).map(|p| p.as_string());
        for code in FieldCode::ALL {
            let _ = code.normalise_value(s, y, m);
            let _ = ComplementaryData::parse(
                &BTreeMap::from([(code.as_str().to_owned(), s.to_owned())]),
                y,
                m,
            );
        }
        let _ = ComplementaryData::parse(&BTreeMap::from([(s.to_owned(), s.to_owned())]), y, m);
    }
}
