//! Grid boundaries as GeoJSON (RFC 7946, WGS-84): reading a FeatureCollection
//! with every feature checked, and writing one back.
//!
//! A file is read whole and every bad feature is reported with its index and
//! reason, so that the person fixing it sees all problems at once; the caller
//! imports nothing unless the whole file is good.

use std::collections::HashMap;
use std::fmt;

use geo::algorithm::Validation;
use geo::algorithm::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Relate};
use rstar::{AABB, RTree, RTreeObject, primitives::GeomWithData};
use serde_json::{Map, Value, json};
use wangge_core::codes::{CodeError, ExternalGridCode, GridCode};
use wangge_core::i18n::{Lang, Localized};

/// One good feature of an import file.
#[derive(Debug, Clone)]
pub struct BoundaryFeature {
    /// Position of the feature in the file's `features` array (0-based).
    pub index: usize,
    pub code: GridCode,
    pub name: String,
    pub external_code: Option<ExternalGridCode>,
    /// Names used only when the community, street or district is new.
    pub community_name: Option<String>,
    pub street_name: Option<String>,
    pub district_name: Option<String>,
    pub shape: MultiPolygon<f64>,
}

impl BoundaryFeature {
    /// The geometry as compact GeoJSON, the form it is stored in.
    pub fn geometry_json(&self) -> String {
        geometry_to_json(&self.shape).to_string()
    }
}

/// What is wrong with one feature (or, with `index` none, with the file).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureError {
    pub index: Option<usize>,
    pub problem: BoundaryProblem,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BoundaryProblem {
    NotJson(String),
    NotFeatureCollection,
    NoFeatures,
    NotAFeature,
    MissingGeometry,
    UnsupportedGeometry(String),
    MalformedCoordinates,
    NotFinite,
    /// Longitude and latitude seem exchanged (`[lat, lon]` instead of `[lon, lat]`).
    SwappedAxes {
        first: f64,
        second: f64,
    },
    OutOfRange {
        lon: f64,
        lat: f64,
    },
    TooFewPositions {
        polygon: usize,
        ring: usize,
    },
    UnclosedRing {
        polygon: usize,
        ring: usize,
    },
    SelfIntersecting {
        polygon: usize,
        ring: Option<usize>,
    },
    /// Any other topology fault (rings crossing, holes outside, parts overlapping).
    InvalidTopology(String),
    MissingProperty(&'static str),
    BadCode(CodeError),
    BadExternalCode(CodeError),
    DuplicateCode {
        first_index: usize,
    },
    OverlapsFeature {
        other_index: usize,
    },
}

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.localized(Lang::En))
    }
}

impl std::error::Error for FeatureError {}

fn ring_name(lang: Lang, ring: usize) -> String {
    match (lang, ring) {
        (Lang::Zh, 0) => "外环".to_owned(),
        (Lang::Zh, n) => format!("第 {n} 个内环"),
        (Lang::En, 0) => "exterior ring".to_owned(),
        (Lang::En, n) => format!("interior ring {n}"),
    }
}

impl Localized for BoundaryProblem {
    fn localized(&self, lang: Lang) -> String {
        use BoundaryProblem as P;
        let zh = lang == Lang::Zh;
        match self {
            P::NotJson(e) if zh => format!("不是有效的 JSON：{e}"),
            P::NotJson(e) => format!("not valid JSON: {e}"),
            P::NotFeatureCollection if zh => "文件必须是 GeoJSON FeatureCollection".to_owned(),
            P::NotFeatureCollection => "the file must be a GeoJSON FeatureCollection".to_owned(),
            P::NoFeatures if zh => "FeatureCollection 中没有任何要素".to_owned(),
            P::NoFeatures => "the FeatureCollection has no features".to_owned(),
            P::NotAFeature if zh => "不是 GeoJSON Feature 对象".to_owned(),
            P::NotAFeature => "not a GeoJSON Feature object".to_owned(),
            P::MissingGeometry if zh => "缺少几何图形".to_owned(),
            P::MissingGeometry => "the feature has no geometry".to_owned(),
            P::UnsupportedGeometry(t) if zh => {
                format!("几何类型 {t} 不可用作网格边界，应为 Polygon 或 MultiPolygon")
            }
            P::UnsupportedGeometry(t) => {
                format!("geometry type {t} cannot be a grid boundary; use Polygon or MultiPolygon")
            }
            P::MalformedCoordinates if zh => "坐标格式错误，应为 [经度, 纬度] 数组".to_owned(),
            P::MalformedCoordinates => {
                "malformed coordinates: positions must be [longitude, latitude] arrays".to_owned()
            }
            P::NotFinite if zh => "坐标必须是有限的数字".to_owned(),
            P::NotFinite => "coordinates must be finite numbers".to_owned(),
            P::SwappedAxes { first, second } if zh => {
                format!("坐标 [{first}, {second}] 的经纬度顺序颠倒：GeoJSON 要求 [经度, 纬度]")
            }
            P::SwappedAxes { first, second } => format!(
                "coordinate [{first}, {second}] has latitude and longitude swapped: GeoJSON wants [longitude, latitude]"
            ),
            P::OutOfRange { lon, lat } if zh => {
                format!("坐标 [{lon}, {lat}] 超出范围（经度 ±180，纬度 ±90）")
            }
            P::OutOfRange { lon, lat } => {
                format!("coordinate [{lon}, {lat}] is out of range (longitude ±180, latitude ±90)")
            }
            P::TooFewPositions { polygon, ring } if zh => format!(
                "第 {} 个面的{}少于 4 个坐标点",
                polygon + 1,
                ring_name(lang, *ring)
            ),
            P::TooFewPositions { polygon, ring } => format!(
                "polygon {}: {} has fewer than 4 positions",
                polygon + 1,
                ring_name(lang, *ring)
            ),
            P::UnclosedRing { polygon, ring } if zh => format!(
                "第 {} 个面的{}未闭合：首尾坐标必须相同",
                polygon + 1,
                ring_name(lang, *ring)
            ),
            P::UnclosedRing { polygon, ring } => format!(
                "polygon {}: {} is not closed: its first and last positions must be equal",
                polygon + 1,
                ring_name(lang, *ring)
            ),
            P::SelfIntersecting { polygon, ring } => {
                let ring = ring.map(|r| ring_name(lang, r));
                match (zh, ring) {
                    (true, Some(r)) => format!("第 {} 个面的{r}自相交", polygon + 1),
                    (true, None) => format!("第 {} 个面自相交", polygon + 1),
                    (false, Some(r)) => format!("polygon {}: {r} intersects itself", polygon + 1),
                    (false, None) => format!("polygon {} intersects itself", polygon + 1),
                }
            }
            P::InvalidTopology(detail) if zh => format!("几何图形无效：{detail}"),
            P::InvalidTopology(detail) => format!("invalid geometry: {detail}"),
            P::MissingProperty(name) if zh => format!("缺少属性 {name}"),
            P::MissingProperty(name) => format!("missing property {name}"),
            P::BadCode(e) => e.localized(lang),
            P::BadExternalCode(e) => e.localized(lang),
            P::DuplicateCode { first_index } if zh => {
                format!("网格编码与第 {first_index} 个要素重复")
            }
            P::DuplicateCode { first_index } => {
                format!("grid code repeats feature {first_index}")
            }
            P::OverlapsFeature { other_index } if zh => {
                format!("与第 {other_index} 个要素的边界重叠")
            }
            P::OverlapsFeature { other_index } => {
                format!("overlaps the boundary of feature {other_index}")
            }
        }
    }
}

impl Localized for FeatureError {
    fn localized(&self, lang: Lang) -> String {
        let problem = self.problem.localized(lang);
        match (self.index, lang) {
            (Some(i), Lang::Zh) => format!("第 {i} 个要素：{problem}"),
            (Some(i), Lang::En) => format!("feature {i}: {problem}"),
            (None, _) => problem,
        }
    }
}

/// Reads a GeoJSON FeatureCollection of grid boundaries.
///
/// Returns every good feature, or every problem found (file-level problems
/// have no index). Features carry `code` (14-digit grid code) and `name`,
/// and optionally `external_code`, `community_name`, `street_name` and
/// `district_name` in their properties.
pub fn parse_feature_collection(input: &[u8]) -> Result<Vec<BoundaryFeature>, Vec<FeatureError>> {
    let file_error = |problem| {
        vec![FeatureError {
            index: None,
            problem,
        }]
    };
    let doc: Value = serde_json::from_slice(input)
        .map_err(|e| file_error(BoundaryProblem::NotJson(e.to_string())))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(file_error(BoundaryProblem::NotFeatureCollection));
    }
    let Some(features) = doc.get("features").and_then(Value::as_array) else {
        return Err(file_error(BoundaryProblem::NotFeatureCollection));
    };
    if features.is_empty() {
        return Err(file_error(BoundaryProblem::NoFeatures));
    }

    let mut good = Vec::with_capacity(features.len());
    let mut errors = Vec::new();
    let mut seen: HashMap<GridCode, usize> = HashMap::new();
    for (index, feature) in features.iter().enumerate() {
        match parse_feature(index, feature) {
            Ok(f) => {
                if let Some(&first_index) = seen.get(&f.code) {
                    errors.push(FeatureError {
                        index: Some(index),
                        problem: BoundaryProblem::DuplicateCode { first_index },
                    });
                } else {
                    seen.insert(f.code.clone(), index);
                    good.push(f);
                }
            }
            Err(problem) => errors.push(FeatureError {
                index: Some(index),
                problem,
            }),
        }
    }
    errors.extend(find_overlaps(&good));
    if errors.is_empty() {
        Ok(good)
    } else {
        errors.sort_by_key(|e| e.index);
        Err(errors)
    }
}

fn parse_feature(index: usize, feature: &Value) -> Result<BoundaryFeature, BoundaryProblem> {
    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(BoundaryProblem::NotAFeature);
    }
    let empty = Map::new();
    let props = feature
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let text = |key: &str| {
        props
            .get(key)
            .and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let code = text("code").ok_or(BoundaryProblem::MissingProperty("code"))?;
    let code = GridCode::parse(&code).map_err(BoundaryProblem::BadCode)?;
    let name = text("name").ok_or(BoundaryProblem::MissingProperty("name"))?;
    let external_code = text("external_code")
        .map(|c| ExternalGridCode::parse(&c))
        .transpose()
        .map_err(BoundaryProblem::BadExternalCode)?;
    let geometry = feature
        .get("geometry")
        .filter(|g| !g.is_null())
        .ok_or(BoundaryProblem::MissingGeometry)?;
    let shape = parse_geometry(geometry)?;
    Ok(BoundaryFeature {
        index,
        code,
        name,
        external_code,
        community_name: text("community_name"),
        street_name: text("street_name"),
        district_name: text("district_name"),
        shape,
    })
}

/// Reads and checks one GeoJSON Polygon or MultiPolygon geometry.
pub fn parse_geometry(geometry: &Value) -> Result<MultiPolygon<f64>, BoundaryProblem> {
    let shape = read_shape(geometry)?;
    check_topology(&shape)?;
    Ok(shape)
}

/// Reads positions and rings, checking ranges and closure but not topology.
fn read_shape(geometry: &Value) -> Result<MultiPolygon<f64>, BoundaryProblem> {
    let kind = geometry
        .get("type")
        .and_then(Value::as_str)
        .ok_or(BoundaryProblem::MissingGeometry)?;
    let coords = geometry
        .get("coordinates")
        .and_then(Value::as_array)
        .ok_or(BoundaryProblem::MalformedCoordinates)?;
    let polygons: Vec<&Vec<Value>> = match kind {
        "Polygon" => vec![coords],
        "MultiPolygon" => coords
            .iter()
            .map(|p| p.as_array().ok_or(BoundaryProblem::MalformedCoordinates))
            .collect::<Result<_, _>>()?,
        other => return Err(BoundaryProblem::UnsupportedGeometry(other.to_owned())),
    };
    if polygons.is_empty() {
        return Err(BoundaryProblem::MalformedCoordinates);
    }
    Ok(MultiPolygon(
        polygons
            .iter()
            .enumerate()
            .map(|(i, rings)| parse_polygon(i, rings))
            .collect::<Result<_, _>>()?,
    ))
}

fn parse_polygon(polygon: usize, rings: &[Value]) -> Result<Polygon<f64>, BoundaryProblem> {
    if rings.is_empty() {
        return Err(BoundaryProblem::MalformedCoordinates);
    }
    let mut parsed = Vec::with_capacity(rings.len());
    for (ring, positions) in rings.iter().enumerate() {
        let positions = positions
            .as_array()
            .ok_or(BoundaryProblem::MalformedCoordinates)?;
        let coords = positions
            .iter()
            .map(parse_position)
            .collect::<Result<Vec<_>, _>>()?;
        if coords.len() < 4 {
            return Err(BoundaryProblem::TooFewPositions { polygon, ring });
        }
        if coords.first() != coords.last() {
            return Err(BoundaryProblem::UnclosedRing { polygon, ring });
        }
        parsed.push(LineString(coords));
    }
    let exterior = parsed.remove(0);
    Ok(Polygon::new(exterior, parsed))
}

fn parse_position(position: &Value) -> Result<Coord<f64>, BoundaryProblem> {
    let p = position
        .as_array()
        .filter(|p| p.len() >= 2)
        .ok_or(BoundaryProblem::MalformedCoordinates)?;
    let (Some(x), Some(y)) = (p[0].as_f64(), p[1].as_f64()) else {
        return Err(BoundaryProblem::MalformedCoordinates);
    };
    if !x.is_finite() || !y.is_finite() {
        return Err(BoundaryProblem::NotFinite);
    }
    let lon_ok = (-180.0..=180.0).contains(&x);
    let lat_ok = (-90.0..=90.0).contains(&y);
    if lon_ok && lat_ok {
        return Ok(Coord { x, y });
    }
    // A latitude beyond ±90 that would be a fine longitude, paired with a
    // first number that would be a fine latitude, is the classic [lat, lon].
    if (-90.0..=90.0).contains(&x) && (-180.0..=180.0).contains(&y) {
        return Err(BoundaryProblem::SwappedAxes {
            first: x,
            second: y,
        });
    }
    Err(BoundaryProblem::OutOfRange { lon: x, lat: y })
}

fn ring_index(role: &RingRole) -> usize {
    match role {
        RingRole::Exterior => 0,
        RingRole::Interior(i) => i + 1,
    }
}

fn check_topology(shape: &MultiPolygon<f64>) -> Result<(), BoundaryProblem> {
    let Err(e) = shape.check_validation() else {
        return Ok(());
    };
    Err(match &e {
        InvalidMultiPolygon::InvalidPolygon(idx, InvalidPolygon::SelfIntersection(role)) => {
            BoundaryProblem::SelfIntersecting {
                polygon: idx.0,
                ring: Some(ring_index(role)),
            }
        }
        InvalidMultiPolygon::InvalidPolygon(idx, InvalidPolygon::TooFewPointsInRing(role)) => {
            BoundaryProblem::TooFewPositions {
                polygon: idx.0,
                ring: ring_index(role),
            }
        }
        InvalidMultiPolygon::InvalidPolygon(_, InvalidPolygon::NonFiniteCoord(..)) => {
            BoundaryProblem::NotFinite
        }
        other => BoundaryProblem::InvalidTopology(other.to_string()),
    })
}

/// Features of one file whose interiors overlap (sharing an edge is fine).
fn find_overlaps(features: &[BoundaryFeature]) -> Vec<FeatureError> {
    let boxes: Vec<GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>> = features
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let r = f.shape.bounding_rect()?;
            Some(GeomWithData::new(
                rstar::primitives::Rectangle::from_corners(
                    [r.min().x, r.min().y],
                    [r.max().x, r.max().y],
                ),
                i,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(boxes.clone());
    let mut errors = Vec::new();
    for b in &boxes {
        let env: AABB<[f64; 2]> = b.envelope();
        for other in tree.locate_in_envelope_intersecting(&env) {
            let (i, j) = (b.data, other.data);
            if j <= i {
                continue;
            }
            let overlap = features[i]
                .shape
                .relate(&features[j].shape)
                .matches("2********")
                .unwrap_or(false);
            if overlap {
                errors.push(FeatureError {
                    index: Some(features[j].index),
                    problem: BoundaryProblem::OverlapsFeature {
                        other_index: features[i].index,
                    },
                });
            }
        }
    }
    errors
}

/// GeoJSON geometry of a shape: a Polygon when it has one part.
pub fn geometry_to_json(shape: &MultiPolygon<f64>) -> Value {
    let ring = |ls: &LineString<f64>| -> Value {
        Value::Array(ls.0.iter().map(|c| json!([c.x, c.y])).collect())
    };
    let polygon = |p: &Polygon<f64>| -> Value {
        Value::Array(
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(ring)
                .collect(),
        )
    };
    match shape.0.as_slice() {
        [one] => json!({ "type": "Polygon", "coordinates": polygon(one) }),
        many => json!({
            "type": "MultiPolygon",
            "coordinates": many.iter().map(polygon).collect::<Vec<_>>(),
        }),
    }
}

/// Parses a geometry that was fully validated before it was stored; the
/// (costly) topology check is not repeated.
pub fn stored_geometry(text: &str) -> Result<MultiPolygon<f64>, BoundaryProblem> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| BoundaryProblem::NotJson(e.to_string()))?;
    read_shape(&value)
}
