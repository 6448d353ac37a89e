//! The two field-work primitives on SQLite.

use async_trait::async_trait;
use rusqlite::Connection;
use rusqlite::types::{Value, ValueRef};

use super::SqliteStore;
use super::register::append_audit;
use crate::error::StoreResult;
use crate::field::{Cell, Expect, FieldStore, Outcome, Row, Stmt, Val, Write, sqlite_sql};
use wangge_core::org::Id;

fn bind(params: &[Val], first_id: Option<Id>) -> Vec<Value> {
    params
        .iter()
        .map(|v| match v {
            Val::Int(i) => i.map_or(Value::Null, Value::Integer),
            Val::Real(f) => f.map_or(Value::Null, Value::Real),
            Val::Text(t) => t.clone().map_or(Value::Null, Value::Text),
            Val::Blob(b) => b.clone().map_or(Value::Null, Value::Blob),
            Val::Bool(b) => Value::Integer(i64::from(*b)),
            Val::Ids(ids) => Value::Text(format!(
                "[{}]",
                ids.iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )),
            Val::Texts(list) => {
                Value::Text(serde_json::to_string(list).unwrap_or_else(|_| "[]".into()))
            }
            Val::FirstId => first_id.map_or(Value::Null, Value::Integer),
        })
        .collect()
}

fn cell(v: ValueRef<'_>) -> Cell {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Real(f),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
    }
}

fn run_query(conn: &Connection, stmt: &Stmt) -> StoreResult<Vec<Row>> {
    let mut prepared = conn.prepare_cached(&sqlite_sql(stmt.sql))?;
    let width = prepared.column_count();
    let mut rows = prepared.query(rusqlite::params_from_iter(bind(&stmt.params, None)))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut cells = Vec::with_capacity(width);
        for i in 0..width {
            cells.push(cell(r.get_ref(i)?));
        }
        out.push(Row(cells));
    }
    Ok(out)
}

/// Rows a statement touched: those it returns when it has `RETURNING`.
fn touch(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> StoreResult<u64> {
    if stmt.column_count() == 0 {
        return Ok(stmt.execute(params)? as u64);
    }
    let mut rows = stmt.query(params)?;
    let mut n = 0;
    while rows.next()?.is_some() {
        n += 1;
    }
    Ok(n)
}

fn run_write(conn: &Connection, write: Write) -> StoreResult<Outcome> {
    let mut outcome = Outcome::default();
    for step in write.steps {
        let sql = sqlite_sql(step.stmt.sql);
        let params = rusqlite::params_from_iter(bind(&step.stmt.params, outcome.id));
        let mut prepared = conn.prepare_cached(&sql)?;
        match step.expect {
            Expect::Id => {
                let id: Id = prepared.query_row(params, |r| r.get(0))?;
                outcome.id.get_or_insert(id);
            }
            Expect::Any => outcome.rows += touch(&mut prepared, params)?,
            Expect::One(error) => {
                if touch(&mut prepared, params)? != 1 {
                    return Err(error);
                }
                outcome.rows += 1;
            }
        }
    }
    if let Some(mut audit) = write.audit {
        if audit.record_id.is_none() {
            audit.record_id = outcome.id;
        }
        append_audit(conn, &audit)?;
    }
    Ok(outcome)
}

#[async_trait]
impl FieldStore for SqliteStore {
    async fn field_query(&self, stmt: Stmt) -> StoreResult<Vec<Row>> {
        self.read(move |c| run_query(c, &stmt)).await
    }

    async fn field_write(&self, write: Write) -> StoreResult<Outcome> {
        self.write(move |c| run_write(c, write)).await
    }
}
