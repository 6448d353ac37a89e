//! The demo's cases: a few hundred over the past four months, in every
//! state, each moved through the real workflow rules with timestamps spread
//! over working hours, so lists, traffic lights and timelines look alive.

use jiff::SignedDuration;
use serde_json::json;
use wangge_core::calendar::CHINA;
use wangge_core::policy::Role;
use wangge_core::workflow::{self, Action, CaseFacts, CaseState, Level, Standing};
use wangge_geo::synthetic::mix;
use wangge_store::{AuditEntry, CaseEvent, Effects, NewCase};

use crate::App;
use crate::cases::{ActForm, record_action};
use crate::error::AppError;

/// Category code, description, weight.
const KINDS: &[(&str, &str, u64)] = &[
    ("0103", "雨水井盖缺失，人车流量大", 6),
    ("0102", "污水井盖破损松动", 3),
    ("0104", "路灯不亮，夜间行人不便", 8),
    ("0201", "人行道地砖破损翘起", 6),
    ("E0101", "楼道口堆放生活垃圾未清运", 10),
    ("E0102", "路面油污未清扫", 4),
    ("E0201", "单元门口张贴小广告", 6),
    ("E0501", "商铺门前占道经营", 8),
    ("0401", "行道树倾斜，有倒伏隐患", 3),
    ("C01", "楼上漏水引发邻里纠纷", 3),
    ("C02", "电动车楼道充电，存在火灾隐患", 6),
    ("C03", "老人反映小区无障碍通道损坏", 4),
];

/// Where each demo case ends, and how often.
const ENDS: &[(&[Action], u64)] = &[
    (&[], 6),
    (&[Action::Accept], 5),
    (&[Action::Accept, Action::Dispatch], 8),
    (&[Action::Accept, Action::Dispatch, Action::StartWork], 8),
    (
        &[
            Action::Accept,
            Action::Dispatch,
            Action::StartWork,
            Action::Handle,
        ],
        6,
    ),
    (
        &[
            Action::Accept,
            Action::Dispatch,
            Action::StartWork,
            Action::Handle,
            Action::VerifyPass,
        ],
        3,
    ),
    (
        &[
            Action::Accept,
            Action::Dispatch,
            Action::StartWork,
            Action::Handle,
            Action::VerifyPass,
            Action::Close,
        ],
        30,
    ),
    (
        &[
            Action::Accept,
            Action::Dispatch,
            Action::StartWork,
            Action::Handle,
            Action::VerifyPass,
            Action::Close,
            Action::Rate,
        ],
        18,
    ),
    (
        &[
            Action::Accept,
            Action::Dispatch,
            Action::Return,
            Action::Dispatch,
            Action::Handle,
            Action::VerifyFail,
            Action::Handle,
            Action::VerifyPass,
            Action::Close,
        ],
        4,
    ),
    (&[Action::SelfHandle, Action::ApproveSelfHandled], 6),
    (&[Action::SelfHandle], 2),
    (&[Action::RequestVoid, Action::ApproveVoid], 2),
    (&[Action::Accept, Action::HangUp], 2),
];

fn pick<T>(key: u64, items: &[T], weight: impl Fn(&T) -> u64) -> &T {
    let total: u64 = items.iter().map(&weight).sum();
    let mut n = key % total.max(1);
    for it in items {
        let w = weight(it);
        if n < w {
            return it;
        }
        n -= w;
    }
    &items[0]
}

/// The role that takes an action in the demo.
fn role_for(action: Action) -> Role {
    match action {
        Action::Accept | Action::Dispatch | Action::Close | Action::ApproveSelfHandled => {
            Role::GridLeader
        }
        Action::StartWork | Action::Handle | Action::Return => Role::DepartmentStaff,
        Action::VerifyPass | Action::VerifyFail | Action::SelfHandle | Action::RequestVoid => {
            Role::GridWorker
        }
        Action::Rate => Role::Resident,
        _ => Role::CommunitySecretary,
    }
}

fn note_for(action: Action) -> &'static str {
    match action {
        Action::Handle => "已处置完毕，附现场照片",
        Action::Return => "不属本部门职责，请重新派遣",
        Action::VerifyFail => "现场核查未整改到位，请返工",
        Action::VerifyPass => "现场核查，已整改",
        Action::SelfHandle => "网格员现场劝导，已整改",
        Action::RequestVoid => "重复上报",
        Action::HangUp => "需结合道路改造统一处理",
        Action::Rate => "处理及时，满意",
        _ => "",
    }
}

impl App {
    /// Adds the demo cases unless there are cases already; needs the demo's
    /// accounts and departments.
    pub async fn load_demo_cases(&self) -> Result<usize, AppError> {
        if self.store.case_count().await? > 0
            || self
                .store
                .user_by_username("wangge.heping02")
                .await?
                .is_none()
        {
            return Ok(0);
        }
        let user = |name: &'static str| async move {
            self.store
                .user_by_username(name)
                .await
                .map(|u| u.map(|u| u.id).unwrap_or(0))
        };
        let (worker, leader, secretary, dept_user, resident) = (
            user("wangge.heping02").await?,
            user("wanggezhang.heping").await?,
            user("shuji.heping").await?,
            user("bumen.shizheng").await?,
            user("jumin.demo").await?,
        );
        let categories = self.store.categories().await?;
        let departments = self.store.departments().await?;
        let roads = departments.iter().find(|d| d.code == "roads").map(|d| d.id);
        let buildings = self.store.all_buildings().await?;
        let now = self.now();
        let total = 320u64;
        let mut made = 0;
        let mut photos = DemoPhotos::default();
        for n in 0..total {
            let key = mix(0xCA5E_0000 + n);
            let (code, description, _) = pick(key, KINDS, |k| k.2);
            let Some(category) = categories.iter().find(|c| c.spec.code == *code) else {
                continue;
            };
            let b = &buildings[(mix(key) % buildings.len() as u64) as usize];
            let (path, _) = pick(mix(key ^ 4), ENDS, |e| e.1);
            let done = matches!(
                path.last(),
                Some(
                    Action::Close | Action::Rate | Action::ApproveSelfHandled | Action::ApproveVoid
                )
            );
            // Done cases over the last 120 days, open ones mostly this
            // week, between 08:00 and 18:00.
            let days = (mix(key ^ 1) % if done { 120 } else { 8 }) as i64;
            let day = CHINA
                .to_datetime(now)
                .date()
                .checked_sub(jiff::Span::new().days(days))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let mut at = CHINA
                .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
                .map_err(|e| AppError::Internal(e.to_string()))?
                + SignedDuration::from_mins(8 * 60 + (mix(key ^ 2) % 600) as i64);
            if at > now {
                at = now - SignedDuration::from_mins(30);
            }
            let by_resident = mix(key ^ 3).is_multiple_of(5);
            let reporter = if by_resident { resident } else { worker };
            let public_code = crate::cases::public_code(at)?;
            let department_id = category.department_id.or(roads);
            let id = self
                .store
                .insert_case(
                    NewCase {
                        public_code,
                        category_id: category.id,
                        source: if by_resident { "resident" } else { "patrol" }.into(),
                        grid_id: Some(b.grid_id),
                        lon: Some(b.location.lon),
                        lat: Some(b.location.lat),
                        address: b.address.clone(),
                        description: (*description).into(),
                        urgency: if code.starts_with("01") {
                            "urgent"
                        } else {
                            "normal"
                        }
                        .into(),
                        reporter_id: Some(reporter),
                        reporter_name: None,
                        department_id,
                        at,
                        answers: if category.spec.questions.is_empty() {
                            "{}".into()
                        } else {
                            r#"{"traffic":["大"]}"#.into()
                        },
                        idempotency_key: None,
                        request_hash: None,
                    },
                    CaseEvent {
                        at,
                        actor_id: Some(reporter),
                        action: "report".into(),
                        from_state: None,
                        to_state: CaseState::Reported.as_str().into(),
                        visibility: "public".into(),
                        note: String::new(),
                        department_id: None,
                        photo_ids: vec![photos.take(self, reporter, at, key).await?],
                        id: None,
                    },
                    Effects::default(),
                    AuditEntry::new(at, None, "demo.case", "case"),
                )
                .await?;
            let mut facts = CaseFacts {
                state: CaseState::Reported,
                pending: None,
                level: Level::Grid,
                resume_to: None,
            };
            for (i, action) in path.iter().copied().enumerate() {
                // Each step takes up to ten hours, spread so the last one
                // still lies before now.
                let budget = now.duration_since(at) / (path.len() - i + 1) as i32;
                let step = SignedDuration::from_mins(20 + (mix(key ^ action as u64) % 600) as i64)
                    .min(budget);
                let next = (at + step).min(now);
                let Some(case) = self.store.case(id).await? else {
                    break;
                };
                let role = role_for(action);
                let standing = Standing {
                    in_scope: true,
                    reporter: true,
                    department: true,
                };
                let Ok(outcome) = workflow::apply(facts, action, role, standing) else {
                    break;
                };
                let actor = match role {
                    Role::GridLeader => leader,
                    Role::DepartmentStaff => dept_user,
                    Role::Resident => reporter,
                    Role::GridWorker => worker,
                    _ => secretary,
                };
                let form = ActForm {
                    rating: Some(4 + (mix(key ^ 9) % 2) as i64),
                    review_on: Some("2026-12-31".into()),
                    ..ActForm::default()
                };
                let (change, pause, mut event) = record_action(
                    &case,
                    &outcome,
                    action,
                    &form,
                    note_for(action).into(),
                    case.department_id,
                    actor,
                    next,
                )?;
                if workflow::needs_photo(action) {
                    event.photo_ids = vec![photos.take(self, actor, next, !key).await?];
                }
                self.store
                    .update_case(
                        id,
                        case.version,
                        change,
                        event,
                        pause,
                        Effects::default(),
                        AuditEntry::new(next, Some(actor), "demo.case", "case")
                            .record(id)
                            .detail(json!({ "action": action.as_str() })),
                    )
                    .await?;
                facts = outcome.facts;
                at = next;
            }
            made += 1;
        }
        Ok(made)
    }
}

/// A few synthetic photos, encoded once and stored once per use.
#[derive(Default)]
struct DemoPhotos {
    encoded: Vec<wangge_media::CleanPhoto>,
}

impl DemoPhotos {
    const VARIANTS: u64 = 8;

    async fn take(
        &mut self,
        app: &App,
        owner: wangge_core::org::Id,
        at: jiff::Timestamp,
        key: u64,
    ) -> Result<wangge_core::org::Id, AppError> {
        if self.encoded.is_empty() {
            for seed in 0..Self::VARIANTS {
                let bytes = wangge_media::sample_photo(mix(seed), 480, 360);
                self.encoded.push(
                    wangge_media::clean(&bytes, wangge_media::PhotoLimits::default())
                        .map_err(|e| AppError::Internal(format!("demo photo: {e}")))?,
                );
            }
        }
        let p = &self.encoded[(key % Self::VARIANTS) as usize];
        Ok(app
            .store
            .insert_photo(wangge_store::NewPhoto {
                uploaded_by: owner,
                at,
                content_type: p.content_type.into(),
                width: i64::from(p.width),
                height: i64::from(p.height),
                bytes: p.bytes.clone(),
                thumbnail: p.thumbnail.clone(),
            })
            .await?)
    }
}
