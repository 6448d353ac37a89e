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

#[cfg(test)]
mod tests {
    use super::*;

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
