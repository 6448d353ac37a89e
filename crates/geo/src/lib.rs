//! Geometry of grids: reading and checking GeoJSON boundaries, and finding
//! the grid of a point. Pure computation over `wangge-core` types.

pub mod boundary;
pub mod index;
pub mod synthetic;

pub use boundary::{BoundaryFeature, BoundaryProblem, FeatureError, parse_feature_collection};
pub use index::{GridIndex, IndexedBoundary};
