//! Boundary files and the point index.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use jiff::Timestamp;
use serde_json::{Value, json};
use wangge_core::{GeoPoint, Lang, Localized};
use wangge_geo::boundary::{BoundaryProblem, FeatureError, parse_feature_collection};
use wangge_geo::{GridIndex, IndexedBoundary};

fn square(x0: f64, y0: f64, size: f64) -> Value {
    json!([[
        [x0, y0],
        [x0 + size, y0],
        [x0 + size, y0 + size],
        [x0, y0 + size],
        [x0, y0]
    ]])
}

fn feature(code: &str, coordinates: Value) -> Value {
    json!({
        "type": "Feature",
        "properties": { "code": code, "name": format!("网格 {code}") },
        "geometry": { "type": "Polygon", "coordinates": coordinates },
    })
}

fn collection(features: Vec<Value>) -> Vec<u8> {
    json!({ "type": "FeatureCollection", "features": features })
        .to_string()
        .into_bytes()
}

fn problems(input: &[u8]) -> Vec<FeatureError> {
    parse_feature_collection(input).expect_err("the file should be refused")
}

#[test]
fn a_good_file_is_read_whole() {
    let f = parse_feature_collection(&collection(vec![
        feature("34017100100101", square(117.0, 31.0, 0.01)),
        feature("34017100100102", square(117.01, 31.0, 0.01)),
    ]))
    .unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(f[1].code.as_str(), "34017100100102");
    assert_eq!(f[1].index, 1);
    assert_eq!(f[0].name, "网格 34017100100101");
}

#[test]
fn multipolygons_and_holes_are_accepted() {
    let multi = json!({
        "type": "Feature",
        "properties": { "code": "34017100100101", "name": "两块" },
        "geometry": { "type": "MultiPolygon", "coordinates": [
            [[[117.0, 31.0], [117.01, 31.0], [117.01, 31.01], [117.0, 31.0]]],
            [[[117.02, 31.0], [117.03, 31.0], [117.03, 31.01], [117.02, 31.0]]]
        ]},
    });
    let holed = feature(
        "34017100100102",
        json!([
            [
                [117.1, 31.0],
                [117.2, 31.0],
                [117.2, 31.1],
                [117.1, 31.1],
                [117.1, 31.0]
            ],
            [
                [117.14, 31.04],
                [117.16, 31.04],
                [117.16, 31.06],
                [117.14, 31.04]
            ]
        ]),
    );
    let f = parse_feature_collection(&collection(vec![multi, holed])).unwrap();
    assert_eq!(f[0].shape.0.len(), 2);
    assert_eq!(f[1].shape.0[0].interiors().len(), 1);
}

#[test]
fn self_intersecting_ring_is_refused_with_its_index() {
    // A bow tie: the ring crosses itself.
    let bow = json!([[
        [117.0, 31.0],
        [117.01, 31.01],
        [117.01, 31.0],
        [117.0, 31.01],
        [117.0, 31.0]
    ]]);
    let errs = problems(&collection(vec![
        feature("34017100100101", square(117.1, 31.0, 0.01)),
        feature("34017100100102", bow),
    ]));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].index, Some(1));
    assert!(matches!(
        errs[0].problem,
        BoundaryProblem::SelfIntersecting {
            polygon: 0,
            ring: Some(0)
        }
    ));
    assert_eq!(
        errs[0].localized(Lang::Zh),
        "第 1 个要素：第 1 个面的外环自相交"
    );
}

#[test]
fn unclosed_ring_is_refused() {
    let open = json!([[
        [117.0, 31.0],
        [117.01, 31.0],
        [117.01, 31.01],
        [117.0, 31.01]
    ]]);
    let errs = problems(&collection(vec![feature("34017100100101", open)]));
    assert_eq!(
        errs[0].problem,
        BoundaryProblem::UnclosedRing {
            polygon: 0,
            ring: 0
        }
    );
    assert_eq!(errs[0].index, Some(0));
}

#[test]
fn swapped_coordinates_are_named_as_such() {
    // [lat, lon] instead of [lon, lat]: latitude 117 is impossible.
    let swapped = json!([[
        [31.0, 117.0],
        [31.0, 117.01],
        [31.01, 117.01],
        [31.0, 117.0]
    ]]);
    let errs = problems(&collection(vec![feature("34017100100101", swapped)]));
    assert!(matches!(
        errs[0].problem,
        BoundaryProblem::SwappedAxes { .. }
    ));
    assert!(errs[0].localized(Lang::En).contains("swapped"));
    assert!(errs[0].localized(Lang::Zh).contains("经纬度顺序颠倒"));
}

#[test]
fn out_of_range_coordinates_are_refused() {
    for bad in [
        json!([[[190.0, 31.0], [190.1, 31.0], [190.1, 31.1], [190.0, 31.0]]]),
        json!([[
            [117.0, -95.0],
            [117.1, -95.0],
            [117.1, -95.1],
            [117.0, -95.0]
        ]]),
    ] {
        let errs = problems(&collection(vec![feature("34017100100101", bad)]));
        assert!(
            matches!(errs[0].problem, BoundaryProblem::OutOfRange { .. }),
            "{:?}",
            errs[0]
        );
    }
}

#[test]
fn too_few_positions_and_malformed_positions_are_refused() {
    let errs = problems(&collection(vec![
        feature(
            "34017100100101",
            json!([[[117.0, 31.0], [117.1, 31.0], [117.0, 31.0]]]),
        ),
        feature(
            "34017100100102",
            json!([[[117.0], [117.1, 31.0], [117.1, 31.1], [117.0]]]),
        ),
        feature(
            "34017100100103",
            json!([[["117", "31"], [117.1, 31.0], [117.1, 31.1], ["117", "31"]]]),
        ),
    ]));
    assert_eq!(
        errs[0].problem,
        BoundaryProblem::TooFewPositions {
            polygon: 0,
            ring: 0
        }
    );
    assert_eq!(errs[1].problem, BoundaryProblem::MalformedCoordinates);
    assert_eq!(errs[2].problem, BoundaryProblem::MalformedCoordinates);
}

#[test]
fn every_bad_feature_is_reported_at_once() {
    let errs = problems(&collection(vec![
        feature("34017100100101", square(117.0, 31.0, 0.01)),
        feature("3401710010010", square(117.1, 31.0, 0.01)),
        json!({ "type": "Feature", "properties": { "code": "34017100100103" }, "geometry": null }),
        json!({ "type": "Feature", "properties": { "name": "无编码" }, "geometry": { "type": "Point", "coordinates": [117.0, 31.0] } }),
        feature("34017100100101", square(117.3, 31.0, 0.01)),
        json!({ "type": "Feature", "properties": { "code": "34017100100106", "name": "点" }, "geometry": { "type": "Point", "coordinates": [117.0, 31.0] } }),
    ]));
    let by_index: Vec<(Option<usize>, &BoundaryProblem)> =
        errs.iter().map(|e| (e.index, &e.problem)).collect();
    assert_eq!(by_index.len(), 5, "{by_index:?}");
    assert!(matches!(
        by_index[0],
        (Some(1), BoundaryProblem::BadCode(_))
    ));
    assert!(matches!(
        by_index[1],
        (Some(2), BoundaryProblem::MissingProperty("name"))
    ));
    assert!(matches!(
        by_index[2],
        (Some(3), BoundaryProblem::MissingProperty("code"))
    ));
    assert!(matches!(
        by_index[3],
        (Some(4), BoundaryProblem::DuplicateCode { first_index: 0 })
    ));
    assert!(matches!(
        by_index[4],
        (Some(5), BoundaryProblem::UnsupportedGeometry(t)) if t == "Point"
    ));
}

#[test]
fn overlapping_features_are_refused_but_shared_edges_are_fine() {
    let ok = parse_feature_collection(&collection(vec![
        feature("34017100100101", square(117.0, 31.0, 0.01)),
        feature("34017100100102", square(117.01, 31.0, 0.01)),
    ]));
    assert!(ok.is_ok());
    let errs = problems(&collection(vec![
        feature("34017100100101", square(117.0, 31.0, 0.01)),
        feature("34017100100102", square(117.005, 31.0, 0.01)),
    ]));
    assert_eq!(errs[0].index, Some(1));
    assert_eq!(
        errs[0].problem,
        BoundaryProblem::OverlapsFeature { other_index: 0 }
    );
}

#[test]
fn not_a_feature_collection_is_a_file_level_error() {
    for input in [
        b"{not json".to_vec(),
        br#"{"type": "Feature"}"#.to_vec(),
        br#"{"type": "FeatureCollection", "features": []}"#.to_vec(),
    ] {
        let errs = problems(&input);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].index, None);
    }
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    let ring = LineString(vec![
        Coord { x: x0, y: y0 },
        Coord { x: x1, y: y0 },
        Coord { x: x1, y: y1 },
        Coord { x: x0, y: y1 },
        Coord { x: x0, y: y0 },
    ]);
    MultiPolygon(vec![Polygon::new(ring, vec![])])
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn pt(lon: f64, lat: f64) -> GeoPoint {
    GeoPoint::new(lon, lat).unwrap()
}

fn boundary(
    grid_id: i64,
    code: &str,
    shape: MultiPolygon<f64>,
    from: &str,
    to: Option<&str>,
) -> IndexedBoundary {
    IndexedBoundary {
        grid_id,
        code: code.to_owned(),
        valid_from: ts(from),
        valid_to: to.map(ts),
        shape,
    }
}

#[test]
fn locate_inside_on_edges_and_outside() {
    let index = GridIndex::new(vec![
        boundary(
            2,
            "34017100100102",
            rect(1.0, 0.0, 2.0, 1.0),
            "2026-01-01T00:00:00Z",
            None,
        ),
        boundary(
            1,
            "34017100100101",
            rect(0.0, 0.0, 1.0, 1.0),
            "2026-01-01T00:00:00Z",
            None,
        ),
    ]);
    let now = ts("2026-06-01T00:00:00Z");
    assert_eq!(index.locate(pt(0.5, 0.5), now), Some(1));
    assert_eq!(index.locate(pt(1.5, 0.5), now), Some(2));
    // On an outer edge: still in the grid.
    assert_eq!(index.locate(pt(0.5, 0.0), now), Some(1));
    assert_eq!(index.locate(pt(2.0, 0.5), now), Some(2));
    // On the shared edge: the lower code, whatever the load order.
    assert_eq!(index.locate(pt(1.0, 0.5), now), Some(1));
    // Outside every grid.
    assert_eq!(index.locate(pt(3.0, 0.5), now), None);
    assert_eq!(index.locate(pt(0.5, 1.0001), now), None);
    // Before any boundary was drawn.
    assert_eq!(index.locate(pt(0.5, 0.5), ts("2025-06-01T00:00:00Z")), None);
}

#[test]
fn redrawn_boundaries_answer_by_date() {
    // Grid 1 covered [0,2]x[0,1] until March; then it shrank to [0,1]x[0,1]
    // and grid 2 took over [1,2]x[0,1].
    let march = "2026-03-01T00:00:00Z";
    let index = GridIndex::new(vec![
        boundary(
            1,
            "34017100100101",
            rect(0.0, 0.0, 2.0, 1.0),
            "2026-01-01T00:00:00Z",
            Some(march),
        ),
        boundary(1, "34017100100101", rect(0.0, 0.0, 1.0, 1.0), march, None),
        boundary(2, "34017100100102", rect(1.0, 0.0, 2.0, 1.0), march, None),
    ]);
    let p = pt(1.5, 0.5);
    assert_eq!(index.locate(p, ts("2026-02-01T00:00:00Z")), Some(1));
    assert_eq!(index.locate(p, ts("2026-06-01T00:00:00Z")), Some(2));
    // The switch happens exactly at valid_from (intervals are half-open).
    assert_eq!(index.locate(p, ts(march)), Some(2));
    assert_eq!(index.len(), 3);
}

#[test]
fn an_empty_index_finds_nothing() {
    let index = GridIndex::empty();
    assert!(index.is_empty());
    assert_eq!(index.locate(pt(0.0, 0.0), ts("2026-01-01T00:00:00Z")), None);
}
