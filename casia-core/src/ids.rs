//! Parsed identifiers (DOMAIN.md §1, §4): opaque party ids, province/office
//! codes with their autonomous community, and case numbers. Each is built
//! only by `parse`, so a value of these types is valid by construction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {input:?}")]
pub struct ParseIdError {
    /// What was being parsed, e.g. `"case number"` or `"province code"`.
    pub what: &'static str,
    /// The rejected input, as given.
    pub input: String,
}

fn is_opaque_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses 1–64 characters of `[A-Za-z0-9._-]` (DOMAIN.md §1).
            ///
            /// # Errors
            ///
            /// [`ParseIdError`] when the input is empty, longer than 64
            /// bytes or has a character outside that alphabet.
            pub fn parse(s: &str) -> Result<Self, ParseIdError> {
                if is_opaque_id(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(ParseIdError { what: $what, input: s.to_owned() })
                }
            }
            /// The id as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

opaque_id!(
    /// The autorizado RED's id (DOMAIN.md §1).
    AuthorizationId,
    "authorization id"
);
opaque_id!(
    /// A user of an authorization (DOMAIN.md §1).
    UserId,
    "user id"
);
opaque_id!(
    /// A TGSS processor (tramitador) (DOMAIN.md §1).
    ProcessorId,
    "processor id"
);

/// An autonomous community (or autonomous city), by ISO 3166-2 code, whose
/// holidays count for a case (DOMAIN.md §5, Ley 39/2015 art. 30.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Community {
    /// `ES-AN` — Andalucía.
    Andalucia,
    /// `ES-AR` — Aragón.
    Aragon,
    /// `ES-AS` — Principado de Asturias.
    Asturias,
    /// `ES-IB` — Illes Balears.
    Baleares,
    /// `ES-CN` — Canarias.
    Canarias,
    /// `ES-CB` — Cantabria.
    Cantabria,
    /// `ES-CM` — Castilla-La Mancha.
    CastillaLaMancha,
    /// `ES-CL` — Castilla y León.
    CastillaYLeon,
    /// `ES-CT` — Cataluña.
    Cataluna,
    /// `ES-CE` — Ceuta (autonomous city; its local days are in its community list).
    Ceuta,
    /// `ES-EX` — Extremadura.
    Extremadura,
    /// `ES-GA` — Galicia.
    Galicia,
    /// `ES-RI` — La Rioja.
    LaRioja,
    /// `ES-MD` — Comunidad de Madrid.
    Madrid,
    /// `ES-ML` — Melilla (autonomous city; its local days are in its community list).
    Melilla,
    /// `ES-MC` — Región de Murcia.
    Murcia,
    /// `ES-NC` — Comunidad Foral de Navarra.
    Navarra,
    /// `ES-PV` — País Vasco.
    PaisVasco,
    /// `ES-VC` — Comunitat Valenciana.
    ComunitatValenciana,
}

impl Community {
    /// The 17 communities and the two autonomous cities, in declaration order.
    pub const ALL: [Community; 19] = [
        Community::Andalucia,
        Community::Aragon,
        Community::Asturias,
        Community::Baleares,
        Community::Canarias,
        Community::Cantabria,
        Community::CastillaLaMancha,
        Community::CastillaYLeon,
        Community::Cataluna,
        Community::Ceuta,
        Community::Extremadura,
        Community::Galicia,
        Community::LaRioja,
        Community::Madrid,
        Community::Melilla,
        Community::Murcia,
        Community::Navarra,
        Community::PaisVasco,
        Community::ComunitatValenciana,
    ];

    /// ISO 3166-2 code, e.g. `ES-MD`.
    pub fn iso_code(self) -> &'static str {
        match self {
            Community::Andalucia => "ES-AN",
            Community::Aragon => "ES-AR",
            Community::Asturias => "ES-AS",
            Community::Baleares => "ES-IB",
            Community::Canarias => "ES-CN",
            Community::Cantabria => "ES-CB",
            Community::CastillaLaMancha => "ES-CM",
            Community::CastillaYLeon => "ES-CL",
            Community::Cataluna => "ES-CT",
            Community::Ceuta => "ES-CE",
            Community::Extremadura => "ES-EX",
            Community::Galicia => "ES-GA",
            Community::LaRioja => "ES-RI",
            Community::Madrid => "ES-MD",
            Community::Melilla => "ES-ML",
            Community::Murcia => "ES-MC",
            Community::Navarra => "ES-NC",
            Community::PaisVasco => "ES-PV",
            Community::ComunitatValenciana => "ES-VC",
        }
    }

    /// Parses an ISO 3166-2 community code.
    pub fn from_iso_code(code: &str) -> Option<Community> {
        Community::ALL.into_iter().find(|c| c.iso_code() == code)
    }

    /// The community's name in Spanish, as the BOE lists it (shown to
    /// people; the wire form is [`Community::iso_code`]).
    pub fn name(self) -> &'static str {
        match self {
            Community::Andalucia => "Andalucía",
            Community::Aragon => "Aragón",
            Community::Asturias => "Principado de Asturias",
            Community::Baleares => "Illes Balears",
            Community::Canarias => "Canarias",
            Community::Cantabria => "Cantabria",
            Community::CastillaLaMancha => "Castilla-La Mancha",
            Community::CastillaYLeon => "Castilla y León",
            Community::Cataluna => "Cataluña",
            Community::Ceuta => "Ceuta",
            Community::Extremadura => "Extremadura",
            Community::Galicia => "Galicia",
            Community::LaRioja => "La Rioja",
            Community::Madrid => "Comunidad de Madrid",
            Community::Melilla => "Melilla",
            Community::Murcia => "Región de Murcia",
            Community::Navarra => "Comunidad Foral de Navarra",
            Community::PaisVasco => "País Vasco",
            Community::ComunitatValenciana => "Comunitat Valenciana",
        }
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.iso_code())
    }
}

/// Serialised as its ISO 3166-2 code (`"ES-AN"`).
impl Serialize for Community {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.iso_code())
    }
}

/// The community of each INE province code `01`–`52`, indexed by code − 1.
const PROVINCE_COMMUNITY: [Community; 52] = {
    use Community::*;
    [
        PaisVasco,           // 01 Araba/Álava
        CastillaLaMancha,    // 02 Albacete
        ComunitatValenciana, // 03 Alicante/Alacant
        Andalucia,           // 04 Almería
        CastillaYLeon,       // 05 Ávila
        Extremadura,         // 06 Badajoz
        Baleares,            // 07 Illes Balears
        Cataluna,            // 08 Barcelona
        CastillaYLeon,       // 09 Burgos
        Extremadura,         // 10 Cáceres
        Andalucia,           // 11 Cádiz
        ComunitatValenciana, // 12 Castellón/Castelló
        CastillaLaMancha,    // 13 Ciudad Real
        Andalucia,           // 14 Córdoba
        Galicia,             // 15 A Coruña
        CastillaLaMancha,    // 16 Cuenca
        Cataluna,            // 17 Girona
        Andalucia,           // 18 Granada
        CastillaLaMancha,    // 19 Guadalajara
        PaisVasco,           // 20 Gipuzkoa
        Andalucia,           // 21 Huelva
        Aragon,              // 22 Huesca
        Andalucia,           // 23 Jaén
        CastillaYLeon,       // 24 León
        Cataluna,            // 25 Lleida
        LaRioja,             // 26 La Rioja
        Galicia,             // 27 Lugo
        Madrid,              // 28 Madrid
        Andalucia,           // 29 Málaga
        Murcia,              // 30 Murcia
        Navarra,             // 31 Navarra
        Galicia,             // 32 Ourense
        Asturias,            // 33 Asturias
        CastillaYLeon,       // 34 Palencia
        Canarias,            // 35 Las Palmas
        Galicia,             // 36 Pontevedra
        CastillaYLeon,       // 37 Salamanca
        Canarias,            // 38 Santa Cruz de Tenerife
        Cantabria,           // 39 Cantabria
        CastillaYLeon,       // 40 Segovia
        Andalucia,           // 41 Sevilla
        CastillaYLeon,       // 42 Soria
        Cataluna,            // 43 Tarragona
        Aragon,              // 44 Teruel
        CastillaLaMancha,    // 45 Toledo
        ComunitatValenciana, // 46 Valencia/València
        CastillaYLeon,       // 47 Valladolid
        PaisVasco,           // 48 Bizkaia
        CastillaYLeon,       // 49 Zamora
        Aragon,              // 50 Zaragoza
        Ceuta,               // 51 Ceuta
        Melilla,             // 52 Melilla
    ]
};

/// A two-digit INE province code `01`–`52`: the autorizado's province, or a
/// dirección provincial (office) (DOMAIN.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProvinceCode(u8);

/// Offices are named by their province code (DOMAIN.md §1).
pub type OfficeCode = ProvinceCode;

impl ProvinceCode {
    /// Parses exactly two digits `01`–`52`.
    ///
    /// # Errors
    ///
    /// [`ParseIdError`] for anything else (`"1"`, `"00"`, `"53"`, `"028"`).
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let b = s.as_bytes();
        let err = || ParseIdError {
            what: "province code",
            input: s.to_owned(),
        };
        if b.len() != 2 || !b.iter().all(u8::is_ascii_digit) {
            return Err(err());
        }
        let n = (b[0] - b'0') * 10 + (b[1] - b'0');
        if (1..=52).contains(&n) {
            Ok(ProvinceCode(n))
        } else {
            Err(err())
        }
    }

    /// The code as a number, 1–52.
    pub fn number(self) -> u8 {
        self.0
    }

    /// The autonomous community the province belongs to.
    pub fn community(self) -> Community {
        PROVINCE_COMMUNITY[usize::from(self.0 - 1)]
    }

    /// The two-digit code.
    pub fn code(self) -> String {
        format!("{:02}", self.0)
    }
}

impl fmt::Display for ProvinceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl FromStr for ProvinceCode {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for ProvinceCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProvinceCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A case number `YYYY-NNNNNNNN`: the Madrid year of submission and the
/// per-year sequence starting at 1 (DOMAIN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseNumber {
    year: u16,
    sequence: u32,
}

impl CaseNumber {
    /// The largest sequence the 8-digit format can show.
    pub const MAX_SEQUENCE: u32 = 99_999_999;

    /// Builds a number; `None` when out of the format's range.
    pub fn new(year: i32, sequence: u32) -> Option<CaseNumber> {
        let year = u16::try_from(year)
            .ok()
            .filter(|y| (1000..=9999).contains(y))?;
        (1..=Self::MAX_SEQUENCE)
            .contains(&sequence)
            .then_some(CaseNumber { year, sequence })
    }

    /// Parses `YYYY-NNNNNNNN` exactly.
    ///
    /// # Errors
    ///
    /// [`ParseIdError`] when the shape is not four digits, `-`, eight
    /// digits, the year is below 1000 or the sequence is 0.
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let err = || ParseIdError {
            what: "case number",
            input: s.to_owned(),
        };
        let b = s.as_bytes();
        if b.len() != 13 || b[4] != b'-' {
            return Err(err());
        }
        let digits = |r: &[u8]| -> Option<u32> {
            r.iter().try_fold(0u32, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let year = digits(&b[..4]).ok_or_else(err)?;
        let seq = digits(&b[5..]).ok_or_else(err)?;
        CaseNumber::new(year as i32, seq).ok_or_else(err)
    }

    /// The year of submission (Europe/Madrid), four digits.
    pub fn year(self) -> i32 {
        i32::from(self.year)
    }

    /// The per-year sequence, 1–99 999 999.
    pub fn sequence(self) -> u32 {
        self.sequence
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:08}", self.year, self.sequence)
    }
}

impl FromStr for CaseNumber {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for CaseNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaseNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn opaque_ids_accept_the_documented_alphabet_only() {
        assert!(UserId::parse("u1").is_ok());
        assert!(UserId::parse("A.b_c-9").is_ok());
        assert!(UserId::parse(&"x".repeat(64)).is_ok());
        assert!(UserId::parse(&"x".repeat(65)).is_err());
        assert!(UserId::parse("").is_err());
        assert!(ProcessorId::parse("bad id!").is_err());
        assert!(AuthorizationId::parse("ñ").is_err());
    }

    #[test]
    fn province_codes_are_two_digits_01_to_52() {
        assert_eq!(ProvinceCode::parse("01").map(|p| p.number()), Ok(1));
        assert_eq!(ProvinceCode::parse("52").map(|p| p.number()), Ok(52));
        for bad in ["00", "53", "99", "1", "028", "2a", "", "٢٨"] {
            assert!(ProvinceCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn provinces_map_to_their_community() {
        let p = |s| ProvinceCode::parse(s).map(|p| p.community().iso_code());
        assert_eq!(p("28"), Ok("ES-MD"));
        assert_eq!(p("08"), Ok("ES-CT"));
        assert_eq!(p("17"), Ok("ES-CT"));
        assert_eq!(p("46"), Ok("ES-VC"));
        assert_eq!(p("48"), Ok("ES-PV"));
        assert_eq!(p("35"), Ok("ES-CN"));
        assert_eq!(p("51"), Ok("ES-CE"));
        assert_eq!(p("52"), Ok("ES-ML"));
        assert_eq!(p("31"), Ok("ES-NC"));
        assert_eq!(p("07"), Ok("ES-IB"));
    }

    #[test]
    fn every_community_is_reached_and_codes_round_trip() {
        for c in Community::ALL {
            assert_eq!(Community::from_iso_code(c.iso_code()), Some(c));
            assert!(PROVINCE_COMMUNITY.contains(&c), "{c:?} has no province");
        }
    }

    #[test]
    fn case_numbers_parse_and_print_exactly() {
        let n = CaseNumber::parse("2026-00000001").expect("valid");
        assert_eq!((n.year(), n.sequence()), (2026, 1));
        assert_eq!(n.to_string(), "2026-00000001");
        for bad in [
            "2026-0000001",
            "2026-00000000",
            "2026_00000001",
            "20260-0000001",
            "abcd-00000001",
            "2026-0000000a",
        ] {
            assert!(CaseNumber::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn case_numbers_round_trip(year in 1000i32..=9999, seq in 1u32..=CaseNumber::MAX_SEQUENCE) {
            let n = CaseNumber::new(year, seq).expect("in range");
            prop_assert_eq!(CaseNumber::parse(&n.to_string()), Ok(n));
        }

        #[test]
        fn case_number_order_is_year_then_sequence(a in (2000i32..2100, 1u32..1000), b in (2000i32..2100, 1u32..1000)) {
            let (na, nb) = (CaseNumber::new(a.0, a.1).expect("ok"), CaseNumber::new(b.0, b.1).expect("ok"));
            prop_assert_eq!(na.cmp(&nb), a.cmp(&b));
        }

        #[test]
        fn parsers_never_panic(s in ".*") {
            let _ = CaseNumber::parse(&s);
            let _ = ProvinceCode::parse(&s);
            let _ = UserId::parse(&s);
        }
    }
}
