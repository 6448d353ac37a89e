//! The demo's people: dwellings, households and residents with realistic
//! ages and tags, businesses, departments, and one account per role.
//!
//! Everything is synthetic and deterministic. ID numbers carry valid check
//! characters but the region code 340171, which is in no official list;
//! phone numbers are in the 199 0 range. The households of the story in
//! PRODUCT.md §1 are there: a bedridden grandmother raising two
//! granddaughters, an old Party member with a degenerative illness, and two
//! new shops at building 13 whose legal persons could not register.

use serde::Serialize;
use serde_json::json;
use wangge_core::idnumber::{IdNumber, check_char};
use wangge_core::org::{BuildingUse, Id};
use wangge_core::phone::Phone;
use wangge_core::policy::Role;
use wangge_core::register::{DisabilityCategory, Tag};
use wangge_geo::synthetic::mix;
use wangge_store::{
    AuditEntry, BulkHousehold, BusinessRow, HouseholdRow, NewDwelling, ResidentRow, ScopeKind,
};

use crate::App;
use crate::auth::UserSpec;
use crate::error::AppError;

/// A demo account with its one-time password.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub role: Role,
    pub username: String,
    pub password: String,
    /// What it may see, in words.
    pub scope: String,
}

#[derive(Debug, Clone, Default)]
pub struct PeopleReport {
    pub already_loaded: bool,
    pub households: usize,
    pub residents: usize,
    pub businesses: usize,
    pub accounts: Vec<DemoAccount>,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任",
    "沈", "姚",
];
const GIVEN_MALE: &[&str] = &[
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "建国", "志强", "国庆", "俊杰",
    "浩然", "子轩", "宇航", "德华", "文博", "海涛", "振华", "立新", "家豪", "思远", "建华", "永刚",
];
const GIVEN_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂英", "玉兰", "明芳", "欣怡", "梓涵",
    "雨桐", "佳怡", "淑珍", "海燕", "晓梅", "丽华", "春梅", "婷婷", "思琪", "慧敏", "凤英", "金兰",
];
const OTHER_ETHNICITIES: &[&str] = &["回族", "满族", "壮族", "蒙古族", "土家族"];
const SHOP_PREFIXES: &[&str] = &[
    "老王", "幸福", "和平", "春晖", "金桂", "邻家", "好运", "阿香", "小李", "便民", "惠民", "鑫源",
];
const SHOP_KINDS: &[&str] = &[
    "便利店",
    "面馆",
    "理发店",
    "大药房",
    "水果店",
    "五金店",
    "快递驿站",
    "早餐店",
    "洗衣店",
    "花店",
    "烟酒店",
    "小吃店",
    "眼镜店",
    "文具店",
    "母婴店",
    "修车铺",
];
const DEPARTMENTS: &[(&str, &str)] = &[
    ("roads", "市政道路"),
    ("urban", "城管执法"),
    ("green", "园林绿化"),
    ("water", "供排水"),
    ("civil", "民政"),
    ("jobs", "人社"),
    ("education", "教育"),
    ("health", "卫健"),
];

/// A deterministic stream of choices.
pub(crate) struct Dice(pub(crate) u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(crate) fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sex {
    M,
    F,
}

struct Person {
    name: String,
    sex: Sex,
    born: jiff::civil::Date,
    relation: &'static str,
    tags: Vec<Tag>,
    party: bool,
    has_phone: bool,
}

fn given(d: &mut Dice, sex: Sex) -> &'static str {
    match sex {
        Sex::M => GIVEN_MALE[d.below(GIVEN_MALE.len() as u64) as usize],
        Sex::F => GIVEN_FEMALE[d.below(GIVEN_FEMALE.len() as u64) as usize],
    }
}

fn born(d: &mut Dice, today: jiff::civil::Date, age: i16) -> jiff::civil::Date {
    let year = today.year() - age;
    let month = 1 + d.below(12) as i8;
    let day = 1 + d.below(28) as i8;
    jiff::civil::Date::new(year, month, day).unwrap_or(jiff::civil::Date::MIN)
}

/// Builds one household's members around a head of `age`.
fn household(d: &mut Dice, today: jiff::civil::Date, size: usize) -> Vec<Person> {
    let surname = *d.pick(SURNAMES);
    let head_age = 25 + d.below(64) as i16;
    let head_sex = if d.pct(60) { Sex::M } else { Sex::F };
    let mut people = vec![Person {
        name: format!("{surname}{}", given(d, head_sex)),
        sex: head_sex,
        born: born(d, today, head_age),
        relation: "head",
        tags: Vec::new(),
        party: false,
        has_phone: true,
    }];
    if size >= 2 {
        let sex = if head_sex == Sex::M { Sex::F } else { Sex::M };
        let age = (head_age - 4 + d.below(9) as i16).max(20);
        people.push(Person {
            name: format!("{}{}", d.pick(SURNAMES), given(d, sex)),
            sex,
            born: born(d, today, age),
            relation: "spouse",
            tags: Vec::new(),
            party: false,
            has_phone: true,
        });
    }
    for _ in 2..size {
        let sex = if d.pct(50) { Sex::M } else { Sex::F };
        // Children of the couple, or grandchildren when the head is old.
        let (relation, age) = if head_age >= 60 && d.pct(50) {
            ("grandchild", (head_age - 50 - d.below(15) as i16).max(1))
        } else {
            ("child", (head_age - 24 - d.below(12) as i16).max(0))
        };
        people.push(Person {
            name: format!("{surname}{}", given(d, sex)),
            sex,
            born: born(d, today, age),
            relation,
            tags: Vec::new(),
            party: false,
            has_phone: true,
        });
    }
    let size = people.len();
    for p in &mut people {
        let age = wangge_core::register::age_on(p.born, today);
        p.has_phone = age >= 12 && !(age >= 80 && d.pct(60));
        p.party = age >= 22 && d.pct(if age >= 60 { 14 } else { 7 });
        if age >= 80 && size == 1 {
            p.tags.push(Tag::ElderlyAlone);
        } else if age >= 65 && size <= 2 && d.pct(40) {
            p.tags.push(Tag::EmptyNest);
        }
        if d.pct(2) {
            let category = *d.pick(DisabilityCategory::ALL);
            p.tags.push(Tag::Disabled {
                category,
                grade: 1 + d.below(4) as u8,
            });
        }
        if p.relation == "head" {
            if d.pct(2) {
                p.tags.push(Tag::Dibao {
                    certificate: Some(format!("低保证 {:06}", d.below(1_000_000))),
                });
            }
            if d.pct(1) {
                p.tags.push(Tag::PovertyAlleviated {
                    year: Some(2019 + d.below(2) as i16),
                });
            }
            if age >= 70 && size == 1 && d.pct(5) {
                p.tags.push(Tag::FiveGuarantees);
            }
        }
        if p.party && age >= 70 && d.pct(8) {
            p.tags.push(Tag::PartyMemberInDifficulty {
                difficulty: "年老多病，生活困难".into(),
            });
        }
        if age >= 60 && p.sex == Sex::M && d.pct(3) {
            p.tags.push(Tag::Veteran);
        }
        if p.relation == "grandchild" && age < 14 && d.pct(40) {
            p.tags.push(Tag::LeftBehindChild {
                guardian: Some("祖父母".into()),
            });
        }
    }
    people
}

/// The story's two households (PRODUCT.md §1).
fn story_households(today: jiff::civil::Date) -> Vec<Vec<Person>> {
    let d = |age: i16, m: i8, day: i8| {
        jiff::civil::Date::new(today.year() - age, m, day).unwrap_or(jiff::civil::Date::MIN)
    };
    vec![
        vec![
            Person {
                name: "周桂英".into(),
                sex: Sex::F,
                born: d(74, 3, 8),
                relation: "head",
                tags: vec![
                    Tag::Disabled {
                        category: DisabilityCategory::Physical,
                        grade: 1,
                    },
                    Tag::PovertyAlleviated { year: Some(2020) },
                ],
                party: false,
                has_phone: false,
            },
            Person {
                name: "周雨桐".into(),
                sex: Sex::F,
                born: d(13, 5, 20),
                relation: "grandchild",
                tags: vec![Tag::LeftBehindChild {
                    guardian: Some("祖母周桂英".into()),
                }],
                party: false,
                has_phone: false,
            },
            Person {
                name: "周欣怡".into(),
                sex: Sex::F,
                born: d(10, 9, 2),
                relation: "grandchild",
                tags: vec![Tag::LeftBehindChild {
                    guardian: Some("祖母周桂英".into()),
                }],
                party: false,
                has_phone: false,
            },
        ],
        vec![
            Person {
                name: "陈建国".into(),
                sex: Sex::M,
                born: d(68, 10, 1),
                relation: "head",
                tags: vec![
                    Tag::PartyMemberInDifficulty {
                        difficulty: "渐冻症，行动不便".into(),
                    },
                    Tag::SeriousIllness {
                        illness: Some("肌萎缩侧索硬化".into()),
                    },
                ],
                party: true,
                has_phone: true,
            },
            Person {
                name: "刘秀英".into(),
                sex: Sex::F,
                born: d(62, 4, 16),
                relation: "spouse",
                tags: Vec::new(),
                party: false,
                has_phone: true,
            },
        ],
    ]
}

impl App {
    fn demo_resident(
        &self,
        d: &mut Dice,
        p: &Person,
        seq: &mut u32,
        grid_id: Id,
    ) -> Result<ResidentRow, AppError> {
        *seq += 1;
        // Odd sequence for men, even for women (GB 11643).
        let order = (*seq * 2 + u32::from(p.sex == Sex::M)) % 1000;
        let first17 = format!("340171{}{order:03}", p.born.strftime("%Y%m%d"));
        let id_text = format!("{first17}{}", check_char(first17.as_bytes()) as char);
        let id =
            IdNumber::parse(&id_text).map_err(|e| AppError::Internal(format!("demo ID {e}")))?;
        let phone = if p.has_phone {
            Some(
                Phone::parse(&format!("1990{:07}", d.below(10_000_000)))
                    .map_err(|e| AppError::Internal(format!("demo phone {e}")))?,
            )
        } else {
            None
        };
        let enc = |field: &str, v: &str| {
            self.vault
                .encrypt(field, v)
                .map_err(|e| AppError::Internal(e.to_string()))
        };
        let residence = match d.below(100) {
            0..=69 => "registered",
            70..=84 => "resident",
            85..=94 => "floating",
            _ => "separated",
        };
        let age = wangge_core::register::age_on(p.born, self.today());
        let political = if p.party {
            "party_member"
        } else if (14..=28).contains(&age) && d.pct(40) {
            "league_member"
        } else {
            "masses"
        };
        Ok(ResidentRow {
            household_id: 0,
            grid_id,
            name: p.name.clone(),
            gender: if p.sex == Sex::M { "male" } else { "female" }.into(),
            birth_date: p.born.to_string(),
            id_cipher: enc("resident.id_number", id.expose())?,
            id_blind: self.vault.blind_index("resident.id_number", id.expose()),
            id_masked: id.masked(),
            phone_cipher: phone
                .as_ref()
                .map(|ph| enc("resident.phone", ph.expose()))
                .transpose()?,
            phone_masked: phone.as_ref().map(Phone::masked),
            ethnicity: if d.pct(96) {
                "汉族"
            } else {
                *d.pick(OTHER_ETHNICITIES)
            }
            .into(),
            residence_type: residence.into(),
            relation: p.relation.into(),
            political_status: political.into(),
            tags: serde_json::to_string(&p.tags).map_err(|e| AppError::Internal(e.to_string()))?,
        })
    }

    /// Loads dwellings, households, residents, businesses, departments and
    /// one account per role, unless the accounts exist already.
    pub async fn load_demo_people(&self) -> Result<PeopleReport, AppError> {
        if self.store.user_by_username("admin").await?.is_some() {
            return Ok(PeopleReport {
                already_loaded: true,
                ..PeopleReport::default()
            });
        }
        let today = self.today();
        let now = self.now();
        let mut d = Dice(20261129);
        let communities = self.store.list_communities().await?;
        let grids = self.store.list_grids(None).await?;
        let buildings = self.store.all_buildings().await?;

        // Dwellings for every unit.
        let mut new_dwellings = Vec::new();
        for b in &buildings {
            for u in self.store.units_of_building(b.id).await? {
                for floor in 1..=u.floors {
                    for n in 1..=u.dwellings_per_floor {
                        let dwelling_use = match b.building_use {
                            BuildingUse::Commercial | BuildingUse::Public => "commercial",
                            BuildingUse::Mixed if floor == 1 => "commercial",
                            _ => match d.below(100) {
                                0..=69 => "own",
                                70..=86 => "rent",
                                _ => "vacant",
                            },
                        };
                        new_dwellings.push(NewDwelling {
                            unit_id: u.id,
                            floor,
                            number: wangge_core::org::door_number(floor, n),
                            dwelling_use: dwelling_use.into(),
                            area_m2: Some(60.0 + d.below(80) as f64),
                        });
                    }
                }
            }
        }
        let dwelling_ids = self.store.insert_dwellings(new_dwellings.clone()).await?;

        // Households in about a third of the lived-in dwellings.
        let unit_building: std::collections::HashMap<Id, &wangge_core::org::Building> = {
            let mut m = std::collections::HashMap::new();
            for b in &buildings {
                for u in self.store.units_of_building(b.id).await? {
                    m.insert(u.id, b);
                }
            }
            m
        };
        let mut households = Vec::new();
        let mut seq = 0u32;
        let mut story = story_households(today).into_iter();
        let story_grid = grids.get(1).map(|g| g.grid.id);
        for (dw, id) in new_dwellings.iter().zip(&dwelling_ids) {
            if !matches!(dw.dwelling_use.as_str(), "own" | "rent") || !d.pct(33) {
                continue;
            }
            let Some(b) = unit_building.get(&dw.unit_id) else {
                continue;
            };
            let members = match (Some(b.grid_id) == story_grid, b.floors <= 7) {
                // The story's families live low in old walk-ups of grid 2.
                (true, true) => story.next(),
                _ => None,
            }
            .unwrap_or_else(|| {
                let size = match d.below(100) {
                    0..=19 => 1,
                    20..=49 => 2,
                    50..=79 => 3,
                    80..=94 => 4,
                    _ => 5,
                };
                household(&mut d, today, size)
            });
            let unit_no = self
                .store
                .units_of_building(b.id)
                .await?
                .iter()
                .find(|u| u.id == dw.unit_id)
                .map_or(1, |u| u.number);
            let address = format!("{}{}单元{}室", b.address, unit_no, dw.number);
            let rows = members
                .iter()
                .map(|p| self.demo_resident(&mut d, p, &mut seq, b.grid_id))
                .collect::<Result<Vec<_>, _>>()?;
            households.push((
                BulkHousehold::New(HouseholdRow {
                    grid_id: b.grid_id,
                    dwelling_id: Some(*id),
                    address,
                }),
                rows,
            ));
        }
        let household_count = households.len();
        let residents = self
            .store
            .insert_households_bulk(
                households,
                AuditEntry::new(now, None, "demo.load", "household")
                    .detail(json!({ "households": household_count })),
            )
            .await?;

        // Businesses in commercial and mixed buildings; the story's two new
        // shops at building 13 of the first community.
        let mut shops = Vec::new();
        let mut shop_no = 0u32;
        for b in buildings
            .iter()
            .filter(|b| matches!(b.building_use, BuildingUse::Commercial | BuildingUse::Mixed))
        {
            let per_building = if b.building_use == BuildingUse::Commercial {
                9
            } else {
                6
            };
            for k in 0..per_building {
                shop_no += 1;
                let story_shop =
                    b.number == "13" && b.community_id == communities[0].community.id && k < 2;
                let first17 = format!(
                    "{}340171{:08}{}",
                    if d.pct(80) { "92" } else { "91" },
                    20_250_000 + shop_no,
                    char::from(b'A' + (d.below(8) as u8))
                );
                let check = wangge_core::creditcode::check_char(first17.as_bytes())
                    .ok_or_else(|| AppError::Internal("demo credit code".into()))?;
                let credit_code = format!("{first17}{}", check as char);
                let (opening, status, app, reason) = if story_shop {
                    (
                        today
                            .checked_sub(jiff::Span::new().days(20 + 10 * i64::from(k)))
                            .ok(),
                        "open",
                        "unable",
                        Some(if k == 0 {
                            "id_card_replaced"
                        } else {
                            "owner_away"
                        }),
                    )
                } else {
                    let app = match d.below(100) {
                        0..=59 => "registered",
                        60..=84 => "pending",
                        _ => "unable",
                    };
                    let reason = (app == "unable").then(|| {
                        *d.pick(&[
                            "id_card_replaced",
                            "owner_away",
                            "no_smartphone",
                            "business_moved",
                        ])
                    });
                    let status = if d.pct(92) { "open" } else { "closed" };
                    (
                        today
                            .checked_sub(jiff::Span::new().days(30 + d.below(1800) as i64))
                            .ok(),
                        status,
                        app,
                        reason,
                    )
                };
                let phone = Phone::parse(&format!("1990{:07}", d.below(10_000_000)))
                    .map_err(|e| AppError::Internal(format!("demo phone {e}")))?;
                let legal_rep = format!("{}{}", d.pick(SURNAMES), given(&mut d, Sex::M));
                shops.push(BusinessRow {
                    grid_id: b.grid_id,
                    dwelling_id: None,
                    address: format!("{}底商{}号", b.address, k + 1),
                    name: format!("{}{}", d.pick(SHOP_PREFIXES), d.pick(SHOP_KINDS)),
                    credit_code,
                    legal_rep,
                    phone_cipher: Some(
                        self.vault
                            .encrypt("business.phone", phone.expose())
                            .map_err(|e| AppError::Internal(e.to_string()))?,
                    ),
                    phone_masked: Some(phone.masked()),
                    opening_date: opening.map(|o| o.to_string()),
                    status: status.into(),
                    app_status: app.into(),
                    app_reason: reason.map(str::to_owned),
                    app_note: String::new(),
                });
            }
        }
        let businesses = self
            .store
            .insert_businesses_bulk(shops, AuditEntry::new(now, None, "demo.load", "business"))
            .await?;

        let accounts = self.demo_accounts(&communities, &grids).await?;
        Ok(PeopleReport {
            already_loaded: false,
            households: household_count,
            residents,
            businesses,
            accounts,
        })
    }

    async fn demo_accounts(
        &self,
        communities: &[wangge_core::org::CommunitySummary],
        grids: &[wangge_core::org::GridSummary],
    ) -> Result<Vec<DemoAccount>, AppError> {
        let mut departments = Vec::new();
        for (code, name) in DEPARTMENTS {
            departments.push(self.store.insert_department(code, name).await?);
        }
        let heping = &communities[0];
        let heping_grids: Vec<&wangge_core::org::GridSummary> = grids
            .iter()
            .filter(|g| g.grid.community_id == heping.community.id)
            .collect();
        let g2 = heping_grids
            .get(1)
            .copied()
            .ok_or_else(|| AppError::Internal("demo grid".into()))?;
        let chunhui1 = grids
            .iter()
            .find(|g| g.grid.community_id != heping.community.id)
            .ok_or_else(|| AppError::Internal("demo grid".into()))?;
        let street_id = heping.community.street_id;
        /// Role, username, display name, assignments, scope in words.
        type Plan<'a> = (Role, &'a str, &'a str, Vec<(ScopeKind, Id)>, String);
        let plan: Vec<Plan<'_>> = vec![
            (
                Role::Admin,
                "admin",
                "系统管理员",
                vec![],
                "系统配置与用户，不看居民信息".into(),
            ),
            (
                Role::StreetOfficer,
                "jiedao",
                "街道 赵主任",
                vec![(ScopeKind::Street, street_id)],
                format!("{}全部（只读，不含未成年人）", heping.street_name),
            ),
            (
                Role::CommunitySecretary,
                "shuji.heping",
                "和平社区 孙书记",
                vec![(ScopeKind::Community, heping.community.id)],
                heping.community.name.clone(),
            ),
            (
                Role::GridLeader,
                "wanggezhang.heping",
                "网格长 吴建华",
                heping_grids
                    .iter()
                    .take(4)
                    .map(|g| (ScopeKind::Grid, g.grid.id))
                    .collect(),
                format!("{}第一至第四网格", heping.community.name),
            ),
            (
                Role::GridWorker,
                "wangge.heping02",
                "网格员 李明芳",
                vec![(ScopeKind::Grid, g2.grid.id)],
                g2.grid.name.clone(),
            ),
            (
                Role::GridWorker,
                "wangge.chunhui01",
                "网格员 张海燕",
                vec![(ScopeKind::Grid, chunhui1.grid.id)],
                chunhui1.grid.name.clone(),
            ),
            (
                Role::UnitLeader,
                "danyuanzhang.heping02",
                "单元长 刘淑珍",
                vec![(ScopeKind::Grid, g2.grid.id)],
                format!("{}（专项工作分派的住户）", g2.grid.name),
            ),
            (
                Role::Volunteer,
                "zhiyuanzhe.heping02",
                "党员志愿者 马立新",
                vec![(ScopeKind::Grid, g2.grid.id)],
                format!("{}（专项工作分派的住户）", g2.grid.name),
            ),
            (
                Role::DepartmentStaff,
                "bumen.shizheng",
                "市政道路 科员",
                vec![(ScopeKind::Department, departments[0])],
                "市政道路：派遣给本部门的事件".into(),
            ),
            (
                Role::Resident,
                "jumin.demo",
                "居民 演示账号",
                vec![],
                "本人上报与公开事件".into(),
            ),
        ];
        let mut accounts = Vec::new();
        for (role, username, display, scopes, scope) in plan {
            let (_, password) = self
                .create_user(
                    None,
                    UserSpec {
                        username: username.into(),
                        display_name: display.into(),
                        role,
                        scopes,
                    },
                )
                .await?;
            accounts.push(DemoAccount {
                role,
                username: username.into(),
                password,
                scope,
            });
        }
        Ok(accounts)
    }
}
