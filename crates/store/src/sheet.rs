//! Queries of spreadsheet import and export, written once for both
//! backends (see [`crate::field`]).

use std::collections::{HashMap, HashSet};

use wangge_core::org::Id;

use crate::error::StoreResult;
use crate::field::{FieldStore, Stmt, Val, query};

/// A dwelling a sheet row can name: community, building, unit and door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub dwelling_id: Id,
    pub grid_id: Id,
    pub community_id: Id,
    pub address: String,
    /// The household living there already, and whether it has a head.
    pub household: Option<Id>,
    pub has_head: bool,
}

/// `(community id, building number, unit number, door)`.
pub type PlaceKey = (Id, String, i64, String);

pub(crate) const PLACES: &str = "SELECT b.community_id, b.number, u.number, d.number, d.id, b.grid_id, b.address, \
     (SELECT min(h.id) FROM households h WHERE h.dwelling_id = d.id), \
     EXISTS (SELECT 1 FROM residents r JOIN households h ON h.id = r.household_id \
             WHERE h.dwelling_id = d.id AND r.relation = 'head') \
     FROM dwellings d JOIN units u ON u.id = d.unit_id JOIN buildings b ON b.id = u.building_id \
     WHERE b.grid_id = ANY($1)";
const BLINDS_SQLITE: &str = "SELECT hex(id_blind) FROM residents WHERE id_blind IN (SELECT unhex(value) FROM json_each($1))";
const BLINDS_POSTGRES: &str = "SELECT upper(encode(id_blind, 'hex')) FROM residents \
     WHERE id_blind IN (SELECT decode(value, 'hex') FROM jsonb_array_elements_text(CAST($1 AS jsonb)))";
pub(crate) const EXPORT_RESIDENTS: &str = "SELECT r.id, r.name, r.id_masked, r.phone_masked, r.ethnicity, r.residence_type, \
     r.relation, r.political_status, r.tags, b.number, u.number, d.number, r.id_cipher, r.phone_cipher, r.grid_id, h.address \
     FROM residents r JOIN households h ON h.id = r.household_id LEFT JOIN dwellings d ON d.id = h.dwelling_id \
     LEFT JOIN units u ON u.id = d.unit_id LEFT JOIN buildings b ON b.id = u.building_id \
     WHERE r.grid_id = ANY($1) AND r.birth_date <= $2 ORDER BY b.number, u.number, d.number, r.household_id, r.id";

pub(crate) const CREDIT_CODES: &str =
    "SELECT credit_code FROM businesses WHERE credit_code = ANY($1)";
pub(crate) const EXPORT_BUSINESSES: &str = "SELECT s.name, s.credit_code, s.legal_rep, s.phone_masked, s.phone_cipher, s.address, \
     s.opening_date, s.status, s.app_status, s.app_reason, s.app_note, b.number, u.number, d.number \
     FROM businesses s LEFT JOIN dwellings d ON d.id = s.dwelling_id LEFT JOIN units u ON u.id = d.unit_id \
     LEFT JOIN buildings b ON b.id = u.building_id WHERE s.grid_id = ANY($1) ORDER BY s.grid_id, s.id";

#[cfg(test)]
pub(crate) const STATEMENTS: &[&str] = &[
    PLACES,
    BLINDS_SQLITE,
    BLINDS_POSTGRES,
    EXPORT_RESIDENTS,
    CREDIT_CODES,
    EXPORT_BUSINESSES,
];

/// Which of these credit codes the register holds already.
pub async fn existing_credit_codes(
    db: &dyn FieldStore,
    codes: &[String],
) -> StoreResult<HashSet<String>> {
    let mut found = HashSet::new();
    for chunk in codes.chunks(5_000) {
        for r in db
            .field_query(Stmt::new(CREDIT_CODES, vec![Val::Texts(chunk.to_vec())]))
            .await?
        {
            found.insert(r.text(0)?);
        }
    }
    Ok(found)
}

/// A business as exported.
#[derive(Debug, Clone)]
pub struct ExportBusiness {
    pub name: String,
    pub credit_code: String,
    pub legal_rep: String,
    pub phone_masked: Option<String>,
    pub phone_cipher: Option<Vec<u8>>,
    pub address: String,
    pub opening_date: Option<String>,
    pub status: String,
    pub app_status: String,
    pub app_reason: Option<String>,
    pub app_note: String,
    pub building: Option<String>,
    pub unit: Option<i64>,
    pub door: Option<String>,
}

pub async fn export_businesses(
    db: &dyn FieldStore,
    grid_ids: &[Id],
) -> StoreResult<Vec<ExportBusiness>> {
    query(
        db,
        EXPORT_BUSINESSES,
        vec![Val::Ids(grid_ids.to_vec())],
        |r| {
            Ok(ExportBusiness {
                name: r.text(0)?,
                credit_code: r.text(1)?,
                legal_rep: r.text(2)?,
                phone_masked: r.opt_text(3)?,
                phone_cipher: r.opt_blob(4)?,
                address: r.text(5)?,
                opening_date: r.opt_text(6)?,
                status: r.text(7)?,
                app_status: r.text(8)?,
                app_reason: r.opt_text(9)?,
                app_note: r.text(10)?,
                building: r.opt_text(11)?,
                unit: r.opt_int(12)?,
                door: r.opt_text(13)?,
            })
        },
    )
    .await
}

/// The dwellings of the grids, by the key a sheet row names them with.
pub async fn places(db: &dyn FieldStore, grid_ids: &[Id]) -> StoreResult<HashMap<PlaceKey, Place>> {
    let rows = db
        .field_query(Stmt::new(PLACES, vec![Val::Ids(grid_ids.to_vec())]))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        out.insert(
            (r.int(0)?, r.text(1)?, r.int(2)?, r.text(3)?),
            Place {
                dwelling_id: r.int(4)?,
                grid_id: r.int(5)?,
                community_id: r.int(0)?,
                address: r.text(6)?,
                household: r.opt_int(7)?,
                has_head: r.boolean(8)?,
            },
        );
    }
    Ok(out)
}

/// Which of these blind indexes the register holds already (anywhere).
pub async fn existing_blinds(
    db: &dyn FieldStore,
    postgres: bool,
    blinds: &[Vec<u8>],
) -> StoreResult<HashSet<Vec<u8>>> {
    let mut found = HashSet::new();
    for chunk in blinds.chunks(5_000) {
        let list: Vec<String> = chunk
            .iter()
            .map(|b| format!("\"{}\"", hex::encode_upper(b)))
            .collect();
        let json = format!("[{}]", list.join(","));
        let sql = if postgres {
            BLINDS_POSTGRES
        } else {
            BLINDS_SQLITE
        };
        for r in db
            .field_query(Stmt::new(sql, vec![Val::text(json)]))
            .await?
        {
            if let Ok(b) = hex::decode(r.text(0)?) {
                found.insert(b);
            }
        }
    }
    Ok(found)
}

/// A resident as exported: masked fields, and the ciphers for an
/// authorised, audited export with full numbers.
#[derive(Debug, Clone)]
pub struct ExportResident {
    pub id: Id,
    pub name: String,
    pub id_masked: String,
    pub phone_masked: Option<String>,
    pub ethnicity: String,
    pub residence_type: String,
    pub relation: String,
    pub political_status: String,
    pub tags: String,
    pub building: Option<String>,
    pub unit: Option<i64>,
    pub door: Option<String>,
    pub id_cipher: Vec<u8>,
    pub phone_cipher: Option<Vec<u8>>,
    pub grid_id: Id,
    pub address: String,
}

pub async fn export_residents(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    born_on_or_before: &str,
) -> StoreResult<Vec<ExportResident>> {
    query(
        db,
        EXPORT_RESIDENTS,
        vec![Val::Ids(grid_ids.to_vec()), Val::text(born_on_or_before)],
        |r| {
            Ok(ExportResident {
                id: r.int(0)?,
                name: r.text(1)?,
                id_masked: r.text(2)?,
                phone_masked: r.opt_text(3)?,
                ethnicity: r.text(4)?,
                residence_type: r.text(5)?,
                relation: r.text(6)?,
                political_status: r.text(7)?,
                tags: r.text(8)?,
                building: r.opt_text(9)?,
                unit: r.opt_int(10)?,
                door: r.opt_text(11)?,
                id_cipher: r.blob(12)?,
                phone_cipher: r.opt_blob(13)?,
                grid_id: r.int(14)?,
                address: r.text(15)?,
            })
        },
    )
    .await
}
