//! The in-memory point → grid index: an R-tree of boundary bounding boxes
//! (rstar) with an exact point-in-polygon test (geo) on the candidates.
//!
//! Every version of every boundary is indexed with its validity interval, so
//! "which grid held this point on that date" is the same lookup as "which
//! grid holds it now". A point on a boundary belongs to the grid (edges are
//! inside); on an edge shared by two grids the lower grid code wins, so the
//! answer never depends on load order.

use geo::{BoundingRect, Coord, Intersects, MultiPolygon};
use jiff::Timestamp;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use wangge_core::org::Id;
use wangge_core::{GeoPoint, time};

/// One boundary version to index.
#[derive(Debug, Clone)]
pub struct IndexedBoundary {
    pub grid_id: Id,
    /// Sort key for ties on shared edges: the grid code.
    pub code: String,
    pub valid_from: Timestamp,
    pub valid_to: Option<Timestamp>,
    pub shape: MultiPolygon<f64>,
}

struct Entry {
    grid_id: Id,
    from_us: i64,
    to_us: i64,
    shape: MultiPolygon<f64>,
}

/// Point → grid lookup over every boundary version.
pub struct GridIndex {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    /// Sorted by grid code, so the lowest matching position wins ties.
    entries: Vec<Entry>,
}

impl GridIndex {
    pub fn new(mut boundaries: Vec<IndexedBoundary>) -> Self {
        boundaries.sort_by(|a, b| a.code.cmp(&b.code).then(a.valid_from.cmp(&b.valid_from)));
        let mut rects = Vec::with_capacity(boundaries.len());
        let mut entries = Vec::with_capacity(boundaries.len());
        for b in boundaries {
            let Some(r) = b.shape.bounding_rect() else {
                continue;
            };
            let pos = u32::try_from(entries.len()).unwrap_or(u32::MAX);
            rects.push(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                pos,
            ));
            entries.push(Entry {
                grid_id: b.grid_id,
                from_us: time::to_micros(b.valid_from),
                to_us: b.valid_to.map_or(i64::MAX, time::to_micros),
                shape: b.shape,
            });
        }
        Self {
            tree: RTree::bulk_load(rects),
            entries,
        }
    }

    pub fn empty() -> Self {
        Self::new(Vec::new())
    }

    /// Number of boundary versions indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The grid whose boundary, valid at `at`, holds `point`; `None` when the
    /// point lies outside every grid.
    pub fn locate(&self, point: GeoPoint, at: Timestamp) -> Option<Id> {
        let at_us = time::to_micros(at);
        let coord = Coord {
            x: point.lon,
            y: point.lat,
        };
        self.tree
            .locate_all_at_point(&[coord.x, coord.y])
            .filter_map(|r| {
                let e = &self.entries[r.data as usize];
                (e.from_us <= at_us && at_us < e.to_us && e.shape.intersects(&coord))
                    .then_some(r.data)
            })
            .min()
            .map(|pos| self.entries[pos as usize].grid_id)
    }
}
