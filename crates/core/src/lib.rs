//! The wangge domain: what a community, a grid and (later) a case are, and
//! the rules that hold for them.
//!
//! This crate is pure: no I/O, no clock, no database or web types. Everything
//! else in the workspace depends on it; it depends on nothing of ours.

pub mod calendar;
pub mod campaign;
pub mod category;
pub mod codes;
pub mod creditcode;
pub mod geo;
pub mod i18n;
pub mod idnumber;
pub mod kpi;
pub mod org;
pub mod patrol;
pub mod phone;
pub mod policy;
pub mod register;
pub mod routing;
pub mod sheet;
pub mod sweep;
pub mod time;
pub mod visit;
pub mod voice;
pub mod workflow;

pub use codes::{CodeError, CommunityCode, DistrictCode, ExternalGridCode, GridCode, StreetCode};
pub use geo::{GeoPoint, PointError};
pub use i18n::{Lang, Localized};
pub use org::Id;
