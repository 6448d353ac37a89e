//! Unified social credit codes (统一社会信用代码, GB 32100-2015).
//!
//! 18 characters over the 31-character set `0-9 A-H J-N P-R T U W-Y` (no
//! I, O, S, V, Z): registration authority (1), organization type (1),
//! region code (6 digits), organization code (9), check character (1),
//! computed modulo 31 with weights 3^i mod 31.
//!
//! Only the standard's own check character is enforced; the embedded
//! organization code's GB 11714 check is not, since some registrations
//! (individual businesses) are issued without it.

use std::fmt;

use crate::i18n::{Lang, Localized};

const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a unified social credit code has 18 characters, got {0}")]
    WrongLength(usize),
    #[error(
        "character {position} ({found:?}) may not appear in a credit code (no I, O, S, V or Z)"
    )]
    BadCharacter { position: usize, found: char },
    #[error("characters 3 to 8 of a credit code are the region code and must be digits")]
    BadRegion,
    #[error("the credit code's check character is wrong: a character was mistyped")]
    BadCheck,
}

impl Localized for CreditCodeError {
    fn localized(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, e) => e.to_string(),
            (Lang::Zh, CreditCodeError::WrongLength(n)) => {
                format!("统一社会信用代码应为 18 位，实际为 {n} 位")
            }
            (Lang::Zh, CreditCodeError::BadCharacter { position, found }) => format!(
                "统一社会信用代码第 {position} 位的字符“{found}”无效（不使用 I、O、S、V、Z）"
            ),
            (Lang::Zh, CreditCodeError::BadRegion) => {
                "统一社会信用代码第 3 至 8 位为行政区划码，只能是数字".to_owned()
            }
            (Lang::Zh, CreditCodeError::BadCheck) => {
                "统一社会信用代码校验位不正确，可能有字符输错".to_owned()
            }
        }
    }
}

fn value(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The check character of the first 17 characters (all from the charset).
pub fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (&c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(c)? * w;
    }
    Some(CHARSET[((31 - sum % 31) % 31) as usize])
}

/// A valid unified social credit code (public information, not masked).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct CreditCode(String);

impl CreditCode {
    /// Parses a code; spaces are ignored and lowercase letters accepted.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let s = crate::codes::compact_upper(input);
        let n = s.chars().count();
        if n != 18 {
            return Err(CreditCodeError::WrongLength(n));
        }
        for (i, c) in s.chars().enumerate() {
            if !c.is_ascii() || value(c as u8).is_none() {
                return Err(CreditCodeError::BadCharacter {
                    position: i + 1,
                    found: c,
                });
            }
        }
        let b = s.as_bytes();
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(CreditCodeError::BadRegion);
        }
        if check_char(&b[..17]) != Some(b[17]) {
            return Err(CreditCodeError::BadCheck);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_sample_checks() {
        // The sample code printed in the standard's explanatory material.
        assert_eq!(check_char(b"91350100M000100Y4"), Some(b'3'));
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
    }

    #[test]
    fn a_code_with_its_check_character_parses() {
        let first17 = b"91340171MA2N0K3L1";
        let c = check_char(first17).unwrap() as char;
        let code = format!("{}{c}", std::str::from_utf8(first17).unwrap());
        assert_eq!(
            CreditCode::parse(&code.to_lowercase()).unwrap().as_str(),
            code
        );
    }

    #[test]
    fn errors_are_named() {
        assert_eq!(
            CreditCode::parse("9134"),
            Err(CreditCodeError::WrongLength(4))
        );
        assert_eq!(
            CreditCode::parse("91340171MA2N0K3LIX"),
            Err(CreditCodeError::BadCharacter {
                position: 17,
                found: 'I'
            })
        );
        assert_eq!(
            CreditCode::parse("9134A171MA2N0K3L1X"),
            Err(CreditCodeError::BadRegion)
        );
        let first17 = b"91340171MA2N0K3L1";
        let good = check_char(first17).unwrap();
        let wrong = if good == b'0' { '1' } else { '0' };
        assert_eq!(
            CreditCode::parse(&format!("91340171MA2N0K3L1{wrong}")),
            Err(CreditCodeError::BadCheck)
        );
    }
}
