//! The register use cases: households, residents, businesses and the
//! buildings they live in, always under the access policy.
//!
//! Each use case asks `wangge_core::policy` for the actor's scope for its
//! action, resolves it to grids, and hands that filter to the store, which
//! applies it in SQL. A record out of scope is indistinguishable from a
//! missing one.

use serde::Serialize;
use serde_json::json;
use wangge_core::org::BuildingUse;
use wangge_core::org::{Building, Id, Unit};
use wangge_core::policy::{Action, Actor, register_scope};
use wangge_core::register::{
    Business, BusinessForm, BusinessInput, Dwelling, FieldError, Household, Resident, ResidentForm,
    ResidentInput, adult_born_on_or_before,
};
use wangge_store::{
    AuditEntry, BuildingChange, BusinessQuery, BusinessRow, HouseholdQuery, HouseholdRow,
    NewBuilding, NewUnit, ResidentQuery, ResidentRow, ScopeFilter, StoreError,
};

use crate::App;
use crate::error::{AppError, Resource};

pub(crate) const ID_FIELD: &str = "resident.id_number";
pub(crate) const PHONE_FIELD: &str = "resident.phone";
pub(crate) const BUSINESS_PHONE_FIELD: &str = "business.phone";

/// One page of a list.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            limit: 50,
            offset: 0,
        }
    }
}

impl Page {
    /// A page of at most 200 records.
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> Self {
        Self {
            limit: limit.unwrap_or(50).clamp(1, 200),
            offset: offset.unwrap_or(0).max(0),
        }
    }
}

/// A resident as shown: sensitive fields masked, age and minor flag added.
#[derive(Debug, Clone, Serialize)]
pub struct ResidentView {
    #[serde(flatten)]
    pub resident: Resident,
    pub age: i16,
    pub is_minor: bool,
}

pub use wangge_core::org::{BuildingForm, UnitForm};

/// Which sensitive field to reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveField {
    IdNumber,
    Phone,
}

/// A checked building as the store takes it, with every dwelling.
pub(crate) fn new_building(
    community_id: Id,
    grid_id: Id,
    input: wangge_core::org::BuildingInput,
) -> (NewBuilding, Vec<wangge_store::NewDoor>) {
    let doors = input
        .dwellings()
        .into_iter()
        .map(
            |(unit, floor, number, dwelling_use)| wangge_store::NewDoor {
                unit,
                floor,
                number,
                dwelling_use: dwelling_use.as_str().to_owned(),
            },
        )
        .collect();
    let building = NewBuilding {
        community_id,
        grid_id,
        number: input.number,
        name: input.name,
        address: input.address,
        location: input.location,
        floors: input.floors,
        building_use: input.building_use,
        units: input
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| NewUnit {
                number: i as i64 + 1,
                floors: u.floors,
                dwellings_per_floor: u.dwellings_per_floor,
            })
            .collect(),
    };
    (building, doors)
}

/// A store failure as the user should read it: a taken unique number is a
/// field error, a vanished record "not found".
fn store_or_field_error(
    e: StoreError,
    unique_column: &str,
    field: &'static str,
    missing: Resource,
) -> AppError {
    match e {
        StoreError::Conflict(m) if m.contains(unique_column) => {
            AppError::InvalidFields(vec![FieldError::new(
                field,
                "this number is already in the register",
                "该号码已在登记册中",
            )])
        }
        StoreError::NotFound(_) => AppError::NotFound(missing),
        other => other.into(),
    }
}

fn check_reason(reason: &str) -> Result<String, AppError> {
    let r = reason.trim();
    if r.chars().count() < 2 {
        return Err(AppError::invalid(
            "reason",
            "say why you need the full number",
            "请填写查看完整号码的理由",
        ));
    }
    Ok(r.chars().take(200).collect())
}

impl App {
    /// The policy's answer for `actor` and `action`, resolved to grids.
    pub async fn scope_for(&self, actor: &Actor, action: Action) -> Result<ScopeFilter, AppError> {
        let scope = register_scope(actor, action);
        let grid_ids = if scope.is_nothing() {
            Vec::new()
        } else {
            self.grids_in_units(
                &scope.units.grids,
                &scope.units.communities,
                &scope.units.streets,
            )
            .await?
            .to_vec()
        };
        Ok(ScopeFilter {
            grid_ids,
            born_on_or_before: (!scope.minors)
                .then(|| adult_born_on_or_before(self.today()).to_string()),
        })
    }

    fn view(&self, resident: Resident) -> ResidentView {
        let today = self.today();
        ResidentView {
            age: resident.age_on(today),
            is_minor: resident.is_minor_on(today),
            resident,
        }
    }

    fn resident_row(
        &self,
        household: &Household,
        input: &ResidentInput,
    ) -> Result<ResidentRow, AppError> {
        self.row_in(household.id, household.grid_id, input)
    }

    /// A resident's stored fields: sensitive ones encrypted, with their
    /// blind index and masked form.
    pub(crate) fn row_in(
        &self,
        household_id: Id,
        grid_id: Id,
        input: &ResidentInput,
    ) -> Result<ResidentRow, AppError> {
        let id = input.id_number.expose();
        let enc = |field: &str, v: &str| {
            self.vault
                .encrypt(field, v)
                .map_err(|e| AppError::Internal(e.to_string()))
        };
        Ok(ResidentRow {
            household_id,
            grid_id,
            name: input.name.clone(),
            gender: match input.gender {
                wangge_core::idnumber::Gender::Male => "male".into(),
                wangge_core::idnumber::Gender::Female => "female".into(),
            },
            birth_date: input.birth_date.to_string(),
            id_cipher: enc(ID_FIELD, id)?,
            id_blind: self.vault.blind_index(ID_FIELD, id),
            id_masked: input.id_number.masked(),
            phone_cipher: input
                .phone
                .as_ref()
                .map(|p| enc(PHONE_FIELD, p.expose()))
                .transpose()?,
            phone_masked: input.phone.as_ref().map(|p| p.masked()),
            ethnicity: input.ethnicity.clone(),
            residence_type: input.residence_type.as_str().into(),
            relation: input.relation.as_str().into(),
            political_status: input.political_status.as_str().into(),
            tags: serde_json::to_string(&input.tags)
                .map_err(|e| AppError::Internal(e.to_string()))?,
        })
    }

    pub async fn households(
        &self,
        actor: &Actor,
        grid_id: Option<Id>,
        unit_id: Option<Id>,
        page: Page,
    ) -> Result<Vec<Household>, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        let query = HouseholdQuery {
            grid_id,
            unit_id,
            limit: page.limit,
            offset: page.offset,
        };
        Ok(self.store.households(&scope, query).await?)
    }

    pub async fn household(&self, actor: &Actor, id: Id) -> Result<Household, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        self.store
            .household(&scope, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Household))
    }

    pub async fn create_household(
        &self,
        actor: &Actor,
        grid_id: Id,
        dwelling_id: Option<Id>,
        address: &str,
    ) -> Result<Id, AppError> {
        let scope = self.scope_for(actor, Action::Create).await?;
        if !scope.grid_ids.contains(&grid_id) {
            return Err(AppError::NotFound(Resource::Grid));
        }
        if let Some(d) = dwelling_id
            && self.store.dwelling_grid(d).await? != Some(grid_id)
        {
            return Err(AppError::invalid(
                "dwelling_id",
                "this dwelling is not in the grid",
                "该房屋不在此网格内",
            ));
        }
        let address = address.trim();
        if address.is_empty() || address.chars().count() > 120 {
            return Err(AppError::invalid(
                "address",
                "an address of 1 to 120 characters",
                "请填写地址（120 字以内）",
            ));
        }
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "household.create",
            "household",
        )
        .detail(json!({ "grid_id": grid_id }));
        Ok(self
            .store
            .insert_household(
                HouseholdRow {
                    grid_id,
                    dwelling_id,
                    address: address.to_owned(),
                },
                audit,
            )
            .await?)
    }

    pub async fn update_household(
        &self,
        actor: &Actor,
        id: Id,
        address: &str,
    ) -> Result<(), AppError> {
        let scope = self.scope_for(actor, Action::Update).await?;
        let address = address.trim();
        if address.is_empty() || address.chars().count() > 120 {
            return Err(AppError::invalid(
                "address",
                "an address of 1 to 120 characters",
                "请填写地址（120 字以内）",
            ));
        }
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "household.update",
            "household",
        )
        .record(id);
        self.store
            .update_household(&scope, id, address.to_owned(), audit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => AppError::NotFound(Resource::Household),
                other => other.into(),
            })
    }

    pub async fn residents(
        &self,
        actor: &Actor,
        household_id: Option<Id>,
        grid_id: Option<Id>,
        page: Page,
    ) -> Result<Vec<ResidentView>, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        let query = ResidentQuery {
            household_id,
            grid_id,
            limit: page.limit,
            offset: page.offset,
        };
        Ok(self
            .store
            .residents(&scope, query)
            .await?
            .into_iter()
            .map(|r| self.view(r))
            .collect())
    }

    pub async fn resident(&self, actor: &Actor, id: Id) -> Result<ResidentView, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        let r = self
            .store
            .resident(&scope, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Resident))?;
        Ok(self.view(r))
    }

    /// Exact lookup by a full ID number (blind index), within scope.
    pub async fn find_resident_by_id_number(
        &self,
        actor: &Actor,
        id_number: &str,
    ) -> Result<Option<ResidentView>, AppError> {
        let Ok(id) = wangge_core::idnumber::IdNumber::parse(id_number) else {
            return Ok(None);
        };
        let scope = self.scope_for(actor, Action::Read).await?;
        let blind = self.vault.blind_index(ID_FIELD, id.expose());
        Ok(self
            .store
            .resident_by_blind_index(&scope, &blind)
            .await?
            .map(|r| self.view(r)))
    }

    pub async fn create_resident(
        &self,
        actor: &Actor,
        household_id: Id,
        form: &ResidentForm,
    ) -> Result<Id, AppError> {
        let scope = self.scope_for(actor, Action::Create).await?;
        let household = self
            .store
            .household(&scope, household_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Household))?;
        let input = form.check(self.today()).map_err(AppError::InvalidFields)?;
        let row = self.resident_row(&household, &input)?;
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "resident.create",
            "resident",
        )
        .detail(json!({ "household_id": household.id, "grid_id": household.grid_id }));
        self.store
            .insert_resident(row, audit)
            .await
            .map_err(|e| store_or_field_error(e, "id_blind", "id_number", Resource::Resident))
    }

    /// Replaces a resident's fields, if `version` is still current.
    pub async fn update_resident(
        &self,
        actor: &Actor,
        id: Id,
        version: i64,
        form: &ResidentForm,
    ) -> Result<(), AppError> {
        let scope = self.scope_for(actor, Action::Update).await?;
        let current = self
            .store
            .resident(&scope, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Resident))?;
        let household = self
            .store
            .household(&scope, current.household_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Household))?;
        // An empty ID or phone number keeps the current one (forms show
        // only masked values, so they cannot send the old one back).
        let mut form = form.clone();
        if form.id_number.trim().is_empty()
            || form.phone.as_deref().is_none_or(|p| p.trim().is_empty())
        {
            let secrets = self
                .store
                .resident_secrets(&scope, id)
                .await?
                .ok_or(AppError::NotFound(Resource::Resident))?;
            let open = |field: &str, blob: Option<Vec<u8>>| {
                blob.map(|b| {
                    self.vault
                        .decrypt(field, &b)
                        .map_err(|e| AppError::Internal(e.to_string()))
                })
                .transpose()
            };
            if form.id_number.trim().is_empty() {
                form.id_number = open(ID_FIELD, secrets.id_cipher)?.unwrap_or_default();
            }
            if form.phone.as_deref().is_none_or(|p| p.trim().is_empty()) {
                form.phone = open(PHONE_FIELD, secrets.phone_cipher)?;
            }
        }
        let input = form.check(self.today()).map_err(AppError::InvalidFields)?;
        let row = self.resident_row(&household, &input)?;
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "resident.update",
            "resident",
        )
        .record(id)
        .detail(json!({ "version": version }));
        self.store
            .update_resident(&scope, id, version, row, audit)
            .await
            .map_err(|e| store_or_field_error(e, "id_blind", "id_number", Resource::Resident))
    }

    /// The full value of a sensitive field, for an allowed role, with a
    /// reason; audited.
    pub async fn reveal_resident(
        &self,
        actor: &Actor,
        id: Id,
        field: SensitiveField,
        reason: &str,
    ) -> Result<Option<String>, AppError> {
        let reason = check_reason(reason)?;
        let scope = self.scope_for(actor, Action::Reveal).await?;
        let secrets = self
            .store
            .resident_secrets(&scope, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Resident))?;
        let (blob, name) = match field {
            SensitiveField::IdNumber => (secrets.id_cipher, ID_FIELD),
            SensitiveField::Phone => (secrets.phone_cipher, PHONE_FIELD),
        };
        let value = blob
            .map(|b| {
                self.vault
                    .decrypt(name, &b)
                    .map_err(|e| AppError::Internal(e.to_string()))
            })
            .transpose()?;
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "resident.reveal",
            "resident",
        )
        .record(id)
        .detail(json!({ "field": name, "reason": reason }));
        self.store.append_audit(audit).await?;
        Ok(value)
    }

    pub async fn businesses(
        &self,
        actor: &Actor,
        grid_id: Option<Id>,
        page: Page,
    ) -> Result<Vec<Business>, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        let query = BusinessQuery {
            grid_id,
            limit: page.limit,
            offset: page.offset,
        };
        Ok(self.store.businesses(&scope, query).await?)
    }

    pub async fn business(&self, actor: &Actor, id: Id) -> Result<Business, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        self.store
            .business(&scope, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Business))
    }

    pub(crate) fn business_row(
        &self,
        grid_id: Id,
        dwelling_id: Option<Id>,
        input: &BusinessInput,
    ) -> Result<BusinessRow, AppError> {
        Ok(BusinessRow {
            grid_id,
            dwelling_id,
            address: input.address.clone(),
            name: input.name.clone(),
            credit_code: input.credit_code.as_str().to_owned(),
            legal_rep: input.legal_rep.clone(),
            phone_cipher: input
                .phone
                .as_ref()
                .map(|p| {
                    self.vault
                        .encrypt(BUSINESS_PHONE_FIELD, p.expose())
                        .map_err(|e| AppError::Internal(e.to_string()))
                })
                .transpose()?,
            phone_masked: input.phone.as_ref().map(|p| p.masked()),
            opening_date: input.opening_date.map(|d| d.to_string()),
            status: input.status.as_str().into(),
            app_status: input.app_status.as_str().into(),
            app_reason: input.app_reason.map(|r| r.as_str().to_owned()),
            app_note: input.app_note.clone(),
        })
    }

    pub async fn create_business(
        &self,
        actor: &Actor,
        grid_id: Id,
        form: &BusinessForm,
    ) -> Result<Id, AppError> {
        let scope = self.scope_for(actor, Action::Create).await?;
        if !scope.grid_ids.contains(&grid_id) {
            return Err(AppError::NotFound(Resource::Grid));
        }
        let input = form.check(self.today()).map_err(AppError::InvalidFields)?;
        let row = self.business_row(grid_id, None, &input)?;
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "business.create",
            "business",
        )
        .detail(json!({ "grid_id": grid_id }));
        self.store
            .insert_business(row, audit)
            .await
            .map_err(|e| store_or_field_error(e, "credit_code", "credit_code", Resource::Business))
    }

    pub async fn update_business(
        &self,
        actor: &Actor,
        id: Id,
        version: i64,
        form: &BusinessForm,
    ) -> Result<(), AppError> {
        let scope = self.scope_for(actor, Action::Update).await?;
        let current = self
            .store
            .business(&scope, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Business))?;
        let mut form = form.clone();
        if form.phone.as_deref().is_none_or(|p| p.trim().is_empty()) {
            let secrets = self
                .store
                .business_secrets(&scope, id)
                .await?
                .ok_or(AppError::NotFound(Resource::Business))?;
            form.phone = secrets
                .phone_cipher
                .map(|b| {
                    self.vault
                        .decrypt(BUSINESS_PHONE_FIELD, &b)
                        .map_err(|e| AppError::Internal(e.to_string()))
                })
                .transpose()?;
        }
        let input = form.check(self.today()).map_err(AppError::InvalidFields)?;
        let row = self.business_row(current.grid_id, current.dwelling_id, &input)?;
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "business.update",
            "business",
        )
        .record(id)
        .detail(json!({ "version": version }));
        self.store
            .update_business(&scope, id, version, row, audit)
            .await
            .map_err(|e| store_or_field_error(e, "credit_code", "credit_code", Resource::Business))
    }

    pub async fn reveal_business_phone(
        &self,
        actor: &Actor,
        id: Id,
        reason: &str,
    ) -> Result<Option<String>, AppError> {
        let reason = check_reason(reason)?;
        let scope = self.scope_for(actor, Action::Reveal).await?;
        let secrets = self
            .store
            .business_secrets(&scope, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Business))?;
        let value = secrets
            .phone_cipher
            .map(|b| {
                self.vault
                    .decrypt(BUSINESS_PHONE_FIELD, &b)
                    .map_err(|e| AppError::Internal(e.to_string()))
            })
            .transpose()?;
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "business.reveal",
            "business",
        )
        .record(id)
        .detail(json!({ "field": BUSINESS_PHONE_FIELD, "reason": reason }));
        self.store.append_audit(audit).await?;
        Ok(value)
    }

    /// Registers a building with its units and every dwelling they hold
    /// (doors numbered by floor) in a grid of the actor's scope; its
    /// position must lie in that grid.
    pub async fn create_building(
        &self,
        actor: &Actor,
        grid_id: Id,
        form: &BuildingForm,
    ) -> Result<Id, AppError> {
        let scope = self.scope_for(actor, Action::Create).await?;
        if !scope.grid_ids.contains(&grid_id) {
            return Err(AppError::NotFound(Resource::Grid));
        }
        let grid = self
            .store
            .grid(grid_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Grid))?;
        let input = form.check().map_err(AppError::InvalidFields)?;
        let inside = matches!(self.locate(input.location, None).await?, crate::Located::Inside { grid } if grid.grid.id == grid_id);
        if !inside {
            return Err(AppError::invalid(
                "location",
                "this position is not in the grid",
                "该位置不在此网格内",
            ));
        }
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "building.create",
            "building",
        )
        .detail(json!({ "grid_id": grid_id }));
        let ids = self
            .store
            .create_buildings(
                vec![new_building(grid.grid.community_id, grid_id, input)],
                audit,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AppError::InvalidFields(vec![FieldError::new(
                    "number",
                    "this building number is taken in the community",
                    "本社区已有此楼栋号",
                )]),
                other => other.into(),
            })?;
        ids.first()
            .copied()
            .ok_or_else(|| AppError::Internal("no building was created".into()))
    }

    pub async fn update_building(
        &self,
        actor: &Actor,
        id: Id,
        name: &str,
        address: &str,
        floors: i64,
        building_use: &str,
    ) -> Result<(), AppError> {
        let scope = self.scope_for(actor, Action::Update).await?;
        let current = self
            .store
            .building(id)
            .await?
            .filter(|b| scope.grid_ids.contains(&b.grid_id))
            .ok_or(AppError::NotFound(Resource::Building))?;
        let Some(use_) = BuildingUse::parse(building_use) else {
            return Err(AppError::invalid(
                "building_use",
                "residential, commercial, mixed or public",
                "用途应为住宅、商业、商住或公共",
            ));
        };
        if !(1..=200).contains(&floors) || name.trim().is_empty() {
            return Err(AppError::invalid(
                "floors",
                "a name and 1 to 200 floors",
                "请填写名称，层数应为 1 至 200",
            ));
        }
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "building.update",
            "building",
        )
        .record(id);
        self.store
            .update_building(
                &scope,
                id,
                current.grid_id,
                BuildingChange {
                    name: name.trim().to_owned(),
                    address: address.trim().to_owned(),
                    floors,
                    building_use: use_.as_str().to_owned(),
                },
                audit,
            )
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => AppError::NotFound(Resource::Building),
                other => other.into(),
            })
    }

    /// Takes a resident off the register (moved away, deceased), with the
    /// reason in the audit log.
    pub async fn delete_resident(
        &self,
        actor: &Actor,
        id: Id,
        reason: &str,
    ) -> Result<(), AppError> {
        let reason = check_reason(reason)?;
        let scope = self.scope_for(actor, Action::Update).await?;
        let r = self
            .store
            .resident(&scope, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Resident))?;
        let audit = AuditEntry::new(self.now(), Some(actor.user_id), "resident.delete", "resident")
            .record(id)
            .detail(json!({ "reason": reason, "household_id": r.household_id, "id_number": r.id_number_masked }));
        self.store
            .delete_resident(&scope, id, audit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => AppError::NotFound(Resource::Resident),
                other => other.into(),
            })
    }

    /// Buildings of a grid in the actor's scope.
    pub async fn buildings(&self, actor: &Actor, grid_id: Id) -> Result<Vec<Building>, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        if !scope.grid_ids.contains(&grid_id) {
            return Err(AppError::NotFound(Resource::Grid));
        }
        Ok(self.store.buildings_in_scope(&scope, grid_id).await?)
    }

    /// A building in scope with its units and their dwellings.
    pub async fn building_detail(
        &self,
        actor: &Actor,
        id: Id,
    ) -> Result<(Building, Vec<(Unit, Vec<Dwelling>)>), AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        let building = self
            .store
            .building(id)
            .await?
            .filter(|b| scope.grid_ids.contains(&b.grid_id))
            .ok_or(AppError::NotFound(Resource::Building))?;
        let mut units = Vec::new();
        for u in self.store.units_of_building(id).await? {
            let dwellings = self.store.dwellings_of_unit(u.id).await?;
            units.push((u, dwellings));
        }
        Ok((building, units))
    }

    /// Grids the actor may read the register of.
    pub async fn my_grids(
        &self,
        actor: &Actor,
    ) -> Result<Vec<wangge_core::org::GridSummary>, AppError> {
        let scope = self.scope_for(actor, Action::Read).await?;
        Ok(self
            .store
            .list_grids(None)
            .await?
            .into_iter()
            .filter(|g| scope.grid_ids.contains(&g.grid.id))
            .collect())
    }
}
