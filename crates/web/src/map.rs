//! Small SVG sketches of grid boundaries, drawn on the server so that pages
//! work offline and without a tile server.

use std::fmt::Write;

use serde_json::Value;

pub struct Shape<'a> {
    pub label: &'a str,
    pub href: Option<String>,
    pub geometry: &'a Value,
    pub highlight: bool,
}

pub struct Dot<'a> {
    pub label: &'a str,
    pub lon: f64,
    pub lat: f64,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Exterior and interior rings of a Polygon or MultiPolygon geometry.
fn rings(geometry: &Value) -> Vec<Vec<(f64, f64)>> {
    let coords = geometry.get("coordinates");
    let polygons: Vec<&Value> = match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => coords.into_iter().collect(),
        Some("MultiPolygon") => coords
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    polygons
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_array)
        .map(|ring| {
            ring.iter()
                .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                .collect()
        })
        .collect()
}

/// An SVG sketch of shapes and dots, scaled to fit a 640-wide box.
pub fn sketch(shapes: &[Shape<'_>], dots: &[Dot<'_>]) -> String {
    let all: Vec<(f64, f64)> = shapes
        .iter()
        .flat_map(|s| rings(s.geometry).into_iter().flatten())
        .chain(dots.iter().map(|d| (d.lon, d.lat)))
        .collect();
    if all.is_empty() {
        return String::new();
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in &all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    // Equirectangular, with longitude shrunk by cos(latitude).
    let kx = ((y0 + y1) / 2.0).to_radians().cos();
    let (w, h) = (((x1 - x0) * kx).max(1e-9), (y1 - y0).max(1e-9));
    let width = 640.0;
    let pad = 12.0;
    let scale = (width - 2.0 * pad) / w;
    let height = h * scale + 2.0 * pad;
    let px = |x: f64| pad + (x - x0) * kx * scale;
    let py = |y: f64| pad + (y1 - y) * scale;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="map" viewBox="0 0 {width:.0} {height:.0}" xmlns="http://www.w3.org/2000/svg" role="img">"#
    );
    for s in shapes {
        let mut d = String::new();
        let (mut cx, mut cy, mut n) = (0.0, 0.0, 0.0);
        for (ri, ring) in rings(s.geometry).into_iter().enumerate() {
            for (i, &(x, y)) in ring.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} ",
                    if i == 0 { "M" } else { "L" },
                    px(x),
                    py(y)
                );
                if ri == 0 {
                    cx += px(x);
                    cy += py(y);
                    n += 1.0;
                }
            }
            d.push_str("Z ");
        }
        let class = if s.highlight { "grid current" } else { "grid" };
        let label = escape(s.label);
        let body = format!(
            r#"<path class="{class}" d="{d}" fill-rule="evenodd"><title>{label}</title></path>"#
        );
        match &s.href {
            Some(href) => {
                let _ = write!(svg, r#"<a href="{}">{body}</a>"#, escape(href));
            }
            None => svg.push_str(&body),
        }
        // A lone highlighted grid is named by the page; label only maps of many.
        if n > 0.0 && !s.highlight {
            let _ = write!(
                svg,
                r#"<text class="label" x="{:.1}" y="{:.1}">{label}</text>"#,
                cx / n,
                cy / n
            );
        }
    }
    for d in dots {
        let (x, y) = (px(d.lon), py(d.lat));
        let label = escape(d.label);
        let _ = write!(
            svg,
            r#"<circle class="dot" cx="{x:.1}" cy="{y:.1}" r="5"><title>{label}</title></circle><text class="dot-label" x="{:.1}" y="{:.1}">{label}</text>"#,
            x + 7.0,
            y + 5.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sketches_escape_labels_and_draw_every_ring() {
        let g = json!({"type": "Polygon", "coordinates": [
            [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]],
            [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]]
        ]});
        let svg = sketch(
            &[Shape {
                label: "<b>网格</b>",
                href: Some("/grids/1".into()),
                geometry: &g,
                highlight: true,
            }],
            &[Dot {
                label: "13栋",
                lon: 0.5,
                lat: 0.5,
            }],
        );
        assert!(svg.contains("&lt;b&gt;网格&lt;/b&gt;"));
        assert!(!svg.contains("<b>"));
        assert_eq!(svg.matches('Z').count(), 2);
        assert!(svg.contains("<circle"));
    }
}
