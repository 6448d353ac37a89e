//! The two field-work primitives on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Column, Postgres, Row as _, TypeInfo};

use super::PgStore;
use super::register::append_audit;
use crate::error::{StoreError, StoreResult};
use crate::field::{Cell, Expect, FieldStore, Outcome, Row, Stmt, Val, Write};
use wangge_core::org::Id;

fn bind<'q>(
    mut q: Query<'q, Postgres, PgArguments>,
    params: &[Val],
    first_id: Option<Id>,
) -> Query<'q, Postgres, PgArguments> {
    for v in params {
        q = match v {
            Val::Int(i) => q.bind(*i),
            Val::Real(f) => q.bind(*f),
            Val::Text(t) => q.bind(t.clone()),
            Val::Blob(b) => q.bind(b.clone()),
            Val::Bool(b) => q.bind(*b),
            Val::Ids(ids) => q.bind(ids.clone()),
            Val::Texts(list) => q.bind(list.clone()),
            Val::FirstId => q.bind(first_id),
        };
    }
    q
}

fn decode(row: &PgRow) -> StoreResult<Row> {
    let mut cells = Vec::with_capacity(row.columns().len());
    for (i, col) in row.columns().iter().enumerate() {
        let cell = match col.type_info().name() {
            "INT8" => row.try_get::<Option<i64>, _>(i)?.map(Cell::Int),
            "INT4" => row
                .try_get::<Option<i32>, _>(i)?
                .map(|v| Cell::Int(v.into())),
            "INT2" => row
                .try_get::<Option<i16>, _>(i)?
                .map(|v| Cell::Int(v.into())),
            "FLOAT8" => row.try_get::<Option<f64>, _>(i)?.map(Cell::Real),
            "FLOAT4" => row
                .try_get::<Option<f32>, _>(i)?
                .map(|v| Cell::Real(v.into())),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
                row.try_get::<Option<String>, _>(i)?.map(Cell::Text)
            }
            "BOOL" => row.try_get::<Option<bool>, _>(i)?.map(Cell::Bool),
            "BYTEA" => row.try_get::<Option<Vec<u8>>, _>(i)?.map(Cell::Blob),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "column {} has unexpected type {other}",
                    col.name()
                )));
            }
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row(cells))
}

#[async_trait]
impl FieldStore for PgStore {
    async fn field_query(&self, stmt: Stmt) -> StoreResult<Vec<Row>> {
        let q = bind(sqlx::query(stmt.sql), &stmt.params, None);
        q.fetch_all(&self.pool).await?.iter().map(decode).collect()
    }

    async fn field_write(&self, write: Write) -> StoreResult<Outcome> {
        let mut tx = self.pool.begin().await?;
        let mut outcome = Outcome::default();
        for step in write.steps {
            let q = bind(sqlx::query(step.stmt.sql), &step.stmt.params, outcome.id);
            match step.expect {
                Expect::Id => {
                    let row = q.fetch_one(&mut *tx).await?;
                    let id: Id = row.try_get(0)?;
                    outcome.id.get_or_insert(id);
                }
                Expect::Any => outcome.rows += q.execute(&mut *tx).await?.rows_affected(),
                Expect::One(error) => {
                    if q.execute(&mut *tx).await?.rows_affected() != 1 {
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
            append_audit(&mut tx, &audit).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }
}
