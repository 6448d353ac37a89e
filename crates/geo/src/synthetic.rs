//! Synthetic grid layouts, for the demo community and the benchmarks: a
//! lattice of cells whose corners and edge midpoints are jittered
//! deterministically, so that grids look hand-drawn yet neighbours share
//! their edges exactly (no gaps, no overlaps).

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// splitmix64: a fixed, well-mixed hash, the same on every machine.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A value in [-1, 1) from a key.
pub fn signed_unit(key: u64) -> f64 {
    (mix(key) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// Cells of `cell` degrees (lon, lat) from `origin` (lon, lat), WGS-84.
#[derive(Debug, Clone, Copy)]
pub struct Lattice {
    pub origin: (f64, f64),
    pub cell: (f64, f64),
}

impl Lattice {
    /// Lattice vertex (i, j), moved by up to 12 % of a cell.
    pub fn vertex(&self, i: usize, j: usize) -> (f64, f64) {
        let key = ((i as u64) << 32) | j as u64;
        (
            self.origin.0 + i as f64 * self.cell.0 + signed_unit(key) * self.cell.0 * 0.12,
            self.origin.1
                + j as f64 * self.cell.1
                + signed_unit(key ^ 0xABCDEF) * self.cell.1 * 0.12,
        )
    }

    /// A bend in the edge between two vertices, the same seen from both
    /// neighbours: a perpendicular push of up to 8 % of a cell.
    fn edge_mid(&self, a: (usize, usize), b: (usize, usize)) -> (f64, f64) {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let (pa, pb) = (self.vertex(a.0, a.1), self.vertex(b.0, b.1));
        let key =
            mix(((a.0 as u64) << 48) | ((a.1 as u64) << 32) | ((b.0 as u64) << 16) | b.1 as u64);
        let (dx, dy) = (pb.0 - pa.0, pb.1 - pa.1);
        let len = (dx * dx + dy * dy).sqrt();
        let push = signed_unit(key) * 0.08 * self.cell.0.min(self.cell.1);
        (
            (pa.0 + pb.0) / 2.0 - dy / len * push,
            (pa.1 + pb.1) / 2.0 + dx / len * push,
        )
    }

    /// The closed, counter-clockwise ring of cell (i, j): 8 corners and bends.
    pub fn cell_ring(&self, i: usize, j: usize) -> Vec<[f64; 2]> {
        let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
        let mut ring = Vec::with_capacity(9);
        for k in 0..4 {
            let (a, b) = (corners[k], corners[(k + 1) % 4]);
            let v = self.vertex(a.0, a.1);
            ring.push([v.0, v.1]);
            let m = self.edge_mid(a, b);
            ring.push([m.0, m.1]);
        }
        ring.push(ring[0]);
        ring
    }

    pub fn cell_shape(&self, i: usize, j: usize) -> MultiPolygon<f64> {
        let ring = self
            .cell_ring(i, j)
            .into_iter()
            .map(|[x, y]| Coord { x, y })
            .collect();
        MultiPolygon(vec![Polygon::new(LineString(ring), vec![])])
    }

    /// The point at fractions (u, v) across cell (i, j), by bilinear
    /// interpolation of its corners. Fractions within 0.2..0.8 stay clear
    /// of the edges' bends.
    pub fn cell_point(&self, i: usize, j: usize, u: f64, v: f64) -> (f64, f64) {
        let (a, b) = (self.vertex(i, j), self.vertex(i + 1, j));
        let (c, d) = (self.vertex(i + 1, j + 1), self.vertex(i, j + 1));
        let lerp =
            |p: (f64, f64), q: (f64, f64), t: f64| (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t);
        lerp(lerp(a, b, u), lerp(d, c, u), v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::algorithm::Validation;
    use geo::{Area, BooleanOps};

    #[test]
    fn cells_are_valid_and_tile_without_overlap() {
        let l = Lattice {
            origin: (117.0, 31.0),
            cell: (0.004, 0.0036),
        };
        let a = l.cell_shape(3, 4);
        let b = l.cell_shape(4, 4);
        assert!(a.is_valid() && b.is_valid());
        assert!(
            a.intersection(&b).unsigned_area() < 1e-15,
            "neighbours overlap"
        );
        let (x, y) = l.cell_point(3, 4, 0.5, 0.5);
        use geo::Contains;
        assert!(a.contains(&geo::Point::new(x, y)));
    }
}
