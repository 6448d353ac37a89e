//! Row → domain mapping, written once for both backends over [`RowLike`].

use wangge_core::codes::{
    CodeError, CommunityCode, DistrictCode, ExternalGridCode, GridCode, StreetCode,
};
use wangge_core::org::{
    BoundaryVersion, Building, BuildingUse, Community, CommunitySummary, Grid, GridSummary, Unit,
};
use wangge_core::{GeoPoint, time};

use wangge_core::idnumber::Gender;
use wangge_core::org::Id;
use wangge_core::register::{
    AppReason, AppStatus, Business, BusinessStatus, Dwelling, DwellingUse, Household,
    PoliticalStatus, Relation, ResidenceType, Resident,
};

use crate::audit::AuditRecord;
use crate::error::{StoreError, StoreResult};
use crate::model::{BoundaryRow, ScopeKind, Secrets, UserRecord};

/// Column access common to `rusqlite::Row` and `sqlx::postgres::PgRow`.
pub(crate) trait RowLike {
    fn int(&self, idx: usize) -> StoreResult<i64>;
    fn opt_int(&self, idx: usize) -> StoreResult<Option<i64>>;
    fn float(&self, idx: usize) -> StoreResult<f64>;
    fn text(&self, idx: usize) -> StoreResult<String>;
    fn opt_text(&self, idx: usize) -> StoreResult<Option<String>>;
    fn opt_float(&self, idx: usize) -> StoreResult<Option<f64>>;
    fn opt_blob(&self, idx: usize) -> StoreResult<Option<Vec<u8>>>;
    fn boolean(&self, idx: usize) -> StoreResult<bool>;
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
    fn opt_float(&self, idx: usize) -> StoreResult<Option<f64>> {
        Ok(self.get(idx)?)
    }
    fn opt_blob(&self, idx: usize) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.get(idx)?)
    }
    fn boolean(&self, idx: usize) -> StoreResult<bool> {
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
    fn opt_float(&self, idx: usize) -> StoreResult<Option<f64>> {
        Ok(sqlx::Row::try_get(self, idx)?)
    }
    fn opt_blob(&self, idx: usize) -> StoreResult<Option<Vec<u8>>> {
        Ok(sqlx::Row::try_get(self, idx)?)
    }
    fn boolean(&self, idx: usize) -> StoreResult<bool> {
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

fn choice<T>(what: &str, parse: fn(&str) -> Option<T>, s: String) -> StoreResult<T> {
    parse(&s).ok_or_else(|| corrupt(what, &s))
}

fn date(what: &str, s: &str) -> StoreResult<jiff::civil::Date> {
    s.parse().map_err(|e| corrupt(what, e))
}

pub(crate) fn resident(r: &impl RowLike) -> StoreResult<Resident> {
    let gender = match r.text(4)?.as_str() {
        "male" => Gender::Male,
        "female" => Gender::Female,
        other => return Err(corrupt("gender", other)),
    };
    Ok(Resident {
        id: r.int(0)?,
        household_id: r.int(1)?,
        grid_id: r.int(2)?,
        name: r.text(3)?,
        gender,
        birth_date: date("birth date", &r.text(5)?)?,
        id_number_masked: r.text(6)?,
        phone_masked: r.opt_text(7)?,
        ethnicity: r.text(8)?,
        residence_type: choice("residence type", ResidenceType::parse, r.text(9)?)?,
        relation: choice("relation", Relation::parse, r.text(10)?)?,
        political_status: choice("political status", PoliticalStatus::parse, r.text(11)?)?,
        tags: serde_json::from_str(&r.text(12)?).map_err(|e| corrupt("tags", e))?,
        version: r.int(13)?,
    })
}

pub(crate) fn household(r: &impl RowLike) -> StoreResult<Household> {
    Ok(Household {
        id: r.int(0)?,
        grid_id: r.int(1)?,
        dwelling_id: r.opt_int(2)?,
        address: r.text(3)?,
        member_count: r.int(4)?,
        head_name: r.opt_text(5)?,
    })
}

pub(crate) fn dwelling(r: &impl RowLike) -> StoreResult<Dwelling> {
    Ok(Dwelling {
        id: r.int(0)?,
        unit_id: r.int(1)?,
        floor: r.int(2)?,
        number: r.text(3)?,
        dwelling_use: choice("dwelling use", DwellingUse::parse, r.text(4)?)?,
        area_m2: r.opt_float(5)?,
    })
}

pub(crate) fn business(r: &impl RowLike) -> StoreResult<Business> {
    Ok(Business {
        id: r.int(0)?,
        grid_id: r.int(1)?,
        dwelling_id: r.opt_int(2)?,
        address: r.text(3)?,
        name: r.text(4)?,
        credit_code: r.text(5)?,
        legal_rep: r.text(6)?,
        phone_masked: r.opt_text(7)?,
        opening_date: r
            .opt_text(8)?
            .map(|d| date("opening date", &d))
            .transpose()?,
        status: choice("business status", BusinessStatus::parse, r.text(9)?)?,
        app_status: choice("app status", AppStatus::parse, r.text(10)?)?,
        app_reason: r
            .opt_text(11)?
            .map(|s| choice("app reason", AppReason::parse, s))
            .transpose()?,
        app_note: r.text(12)?,
        version: r.int(13)?,
    })
}

pub(crate) fn secrets(r: &impl RowLike) -> StoreResult<Secrets> {
    Ok(Secrets {
        id_cipher: r.opt_blob(0)?,
        phone_cipher: r.opt_blob(1)?,
    })
}

/// A user without scopes (they come from a second query).
pub(crate) fn user(r: &impl RowLike) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: r.int(0)?,
        username: r.text(1)?,
        display_name: r.text(2)?,
        role: r.text(3)?,
        password_hash: r.text(4)?,
        must_change_password: r.boolean(5)?,
        disabled: r.boolean(6)?,
        failed_logins: r.int(7)?,
        locked_until: r.opt_int(8)?.map(time::from_micros),
        scopes: Vec::new(),
    })
}

pub(crate) fn scope(r: &impl RowLike, offset: usize) -> StoreResult<(ScopeKind, Id)> {
    let kind = r.text(offset)?;
    Ok((
        ScopeKind::parse(&kind).ok_or_else(|| corrupt("scope kind", &kind))?,
        r.int(offset + 1)?,
    ))
}

pub(crate) fn audit_record(r: &impl RowLike) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        seq: r.int(0)?,
        at: r.int(1)?,
        actor_id: r.opt_int(2)?,
        action: r.text(3)?,
        record_kind: r.text(4)?,
        record_id: r.opt_int(5)?,
        detail: r.text(6)?,
        prev_hash: r.opt_blob(7)?.unwrap_or_default(),
        hash: r.opt_blob(8)?.unwrap_or_default(),
    })
}

fn json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

pub(crate) fn category(r: &impl RowLike) -> StoreResult<crate::model::CategoryRecord> {
    use wangge_core::category::{CategoryKind, CategorySpec};
    let kind = match r.text(4)?.as_str() {
        "component" => CategoryKind::Component,
        "event" => CategoryKind::Event,
        "community" => CategoryKind::Community,
        other => return Err(corrupt("category kind", other)),
    };
    Ok(crate::model::CategoryRecord {
        id: r.int(0)?,
        department_id: r.opt_int(5)?,
        active: r.boolean(11)?,
        spec: CategorySpec {
            code: r.text(1)?,
            parent: r.opt_text(2)?,
            name: r.text(3)?,
            kind,
            department: None,
            overall: json("overall limit", &r.text(6)?)?,
            steps: json("step limits", &r.text(7)?)?,
            closure: r.text(8)?,
            questions: json("questions", &r.text(9)?)?,
            public: r.boolean(10)?,
        },
    })
}

pub(crate) fn case(r: &impl RowLike) -> StoreResult<crate::model::CaseRecord> {
    Ok(crate::model::CaseRecord {
        id: r.int(0)?,
        public_code: r.text(1)?,
        category_id: r.int(2)?,
        source: r.text(3)?,
        grid_id: r.opt_int(4)?,
        lon: r.opt_float(5)?,
        lat: r.opt_float(6)?,
        address: r.text(7)?,
        description: r.text(8)?,
        urgency: r.text(9)?,
        reporter_id: r.opt_int(10)?,
        reporter_name: r.opt_text(11)?,
        state: r.text(12)?,
        pending: r.opt_text(13)?,
        level: r.text(14)?,
        resume_to: r.opt_text(15)?,
        department_id: r.opt_int(16)?,
        reported_at: time::from_micros(r.int(17)?),
        clock_start: time::from_micros(r.int(18)?),
        step: r.opt_text(19)?,
        step_started_at: r.opt_int(20)?.map(time::from_micros),
        extra_hours: r.int(21)?,
        rework_count: r.int(22)?,
        closed_at: r.opt_int(23)?.map(time::from_micros),
        rating: r.opt_int(24)?,
        rating_comment: r.opt_text(25)?,
        answers: r.text(26)?,
        version: r.int(27)?,
        merged_into: r.opt_int(28)?,
    })
}

pub(crate) fn case_event(r: &impl RowLike) -> StoreResult<crate::model::CaseEvent> {
    Ok(crate::model::CaseEvent {
        id: Some(r.int(8)?),
        at: time::from_micros(r.int(0)?),
        actor_id: r.opt_int(1)?,
        action: r.text(2)?,
        from_state: r.opt_text(3)?,
        to_state: r.text(4)?,
        visibility: r.text(5)?,
        note: r.text(6)?,
        department_id: r.opt_int(7)?,
        photo_ids: Vec::new(),
    })
}

pub(crate) fn photo_meta(r: &impl RowLike) -> StoreResult<crate::model::PhotoMeta> {
    Ok(crate::model::PhotoMeta {
        id: r.int(0)?,
        uploaded_by: r.int(1)?,
        uploaded_at: time::from_micros(r.int(2)?),
        case_id: r.opt_int(3)?,
        event_id: r.opt_int(4)?,
        content_type: r.text(5)?,
        width: r.int(6)?,
        height: r.int(7)?,
    })
}

pub(crate) fn notification(r: &impl RowLike) -> StoreResult<crate::model::Notification> {
    Ok(crate::model::Notification {
        id: r.int(0)?,
        user_id: r.int(1)?,
        case_id: r.opt_int(2)?,
        kind: r.text(3)?,
        at: time::from_micros(r.int(4)?),
        message: r.text(5)?,
        read_at: r.opt_int(6)?.map(time::from_micros),
    })
}

pub(crate) fn job(r: &impl RowLike) -> StoreResult<crate::model::Job> {
    Ok(crate::model::Job {
        id: r.int(0)?,
        kind: r.text(1)?,
        payload: r.text(2)?,
        attempts: r.int(3)?,
        run_at: time::from_micros(r.int(4)?),
    })
}

pub(crate) fn webhook(r: &impl RowLike) -> StoreResult<crate::model::Webhook> {
    Ok(crate::model::Webhook {
        id: r.int(0)?,
        name: r.text(1)?,
        url: r.text(2)?,
        secret: r.text(3)?,
        events: serde_json::from_str(&r.text(4)?)
            .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
        active: r.boolean(5)?,
        created_at: time::from_micros(r.int(6)?),
    })
}

pub(crate) fn webhook_attempt(r: &impl RowLike) -> StoreResult<crate::model::WebhookAttemptRecord> {
    Ok(crate::model::WebhookAttemptRecord {
        id: r.int(0)?,
        attempt: crate::model::WebhookAttempt {
            webhook_id: r.int(1)?,
            job_id: r.int(2)?,
            event: r.text(3)?,
            at: time::from_micros(r.int(4)?),
            status: r.opt_int(5)?,
            error: r.opt_text(6)?,
            duration_ms: r.int(7)?,
        },
        job_state: r.text(8)?,
        job_attempts: r.int(9)?,
    })
}

pub(crate) fn routing_rule(r: &impl RowLike) -> StoreResult<wangge_core::routing::RoutingRule> {
    Ok(wangge_core::routing::RoutingRule {
        id: r.int(0)?,
        category: r.text(1)?,
        community_id: r.opt_int(2)?,
        street_id: r.opt_int(3)?,
        department_id: r.int(4)?,
    })
}

pub(crate) fn api_key(r: &impl RowLike) -> StoreResult<crate::model::ApiKey> {
    Ok(crate::model::ApiKey {
        id: r.int(0)?,
        name: r.text(1)?,
        prefix: r.text(2)?,
        user_id: r.int(3)?,
        created_at: time::from_micros(r.int(4)?),
        revoked_at: r.opt_int(5)?.map(time::from_micros),
    })
}
