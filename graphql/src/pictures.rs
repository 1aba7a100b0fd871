//! The demo catalogue's pictures, drawn on request: `/pictures/<option>-<n>.svg` (large) and
//! `/pictures/<option>-<n>-thumb.svg` (thumbnail). A landlord's own catalogue points at its own
//! image host; these exist so the demo shows S7 end to end without binary files in the repo.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A picture name: lowercase letters, digits and `-`, ending in `.svg`, at most 80 characters.
fn stem(file: &str) -> Option<&str> {
    let stem = file.strip_suffix(".svg")?;
    let plain = !stem.is_empty()
        && stem.len() <= 80
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    plain.then_some(stem)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub async fn picture(Path(file): Path<String>) -> Response {
    let Some(stem) = stem(&file) else {
        return (StatusCode::NOT_FOUND, "no such picture").into_response();
    };
    let (name, width, height, font) = match stem.strip_suffix("-thumb") {
        Some(name) => (name, 160, 120, 14),
        None => (stem, 800, 600, 40),
    };
    // A stable colour per add-on, so the same option always looks the same.
    let hue = name
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 360;
    let label = escape(&name.replace('-', " "));
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\
         <rect width=\"100%\" height=\"100%\" fill=\"hsl({hue},45%,82%)\"/>\
         <rect x=\"8%\" y=\"12%\" width=\"84%\" height=\"62%\" rx=\"6\" fill=\"hsl({hue},35%,62%)\"/>\
         <text x=\"50%\" y=\"88%\" font-family=\"sans-serif\" font-size=\"{font}\" text-anchor=\"middle\" fill=\"#223\">{label}</text></svg>"
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        svg,
    )
        .into_response()
}
