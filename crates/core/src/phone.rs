//! Phone numbers of mainland China: mobile (11 digits, `1[3-9]…`) and
//! landline (area code `0…` of 3 or 4 digits, then 7 or 8 digits).

use std::fmt;

use crate::i18n::{Lang, Localized};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("a phone number may contain digits, spaces, hyphens and a leading +86 only")]
    BadCharacter,
    #[error(
        "not a mainland mobile (11 digits starting 13–19) or landline (area code starting 0, then 7–8 digits) number"
    )]
    BadShape,
}

impl Localized for PhoneError {
    fn localized(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, e) => e.to_string(),
            (Lang::Zh, PhoneError::BadCharacter) => {
                "电话号码只能包含数字、空格、连字符和开头的 +86".to_owned()
            }
            (Lang::Zh, PhoneError::BadShape) => {
                "不是有效的手机号（13–19 开头的 11 位数字）或固定电话（0 开头的区号加 7–8 位号码）"
                    .to_owned()
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneKind {
    Mobile,
    Landline { area_len: usize },
}

/// A valid phone number, kept as digits only. `Debug` and `Display` mask it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    digits: String,
    kind: PhoneKind,
}

/// Area codes of 3 digits: Beijing 010 and the 02x cities; all others have 4.
fn area_len(digits: &str) -> usize {
    if digits.starts_with("010") || digits.starts_with("02") {
        3
    } else {
        4
    }
}

impl Phone {
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        let rest = trimmed
            .strip_prefix("+86")
            .or_else(|| trimmed.strip_prefix("0086"))
            .unwrap_or(trimmed);
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' => {}
                _ => return Err(PhoneError::BadCharacter),
            }
        }
        let b = digits.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            return Ok(Self {
                digits,
                kind: PhoneKind::Mobile,
            });
        }
        if b.first() == Some(&b'0') && b.get(1).is_some_and(|&d| d != b'0') {
            let area = area_len(&digits);
            let local = b.len().saturating_sub(area);
            if (7..=8).contains(&local) && b[area] != b'0' {
                return Ok(Self {
                    kind: PhoneKind::Landline { area_len: area },
                    digits,
                });
            }
        }
        Err(PhoneError::BadShape)
    }

    pub fn kind(&self) -> PhoneKind {
        self.kind
    }

    /// The full number, for storage (encrypted) or an audited reveal.
    pub fn expose(&self) -> &str {
        &self.digits
    }

    /// `138****1234`; landlines `0551-****5678`.
    pub fn masked(&self) -> String {
        let d = &self.digits;
        match self.kind {
            PhoneKind::Mobile => format!("{}****{}", &d[..3], &d[7..]),
            PhoneKind::Landline { area_len } => {
                format!("{}-****{}", &d[..area_len], &d[d.len() - 4..])
            }
        }
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_are_normalized_and_masked() {
        for input in [
            "13812341234",
            "+86 138 1234 1234",
            "138-1234-1234",
            "0086 13812341234",
        ] {
            let p = Phone::parse(input).unwrap();
            assert_eq!(p.expose(), "13812341234", "{input}");
            assert_eq!(p.masked(), "138****1234");
            assert_eq!(p.kind(), PhoneKind::Mobile);
        }
        assert_eq!(
            format!("{:?}", Phone::parse("13812341234").unwrap()),
            "Phone(138****1234)"
        );
    }

    #[test]
    fn landlines_keep_their_area_code() {
        let p = Phone::parse("0551-6512 3456").unwrap();
        assert_eq!(p.kind(), PhoneKind::Landline { area_len: 4 });
        assert_eq!(p.masked(), "0551-****3456");
        let bj = Phone::parse("(010) 8888 1234").unwrap();
        assert_eq!(bj.masked(), "010-****1234");
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert_eq!(Phone::parse("1381234123"), Err(PhoneError::BadShape));
        assert_eq!(Phone::parse("12812341234"), Err(PhoneError::BadShape));
        assert_eq!(Phone::parse("138 1234 123a"), Err(PhoneError::BadCharacter));
        assert_eq!(Phone::parse("0551-0123456"), Err(PhoneError::BadShape));
        assert_eq!(Phone::parse(""), Err(PhoneError::BadShape));
    }
}
