//! Use cases of wangge: what the web layer and the command line call.
//!
//! An [`App`] owns the store and the derived in-memory state (the point →
//! grid index), reads the clock through [`Clock`] so that tests can fix
//! time, and answers with domain types or an [`AppError`].

pub mod apikeys;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod demo;
pub mod error;
pub mod field;
pub mod grids;
pub mod inbox;
pub mod jobs;
pub mod open311;
pub mod photos;
pub mod privacy;
pub mod register;
pub mod search;
pub mod settings;
pub mod sheets;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use wangge_core::org::Id;
use wangge_core::time;
use wangge_geo::GridIndex;
use wangge_store::{Backend, Store};

pub use auth::{AuthConfig, LoginSuccess, Session, UserSpec, UserView};
pub use error::{AppError, Resource};
pub use grids::{GridDetail, ImportOptions, ImportReport, Located};
pub use privacy::Vault;

/// Administrators only: anyone else is answered 403.
pub(crate) fn require_admin(actor: &wangge_core::policy::Actor) -> Result<(), AppError> {
    if actor.role == wangge_core::policy::Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The source of "now". Tests inject a fixed clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stays where it is set.
pub struct FixedClock(RwLock<Timestamp>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(RwLock::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        if let Ok(mut t) = self.0.write() {
            *t = at;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
            .read()
            .map(|t| *t)
            .unwrap_or_else(|e| *e.into_inner())
    }
}

pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    vault: Vault,
    auth: AuthConfig,
    index: RwLock<Arc<GridIndex>>,
    /// The store's boundaries revision the index was built from.
    index_revision: AtomicI64,
    /// Categories, departments and calendar, briefly cached (`cases::reference`).
    reference: RwLock<Option<(std::time::Instant, Arc<cases::Reference>)>>,
    photo_limits: RwLock<wangge_media::PhotoLimits>,
    /// Grids lying in sets of org units, until the boundaries change.
    scope_grids: RwLock<HashMap<ScopeKey, Arc<Vec<Id>>>>,
    /// Grid names and communities by id, until the boundaries change
    /// (intake names the grid and routes by community).
    grid_names: RwLock<HashMap<Id, (String, Id)>>,
    /// Sessions read within the last few seconds (`auth::SESSION_CACHE_TTL`).
    sessions: RwLock<HashMap<Vec<u8>, (std::time::Instant, wangge_store::SessionRecord)>>,
}

/// Grids, communities and streets, in that order.
type ScopeKey = (Vec<Id>, Vec<Id>, Vec<Id>);
/// Bound on either cache's entries; past it, the cache starts over.
pub(crate) const CACHE_LIMIT: usize = 10_000;

impl App {
    /// Builds the app and its grid index from the store.
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        vault: Vault,
    ) -> Result<Arc<Self>, AppError> {
        Self::with_auth(store, clock, vault, AuthConfig::default()).await
    }

    pub async fn with_auth(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        vault: Vault,
        auth: AuthConfig,
    ) -> Result<Arc<Self>, AppError> {
        let app = Arc::new(Self {
            store,
            clock,
            vault,
            auth,
            index: RwLock::new(Arc::new(GridIndex::empty())),
            index_revision: AtomicI64::new(-1),
            reference: RwLock::new(None),
            photo_limits: RwLock::new(wangge_media::PhotoLimits::default()),
            scope_grids: RwLock::new(HashMap::new()),
            grid_names: RwLock::new(HashMap::new()),
            sessions: RwLock::new(HashMap::new()),
        });
        app.refresh_index().await?;
        app.seed_reference_data().await?;
        Ok(app)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Now, truncated to the microseconds every store keeps.
    pub fn now(&self) -> Timestamp {
        time::truncate(self.clock.now())
    }

    /// Today's date in China (UTC+8), for ages and date checks.
    pub fn today(&self) -> jiff::civil::Date {
        jiff::tz::Offset::constant(8).to_datetime(self.now()).date()
    }

    pub fn auth_config(&self) -> AuthConfig {
        self.auth
    }

    pub async fn health(&self) -> Result<(), AppError> {
        Ok(self.store.health().await?)
    }

    fn index(&self) -> Arc<GridIndex> {
        match self.index.read() {
            Ok(i) => i.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the point index from the stored boundaries.
    pub async fn refresh_index(&self) -> Result<(), AppError> {
        let revision = self.store.boundaries_revision().await?;
        let rows = self.store.all_boundaries().await?;
        let index = Arc::new(grids::build_index(rows)?);
        tracing::debug!(boundaries = index.len(), revision, "grid index rebuilt");
        match self.index.write() {
            Ok(mut slot) => *slot = index,
            Err(poisoned) => *poisoned.into_inner() = index,
        }
        self.index_revision.store(revision, Ordering::Release);
        if let Ok(mut cache) = self.scope_grids.write() {
            cache.clear();
        }
        if let Ok(mut cache) = self.grid_names.write() {
            cache.clear();
        }
        Ok(())
    }

    /// The grid holding a point now, with its name and community:
    /// intake's lookup, from memory once the grid was seen.
    pub(crate) async fn locate_named(
        &self,
        point: wangge_core::GeoPoint,
    ) -> Result<Option<(Id, String, Id)>, AppError> {
        let Some(id) = self.index().locate(point, self.now()) else {
            return Ok(None);
        };
        if let Ok(names) = self.grid_names.read()
            && let Some((name, community)) = names.get(&id)
        {
            return Ok(Some((id, name.clone(), *community)));
        }
        let Some(grid) = self.store.grid(id).await? else {
            // The index is a moment behind a concurrent change.
            return Ok(None);
        };
        if let Ok(mut names) = self.grid_names.write() {
            if names.len() >= CACHE_LIMIT {
                names.clear();
            }
            names.insert(id, (grid.grid.name.clone(), grid.grid.community_id));
        }
        Ok(Some((id, grid.grid.name, grid.grid.community_id)))
    }

    /// The grids lying in any of the given grids, communities or streets;
    /// remembered until the boundaries change.
    pub(crate) async fn grids_in_units(
        &self,
        grids: &[Id],
        communities: &[Id],
        streets: &[Id],
    ) -> Result<Arc<Vec<Id>>, AppError> {
        let key: ScopeKey = (grids.to_vec(), communities.to_vec(), streets.to_vec());
        if let Ok(cache) = self.scope_grids.read()
            && let Some(found) = cache.get(&key)
        {
            return Ok(found.clone());
        }
        let found = Arc::new(
            self.store
                .grids_in_units(grids, communities, streets)
                .await?,
        );
        if let Ok(mut cache) = self.scope_grids.write() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, found.clone());
        }
        Ok(found)
    }

    /// Rebuilds the index if another node changed boundaries since.
    pub async fn refresh_index_if_stale(&self) -> Result<bool, AppError> {
        let revision = self.store.boundaries_revision().await?;
        if revision == self.index_revision.load(Ordering::Acquire) {
            return Ok(false);
        }
        self.refresh_index().await?;
        Ok(true)
    }

    /// Keeps the index in step with boundary changes made by other app
    /// nodes, checking every `every`.
    pub fn spawn_index_watcher(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let app = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(app) = app.upgrade() else { break };
                if let Err(e) = app.refresh_index_if_stale().await {
                    tracing::warn!(error = %e, "cannot refresh the grid index");
                }
            }
        })
    }
}
