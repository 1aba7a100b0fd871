//! GraphiQL, served by tillval from copies compiled into the binary (graphiql 3.8.3 and React
//! 18.3.1, MIT; `graphiql/LICENSES.txt`), so the docs pane works on a machine with no internet.
//! The copies are kept gzipped: most browsers take them so, and the rare client that does not
//! accept gzip gets them unpacked. Development only, like the rest of `/graphiql`.
//!
//! To update: `npm pack graphiql@3 react@18 react-dom@18`, then `gzip -9n -c` each UMD file
//! over the one here.

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use std::io::Read;

/// One vendored file: its name under `/graphiql/`, its media type and its gzipped bytes.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    gzipped: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.js",
        media_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("graphiql/graphiql.min.js.gz"),
    },
    Asset {
        name: "graphiql.min.css",
        media_type: "text/css; charset=utf-8",
        gzipped: include_bytes!("graphiql/graphiql.min.css.gz"),
    },
    Asset {
        name: "react.production.min.js",
        media_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("graphiql/react.production.min.js.gz"),
    },
    Asset {
        name: "react-dom.production.min.js",
        media_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("graphiql/react-dom.production.min.js.gz"),
    },
];

/// `/graphiql` (the page) and `/graphiql/{file}` (its scripts and styles).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/graphiql", get(page))
        .route("/graphiql/start.js", get(start_script))
        .route("/graphiql/{file}", get(asset))
}

async fn page() -> Html<&'static str> {
    Html(include_str!("graphiql/index.html"))
}

async fn start_script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        include_str!("graphiql/start.js"),
    )
        .into_response()
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == file) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let content_type = (
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.media_type),
    );
    // The file names carry no version, so a browser asks again after a day.
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    if accepts_gzip(&headers) {
        let encoding = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return ([content_type, cache, vary, encoding], asset.gzipped).into_response();
    }
    let mut unpacked = Vec::new();
    match flate2::read::GzDecoder::new(asset.gzipped).read_to_end(&mut unpacked) {
        Ok(_) => ([content_type, cache, vary], unpacked).into_response(),
        Err(error) => {
            tracing::error!(%error, file, "a vendored GraphiQL file does not unpack");
            (StatusCode::INTERNAL_SERVER_ERROR, "asset unreadable").into_response()
        }
    }
}

/// Whether `Accept-Encoding` lists gzip with a quality above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|parameter| {
                let parameter = parameter.trim().replace(' ', "");
                parameter == "q=0"
                    || parameter == "q=0.0"
                    || parameter == "q=0.00"
                    || parameter == "q=0.000"
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn gzip_is_sent_only_to_whom_accepts_it() {
        assert!(accepts_gzip(&with("gzip, deflate, br")));
        assert!(accepts_gzip(&with("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&with("*")));
        assert!(!accepts_gzip(&with("gzip;q=0")));
        assert!(!accepts_gzip(&with("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn every_vendored_file_unpacks() {
        for asset in ASSETS {
            let mut unpacked = Vec::new();
            let read = flate2::read::GzDecoder::new(asset.gzipped).read_to_end(&mut unpacked);
            assert!(read.is_ok(), "{} does not unpack", asset.name);
            assert!(
                unpacked.len() > asset.gzipped.len(),
                "{} is not compressed",
                asset.name
            );
        }
    }
}
