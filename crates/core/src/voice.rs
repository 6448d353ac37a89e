//! Residents' opinions (社情民意) and the notices passed on to them (宣传).

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::register::text_enum;

text_enum!(
    /// What an opinion is about.
    Topic {
        Environment = "environment" / "环境卫生" / "environment and sanitation",
        Safety = "safety" / "治安安全" / "public safety",
        Property = "property" / "物业管理" / "property management",
        Traffic = "traffic" / "交通出行" / "traffic and parking",
        ElderlyCare = "elderly_care" / "养老服务" / "elderly care",
        Education = "education" / "教育" / "education",
        Health = "health" / "医疗卫生" / "health",
        Policy = "policy" / "政策咨询" / "policy questions",
        Other = "other" / "其他" / "other",
    }
);

text_enum!(
    /// Where an opinion stands.
    OpinionStatus {
        Open = "open" / "待答复" / "awaiting an answer",
        Answered = "answered" / "已答复" / "answered",
        Converted = "converted" / "已转为事件" / "turned into a case",
    }
);

text_enum!(
    /// Who a notice goes to.
    NoticeLevel {
        Grid = "grid" / "网格" / "grid",
        Community = "community" / "社区" / "community",
        Street = "street" / "街道" / "street",
    }
);

text_enum!(
    /// How a worker passed a notice on.
    RelayMode {
        DoorToDoor = "door_to_door" / "入户宣传" / "door to door",
        GroupChat = "group_chat" / "微信群" / "group chat",
        Phone = "phone" / "电话" / "phone",
        Poster = "poster" / "张贴" / "poster",
        Meeting = "meeting" / "居民会议" / "residents' meeting",
    }
);

/// An opinion's text: 2–1,000 characters once trimmed.
pub fn check_text(text: &str, max: usize) -> Result<String, String> {
    let t = text.trim();
    let n = t.chars().count();
    if n < 2 {
        return Err("请填写内容".into());
    }
    if n > max {
        return Err(format!("内容不能超过 {max} 字"));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(check_text("  楼道灯坏了  ", 10), Ok("楼道灯坏了".into()));
        assert!(check_text(" 。", 10).is_err());
        assert!(check_text(&"字".repeat(11), 10).is_err());
        assert_eq!(Topic::parse("traffic"), Some(Topic::Traffic));
        assert_eq!(NoticeLevel::Grid.label(Lang::Zh), "网格");
    }
}
