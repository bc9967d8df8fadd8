//! Static files compiled into the binary and served under content-hashed URLs, so browsers may
//! cache them forever and a new build can never be mixed with an old one.

use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// The name templates ask for, e.g. `app.css`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// The first 16 hex digits of the SHA-256 of `bytes`.
    pub hash: String,
    /// `/static/{hash}/{name}`, made once: every page asks for several.
    url: String,
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        (
            $name,
            $content_type,
            include_bytes!(concat!("../static/", $name)).as_slice(),
        )
    };
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        asset!("app.css", "text/css; charset=utf-8"),
        asset!("app.js", "text/javascript; charset=utf-8"),
        asset!("catalog.js", "text/javascript; charset=utf-8"),
        asset!("favicon.svg", "image/svg+xml"),
        asset!("playground.js", "text/javascript; charset=utf-8"),
    ]
    .into_iter()
    .map(|(name, content_type, bytes)| {
        let digest = Sha256::digest(bytes);
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Asset {
            name,
            content_type,
            bytes,
            url: format!("/static/{hash}/{name}"),
            hash,
        }
    })
    .collect()
});

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.name == name)
}

/// The URL of an embedded file, e.g. `/static/3f2a9c0e1b7d4a55/app.css`.
/// An unknown name is a programming error caught by the test below; it yields a URL that 404s.
pub fn url(name: &str) -> &'static str {
    match find(name) {
        Some(asset) => &asset.url,
        None => "/static/missing",
    }
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `GET /static/{hash}/{name}`. A stale hash (a page from before an upgrade) still gets the
/// current file, but marked for revalidation instead of for a year.
pub async fn serve(Path((hash, name)): Path<(String, String)>) -> Response {
    let Some(asset) = find(&name) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let cache = if hash == asset.hash {
        IMMUTABLE
    } else {
        "no-cache"
    };
    let mut response = Response::new(Body::from(asset.bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_distinct_hashed_url() {
        let urls: Vec<&str> = ["app.css", "app.js", "catalog.js", "favicon.svg"]
            .map(url)
            .into();
        for u in &urls {
            assert!(!u.contains("missing"), "{u}");
            let hash = u.split('/').nth(2).unwrap_or_default();
            assert_eq!(hash.len(), 16, "{u}");
        }
        assert_eq!(url("nope.css"), "/static/missing");
    }
}
