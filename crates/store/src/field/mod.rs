//! Storage of field work: patrols, care visits and referrals, campaigns
//! and their QR tokens, opinions and notices.
//!
//! Written once for both backends. Each operation is SQL text both
//! dialects accept (lists as `= ANY($n)`, which SQLite reads as a JSON
//! array), values to bind and a mapping of the rows; a backend only runs
//! statements: [`FieldStore::field_query`] and, atomically with an audit
//! record, [`FieldStore::field_write`].

pub mod campaign;
pub mod patrol;
pub mod visit;
pub mod voice;

use std::borrow::Cow;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use wangge_core::org::Id;
use wangge_core::time;

use crate::audit::AuditEntry;
use crate::error::{StoreError, StoreResult};

/// A value bound to a statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
    Bool(bool),
    /// A list, compared with `= ANY($n)`.
    Ids(Vec<Id>),
    /// A list of text, compared with `= ANY($n)`.
    Texts(Vec<String>),
    /// The id the first step of a write returned.
    FirstId,
}

impl Val {
    pub fn id(id: Id) -> Val {
        Val::Int(Some(id))
    }
    pub fn time(at: Timestamp) -> Val {
        Val::Int(Some(time::to_micros(at)))
    }
    pub fn opt_time(at: Option<Timestamp>) -> Val {
        Val::Int(at.map(time::to_micros))
    }
    pub fn text(s: impl Into<String>) -> Val {
        Val::Text(Some(s.into()))
    }
    pub fn json<T: serde::Serialize + ?Sized>(v: &T) -> StoreResult<Val> {
        serde_json::to_string(v)
            .map(|s| Val::Text(Some(s)))
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Bool(bool),
}

/// A row read back, its cells in the order of the `SELECT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> StoreResult<&Cell> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("no column {i}")))
    }

    fn wrong(&self, i: usize, want: &str) -> StoreError {
        StoreError::Corrupt(format!("column {i} is not {want}: {:?}", self.0.get(i)))
    }

    pub fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            _ => Err(self.wrong(i, "an integer")),
        }
    }
    pub fn int(&self, i: usize) -> StoreResult<i64> {
        self.opt_int(i)?.ok_or_else(|| self.wrong(i, "set"))
    }
    pub fn opt_real(&self, i: usize) -> StoreResult<Option<f64>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Real(v) => Ok(Some(*v)),
            Cell::Int(v) => Ok(Some(*v as f64)),
            _ => Err(self.wrong(i, "a number")),
        }
    }
    pub fn real(&self, i: usize) -> StoreResult<f64> {
        self.opt_real(i)?.ok_or_else(|| self.wrong(i, "set"))
    }
    pub fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(v) => Ok(Some(v.clone())),
            _ => Err(self.wrong(i, "text")),
        }
    }
    pub fn text(&self, i: usize) -> StoreResult<String> {
        self.opt_text(i)?.ok_or_else(|| self.wrong(i, "set"))
    }
    pub fn boolean(&self, i: usize) -> StoreResult<bool> {
        match self.cell(i)? {
            Cell::Bool(v) => Ok(*v),
            Cell::Int(v) => Ok(*v != 0),
            _ => Err(self.wrong(i, "a boolean")),
        }
    }
    pub fn time(&self, i: usize) -> StoreResult<Timestamp> {
        Ok(time::from_micros(self.int(i)?))
    }
    pub fn opt_time(&self, i: usize) -> StoreResult<Option<Timestamp>> {
        Ok(self.opt_int(i)?.map(time::from_micros))
    }
    pub fn opt_blob(&self, i: usize) -> StoreResult<Option<Vec<u8>>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Blob(v) => Ok(Some(v.clone())),
            _ => Err(self.wrong(i, "bytes")),
        }
    }
    pub fn blob(&self, i: usize) -> StoreResult<Vec<u8>> {
        self.opt_blob(i)?.ok_or_else(|| self.wrong(i, "set"))
    }
    pub fn json<T: DeserializeOwned>(&self, i: usize) -> StoreResult<T> {
        serde_json::from_str(&self.text(i)?).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
    /// A stored code of a text enum.
    pub fn code<T>(&self, i: usize, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
        let s = self.text(i)?;
        parse(&s).ok_or_else(|| StoreError::Corrupt(format!("unknown code {s:?}")))
    }
    pub fn opt_code<T>(&self, i: usize, parse: fn(&str) -> Option<T>) -> StoreResult<Option<T>> {
        match self.opt_text(i)? {
            None => Ok(None),
            Some(s) => parse(&s)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown code {s:?}"))),
        }
    }
    pub fn date(&self, i: usize) -> StoreResult<jiff::civil::Date> {
        self.text(i)?
            .parse()
            .map_err(|e: jiff::Error| StoreError::Corrupt(e.to_string()))
    }
    pub fn opt_date(&self, i: usize) -> StoreResult<Option<jiff::civil::Date>> {
        match self.opt_text(i)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|e: jiff::Error| StoreError::Corrupt(e.to_string())),
        }
    }
}

/// One statement with its values.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: &'static str,
    pub params: Vec<Val>,
}

impl Stmt {
    pub fn new(sql: &'static str, params: Vec<Val>) -> Self {
        Self { sql, params }
    }
}

/// What a step of a write must do.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Returns the new row's id (the first step only; `RETURNING id`).
    Id,
    /// Touches any number of rows.
    Any,
    /// Touches exactly one row, or the write fails with this error.
    One(StoreError),
}

#[derive(Debug, Clone)]
pub struct Step {
    pub stmt: Stmt,
    pub expect: Expect,
}

/// Statements applied in one transaction, with an audit record.
#[derive(Debug, Clone, Default)]
pub struct Write {
    pub steps: Vec<Step>,
    /// Appended last; given the first step's id when it has no record id.
    pub audit: Option<AuditEntry>,
}

impl Write {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn insert(mut self, sql: &'static str, params: Vec<Val>) -> Self {
        self.steps.push(Step {
            stmt: Stmt::new(sql, params),
            expect: Expect::Id,
        });
        self
    }
    pub fn exec(mut self, sql: &'static str, params: Vec<Val>) -> Self {
        self.steps.push(Step {
            stmt: Stmt::new(sql, params),
            expect: Expect::Any,
        });
        self
    }
    pub fn exec_one(mut self, sql: &'static str, params: Vec<Val>, error: StoreError) -> Self {
        self.steps.push(Step {
            stmt: Stmt::new(sql, params),
            expect: Expect::One(error),
        });
        self
    }
    pub fn audit(mut self, entry: AuditEntry) -> Self {
        self.audit = Some(entry);
        self
    }
}

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    pub id: Option<Id>,
    /// Rows touched by the steps that do not return an id.
    pub rows: u64,
}

impl Outcome {
    pub fn id(&self) -> StoreResult<Id> {
        self.id
            .ok_or_else(|| StoreError::Corrupt("the write returned no id".into()))
    }
}

/// The two primitives a backend provides for field work.
#[async_trait]
pub trait FieldStore: Send + Sync {
    async fn field_query(&self, stmt: Stmt) -> StoreResult<Vec<Row>>;
    async fn field_write(&self, write: Write) -> StoreResult<Outcome>;
}

pub(crate) async fn query<T>(
    db: &dyn FieldStore,
    sql: &'static str,
    params: Vec<Val>,
    map: impl Fn(&Row) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    db.field_query(Stmt::new(sql, params))
        .await?
        .iter()
        .map(map)
        .collect()
}

pub(crate) async fn query_one<T>(
    db: &dyn FieldStore,
    sql: &'static str,
    params: Vec<Val>,
    map: impl Fn(&Row) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    Ok(query(db, sql, params, map).await?.into_iter().next())
}

/// SQLite's spelling of a shared statement: `= ANY($n)` becomes
/// `IN (SELECT value FROM json_each($n))` (the list bound as JSON).
pub(crate) fn sqlite_sql(sql: &str) -> Cow<'_, str> {
    if !sql.contains("= ANY($") {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 64);
    let mut rest = sql;
    while let Some(i) = rest.find("= ANY($") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "= ANY(".len()..];
        let end = after.find(')').unwrap_or(after.len());
        out.push_str("IN (SELECT value FROM json_each(");
        out.push_str(&after[..end]);
        out.push_str("))");
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Every statement of the field-work modules, for the parameter check.
#[cfg(test)]
pub(crate) fn all_statements() -> Vec<&'static str> {
    let mut all = Vec::new();
    all.extend_from_slice(patrol::STATEMENTS);
    all.extend_from_slice(visit::STATEMENTS);
    all.extend_from_slice(campaign::STATEMENTS);
    all.extend_from_slice(voice::STATEMENTS);
    all.extend_from_slice(crate::search::STATEMENTS);
    all.extend_from_slice(crate::sheet::STATEMENTS);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_spelled_for_sqlite() {
        assert_eq!(
            sqlite_sql("SELECT 1 WHERE a = ANY($1) AND b = ANY($2) LIMIT $3"),
            "SELECT 1 WHERE a IN (SELECT value FROM json_each($1)) AND b IN (SELECT value FROM json_each($2)) LIMIT $3"
        );
        assert!(matches!(sqlite_sql("SELECT 1"), Cow::Borrowed(_)));
    }

    /// SQLite numbers `$n` by first appearance; binding by position needs
    /// them to appear in order, each at least once.
    #[test]
    fn every_statement_numbers_its_parameters_in_order() {
        for sql in all_statements() {
            let mut seen = Vec::new();
            let b = sql.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'$' {
                    let digits: String = sql[i + 1..]
                        .chars()
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    let n: usize = digits.parse().unwrap();
                    if !seen.contains(&n) {
                        seen.push(n);
                    }
                    i += digits.len();
                }
                i += 1;
            }
            let want: Vec<usize> = (1..=seen.len()).collect();
            assert_eq!(seen, want, "{sql}");
        }
    }
}
