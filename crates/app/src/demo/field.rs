//! The demo's field work: a month of patrols with tracks and check-ins,
//! visit history with due and overdue households, referrals in every
//! status, the three campaigns of the story part-way done, opinions and
//! notices. Deterministic, like the rest of the demo.

use jiff::civil::Time;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use wangge_core::GeoPoint;
use wangge_core::calendar::CHINA;
use wangge_core::campaign::{TargetKind, TargetReason, TargetStatus, Template};
use wangge_core::org::Id;
use wangge_core::patrol::{self as rules, ItemAnswer, ItemResult, SafetyItem, TrackPoint};
use wangge_core::visit::{
    self as visit_rules, MajorChange, Need, NeedKind, Programme, ReferralStatus, VisitMode,
};
use wangge_core::voice::{NoticeLevel, RelayMode, Topic};
use wangge_store::AuditEntry;
use wangge_store::field::{campaign, patrol, visit, voice};

use super::people::Dice;
use crate::{App, AppError};

/// What the field demo added.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldReport {
    pub patrols: usize,
    pub visits: usize,
    pub referrals: usize,
    pub campaigns: usize,
    pub opinions: usize,
    pub notices: usize,
}

fn at_local(day: jiff::civil::Date, hour: i8, minute: i8) -> Result<Timestamp, AppError> {
    CHINA
        .to_timestamp(day.to_datetime(Time::new(hour, minute, 0, 0).unwrap_or(Time::midnight())))
        .map_err(|e| AppError::Internal(e.to_string()))
}

fn days_before(today: jiff::civil::Date, n: i64) -> Result<jiff::civil::Date, AppError> {
    today
        .checked_sub(jiff::Span::new().days(n))
        .map_err(|e| AppError::Internal(e.to_string()))
}

impl App {
    /// Adds the field demo unless a patrol exists; needs the demo's
    /// accounts and register.
    pub async fn load_demo_field(&self) -> Result<FieldReport, AppError> {
        let mut report = FieldReport::default();
        let user = |name: &'static str| async move { self.store.user_by_username(name).await };
        let (
            Some(worker),
            Some(other),
            Some(secretary),
            Some(leader),
            Some(unit_leader),
            Some(volunteer),
            Some(resident),
        ) = (
            user("wangge.heping02").await?,
            user("wangge.chunhui01").await?,
            user("shuji.heping").await?,
            user("wanggezhang.heping").await?,
            user("danyuanzhang.heping02").await?,
            user("zhiyuanzhe.heping02").await?,
            user("jumin.demo").await?,
        )
        else {
            return Ok(report);
        };
        if patrol::open_of(&**self.store(), worker.id).await?.is_some()
            || !patrol::list(
                &**self.store(),
                &[worker.scopes[0].1],
                Some(worker.id),
                Timestamp::MIN,
                Timestamp::MAX,
                1,
            )
            .await?
            .is_empty()
        {
            return Ok(report);
        }
        let now = self.now();
        let today = self.today();
        let mut d = Dice(0xF1E1D);
        let workers = [
            (worker.id, worker.scopes[0].1),
            (other.id, other.scopes[0].1),
        ];

        // Patrols: working days of the last four weeks, 08:30 for about two
        // hours, walking from building to building with check-ins.
        for (who, grid) in workers {
            let buildings = self.store.buildings_of_grid(grid).await?;
            let households = self
                .store
                .households(
                    &wangge_store::ScopeFilter::grids(vec![grid]),
                    wangge_store::HouseholdQuery {
                        grid_id: Some(grid),
                        unit_id: None,
                        limit: 10_000,
                        offset: 0,
                    },
                )
                .await?;
            let businesses = self
                .store
                .businesses(
                    &wangge_store::ScopeFilter::grids(vec![grid]),
                    wangge_store::BusinessQuery {
                        grid_id: Some(grid),
                        limit: 1_000,
                        offset: 0,
                    },
                )
                .await?;
            if buildings.is_empty() {
                continue;
            }
            for back in (1..=28).rev() {
                let day = days_before(today, back)?;
                if matches!(
                    day.weekday(),
                    jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
                ) || d.pct(10)
                {
                    continue;
                }
                let start = at_local(day, 8, 20 + d.below(20) as i8)?;
                let id = patrol::start(&**self.store(), who, grid, start, "日常巡查").await?;
                let mut points = Vec::new();
                let mut t = start;
                let mut seq = 0;
                for stop in 0..6 {
                    let b = d.pick(&buildings);
                    for _ in 0..8 {
                        let jitter = |d: &mut Dice| (d.below(200) as f64 - 100.0) / 200_000.0;
                        let p = GeoPoint::new(
                            b.location.lon + jitter(&mut d),
                            b.location.lat + jitter(&mut d),
                        )
                        .unwrap_or(b.location);
                        points.push(TrackPoint {
                            seq,
                            at: t,
                            point: p,
                            accuracy_m: Some(5.0 + d.below(15) as f64),
                        });
                        seq += 1;
                        t += SignedDuration::from_secs(60 + d.below(60) as i64);
                    }
                    if let Some(h) = households.get(d.below(households.len() as u64) as usize) {
                        patrol::check_in(
                            &**self.store(),
                            patrol::NewCheckin {
                                patrol_id: Some(id),
                                worker_id: who,
                                grid_id: grid,
                                at: t,
                                building_id: None,
                                household_id: Some(h.id),
                                business_id: None,
                                note: String::new(),
                            },
                        )
                        .await?;
                    }
                    if stop % 3 == 0
                        && let Some(s) = businesses.get(d.below(businesses.len() as u64) as usize)
                    {
                        patrol::check_in(
                            &**self.store(),
                            patrol::NewCheckin {
                                patrol_id: Some(id),
                                worker_id: who,
                                grid_id: grid,
                                at: t,
                                building_id: None,
                                household_id: None,
                                business_id: Some(s.id),
                                note: "商户走访".into(),
                            },
                        )
                        .await?;
                    }
                }
                patrol::add_points(&**self.store(), id, &points).await?;
                patrol::end(&**self.store(), id, t, rules::track_length_m(&points)).await?;
                report.patrols += 1;
            }
            // A few safety checks, one with a failure.
            for (i, s) in businesses.iter().take(3).enumerate() {
                let answers: Vec<ItemAnswer> = SafetyItem::ALL
                    .iter()
                    .map(|item| ItemAnswer {
                        item: *item,
                        result: if i == 0 && *item == SafetyItem::Extinguishers {
                            ItemResult::Fail
                        } else {
                            ItemResult::Pass
                        },
                        note: if i == 0 && *item == SafetyItem::Extinguishers {
                            "灭火器已过期".into()
                        } else {
                            String::new()
                        },
                    })
                    .collect();
                let failed = rules::failures(&answers).count() as i64;
                let at = at_local(days_before(today, 3 + i as i64)?, 10, 0)?;
                patrol::inspect(
                    &**self.store(),
                    patrol::NewInspection {
                        business_id: s.id,
                        grid_id: grid,
                        inspector_id: who,
                        patrol_id: None,
                        at,
                        answers,
                        failed,
                    },
                    AuditEntry::new(at, Some(who), "business.inspect", "inspection"),
                )
                .await?;
            }
        }

        // Visits: care households mostly visited on time, some overdue;
        // ordinary households visited now and then.
        let rule_set = self.visit_rules().await?;
        for (who, grid) in workers {
            let roster = visit::roster(&**self.store(), &[grid], None).await?;
            for h in roster {
                let Some(s) = visit_rules::schedule(&h.facts, &rule_set, now, today) else {
                    continue;
                };
                let care = s.because_of.is_some();
                let visits = if care {
                    1 + d.below(3)
                } else if d.pct(35) {
                    1
                } else {
                    0
                };
                // Leave about one care household in eight overdue.
                let skip_recent = care && d.pct(12);
                for k in 0..visits {
                    let back = if care {
                        if skip_recent {
                            s.frequency.days() + 5 + d.below(20) as i64
                        } else {
                            d.below(s.frequency.days().max(2) as u64) as i64
                                + (k as i64) * s.frequency.days()
                        }
                    } else {
                        20 + d.below(150) as i64
                    };
                    let visited_at =
                        at_local(days_before(today, back.max(1))?, 9 + d.below(8) as i8, 0)?;
                    let needs = if care && d.pct(30) {
                        vec![Need {
                            kind: *d.pick(NeedKind::ALL),
                            detail: "走访时提出".into(),
                        }]
                    } else {
                        Vec::new()
                    };
                    let resident = s
                        .because_of
                        .or_else(|| h.facts.members.first().map(|m| m.resident_id));
                    let referrals: Vec<visit::NewReferral> = needs
                        .iter()
                        .filter(|_| d.pct(70))
                        .map(|n| visit::NewReferral {
                            household_id: h.household_id,
                            resident_id: resident,
                            grid_id: grid,
                            need_kind: n.kind,
                            programme: Programme::for_need(n.kind),
                            detail: n.detail.clone(),
                            created_by: who,
                            at: visited_at,
                        })
                        .collect();
                    report.referrals += referrals.len();
                    visit::record(
                        &**self.store(),
                        visit::NewVisit {
                            household_id: h.household_id,
                            grid_id: grid,
                            worker_id: who,
                            resident_id: resident,
                            visited_at,
                            mode: if d.pct(75) {
                                VisitMode::Home
                            } else {
                                *d.pick(VisitMode::ALL)
                            },
                            visitors: "网格员".into(),
                            situation: if care {
                                "身体状况稳定，生活基本能自理，已告知有事可随时联系网格员。".into()
                            } else {
                                "家庭情况正常，无特殊困难。".into()
                            },
                            needs,
                            due_at: Some(visited_at + SignedDuration::from_hours(24)),
                            on_time: !skip_recent,
                            created_at: visited_at,
                        },
                        referrals,
                        AuditEntry::new(visited_at, Some(who), "visit.record", "visit"),
                    )
                    .await?;
                    report.visits += 1;
                }
            }
        }
        // The story's household: a bedridden grandmother raising two
        // granddaughters, and a hospitalised resident awaiting a visit.
        let grid = workers[0].1;
        let roster = visit::roster(&**self.store(), &[grid], None).await?;
        if let Some(h) = roster.iter().find(|h| h.facts.members.len() >= 3) {
            let at = at_local(days_before(today, 6)?, 15, 0)?;
            let member = h.facts.members.first().map(|m| m.resident_id);
            visit::record(
                &**self.store(),
                visit::NewVisit {
                    household_id: h.household_id,
                    grid_id: grid,
                    worker_id: worker.id,
                    resident_id: member,
                    visited_at: at,
                    mode: VisitMode::Home,
                    visitors: "李明芳、马立新".into(),
                    situation: "奶奶卧病在床，独自抚养两个孙女；孙女在读小学，学费和生活费有困难。"
                        .into(),
                    needs: vec![Need {
                        kind: NeedKind::Education,
                        detail: "两个孙女申请春蕾助学".into(),
                    }],
                    due_at: Some(at),
                    on_time: true,
                    created_at: at,
                },
                vec![visit::NewReferral {
                    household_id: h.household_id,
                    resident_id: member,
                    grid_id: grid,
                    need_kind: NeedKind::Education,
                    programme: Programme::GirlsSchoolAid,
                    detail: "两个孙女申请春蕾助学，已填写推荐表".into(),
                    created_by: worker.id,
                    at,
                }],
                AuditEntry::new(at, Some(worker.id), "visit.record", "visit"),
            )
            .await?;
            report.visits += 1;
            report.referrals += 1;
        }
        if let Some(h) = roster.iter().rev().find(|h| !h.facts.members.is_empty())
            && let Some(m) = h.facts.members.first()
        {
            let at = now - SignedDuration::from_hours(5);
            visit::record_major_change(
                &**self.store(),
                m.resident_id,
                h.household_id,
                MajorChange::Hospitalised,
                "突发脑梗住院，家属在医院陪护",
                at,
                worker.id,
                AuditEntry::new(at, Some(worker.id), "resident.major_change", "resident"),
            )
            .await?;
        }
        // Referrals moved on: every status appears.
        let referrals = visit::referrals(
            &**self.store(),
            &[workers[0].1, workers[1].1],
            None,
            None,
            1_000,
        )
        .await?;
        let paths: [&[ReferralStatus]; 5] = [
            &[],
            &[ReferralStatus::Submitted],
            &[ReferralStatus::Submitted, ReferralStatus::Approved],
            &[ReferralStatus::Submitted, ReferralStatus::Rejected],
            &[
                ReferralStatus::Submitted,
                ReferralStatus::Approved,
                ReferralStatus::Delivered,
            ],
        ];
        for (i, r) in referrals.iter().enumerate() {
            let mut at = r.created_at;
            for (version, status) in (r.version..).zip(paths[i % paths.len()]) {
                at += SignedDuration::from_hours(24 * (1 + d.below(4) as i64));
                let at = at.min(now);
                let note = match status {
                    ReferralStatus::Rejected => "家庭收入超出标准，建议申请临时救助",
                    ReferralStatus::Approved => "审核通过",
                    ReferralStatus::Delivered => "已落实到位",
                    _ => "已报送",
                };
                visit::move_referral(
                    &**self.store(),
                    r.id,
                    version,
                    *status,
                    note,
                    if r.grid_id == workers[0].1 {
                        worker.id
                    } else {
                        other.id
                    },
                    at,
                    AuditEntry::new(at, Some(worker.id), "referral.move", "referral").record(r.id),
                )
                .await?;
            }
        }

        // Campaigns: the three of the story, part-way done.
        let heping_grids: Vec<Id> = self
            .list_grids(None)
            .await?
            .into_iter()
            .filter(|g| {
                secretary
                    .scopes
                    .iter()
                    .any(|(_, c)| *c == g.grid.community_id)
            })
            .map(|g| g.grid.id)
            .collect();
        let community = secretary.scopes[0].1;
        let created = at_local(days_before(today, 14)?, 9, 0)?;
        for (template, name, filter_age) in [
            (
                Template::PlatformRegistration,
                "翠竹园试点：居民注册社区服务平台",
                None,
            ),
            (
                Template::DrillPreRegistration,
                "核酸检测演练预登记",
                Some(60),
            ),
            (
                Template::BusinessRegistration,
                "新开商户注册与安全检查",
                None,
            ),
        ] {
            let mut filter = template.filter(today);
            if template == Template::PlatformRegistration {
                filter.grid_ids = vec![workers[0].1];
            }
            if let Some(age) = filter_age {
                filter.min_age = Some(age);
            }
            let kind = template.kind();
            let targets: Vec<campaign::NewTarget> =
                campaign::candidates(&**self.store(), kind, &heping_grids)
                    .await?
                    .into_iter()
                    .filter(|(c, _)| filter.picks(c, today))
                    .map(|(c, label)| campaign::NewTarget {
                        subject_id: c.subject_id,
                        placement: c.placement,
                        label,
                    })
                    .collect();
            let cid = campaign::create(
                &**self.store(),
                campaign::NewCampaign {
                    name: name.into(),
                    template,
                    goal: template.goal().into(),
                    kind,
                    community_id: community,
                    starts_on: days_before(today, 14)?,
                    ends_on: today
                        .checked_add(jiff::Span::new().days(30))
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                    filter,
                    created_by: secretary.id,
                    created_at: created,
                },
                targets,
                AuditEntry::new(created, Some(secretary.id), "campaign.create", "campaign"),
            )
            .await?;
            report.campaigns += 1;
            let scope = campaign::TargetScope::Grids(heping_grids.clone());
            let list = campaign::targets(&**self.store(), cid, &scope, None, None, 20_000).await?;
            if template == Template::PlatformRegistration
                && let Some(first) = list.first()
                && let (Some(b), Some(u)) = (first.placement.building_id, first.placement.unit_id)
            {
                for (who, unit) in [(unit_leader.id, Some(u)), (volunteer.id, None)] {
                    campaign::assign(
                        &**self.store(),
                        cid,
                        who,
                        b,
                        unit,
                        AuditEntry::new(created, Some(secretary.id), "campaign.assign", "campaign")
                            .record(cid),
                    )
                    .await?;
                }
            }
            let reasons = template.reasons();
            for t in list {
                let roll = d.below(100);
                let (status, reason) = match roll {
                    0..=44 => (TargetStatus::Done, None),
                    45..=59 => (
                        TargetStatus::Contacted,
                        if kind == TargetKind::Business {
                            Some(TargetReason::OwnerAway)
                        } else {
                            None
                        },
                    ),
                    60..=69 => (TargetStatus::Unable, Some(*d.pick(reasons))),
                    _ => continue,
                };
                let by = if t.placement.grid_id == workers[0].1 {
                    worker.id
                } else {
                    leader.id
                };
                let at = created + SignedDuration::from_hours(2 + d.below(24 * 12) as i64);
                campaign::update_target(
                    &**self.store(),
                    t.id,
                    t.subject_id,
                    t.version,
                    campaign::TargetChange {
                        status,
                        reason,
                        note: match reason {
                            Some(TargetReason::IdCardReplaced) => "已告知到政务服务窗口办理".into(),
                            Some(TargetReason::OwnerAway) => "已电话指导".into(),
                            _ => String::new(),
                        },
                        by,
                        at: at.min(now),
                        via: "form",
                        app_registration: (kind == TargetKind::Business)
                            .then(|| wangge_core::campaign::app_registration(status, reason)),
                    },
                    None,
                )
                .await?;
            }
        }

        // Opinions, some answered.
        let opinions = [
            (
                Topic::Traffic,
                "小区门口早高峰停车混乱，希望划定临时停车位",
                "13栋居民",
            ),
            (
                Topic::Environment,
                "垃圾分类点晚上没人值守，味道大",
                "翠竹园居民",
            ),
            (Topic::ElderlyCare, "希望社区增设老年食堂", "退休职工"),
            (Topic::Safety, "东门监控坏了很久", "商户"),
            (Topic::Property, "电梯经常停运，物业回应慢", "5栋居民"),
            (Topic::Policy, "想了解医保缴费新政策", "居民"),
            (Topic::Health, "希望社区医生定期上门量血压", "独居老人"),
        ];
        for (i, (topic, body, voiced_by)) in opinions.iter().enumerate() {
            let (who, grid) = workers[i % 2];
            let at = at_local(days_before(today, 2 + i as i64 * 2)?, 11, 0)?;
            let id = voice::add_opinion(
                &**self.store(),
                voice::NewOpinion {
                    grid_id: grid,
                    topic: *topic,
                    body: (*body).into(),
                    voiced_by: (*voiced_by).into(),
                    submitted_by: who,
                    at,
                },
            )
            .await?;
            if i % 3 == 0 {
                let later = at + SignedDuration::from_hours(20);
                voice::answer(
                    &**self.store(),
                    id,
                    "已反映给社区和物业，正在协调处理，处理结果会在居民群通报。",
                    who,
                    later,
                    AuditEntry::new(later, Some(who), "opinion.answer", "opinion").record(id),
                )
                .await?;
            }
            report.opinions += 1;
        }
        let at = at_local(days_before(today, 1)?, 19, 0)?;
        voice::add_opinion(
            &**self.store(),
            voice::NewOpinion {
                grid_id: workers[0].1,
                topic: Topic::Environment,
                body: "楼道里堆放杂物，存在消防隐患".into(),
                voiced_by: String::new(),
                submitted_by: resident.id,
                at,
            },
        )
        .await?;
        report.opinions += 1;

        // Notices at each level, passed on by the workers.
        let street = self
            .list_communities()
            .await?
            .into_iter()
            .find(|c| c.community.id == community)
            .map(|c| (c.community.street_id, c.street_name, c.community.name));
        let grid_name = self
            .list_grids(None)
            .await?
            .into_iter()
            .find(|g| g.grid.id == workers[0].1)
            .map(|g| g.grid.name)
            .unwrap_or_default();
        if let Some((street_id, street_name, community_name)) = street {
            let notices = [
                (
                    NoticeLevel::Street,
                    street_id,
                    street_name,
                    "冬季燃气安全提示",
                    "请居民检查燃气软管和报警器，使用燃气时保持通风；发现燃气泄漏立即关闭阀门并拨打抢修电话。",
                    9,
                ),
                (
                    NoticeLevel::Community,
                    community,
                    community_name,
                    "城乡居民医保缴费开始",
                    "2027 年度城乡居民医疗保险开始缴费，可在手机政务服务平台办理，老年人可到社区服务窗口代办。",
                    5,
                ),
                (
                    NoticeLevel::Grid,
                    workers[0].1,
                    grid_name,
                    "翠竹园停水通知",
                    "因管网维修，本周四 9:00–15:00 翠竹园停水，请提前储水。",
                    2,
                ),
            ];
            for (level, unit_id, unit_name, title, body, back) in notices {
                let at = at_local(days_before(today, back)?, 10, 0)?;
                let by = if level == NoticeLevel::Grid {
                    leader.id
                } else {
                    secretary.id
                };
                let id = voice::publish(
                    &**self.store(),
                    voice::NewNotice {
                        level,
                        unit_id,
                        unit_name,
                        title: title.into(),
                        body: body.into(),
                        published_by: by,
                        at,
                    },
                    AuditEntry::new(at, Some(by), "notice.publish", "notice"),
                )
                .await?;
                report.notices += 1;
                if back > 2 {
                    let later = at + SignedDuration::from_hours(3);
                    voice::relay(
                        &**self.store(),
                        voice::NewRelay {
                            notice_id: id,
                            worker_id: worker.id,
                            grid_id: workers[0].1,
                            at: later,
                            mode: RelayMode::GroupChat,
                            reach: 180,
                            note: "楼栋群转发".into(),
                        },
                    )
                    .await?;
                }
            }
        }
        Ok(report)
    }
}
