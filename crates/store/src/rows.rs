//! Row → domain mapping, written once for both backends over [`RowLike`].

use wangge_core::codes::{
    CodeError, CommunityCode, DistrictCode, ExternalGridCode, GridCode, StreetCode,
};
use wangge_core::org::{
    BoundaryVersion, Building, BuildingUse, Community, CommunitySummary, Grid, GridSummary, Unit,
};
use wangge_core::{GeoPoint, time};

use crate::error::{StoreError, StoreResult};
use crate::model::BoundaryRow;

/// Column access common to `rusqlite::Row` and `sqlx::postgres::PgRow`.
pub(crate) trait RowLike {
    fn int(&self, idx: usize) -> StoreResult<i64>;
    fn opt_int(&self, idx: usize) -> StoreResult<Option<i64>>;
    fn float(&self, idx: usize) -> StoreResult<f64>;
    fn text(&self, idx: usize) -> StoreResult<String>;
    fn opt_text(&self, idx: usize) -> StoreResult<Option<String>>;
}

impl RowLike for rusqlite::Row<'_> {
    fn int(&self, idx: usize) -> StoreResult<i64> {
        Ok(self.get(idx)?)
    }
    fn opt_int(&self, idx: usize) -> StoreResult<Option<i64>> {
        Ok(self.get(idx)?)
    }
    fn float(&self, idx: usize) -> StoreResult<f64> {
        Ok(self.get(idx)?)
    }
    fn text(&self, idx: usize) -> StoreResult<String> {
        Ok(self.get(idx)?)
    }
    fn opt_text(&self, idx: usize) -> StoreResult<Option<String>> {
        Ok(self.get(idx)?)
    }
}

impl RowLike for sqlx::postgres::PgRow {
    fn int(&self, idx: usize) -> StoreResult<i64> {
        Ok(sqlx::Row::try_get(self, idx)?)
    }
    fn opt_int(&self, idx: usize) -> StoreResult<Option<i64>> {
        Ok(sqlx::Row::try_get(self, idx)?)
    }
    fn float(&self, idx: usize) -> StoreResult<f64> {
        Ok(sqlx::Row::try_get(self, idx)?)
    }
    fn text(&self, idx: usize) -> StoreResult<String> {
        Ok(sqlx::Row::try_get(self, idx)?)
    }
    fn opt_text(&self, idx: usize) -> StoreResult<Option<String>> {
        Ok(sqlx::Row::try_get(self, idx)?)
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn code<T>(parse: fn(&str) -> Result<T, CodeError>, s: String) -> StoreResult<T> {
    parse(&s).map_err(|e| corrupt(&format!("code {s}"), e))
}

pub(crate) fn community_summary(r: &impl RowLike) -> StoreResult<CommunitySummary> {
    Ok(CommunitySummary {
        community: Community {
            id: r.int(0)?,
            street_id: r.int(1)?,
            code: code(CommunityCode::parse, r.text(2)?)?,
            name: r.text(3)?,
        },
        street_code: code(StreetCode::parse, r.text(4)?)?,
        street_name: r.text(5)?,
        district_code: code(DistrictCode::parse, r.text(6)?)?,
        district_name: r.text(7)?,
        grid_count: r.int(8)?,
    })
}

pub(crate) fn grid_summary(r: &impl RowLike) -> StoreResult<GridSummary> {
    Ok(GridSummary {
        grid: Grid {
            id: r.int(0)?,
            community_id: r.int(1)?,
            code: code(GridCode::parse, r.text(2)?)?,
            name: r.text(3)?,
            external_code: r
                .opt_text(4)?
                .map(|s| code(ExternalGridCode::parse, s))
                .transpose()?,
        },
        community_code: code(CommunityCode::parse, r.text(5)?)?,
        community_name: r.text(6)?,
        street_code: code(StreetCode::parse, r.text(7)?)?,
        street_name: r.text(8)?,
        district_code: code(DistrictCode::parse, r.text(9)?)?,
        district_name: r.text(10)?,
        building_count: r.int(11)?,
    })
}

pub(crate) fn boundary_version(r: &impl RowLike) -> StoreResult<BoundaryVersion> {
    Ok(BoundaryVersion {
        grid_id: r.int(0)?,
        version: r.int(1)?,
        valid_from: time::from_micros(r.int(2)?),
        valid_to: r.opt_int(3)?.map(time::from_micros),
        geometry: r.text(4)?,
    })
}

pub(crate) fn boundary_row(r: &impl RowLike) -> StoreResult<BoundaryRow> {
    Ok(BoundaryRow {
        grid_id: r.int(0)?,
        code: code(GridCode::parse, r.text(1)?)?,
        version: r.int(2)?,
        valid_from: time::from_micros(r.int(3)?),
        valid_to: r.opt_int(4)?.map(time::from_micros),
        geometry: r.text(5)?,
    })
}

pub(crate) fn building(r: &impl RowLike) -> StoreResult<Building> {
    let use_text = r.text(9)?;
    Ok(Building {
        id: r.int(0)?,
        community_id: r.int(1)?,
        grid_id: r.int(2)?,
        number: r.text(3)?,
        name: r.text(4)?,
        address: r.text(5)?,
        location: GeoPoint::new(r.float(6)?, r.float(7)?)
            .map_err(|e| corrupt("building location", e))?,
        floors: r.int(8)?,
        building_use: BuildingUse::parse(&use_text)
            .ok_or_else(|| corrupt("building use", &use_text))?,
        unit_count: r.int(10)?,
    })
}

pub(crate) fn unit(r: &impl RowLike) -> StoreResult<Unit> {
    Ok(Unit {
        id: r.int(0)?,
        building_id: r.int(1)?,
        number: r.int(2)?,
        floors: r.int(3)?,
        dwellings_per_floor: r.int(4)?,
    })
}
