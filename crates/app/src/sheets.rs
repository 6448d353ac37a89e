//! Spreadsheet import and export of the register.
//!
//! Import reads residents from CSV or XLSX with Chinese headers (the
//! template has a field-notes row), checks every row before anything is
//! written (ID check digit, duplicates in the file and against the
//! register, unknown building / unit / door, a second head for a
//! household, bad choices and tags), and then, as asked: reports only (dry
//! run), imports all or nothing, or imports the valid rows and gives the
//! rejected ones back as a file with the reason beside each. Rows become
//! households by dwelling (rows for a dwelling lived in already join its
//! household, so a corrected file of rejected rows imports as it is), in
//! one transaction, audited. Buildings and businesses import likewise.
//!
//! Export writes any list the actor may read to XLSX or CSV, masked unless
//! full numbers are asked for (which needs the reveal permission and is
//! audited like a reveal); every export is audited; cells a spreadsheet
//! would read as formulas are neutralised.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::json;
use wangge_core::org::Id;
use wangge_core::policy::{Action, Actor};
use wangge_core::register::{PoliticalStatus, Relation, ResidenceType, Tag};
use wangge_core::sheet::{self, BUILDING_COLUMNS, BUSINESS_COLUMNS, RESIDENT_COLUMNS};
use wangge_core::{Lang, Localized};
use wangge_sheets::{Limits, Table};
use wangge_store::sheet::{self as store, PlaceKey};
use wangge_store::{AuditEntry, BulkHousehold, BusinessRow, HouseholdRow, ResidentRow};

use crate::register::{ID_FIELD, PHONE_FIELD};
use crate::{App, AppError};

/// What to do with a checked file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Check and report; write nothing.
    DryRun,
    /// Write every row, or nothing when any row is wrong.
    AllOrNothing,
    /// Write the valid rows; give the rejected ones back.
    ValidOnly,
}

impl ImportMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dry_run" | "dry-run" => Some(ImportMode::DryRun),
            "all_or_nothing" | "all-or-nothing" => Some(ImportMode::AllOrNothing),
            "valid_only" | "valid-only" => Some(ImportMode::ValidOnly),
            _ => None,
        }
    }
}

impl ImportMode {
    /// Whether rows are written, given whether every row was right.
    fn writes(self, all_right: bool) -> bool {
        match self {
            ImportMode::DryRun => false,
            ImportMode::AllOrNothing => all_right,
            ImportMode::ValidOnly => true,
        }
    }
}

/// The sheets the register imports, each with its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SheetKind {
    Residents,
    Businesses,
    Buildings,
}

impl SheetKind {
    pub const ALL: [SheetKind; 3] = [
        SheetKind::Residents,
        SheetKind::Businesses,
        SheetKind::Buildings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SheetKind::Residents => "residents",
            SheetKind::Businesses => "businesses",
            SheetKind::Buildings => "buildings",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The sheet's Chinese name, as file names and pages show it.
    pub fn title(self) -> &'static str {
        match self {
            SheetKind::Residents => "人口信息",
            SheetKind::Businesses => "商户信息",
            SheetKind::Buildings => "楼栋信息",
        }
    }

    fn columns(self) -> &'static [sheet::Column] {
        match self {
            SheetKind::Residents => RESIDENT_COLUMNS,
            SheetKind::Businesses => BUSINESS_COLUMNS,
            SheetKind::Buildings => BUILDING_COLUMNS,
        }
    }
}

/// The rejected rows as they came, with their errors in a last column
/// (CSV; cells that would be formulas neutralised); `None` when none.
fn rejected_rows(
    headers: &[String],
    body: &[Vec<String>],
    bad_lines: &BTreeMap<usize, Vec<String>>,
) -> Option<Vec<u8>> {
    if bad_lines.is_empty() {
        return None;
    }
    let mut rows = vec![
        headers
            .iter()
            .cloned()
            .chain(["错误".to_owned()])
            .collect::<Vec<_>>(),
    ];
    for (line, msgs) in bad_lines {
        let mut r = body.get(line - 2).cloned().unwrap_or_default();
        r.resize(headers.len(), String::new());
        r.push(msgs.join("；"));
        rows.push(r.iter().map(|c| sheet::neutralize(c)).collect());
    }
    Some(wangge_sheets::write_csv(&rows))
}

/// The problems found in a sheet: for the report, by row and column, and
/// for the rejected-rows file, by row.
#[derive(Default)]
struct Problems {
    by_line: BTreeMap<usize, Vec<String>>,
    errors: Vec<RowError>,
}

impl Problems {
    fn add(&mut self, row: usize, column: String, message: String) {
        self.by_line
            .entry(row)
            .or_default()
            .push(format!("{column}：{message}"));
        self.errors.push(RowError {
            row,
            column,
            message,
        });
    }

    /// Into the report: the errors in row order and the rejected rows.
    fn report(self, report: &mut ImportReport, headers: &[String], body: &[Vec<String>]) {
        report.rejected = rejected_rows(headers, body, &self.by_line);
        report.errors = self.errors;
        report.errors.sort_by_key(|e| e.row);
    }
}

/// The header of the column that fills `field`.
fn column_of(columns: &[sheet::Column], field: &str) -> String {
    columns
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header.to_owned())
        .unwrap_or_else(|| field.to_owned())
}

/// A sheet read within the limits, and where its columns are.
fn read_sheet(
    bytes: &[u8],
    columns: &[sheet::Column],
) -> Result<(Table, sheet::HeaderMap), AppError> {
    let table = wangge_sheets::read(bytes, Limits::default())
        .map_err(|e| AppError::invalid("file", e.to_string(), e.zh()))?;
    let Some(headers) = table.rows.first() else {
        return Err(AppError::invalid("file", "the file is empty", "文件是空的"));
    };
    let map = sheet::map_headers(columns, headers).map_err(|errors| {
        let zh: Vec<String> = errors.iter().map(|e| e.message(Lang::Zh)).collect();
        let en: Vec<String> = errors.iter().map(|e| e.message(Lang::En)).collect();
        AppError::invalid("file", en.join("; "), zh.join("；"))
    })?;
    Ok((table, map))
}

/// A template: the headers and the field-notes row.
fn template(columns: &[sheet::Column], sheet_name: &str, xlsx: bool) -> Result<Vec<u8>, AppError> {
    let rows = vec![
        columns
            .iter()
            .map(|c| c.header.to_owned())
            .collect::<Vec<_>>(),
        columns.iter().map(|c| c.note.to_owned()).collect(),
    ];
    if xlsx {
        wangge_sheets::write_xlsx(sheet_name, &rows).map_err(|e| AppError::Internal(e.to_string()))
    } else {
        Ok(wangge_sheets::write_csv(&rows))
    }
}

/// One problem: the row as the spreadsheet numbers it (the header is row
/// 1), the column header, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub valid: usize,
    pub imported: usize,
    pub households: usize,
    pub errors: Vec<RowError>,
    /// The rejected rows as CSV (header, rows, a 错误 column), when any.
    #[serde(skip)]
    pub rejected: Option<Vec<u8>>,
}

/// Progress of an import: `(phase, done, total)`.
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Send + Sync);

/// A checked row, ready to write.
struct Good {
    line: usize,
    place: PlaceKey,
    row: ResidentRow,
}

/// What checking one row found.
struct Checked {
    line: usize,
    errs: Vec<(String, String)>,
    /// The row's ID number, when well formed.
    id: Option<String>,
    blind: Option<Vec<u8>>,
    /// The row to store and its dwelling, when the row is right.
    good: Option<(ResidentRow, PlaceKey)>,
}

impl App {
    /// A sheet's import template: its headers and the field-notes row.
    pub fn sheet_template(&self, kind: SheetKind, xlsx: bool) -> Result<Vec<u8>, AppError> {
        template(kind.columns(), kind.title(), xlsx)
    }

    /// Imports a sheet of `kind` as `mode` says.
    pub async fn import_sheet(
        &self,
        actor: &Actor,
        kind: SheetKind,
        bytes: &[u8],
        mode: ImportMode,
        progress: Option<Progress<'_>>,
    ) -> Result<ImportReport, AppError> {
        match kind {
            SheetKind::Residents => self.import_residents(actor, bytes, mode, progress).await,
            SheetKind::Businesses => self.import_businesses(actor, bytes, mode).await,
            SheetKind::Buildings => self.import_buildings(actor, bytes, mode).await,
        }
    }

    /// Imports residents from a CSV or XLSX file into the actor's grids.
    pub async fn import_residents(
        &self,
        actor: &Actor,
        bytes: &[u8],
        mode: ImportMode,
        progress: Option<Progress<'_>>,
    ) -> Result<ImportReport, AppError> {
        let scope = self.scope_for(actor, Action::Create).await?;
        if scope.grid_ids.is_empty() {
            return Err(AppError::Forbidden);
        }
        let tell = |phase: &str, done: usize, total: usize| {
            if let Some(p) = progress {
                p(phase, done, total);
            }
        };
        tell("读取", 0, 1);
        let (table, map) = read_sheet(bytes, RESIDENT_COLUMNS)?;
        tell("校验", 0, table.rows.len().saturating_sub(1));
        let Some((headers, body)) = table.rows.split_first() else {
            return Err(AppError::invalid("file", "the file is empty", "文件是空的"));
        };
        let places = store::places(&**self.store(), &scope.grid_ids).await?;
        // Communities by building number, to tell which one a row means.
        let mut communities_of: HashMap<String, Vec<Id>> = HashMap::new();
        for (c, b, _, _) in places.keys() {
            let list = communities_of.entry(b.clone()).or_default();
            if !list.contains(c) {
                list.push(*c);
            }
        }
        let today = self.today();
        let mut report = ImportReport::default();
        let mut good: Vec<Good> = Vec::new();
        let mut problems = Problems::default();
        let mut seen: HashMap<String, usize> = HashMap::new();
        // Every well-formed ID number of the file, by row, for the register check.
        let mut ids: Vec<(usize, Vec<u8>)> = Vec::new();
        let total = body.len();
        // Every row is checked on its own, on all cores; the rows that
        // pass are encrypted there too. Duplicates are found after, in order.
        let check = |i: usize, row: &Vec<String>| -> Option<Checked> {
            if row.iter().all(|c| c.trim().is_empty()) || (i == 0 && sheet::is_notes_row(row)) {
                return None;
            }
            let line = i + 2;
            let mut errs: Vec<(String, String)> = Vec::new();
            let (form, tag_error) = sheet::resident_form(&map, row);
            let mut input = match form.check(today) {
                Ok(input) => Some(input),
                Err(fields) => {
                    for f in fields {
                        errs.push((
                            column_of(RESIDENT_COLUMNS, f.field),
                            f.message(Lang::Zh).to_owned(),
                        ));
                    }
                    None
                }
            };
            if let Some(m) = tag_error {
                errs.push((column_of(RESIDENT_COLUMNS, "tags"), m));
                input = None;
            }
            let building =
                wangge_core::org::building_number(map.get(RESIDENT_COLUMNS, row, "building"))
                    .to_owned();
            let unit: Option<i64> = map
                .get(RESIDENT_COLUMNS, row, "unit")
                .trim_end_matches("单元")
                .parse()
                .ok();
            let door = map
                .get(RESIDENT_COLUMNS, row, "door")
                .trim_end_matches('室')
                .to_owned();
            let place = match (communities_of.get(&building).map(Vec::as_slice), unit) {
                (None, _) => {
                    errs.push(("楼栋".into(), format!("您负责的网格中没有{building}栋")));
                    None
                }
                (Some([_, _, ..]), _) => {
                    errs.push((
                        "楼栋".into(),
                        format!("{building}栋在多个社区都有，请分社区导入"),
                    ));
                    None
                }
                (Some(_), None) => {
                    errs.push(("单元".into(), "单元应为数字".into()));
                    None
                }
                (Some([c]), Some(u)) => {
                    let key = (*c, building.clone(), u, door.clone());
                    match places.get(&key) {
                        None => {
                            errs.push(("房号".into(), format!("{building}栋{u}单元没有{door}室")));
                            None
                        }
                        Some(p) => Some((key, p.grid_id)),
                    }
                }
                (Some([]), _) => None,
            };
            let id = input.as_ref().map(|i| i.id_number.expose().to_owned());
            let row_out = match (&input, &place) {
                (Some(input), Some((_, grid))) if errs.is_empty() => {
                    match self.row_in(0, *grid, input) {
                        Ok(r) => Some(r),
                        Err(e) => {
                            errs.push(("身份证号".into(), e.localized(Lang::Zh)));
                            None
                        }
                    }
                }
                _ => None,
            };
            let blind = match (&row_out, &id) {
                (Some(r), _) => Some(r.id_blind.clone()),
                (None, Some(id)) => Some(self.vault.blind_index(ID_FIELD, id)),
                _ => None,
            };
            Some(Checked {
                line,
                errs,
                id,
                blind,
                good: row_out.zip(place.map(|(k, _)| k)),
            })
        };
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .max(1);
        let chunk = body.len().div_ceil(threads).max(1);
        let checked: Vec<Checked> = std::thread::scope(|scope| {
            let handles: Vec<_> = body
                .chunks(chunk)
                .enumerate()
                .map(|(k, rows)| {
                    let check = &check;
                    scope.spawn(move || {
                        rows.iter()
                            .enumerate()
                            .filter_map(|(j, row)| check(k * chunk + j, row))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        tell("校验", total, total);
        // A dwelling's head: the register's, or the first row naming one.
        let mut heads: HashMap<PlaceKey, usize> = HashMap::new();
        for c in checked {
            report.rows += 1;
            let Checked {
                line,
                mut errs,
                id,
                blind,
                good: ok,
            } = c;
            if let Some(id) = id {
                if let Some(first) = seen.get(&id) {
                    errs.push(("身份证号".into(), format!("与第 {first} 行重复")));
                } else {
                    seen.insert(id, line);
                }
            }
            if let Some(b) = blind {
                ids.push((line, b));
            }
            if let Some((row, place)) = &ok
                && row.relation == Relation::Head.as_str()
            {
                if places.get(place).is_some_and(|p| p.has_head) {
                    errs.push((
                        column_of(RESIDENT_COLUMNS, "relation"),
                        "该房屋的住户已有户主，新成员请填写与户主的关系".into(),
                    ));
                } else if let Some(first) = heads.get(place) {
                    errs.push((
                        column_of(RESIDENT_COLUMNS, "relation"),
                        format!("与第 {first} 行同为户主"),
                    ));
                } else {
                    heads.insert(place.clone(), line);
                }
            }
            match ok {
                Some((row, place)) if errs.is_empty() => good.push(Good { line, place, row }),
                _ => {
                    for (column, message) in errs {
                        problems.add(line, column, message);
                    }
                }
            }
        }
        // Against the register: an ID number registered anywhere already.
        tell("查重", 0, 1);
        let blinds: Vec<Vec<u8>> = ids.iter().map(|(_, b)| b.clone()).collect();
        let existing = store::existing_blinds(
            &**self.store(),
            self.backend() == wangge_store::Backend::Postgres,
            &blinds,
        )
        .await?;
        let mut registered: std::collections::HashSet<usize> = std::collections::HashSet::new();
        for (line, blind) in &ids {
            if existing.contains(blind) {
                registered.insert(*line);
                problems.add(*line, "身份证号".into(), "该身份证号已在登记中".into());
            }
        }
        let keep: Vec<Good> = good
            .into_iter()
            .filter(|g| !registered.contains(&g.line))
            .collect();
        report.valid = keep.len();
        problems.report(&mut report, headers, body);
        let write = mode.writes(report.errors.is_empty());
        if !write || keep.is_empty() {
            return Ok(report);
        }
        tell("写入", 0, keep.len());
        // Households by dwelling, in the order of the file.
        let mut order: Vec<PlaceKey> = Vec::new();
        let mut by_place: HashMap<PlaceKey, Vec<ResidentRow>> = HashMap::new();
        for g in keep {
            if !by_place.contains_key(&g.place) {
                order.push(g.place.clone());
            }
            by_place.entry(g.place).or_default().push(g.row);
        }
        // Rows for a dwelling lived in already join its household.
        let mut households = Vec::with_capacity(order.len());
        for key in order {
            let Some(place) = places.get(&key) else {
                continue;
            };
            let rows = by_place.remove(&key).unwrap_or_default();
            let household = match place.household {
                Some(id) => BulkHousehold::Existing(id),
                None => {
                    report.households += 1;
                    BulkHousehold::New(HouseholdRow {
                        grid_id: place.grid_id,
                        dwelling_id: Some(place.dwelling_id),
                        address: format!("{}{}单元{}室", place.address, key.2, key.3),
                    })
                }
            };
            households.push((household, rows));
        }
        let audit = AuditEntry::new(self.now(), Some(actor.user_id), "register.import", "resident")
            .detail(json!({ "rows": report.rows, "imported": report.valid, "households": report.households, "mode": format!("{mode:?}") }));
        report.imported = self
            .store()
            .insert_households_bulk(households, audit)
            .await?;
        tell("完成", report.imported, report.imported);
        Ok(report)
    }

    /// The residents the actor may read, as a sheet: masked, or with full
    /// ID and phone numbers when `full` (needs the reveal permission;
    /// audited with the count). Cells that would be formulas are neutralised.
    pub async fn export_residents(
        &self,
        actor: &Actor,
        grid_id: Option<Id>,
        full: bool,
        xlsx: bool,
    ) -> Result<Vec<u8>, AppError> {
        let mut scope = self
            .scope_for(actor, if full { Action::Reveal } else { Action::Read })
            .await?;
        if scope.grid_ids.is_empty() {
            return Err(AppError::Forbidden);
        }
        if let Some(g) = grid_id {
            if !scope.grid_ids.contains(&g) {
                return Err(AppError::NotFound(crate::Resource::Grid));
            }
            scope.grid_ids = vec![g];
        }
        let list = store::export_residents(
            &**self.store(),
            &scope.grid_ids,
            scope.birth_cutoff_or_all(),
        )
        .await?;
        let mut rows = Vec::with_capacity(list.len());
        for r in &list {
            let (id, phone) = if full {
                (
                    self.vault
                        .decrypt(ID_FIELD, &r.id_cipher)
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                    r.phone_cipher
                        .as_ref()
                        .map(|c| self.vault.decrypt(PHONE_FIELD, c))
                        .transpose()
                        .map_err(|e| AppError::Internal(e.to_string()))?
                        .unwrap_or_default(),
                )
            } else {
                (
                    r.id_masked.clone(),
                    r.phone_masked.clone().unwrap_or_default(),
                )
            };
            let label =
                |code: &str, f: fn(&str) -> Option<&'static str>| f(code).unwrap_or("").to_owned();
            let tags: Vec<Tag> = serde_json::from_str(&r.tags).unwrap_or_default();
            let cells = [
                r.name.clone(),
                id,
                phone,
                r.ethnicity.clone(),
                label(&r.residence_type, |c| {
                    ResidenceType::parse(c).map(|x| x.label(Lang::Zh))
                }),
                label(&r.relation, |c| {
                    Relation::parse(c).map(|x| x.label(Lang::Zh))
                }),
                label(&r.political_status, |c| {
                    PoliticalStatus::parse(c).map(|x| x.label(Lang::Zh))
                }),
                sheet::tag_labels(&tags),
                r.building.clone().unwrap_or_default(),
                r.unit.map(|u| u.to_string()).unwrap_or_default(),
                r.door.clone().unwrap_or_default(),
            ];
            rows.push(cells.to_vec());
        }
        let headers: Vec<&str> = RESIDENT_COLUMNS.iter().map(|c| c.header).collect();
        self.sheet_out_with(
            actor,
            (export_action(full), "resident"),
            json!({ "grids": scope.grid_ids.len() }),
            "人口信息",
            &headers,
            rows,
            xlsx,
        )
        .await
    }

    /// Imports buildings (楼栋) from a CSV or XLSX file: each row's
    /// position must lie in one of the actor's grids (which the building
    /// joins; a 网格 cell, when filled, must name that grid), its number
    /// must be new in the community (and in the file); its units get every
    /// dwelling, doors numbered by floor. Every row checked first, then as
    /// `mode` says, in one transaction.
    pub async fn import_buildings(
        &self,
        actor: &Actor,
        bytes: &[u8],
        mode: ImportMode,
    ) -> Result<ImportReport, AppError> {
        let scope = self.scope_for(actor, Action::Create).await?;
        if scope.grid_ids.is_empty() {
            return Err(AppError::Forbidden);
        }
        let (table, map) = read_sheet(bytes, BUILDING_COLUMNS)?;
        let Some((headers, body)) = table.rows.split_first() else {
            return Err(AppError::invalid("file", "the file is empty", "文件是空的"));
        };
        let column = |f: &str| column_of(BUILDING_COLUMNS, f);
        let mut taken: HashMap<(Id, String), usize> = self
            .store()
            .all_buildings()
            .await?
            .into_iter()
            .map(|b| ((b.community_id, b.number), 0))
            .collect();
        let mut report = ImportReport::default();
        let mut problems = Problems::default();
        let mut buildings = Vec::new();
        for (i, row) in body.iter().enumerate() {
            if row.iter().all(|c| c.trim().is_empty()) || (i == 0 && sheet::is_notes_row(row)) {
                continue;
            }
            let line = i + 2;
            report.rows += 1;
            let mut errs: Vec<(String, String)> = Vec::new();
            let input = match sheet::building_form(&map, row).check() {
                Ok(input) => Some(input),
                Err(fields) => {
                    for f in fields {
                        let field = if f.field == "location" {
                            "lon"
                        } else {
                            f.field
                        };
                        errs.push((column(field), f.message(Lang::Zh).to_owned()));
                    }
                    None
                }
            };
            let mut placed = None;
            if let Some(input) = &input {
                match self.locate(input.location, None).await? {
                    crate::Located::Inside { grid } if scope.grid_ids.contains(&grid.grid.id) => {
                        let named = map.get(BUILDING_COLUMNS, row, "grid").trim();
                        if !named.is_empty()
                            && named != grid.grid.name
                            && named != grid.grid.code.as_str()
                        {
                            errs.push((
                                column("grid"),
                                format!("坐标位于{}，与所填网格不一致", grid.grid.name),
                            ));
                        }
                        let key = (grid.grid.community_id, input.number.clone());
                        match taken.get(&key) {
                            Some(0) => errs
                                .push((column("number"), format!("本社区已有{}栋", input.number))),
                            Some(first) => {
                                errs.push((column("number"), format!("与第 {first} 行重复")))
                            }
                            None => {
                                taken.insert(key, line);
                            }
                        }
                        placed = Some((grid.grid.community_id, grid.grid.id));
                    }
                    _ => errs.push((column("lon"), "该位置不在您负责的网格内".to_owned())),
                }
            }
            match (input, placed) {
                (Some(input), Some((community, grid))) if errs.is_empty() => {
                    buildings.push(crate::register::new_building(community, grid, input));
                }
                _ => {
                    for (column, message) in errs {
                        problems.add(line, column, message);
                    }
                }
            }
        }
        report.valid = buildings.len();
        problems.report(&mut report, headers, body);
        if mode.writes(report.errors.is_empty()) && !buildings.is_empty() {
            let audit = AuditEntry::new(self.now(), Some(actor.user_id), "register.import", "building")
                .detail(json!({ "rows": report.rows, "imported": report.valid, "mode": format!("{mode:?}") }));
            report.imported = self.store().create_buildings(buildings, audit).await?.len();
        }
        Ok(report)
    }

    /// Imports businesses (商户) from a CSV or XLSX file into the buildings
    /// of the actor's grids: every row checked first (credit code check
    /// character, duplicates in the file and in the register, building,
    /// unit and door, choices, dates), then as `mode` says.
    pub async fn import_businesses(
        &self,
        actor: &Actor,
        bytes: &[u8],
        mode: ImportMode,
    ) -> Result<ImportReport, AppError> {
        let scope = self.scope_for(actor, Action::Create).await?;
        if scope.grid_ids.is_empty() {
            return Err(AppError::Forbidden);
        }
        let (table, map) = read_sheet(bytes, BUSINESS_COLUMNS)?;
        let Some((headers, body)) = table.rows.split_first() else {
            return Err(AppError::invalid("file", "the file is empty", "文件是空的"));
        };
        let places = store::places(&**self.store(), &scope.grid_ids).await?;
        // Buildings by number: (community, grid) of each.
        let mut buildings: HashMap<String, Vec<(Id, Id)>> = HashMap::new();
        for ((c, b, _, _), p) in &places {
            let list = buildings.entry(b.clone()).or_default();
            if !list.iter().any(|(cc, _)| cc == c) {
                list.push((*c, p.grid_id));
            }
        }
        let today = self.today();
        let column = |f: &str| column_of(BUSINESS_COLUMNS, f);
        let mut report = ImportReport::default();
        let mut rows_out: Vec<(usize, BusinessRow)> = Vec::new();
        let mut problems = Problems::default();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, row) in body.iter().enumerate() {
            if row.iter().all(|c| c.trim().is_empty()) || (i == 0 && sheet::is_notes_row(row)) {
                continue;
            }
            let line = i + 2;
            report.rows += 1;
            let mut errs: Vec<(String, String)> = Vec::new();
            let input = match sheet::business_form(&map, row).check(today) {
                Ok(input) => Some(input),
                Err(fields) => {
                    for f in fields {
                        errs.push((column(f.field), f.message(Lang::Zh).to_owned()));
                    }
                    None
                }
            };
            let get = |f: &str| map.get(BUSINESS_COLUMNS, row, f);
            let building = wangge_core::org::building_number(get("building")).to_owned();
            let unit = get("unit").trim_end_matches("单元").to_owned();
            let door = get("door").trim_end_matches('室').to_owned();
            let place = match buildings.get(&building).map(Vec::as_slice) {
                None => {
                    errs.push(("楼栋".into(), format!("您负责的网格中没有{building}栋")));
                    None
                }
                Some([_, _, ..]) => {
                    errs.push((
                        "楼栋".into(),
                        format!("{building}栋在多个社区都有，请分社区导入"),
                    ));
                    None
                }
                Some([(c, grid)]) if unit.is_empty() && door.is_empty() => Some((*grid, None, *c)),
                Some([(c, _)]) => match unit
                    .parse::<i64>()
                    .ok()
                    .and_then(|u| places.get(&(*c, building.clone(), u, door.clone())))
                {
                    Some(p) => Some((p.grid_id, Some(p.dwelling_id), *c)),
                    None => {
                        errs.push(("房号".into(), format!("{building}栋没有{unit}单元{door}室")));
                        None
                    }
                },
                Some([]) => None,
            };
            if let Some(input) = &input {
                let code = input.credit_code.as_str().to_owned();
                if let Some(first) = seen.get(&code) {
                    errs.push(("统一社会信用代码".into(), format!("与第 {first} 行重复")));
                } else {
                    seen.insert(code, line);
                }
            }
            match (input, place) {
                (Some(input), Some((grid, dwelling, _))) if errs.is_empty() => {
                    rows_out.push((line, self.business_row(grid, dwelling, &input)?));
                }
                _ => {
                    for (column, message) in errs {
                        problems.add(line, column, message);
                    }
                }
            }
        }
        let codes: Vec<String> = rows_out
            .iter()
            .map(|(_, r)| r.credit_code.clone())
            .collect();
        let existing = store::existing_credit_codes(&**self.store(), &codes).await?;
        rows_out.retain(|(line, r)| {
            if existing.contains(&r.credit_code) {
                problems.add(
                    *line,
                    "统一社会信用代码".into(),
                    "该统一社会信用代码已在登记中".into(),
                );
                false
            } else {
                true
            }
        });
        report.valid = rows_out.len();
        problems.report(&mut report, headers, body);
        let write = mode.writes(report.errors.is_empty());
        if write && !rows_out.is_empty() {
            let audit = AuditEntry::new(self.now(), Some(actor.user_id), "register.import", "business")
                .detail(json!({ "rows": report.rows, "imported": report.valid, "mode": format!("{mode:?}") }));
            report.imported = self
                .store()
                .insert_businesses_bulk(rows_out.into_iter().map(|(_, r)| r).collect(), audit)
                .await?;
        }
        Ok(report)
    }

    /// The businesses the actor may read, as a sheet (phones masked unless
    /// `full`, which needs the reveal permission; audited).
    pub async fn export_businesses(
        &self,
        actor: &Actor,
        full: bool,
        xlsx: bool,
    ) -> Result<Vec<u8>, AppError> {
        let scope = self
            .scope_for(actor, if full { Action::Reveal } else { Action::Read })
            .await?;
        if scope.grid_ids.is_empty() {
            return Err(AppError::Forbidden);
        }
        let list = store::export_businesses(&**self.store(), &scope.grid_ids).await?;
        let mut rows = Vec::with_capacity(list.len());
        for b in &list {
            let phone = if full {
                b.phone_cipher
                    .as_ref()
                    .map(|c| self.vault.decrypt(crate::register::BUSINESS_PHONE_FIELD, c))
                    .transpose()
                    .map_err(|e| AppError::Internal(e.to_string()))?
                    .unwrap_or_default()
            } else {
                b.phone_masked.clone().unwrap_or_default()
            };
            let label =
                |code: &str, f: fn(&str) -> Option<&'static str>| f(code).unwrap_or("").to_owned();
            let cells = [
                b.name.clone(),
                b.credit_code.clone(),
                b.legal_rep.clone(),
                phone,
                b.address.clone(),
                b.opening_date.clone().unwrap_or_default(),
                label(&b.status, |c| {
                    wangge_core::register::BusinessStatus::parse(c).map(|x| x.label(Lang::Zh))
                }),
                label(&b.app_status, |c| {
                    wangge_core::register::AppStatus::parse(c).map(|x| x.label(Lang::Zh))
                }),
                b.app_reason
                    .as_deref()
                    .and_then(wangge_core::register::AppReason::parse)
                    .map(|r| r.label(Lang::Zh).to_owned())
                    .unwrap_or_default(),
                b.app_note.clone(),
                b.building.clone().unwrap_or_default(),
                b.unit.map(|u| u.to_string()).unwrap_or_default(),
                b.door.clone().unwrap_or_default(),
            ];
            rows.push(cells.to_vec());
        }
        let headers: Vec<&str> = BUSINESS_COLUMNS.iter().map(|c| c.header).collect();
        self.sheet_out(
            actor,
            (export_action(full), "business"),
            "商户信息",
            &headers,
            rows,
            xlsx,
        )
        .await
    }

    /// The cases the actor sees (as on the case list), as a sheet; audited.
    pub async fn export_cases(&self, actor: &Actor, xlsx: bool) -> Result<Vec<u8>, AppError> {
        let mut rows = Vec::new();
        let mut offset = 0;
        loop {
            let page = self
                .list_cases(
                    actor,
                    Vec::new(),
                    crate::register::Page { limit: 200, offset },
                )
                .await?;
            let n = page.len() as i64;
            rows.extend(page.into_iter().map(|c| {
                vec![
                    c.public_code,
                    c.category_name,
                    c.state_label,
                    c.grid_name.unwrap_or_default(),
                    c.address,
                    c.description,
                    c.department.unwrap_or_default(),
                    sheet_time(c.reported_at),
                ]
            }));
            offset += n;
            if n < 200 || offset >= 20_000 {
                break;
            }
        }
        self.sheet_out(
            actor,
            ("cases.export", "case"),
            "事件",
            &[
                "编号",
                "类别",
                "状态",
                "网格",
                "地址",
                "描述",
                "处置部门",
                "上报时间",
            ],
            rows,
            xlsx,
        )
        .await
    }
}

/// The audit action of a register export: full numbers are their own.
fn export_action(full: bool) -> &'static str {
    if full {
        "register.export_full"
    } else {
        "register.export"
    }
}

/// A time as sheets show it, in China time.
fn sheet_time(t: jiff::Timestamp) -> String {
    wangge_core::calendar::CHINA
        .to_datetime(t)
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

impl App {
    /// Rows under `headers` as one sheet, every cell neutralised; the
    /// export audited as `action` on `record` with its count.
    async fn sheet_out(
        &self,
        actor: &Actor,
        (action, record): (&str, &str),
        title: &str,
        headers: &[&str],
        rows: Vec<Vec<String>>,
        xlsx: bool,
    ) -> Result<Vec<u8>, AppError> {
        self.sheet_out_with(
            actor,
            (action, record),
            json!({}),
            title,
            headers,
            rows,
            xlsx,
        )
        .await
    }

    /// As [`App::sheet_out`], with more facts for the audit record.
    #[allow(clippy::too_many_arguments)]
    async fn sheet_out_with(
        &self,
        actor: &Actor,
        (action, record): (&str, &str),
        mut detail: serde_json::Value,
        title: &str,
        headers: &[&str],
        rows: Vec<Vec<String>>,
        xlsx: bool,
    ) -> Result<Vec<u8>, AppError> {
        let count = rows.len();
        detail["rows"] = json!(count);
        detail["format"] = json!(if xlsx { "xlsx" } else { "csv" });
        let mut out = Vec::with_capacity(count + 1);
        out.push(headers.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
        out.extend(
            rows.into_iter()
                .map(|r| r.iter().map(|c| sheet::neutralize(c)).collect()),
        );
        self.store()
            .append_audit(
                AuditEntry::new(self.now(), Some(actor.user_id), action, record).detail(detail),
            )
            .await?;
        if xlsx {
            wangge_sheets::write_xlsx(title, &out).map_err(|e| AppError::Internal(e.to_string()))
        } else {
            Ok(wangge_sheets::write_csv(&out))
        }
    }

    /// Names of the grids, by id.
    async fn grid_names(&self) -> Result<HashMap<Id, String>, AppError> {
        Ok(self
            .store()
            .list_grids(None)
            .await?
            .into_iter()
            .map(|g| (g.grid.id, g.grid.name))
            .collect())
    }

    /// The households the actor may read: address, grid, head, members.
    pub async fn export_households(&self, actor: &Actor, xlsx: bool) -> Result<Vec<u8>, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        if scope.grid_ids.is_empty() {
            return Err(AppError::Forbidden);
        }
        let grids = self.grid_names().await?;
        let mut rows = Vec::new();
        let page = 5_000;
        loop {
            let list = self
                .store()
                .households(
                    &scope,
                    wangge_store::HouseholdQuery {
                        grid_id: None,
                        unit_id: None,
                        limit: page,
                        offset: rows.len() as i64,
                    },
                )
                .await?;
            let n = list.len() as i64;
            rows.extend(list.into_iter().map(|h| {
                vec![
                    h.address,
                    grids.get(&h.grid_id).cloned().unwrap_or_default(),
                    h.head_name.unwrap_or_default(),
                    h.member_count.to_string(),
                ]
            }));
            if n < page {
                break;
            }
        }
        self.sheet_out(
            actor,
            ("register.export", "household"),
            "住户信息",
            &["地址", "网格", "户主", "人数"],
            rows,
            xlsx,
        )
        .await
    }

    /// The buildings of the actor's grids, in the columns of the buildings
    /// template (so that the sheet imports into another system as it is).
    pub async fn export_buildings(&self, actor: &Actor, xlsx: bool) -> Result<Vec<u8>, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        if scope.grid_ids.is_empty() {
            return Err(AppError::Forbidden);
        }
        let grids = self.grid_names().await?;
        let mut rows = Vec::new();
        for grid in &scope.grid_ids {
            for b in self.store().buildings_in_scope(&scope, *grid).await? {
                let units = self.store().units_of_building(b.id).await?;
                let per_floor = units.first().map_or(0, |u| u.dwellings_per_floor);
                rows.push(vec![
                    b.number,
                    b.name,
                    b.address,
                    format!("{:.6}", b.location.lon),
                    format!("{:.6}", b.location.lat),
                    b.floors.to_string(),
                    b.building_use.label(Lang::Zh).to_owned(),
                    units.len().to_string(),
                    per_floor.to_string(),
                    grids.get(&b.grid_id).cloned().unwrap_or_default(),
                ]);
            }
        }
        let headers: Vec<&str> = BUILDING_COLUMNS.iter().map(|c| c.header).collect();
        self.sheet_out(
            actor,
            ("register.export", "building"),
            "楼栋信息",
            &headers,
            rows,
            xlsx,
        )
        .await
    }

    /// The visits of the actor's grids over a period.
    pub async fn export_visits(
        &self,
        actor: &Actor,
        period: &crate::field::Period,
        xlsx: bool,
    ) -> Result<Vec<u8>, AppError> {
        let grids = self.grid_names().await?;
        let rows = self
            .visits(actor, None, period)
            .await?
            .into_iter()
            .map(|v| {
                vec![
                    sheet_time(v.visited_at),
                    v.address,
                    grids.get(&v.grid_id).cloned().unwrap_or_default(),
                    v.worker_name,
                    v.resident_name.unwrap_or_default(),
                    v.mode.label(Lang::Zh).to_owned(),
                    v.visitors,
                    v.situation,
                    v.needs
                        .iter()
                        .map(|n| format!("{}：{}", n.kind.label(Lang::Zh), n.detail))
                        .collect::<Vec<_>>()
                        .join("；"),
                    if v.on_time { "是" } else { "否" }.to_owned(),
                ]
            })
            .collect();
        self.sheet_out(
            actor,
            ("visits.export", "visit"),
            "走访记录",
            &[
                "走访时间",
                "地址",
                "网格",
                "网格员",
                "走访对象",
                "方式",
                "同行人员",
                "情况",
                "需求",
                "按时",
            ],
            rows,
            xlsx,
        )
        .await
    }

    /// A campaign's targets the actor sees, in door-to-door order: place,
    /// who, status with the reason and note, last change.
    pub async fn export_campaign_targets(
        &self,
        actor: &Actor,
        campaign_id: Id,
        xlsx: bool,
    ) -> Result<Vec<u8>, AppError> {
        let rows = self
            .campaign_targets(actor, campaign_id, None, None)
            .await?
            .into_iter()
            .map(|t| {
                vec![
                    t.placement.label(),
                    t.label,
                    t.status.label(Lang::Zh).to_owned(),
                    t.reason
                        .map(|r| r.label(Lang::Zh).to_owned())
                        .unwrap_or_default(),
                    t.note,
                    t.updated_at.map(sheet_time).unwrap_or_default(),
                    t.updated_by_name.unwrap_or_default(),
                ]
            })
            .collect();
        self.sheet_out(
            actor,
            ("campaign.export", "campaign"),
            "走访对象",
            &["位置", "对象", "状态", "原因", "说明", "更新时间", "更新人"],
            rows,
            xlsx,
        )
        .await
    }

    /// The opinions (民意) of the actor's grids, or the resident's own.
    pub async fn export_opinions(&self, actor: &Actor, xlsx: bool) -> Result<Vec<u8>, AppError> {
        let grids = self.grid_names().await?;
        let rows = self
            .opinions(actor, None, None)
            .await?
            .into_iter()
            .map(|o| {
                vec![
                    sheet_time(o.created_at),
                    grids.get(&o.grid_id).cloned().unwrap_or_default(),
                    o.topic.label(Lang::Zh).to_owned(),
                    o.body,
                    o.voiced_by,
                    o.submitted_by_name,
                    o.status.label(Lang::Zh).to_owned(),
                    o.answer.unwrap_or_default(),
                    o.answered_by_name.unwrap_or_default(),
                ]
            })
            .collect();
        self.sheet_out(
            actor,
            ("opinions.export", "opinion"),
            "民意诉求",
            &[
                "时间",
                "网格",
                "类别",
                "内容",
                "反映人",
                "记录人",
                "状态",
                "答复",
                "答复人",
            ],
            rows,
            xlsx,
        )
        .await
    }

    /// The referrals (帮扶转介) of the actor's grids.
    pub async fn export_referrals(&self, actor: &Actor, xlsx: bool) -> Result<Vec<u8>, AppError> {
        let grids = self.grid_names().await?;
        let rows = self
            .referrals(actor, None, None)
            .await?
            .into_iter()
            .map(|r| {
                vec![
                    r.address,
                    grids.get(&r.grid_id).cloned().unwrap_or_default(),
                    r.resident_name.unwrap_or_default(),
                    r.need_kind.label(Lang::Zh).to_owned(),
                    r.programme.label(Lang::Zh).to_owned(),
                    r.detail,
                    r.status.label(Lang::Zh).to_owned(),
                    r.created_by_name,
                    sheet_time(r.created_at),
                ]
            })
            .collect();
        self.sheet_out(
            actor,
            ("referrals.export", "referral"),
            "帮扶转介",
            &[
                "地址",
                "网格",
                "对象",
                "需求类别",
                "帮扶项目",
                "说明",
                "状态",
                "登记人",
                "登记时间",
            ],
            rows,
            xlsx,
        )
        .await
    }
}
