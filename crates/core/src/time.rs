//! Timestamps as stored: microseconds since the Unix epoch, UTC.
//!
//! PostgreSQL keeps microseconds, so every timestamp is truncated to
//! microseconds in the application before it is stored or compared; both
//! backends store the same `BIGINT` and compare integers.

use jiff::Timestamp;

/// Microseconds since the epoch (truncating any nanoseconds).
pub fn to_micros(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

/// The inverse of [`to_micros`]; saturates at jiff's supported range.
pub fn from_micros(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(if us < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// Truncates to microsecond precision, the precision every store keeps.
pub fn truncate(ts: Timestamp) -> Timestamp {
    from_micros(to_micros(ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_microsecond_precision() {
        let ts: Timestamp = "2026-11-29T08:49:17.123456789Z".parse().unwrap();
        let t = truncate(ts);
        assert_eq!(t.to_string(), "2026-11-29T08:49:17.123456Z");
        assert_eq!(from_micros(to_micros(t)), t);
    }
}
