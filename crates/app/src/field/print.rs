//! Paper for field work: QR card sheets and referral forms (A4 PDFs).

use wangge_core::Lang;
use wangge_core::calendar::CHINA;
use wangge_core::org::Id;
use wangge_core::policy::Actor;
use wangge_core::register::mask_name;
use wangge_print::{Card, Form};

use crate::{App, AppError};

fn printed(r: Result<Vec<u8>, wangge_print::PrintError>) -> Result<Vec<u8>, AppError> {
    r.map_err(|e| AppError::Internal(e.to_string()))
}

impl App {
    /// Issues QR cards (see [`App::issue_qr_cards`]) and prints them on A4
    /// sheets: masked name, building and unit, the QR code. No ID or phone
    /// number is printed.
    pub async fn qr_sheet(
        &self,
        actor: &Actor,
        campaign_id: Id,
        min_age: Option<i16>,
        without_phone: bool,
        origin: &str,
    ) -> Result<Vec<u8>, AppError> {
        let campaign = self.campaign(actor, campaign_id).await?.campaign;
        let cards = self
            .issue_qr_cards(actor, campaign_id, min_age, without_phone, origin)
            .await?;
        let cards: Vec<Card> = cards
            .into_iter()
            .map(|c| Card {
                title: campaign.name.clone(),
                name: c.name_masked,
                place: c.place,
                hint:
                    "请携带此卡到现场，由工作人员扫码签到。卡片丢失请联系网格员补办（旧卡作废）。"
                        .into(),
                qr_payload: c.url,
            })
            .collect();
        printed(wangge_print::qr_sheet(&cards))
    }

    /// The printable recommendation form of a referral.
    pub async fn referral_pdf(&self, actor: &Actor, id: Id) -> Result<Vec<u8>, AppError> {
        let detail = self.referral(actor, id).await?;
        let r = &detail.referral;
        let grid = self
            .list_grids(None)
            .await?
            .into_iter()
            .find(|g| g.grid.id == r.grid_id);
        let subtitle = grid
            .map(|g| format!("{} · {} · 编号 {}", g.community_name, g.grid.name, r.id))
            .unwrap_or_else(|| format!("编号 {}", r.id));
        let mut rows = vec![
            (
                "帮扶项目".to_owned(),
                r.programme.label(Lang::Zh).to_owned(),
            ),
            (
                "需求类别".to_owned(),
                r.need_kind.label(Lang::Zh).to_owned(),
            ),
            ("住址".to_owned(), r.address.clone()),
            (
                "帮扶对象".to_owned(),
                r.resident_name
                    .as_deref()
                    .map(mask_name)
                    .unwrap_or_else(|| "全户".into()),
            ),
            ("情况说明".to_owned(), r.detail.clone()),
            ("推荐人".to_owned(), r.created_by_name.clone()),
            (
                "推荐日期".to_owned(),
                CHINA.to_datetime(r.created_at).date().to_string(),
            ),
            ("当前状态".to_owned(), r.status.label(Lang::Zh).to_owned()),
        ];
        for e in &detail.events {
            rows.push((
                "办理记录".to_owned(),
                format!(
                    "{} {}：{}{}",
                    CHINA.to_datetime(e.at).date(),
                    e.user_name,
                    e.status.label(Lang::Zh),
                    if e.note.is_empty() {
                        String::new()
                    } else {
                        format!("（{}）", e.note)
                    }
                ),
            ));
        }
        printed(wangge_print::form(&Form {
            title: format!("{}推荐表", r.programme.label(Lang::Zh)),
            subtitle,
            rows,
            signatures: vec![
                "推荐人（网格员）".into(),
                "社区审核意见".into(),
                "街道（主管部门）意见".into(),
            ],
            footer: "本表由 wangge 网格化治理平台生成；帮扶对象的身份证号、电话等信息请向社区核实，不在表上打印。"
                .into(),
        }))
    }
}
