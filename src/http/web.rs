//! The browser app: the files of `web/`, embedded in the binary. Assets are served under
//! `/assets/`; every other app path gets `index.html`, and the app routes itself (its own
//! not-found page included). Paths of the API surfaces are not the app's: their 404 is left bare
//! for the edge to give it the JSON body of that API.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use crate::http::edge::Surface;

/// Where the app's assets are served; the file names below are relative to it (and to `web/`).
const ASSET_PREFIX: &str = "/assets/";

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const TEXT: &str = "text/plain; charset=utf-8";

/// File names are not content-hashed, so every copy is revalidated; the ETag makes that a 304.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// One embedded file.
struct File {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! embedded {
    ($name:literal, $content_type:expr) => {
        File {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $name)),
        }
    };
}

static INDEX: File = embedded!("index.html", HTML);

/// Everything under `/assets/`.
static ASSETS: [File; 18] = [
    embedded!("app.js", JS),
    embedded!("api.js", JS),
    embedded!("router.js", JS),
    embedded!("ui.js", JS),
    embedded!("auth.js", JS),
    embedded!("tasks.js", JS),
    embedded!("taskform.js", JS),
    embedded!("filters.js", JS),
    embedded!("dates.js", JS),
    embedded!("tags.js", JS),
    embedded!("lists.js", JS),
    embedded!("tree.js", JS),
    embedded!("account.js", JS),
    embedded!("style.css", CSS),
    embedded!("favicon.svg", SVG),
    embedded!("vendor/preact-htm.module.js", JS),
    embedded!("vendor/LICENSE-htm", TEXT),
    embedded!("vendor/LICENSE-preact", TEXT),
];

/// The strong validator of each file: a digest of its bytes, computed once.
struct Tagged {
    file: &'static File,
    etag: HeaderValue,
}

fn tagged(file: &'static File) -> Tagged {
    let digest = Sha256::digest(file.bytes);
    let hex: String = digest[..12].iter().map(|byte| format!("{byte:02x}")).collect();
    let etag =
        HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"\""));
    Tagged { file, etag }
}

static TAGGED_INDEX: LazyLock<Tagged> = LazyLock::new(|| tagged(&INDEX));
static TAGGED_ASSETS: LazyLock<Vec<Tagged>> = LazyLock::new(|| ASSETS.iter().map(tagged).collect());

/// The routes of [`router`]: `/assets/` itself is not matched by the wildcard; it is a missing
/// asset, not the page. Every other path is the fallback's.
pub const ROUTES: [&str; 2] = ["/assets/", "/assets/{*file}"];

/// The app's routes: its assets, and `index.html` for every other path that is not an API's.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    ROUTES
        .into_iter()
        .fold(Router::new(), |router, path| router.route(path, get(asset)))
        .fallback(app_or_not_found)
}

async fn asset(uri: Uri, headers: HeaderMap) -> Response {
    let name = uri.path().strip_prefix(ASSET_PREFIX).unwrap_or_default();
    match TAGGED_ASSETS.iter().find(|tagged| tagged.file.name == name) {
        Some(tagged) => serve(tagged, &headers),
        None => plain(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn app_or_not_found(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if Surface::of(uri.path()) != Surface::App {
        // Bare: the edge answers in the convention of the API this path belongs to.
        return StatusCode::NOT_FOUND.into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    serve(&TAGGED_INDEX, &headers)
}

fn serve(tagged: &Tagged, request: &HeaderMap) -> Response {
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .any(|value| matches_etag(value.as_bytes(), tagged.etag.as_bytes()));
    let builder = Response::builder()
        .header(header::ETAG, tagged.etag.clone())
        .header(header::CACHE_CONTROL, REVALIDATE);
    let response = if fresh {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .header(header::CONTENT_TYPE, tagged.file.content_type)
            .body(Body::from(tagged.file.bytes))
    };
    response.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// `If-None-Match` uses the weak comparison (RFC 9110 13.1.2): `*`, or any listed tag whose
/// opaque part equals ours, `W/` or not.
fn matches_etag(if_none_match: &[u8], etag: &[u8]) -> bool {
    let if_none_match = if_none_match.trim_ascii();
    if if_none_match == b"*" {
        return true;
    }
    if_none_match.split(|byte| *byte == b',').any(|candidate| {
        let candidate = candidate.trim_ascii();
        candidate.strip_prefix(b"W/").unwrap_or(candidate) == etag
    })
}

/// A short plain-text answer: outside `/api`, errors are not JSON.
fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, TEXT)], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let etag = br#""abc""#;
        assert!(matches_etag(br#""abc""#, etag));
        assert!(matches_etag(br#"W/"abc""#, etag));
        assert!(matches_etag(br#""x", "abc""#, etag));
        assert!(matches_etag(b"*", etag));
        assert!(!matches_etag(br#""abd""#, etag));
        assert!(!matches_etag(b"abc", etag), "unquoted is not the tag");
        assert!(!matches_etag(b"", etag));
    }

    #[test]
    fn every_file_of_web_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut pending = vec![root.clone()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let name = path.strip_prefix(&root).unwrap().to_str().unwrap().replace('\\', "/");
                // The vendored files' notes are for the repository, not the browser.
                let embedded = name == INDEX.name
                    || name == "vendor/README.md"
                    || ASSETS.iter().any(|file| file.name == name);
                assert!(embedded, "web/{name} is not in ASSETS: the browser would get a 404");
            }
        }
    }

    #[test]
    fn every_asset_is_reachable_under_its_own_name() {
        for (i, file) in ASSETS.iter().enumerate() {
            assert!(!file.bytes.is_empty(), "{}", file.name);
            assert!(ASSETS[..i].iter().all(|other| other.name != file.name), "{} twice", file.name);
        }
    }
}
