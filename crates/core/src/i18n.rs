//! Languages of the user interface and localized domain messages.
//!
//! Simplified Chinese is the default; English is the second language.

use serde::{Deserialize, Serialize};

use crate::codes::{CodeError, CodeKind};
use crate::geo::PointError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// The BCP 47 tag used in `lang` attributes and cookies.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses a single tag such as `zh`, `zh-CN`, `zh-Hans`, `en-US`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the preferred supported language of an `Accept-Language`
    /// header, honouring q-values; Chinese when none is supported.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

/// A message a person reads, in their language.
pub trait Localized {
    fn localized(&self, lang: Lang) -> String;
}

impl Localized for CodeKind {
    fn localized(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::Zh => match self {
                CodeKind::District => "区县",
                CodeKind::Street => "街道",
                CodeKind::Community => "社区",
                CodeKind::Grid => "网格",
                CodeKind::ExternalGrid => "外部网格",
            }
            .to_owned(),
        }
    }
}

impl Localized for CodeError {
    fn localized(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            CodeError::WrongLength {
                kind,
                expected,
                actual,
            } => format!(
                "{}编码应为 {expected} 位数字，实际为 {actual} 个字符",
                kind.localized(lang)
            ),
            CodeError::NotDigits { kind } => format!("{}编码只能包含数字", kind.localized(lang)),
            CodeError::UnknownProvince { kind, prefix } => format!(
                "{}编码以 {prefix} 开头，不是有效的省级代码",
                kind.localized(lang)
            ),
            CodeError::ZeroPart { kind, part, value } => {
                let part = match *part {
                    "prefecture" => "地市",
                    "county" => "区县",
                    "street" => "街道",
                    "community" => "社区",
                    "sequence" => "网格序号",
                    other => other,
                };
                format!(
                    "{}编码中的{part}部分为 {value}，不能全为 0",
                    kind.localized(lang)
                )
            }
        }
    }
}

impl Localized for PointError {
    fn localized(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, e) => e.to_string(),
            (Lang::Zh, PointError::NotFinite) => "坐标必须是有限的数字".to_owned(),
            (Lang::Zh, PointError::LatitudeOutOfRange(v)) => {
                format!("纬度 {v} 超出范围（−90 至 90）")
            }
            (Lang::Zh, PointError::LongitudeOutOfRange(v)) => {
                format!("经度 {v} 超出范围（−180 至 180）")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_highest_q() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("fr-FR, en;q=0.5, zh-CN;q=0.8"),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language("zh-Hans-CN"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("de, fr"), Lang::Zh);
        assert_eq!(Lang::from_accept_language(""), Lang::Zh);
        assert_eq!(Lang::from_accept_language("en;q=0"), Lang::Zh);
    }

    #[test]
    fn code_errors_read_in_chinese() {
        let e = crate::codes::CommunityCode::parse("12345").unwrap_err();
        assert_eq!(
            e.localized(Lang::Zh),
            "社区编码应为 12 位数字，实际为 5 个字符"
        );
        assert!(e.localized(Lang::En).contains("12 digits"));
    }
}
