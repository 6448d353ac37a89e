//! Points on the earth, WGS-84 (the datum of GPS and GeoJSON).
//!
//! Chinese base maps draw in GCJ-02, offset from WGS-84 by up to a few
//! hundred metres; coordinates are stored in WGS-84 and any conversion for
//! display belongs to the map layer, never to storage.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum PointError {
    #[error("coordinates must be finite numbers")]
    NotFinite,
    #[error("latitude {0} is outside -90..90")]
    LatitudeOutOfRange(f64),
    #[error("longitude {0} is outside -180..180")]
    LongitudeOutOfRange(f64),
}

/// A WGS-84 position, always within range once constructed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lon: f64,
    pub lat: f64,
}

impl GeoPoint {
    pub fn new(lon: f64, lat: f64) -> Result<Self, PointError> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(PointError::NotFinite);
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(PointError::LatitudeOutOfRange(lat));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(PointError::LongitudeOutOfRange(lon));
        }
        Ok(Self { lon, lat })
    }
}

impl GeoPoint {
    /// Great-circle distance in metres (haversine, mean earth radius).
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        const R: f64 = 6_371_008.8;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = (other.lat - self.lat).to_radians();
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().asin()
    }

    /// The latitude and longitude ranges of a box holding every point
    /// within `metres` (for a coarse database filter).
    pub fn box_around(&self, metres: f64) -> ((f64, f64), (f64, f64)) {
        let dlat = metres / 111_320.0;
        let dlon = metres / (111_320.0 * self.lat.to_radians().cos().max(0.01));
        (
            (self.lat - dlat, self.lat + dlat),
            (self.lon - dlon, self.lon + dlon),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_metres() {
        let a = GeoPoint::new(117.25, 31.85).unwrap();
        let b = GeoPoint::new(117.25, 31.851).unwrap();
        assert!(
            (a.distance_m(&b) - 111.2).abs() < 0.5,
            "{}",
            a.distance_m(&b)
        );
        let c = GeoPoint::new(117.251, 31.85).unwrap();
        assert!(
            (a.distance_m(&c) - 94.5).abs() < 0.5,
            "{}",
            a.distance_m(&c)
        );
        let ((lat0, lat1), (lon0, lon1)) = a.box_around(100.0);
        assert!(lat0 < 31.85 && lat1 > 31.85 && lon1 - lon0 > lat1 - lat0);
    }

    #[test]
    fn ranges_are_checked() {
        assert!(GeoPoint::new(117.2, 31.8).is_ok());
        assert!(GeoPoint::new(-180.0, -90.0).is_ok());
        assert_eq!(
            GeoPoint::new(31.8, 117.2),
            Err(PointError::LatitudeOutOfRange(117.2))
        );
        assert_eq!(
            GeoPoint::new(181.0, 0.0),
            Err(PointError::LongitudeOutOfRange(181.0))
        );
        assert_eq!(GeoPoint::new(f64::NAN, 0.0), Err(PointError::NotFinite));
    }
}
