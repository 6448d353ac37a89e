//! Administrative codes of the org hierarchy.
//!
//! The codes nest by prefix, as in the national statistical division codes
//! (统计用区划代码) and the grid standard (CJ/T 349):
//!
//! | level            | digits | made of                                   |
//! |------------------|--------|-------------------------------------------|
//! | district (区县)   | 6      | province 2 + prefecture 2 + county 2      |
//! | street (街道)     | 9      | district 6 + street 3                     |
//! | community (社区)  | 12     | street 9 + community 3                    |
//! | grid (网格)       | 14     | community 12 + sequence 2 (01–99)         |
//!
//! A grid may also carry a 20-digit external code (CJ/T 349 style), stored
//! as given after a digit check.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a code was refused. Every variant names what a person must fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("{kind} code must be {expected} digits, got {actual} characters")]
    WrongLength {
        kind: CodeKind,
        expected: usize,
        actual: usize,
    },
    #[error("{kind} code may contain digits only")]
    NotDigits { kind: CodeKind },
    #[error("{kind} code starts with {prefix}, which is no province")]
    UnknownProvince { kind: CodeKind, prefix: String },
    #[error("{kind} code has {part} part {value}, which must not be all zeros")]
    ZeroPart {
        kind: CodeKind,
        part: &'static str,
        value: String,
    },
}

/// The level a code belongs to, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    District,
    Street,
    Community,
    Grid,
    ExternalGrid,
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodeKind::District => "district",
            CodeKind::Street => "street",
            CodeKind::Community => "community",
            CodeKind::Grid => "grid",
            CodeKind::ExternalGrid => "external grid",
        })
    }
}

/// Province-level prefixes of GB/T 2260.
const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// A code as typed, without spaces and in upper case (`x` → `X`).
pub(crate) fn compact_upper(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn check_digits(kind: CodeKind, s: &str, expected: usize) -> Result<(), CodeError> {
    let actual = s.chars().count();
    if actual != expected {
        return Err(CodeError::WrongLength {
            kind,
            expected,
            actual,
        });
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::NotDigits { kind });
    }
    Ok(())
}

fn nonzero(kind: CodeKind, part: &'static str, value: &str) -> Result<(), CodeError> {
    if value.bytes().all(|b| b == b'0') {
        return Err(CodeError::ZeroPart {
            kind,
            part,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// Checks the 6-digit district prefix shared by every level.
fn check_district_part(kind: CodeKind, s: &str) -> Result<(), CodeError> {
    let province = &s[0..2];
    if !PROVINCES.contains(&province) {
        return Err(CodeError::UnknownProvince {
            kind,
            prefix: province.to_owned(),
        });
    }
    nonzero(kind, "prefecture", &s[2..4])?;
    nonzero(kind, "county", &s[4..6])
}

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $len:expr, |$s:ident| $check:block) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const LEN: usize = $len;

            /// Parses and validates a code; surrounding whitespace is ignored.
            pub fn parse(input: &str) -> Result<Self, CodeError> {
                let $s = input.trim();
                check_digits($kind, $s, $len)?;
                $check
                Ok(Self($s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CodeError;
            fn try_from(s: String) -> Result<Self, CodeError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, CodeError> {
                Self::parse(s)
            }
        }
    };
}

code_type!(
    /// 6-digit county-level code (区县), e.g. `340104`.
    DistrictCode, CodeKind::District, 6, |s| {
        check_district_part(CodeKind::District, s)?;
    }
);

code_type!(
    /// 9-digit street code (街道 / 乡镇): district code + 3 digits.
    StreetCode, CodeKind::Street, 9, |s| {
        check_district_part(CodeKind::Street, s)?;
        nonzero(CodeKind::Street, "street", &s[6..9])?;
    }
);

code_type!(
    /// 12-digit community code (社区 / 村): street code + 3 digits.
    CommunityCode, CodeKind::Community, 12, |s| {
        check_district_part(CodeKind::Community, s)?;
        nonzero(CodeKind::Community, "street", &s[6..9])?;
        nonzero(CodeKind::Community, "community", &s[9..12])?;
    }
);

code_type!(
    /// 14-digit grid code: community code + 2-digit sequence (01–99).
    GridCode, CodeKind::Grid, 14, |s| {
        check_district_part(CodeKind::Grid, s)?;
        nonzero(CodeKind::Grid, "street", &s[6..9])?;
        nonzero(CodeKind::Grid, "community", &s[9..12])?;
        nonzero(CodeKind::Grid, "sequence", &s[12..14])?;
    }
);

code_type!(
    /// 20-digit external grid code (CJ/T 349 style), kept alongside our own.
    ExternalGridCode, CodeKind::ExternalGrid, 20, |_s| {}
);

impl StreetCode {
    pub fn district(&self) -> DistrictCode {
        DistrictCode(self.0[..6].to_owned())
    }
}

impl CommunityCode {
    pub fn street(&self) -> StreetCode {
        StreetCode(self.0[..9].to_owned())
    }

    /// The code of this community's grid number `sequence` (1–99).
    pub fn grid(&self, sequence: u8) -> Result<GridCode, CodeError> {
        GridCode::parse(&format!("{}{:02}", self.0, sequence))
    }
}

impl GridCode {
    pub fn community(&self) -> CommunityCode {
        CommunityCode(self.0[..12].to_owned())
    }

    /// The grid's number within its community (1–99).
    pub fn sequence(&self) -> u8 {
        // Validated as two digits, not both zero, at parse time.
        self.0.as_bytes()[12..14]
            .iter()
            .fold(0u8, |acc, b| acc * 10 + (b - b'0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes_parse_and_nest() {
        let grid = GridCode::parse("34010400100203").unwrap();
        assert_eq!(grid.community().as_str(), "340104001002");
        assert_eq!(grid.community().street().as_str(), "340104001");
        assert_eq!(grid.community().street().district().as_str(), "340104");
        assert_eq!(grid.sequence(), 3);
        assert_eq!(
            CommunityCode::parse(" 110101001001 ").unwrap().as_str(),
            "110101001001"
        );
        assert_eq!(
            CommunityCode::parse("340104001002")
                .unwrap()
                .grid(12)
                .unwrap()
                .as_str(),
            "34010400100212"
        );
        ExternalGridCode::parse("34010400100203000001").unwrap();
    }

    #[test]
    fn wrong_length_is_refused_with_both_lengths() {
        assert_eq!(
            CommunityCode::parse("34010400100"),
            Err(CodeError::WrongLength {
                kind: CodeKind::Community,
                expected: 12,
                actual: 11
            })
        );
        assert!(matches!(
            GridCode::parse("340104001002031"),
            Err(CodeError::WrongLength { actual: 15, .. })
        ));
        // Counted in characters, so a full-width digit is not two bytes of length.
        assert!(matches!(
            CommunityCode::parse("34010400100２"),
            Err(CodeError::NotDigits { .. })
        ));
    }

    #[test]
    fn non_digits_are_refused() {
        assert_eq!(
            CommunityCode::parse("34010400100A"),
            Err(CodeError::NotDigits {
                kind: CodeKind::Community
            })
        );
        assert!(GridCode::parse("3401040010020-").is_err());
    }

    #[test]
    fn unknown_province_is_refused() {
        assert!(matches!(
            CommunityCode::parse("990104001002"),
            Err(CodeError::UnknownProvince { .. })
        ));
        assert!(matches!(
            DistrictCode::parse("000000"),
            Err(CodeError::UnknownProvince { .. })
        ));
    }

    #[test]
    fn all_zero_parts_are_refused() {
        for (code, part) in [
            ("340004001002", "prefecture"),
            ("340100001002", "county"),
            ("340104000002", "street"),
            ("340104001000", "community"),
        ] {
            match CommunityCode::parse(code) {
                Err(CodeError::ZeroPart { part: p, .. }) => assert_eq!(p, part, "{code}"),
                other => panic!("{code}: expected ZeroPart({part}), got {other:?}"),
            }
        }
        assert!(matches!(
            GridCode::parse("34010400100200"),
            Err(CodeError::ZeroPart {
                part: "sequence",
                ..
            })
        ));
        assert!(
            CommunityCode::parse("340104001002")
                .unwrap()
                .grid(0)
                .is_err()
        );
    }

    #[test]
    fn serde_validates() {
        let ok: GridCode = serde_json::from_str("\"34010400100201\"").unwrap();
        assert_eq!(ok.sequence(), 1);
        assert!(serde_json::from_str::<GridCode>("\"3401040010020\"").is_err());
    }
}
