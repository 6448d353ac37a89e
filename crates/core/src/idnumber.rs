//! Citizen ID numbers (居民身份证号码, GB 11643-1999).
//!
//! 18 characters: a 6-digit address code, the birth date `YYYYMMDD`, a
//! 3-digit sequence (odd for men, even for women) and a check character
//! computed with ISO 7064 MOD 11-2 (`0`–`9` or `X`).

use std::fmt;

use jiff::civil::Date;

use crate::codes::DistrictCode;
use crate::i18n::{Lang, Localized};

/// Weights of ISO 7064 MOD 11-2 for the first 17 characters: 2^(17-i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters, got {0}")]
    WrongLength(usize),
    #[error("an ID number is 17 digits followed by a digit or X")]
    BadCharacter,
    #[error("the ID number's address code {0} is not a valid region code")]
    BadRegion(String),
    #[error("the ID number's birth date {0} is not a date")]
    BadBirthDate(String),
    #[error("the ID number's check character is wrong: a character was mistyped")]
    BadCheck,
}

impl Localized for IdNumberError {
    fn localized(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, e) => e.to_string(),
            (Lang::Zh, IdNumberError::WrongLength(n)) => {
                format!("身份证号码应为 18 位，实际为 {n} 位")
            }
            (Lang::Zh, IdNumberError::BadCharacter) => {
                "身份证号码应为 17 位数字加 1 位数字或 X".to_owned()
            }
            (Lang::Zh, IdNumberError::BadRegion(code)) => {
                format!("身份证号码的地址码 {code} 不是有效的行政区划代码")
            }
            (Lang::Zh, IdNumberError::BadBirthDate(d)) => {
                format!("身份证号码中的出生日期 {d} 不是有效日期")
            }
            (Lang::Zh, IdNumberError::BadCheck) => {
                "身份证号码校验位不正确，可能有数字输错".to_owned()
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

/// A valid 18-character ID number. Its `Debug` and `Display` show the
/// masked form; the full value is only reachable through [`IdNumber::expose`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// The check character of the first 17 digits.
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

impl IdNumber {
    /// Parses an ID number; spaces are ignored and a lowercase `x` accepted.
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let s = crate::codes::compact_upper(input);
        let n = s.chars().count();
        if n != 18 {
            return Err(IdNumberError::WrongLength(n));
        }
        let b = s.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdNumberError::BadCharacter);
        }
        DistrictCode::parse(&s[..6]).map_err(|_| IdNumberError::BadRegion(s[..6].to_owned()))?;
        birth_date(&s[6..14]).ok_or_else(|| IdNumberError::BadBirthDate(s[6..14].to_owned()))?;
        if check_char(&b[..17]) != b[17] {
            return Err(IdNumberError::BadCheck);
        }
        Ok(Self(s))
    }

    /// The full number. Call only where the full value is needed and allowed
    /// (encryption, an audited reveal).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        // Checked at parse time.
        birth_date(&self.0[6..14]).unwrap_or(Date::MIN)
    }

    pub fn gender(&self) -> Gender {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// Age in whole years on `on`.
    pub fn age_on(&self, on: Date) -> i16 {
        crate::register::age_on(self.birth_date(), on)
    }

    /// First 3 and last 4 characters; the birth date never shows.
    pub fn masked(&self) -> String {
        format!("{}***********{}", &self.0[..3], &self.0[14..])
    }
}

fn birth_date(yyyymmdd: &str) -> Option<Date> {
    let year: i16 = yyyymmdd.get(0..4)?.parse().ok()?;
    let month: i8 = yyyymmdd.get(4..6)?.parse().ok()?;
    let day: i8 = yyyymmdd.get(6..8)?.parse().ok()?;
    if year < 1900 {
        return None;
    }
    Date::new(year, month, day).ok()
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic number with a correct check character.
    fn make(first17: &str) -> String {
        let c = check_char(first17.as_bytes()) as char;
        format!("{first17}{c}")
    }

    #[test]
    fn the_standard_example_checks() {
        // The worked example of GB 11643-1999, appendix A.
        assert_eq!(check_char(b"11010519491231002"), b'X');
        let id = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
        assert_eq!(id.birth_date(), jiff::civil::date(1949, 12, 31));
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.masked(), "110***********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110***********002X)");
        assert_eq!(id.to_string(), "110***********002X");
    }

    #[test]
    fn age_counts_birthdays() {
        let id = IdNumber::parse(&make("34017119600315001")).unwrap();
        assert_eq!(id.gender(), Gender::Male);
        assert_eq!(id.age_on(jiff::civil::date(2026, 3, 14)), 65);
        assert_eq!(id.age_on(jiff::civil::date(2026, 3, 15)), 66);
    }

    #[test]
    fn each_kind_of_error_is_named() {
        assert_eq!(IdNumber::parse("1234"), Err(IdNumberError::WrongLength(4)));
        assert_eq!(
            IdNumber::parse("11010519491231002Y"),
            Err(IdNumberError::BadCharacter)
        );
        assert_eq!(
            IdNumber::parse(&make("99010519491231002")),
            Err(IdNumberError::BadRegion("990105".into()))
        );
        assert_eq!(
            IdNumber::parse(&make("11010519490230002")),
            Err(IdNumberError::BadBirthDate("19490230".into()))
        );
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::BadCheck)
        );
        assert_eq!(
            IdNumberError::BadCheck.localized(Lang::Zh),
            "身份证号码校验位不正确，可能有数字输错"
        );
    }
}
