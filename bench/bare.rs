//! A bare axum server with no middleware: the ceiling `bench/run.sh` measures taskgate against.
//!
//! `GET /healthz` answers the same 15 bytes as taskgate's; `GET /page` answers a JSON page of
//! `BARE_PAGE_BYTES` bytes (default: the size of taskgate's 20-task W-list page), so that the
//! ratios in bench/README.md compare equal work on the wire.
//!
//!     cargo run --release --example bare -- 127.0.0.1:18090

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18090".into());
    // A typo here must not silently benchmark a page of the default size instead.
    let page_bytes = match std::env::var("BARE_PAGE_BYTES") {
        Ok(value) => value.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("BARE_PAGE_BYTES={value:?} is not a number of bytes"),
            )
        })?,
        Err(_) => 5300,
    };
    let page = Bytes::from(json_page(page_bytes));
    let app = Router::new()
        .route(
            "/healthz",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], "{\"status\":\"ok\"}") }),
        )
        .route(
            "/page",
            get(move || {
                let page = page.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], page) }
            }),
        );
    let listener = tokio::net::TcpListener::bind(&address).await?;
    eprintln!("bare: listening on {address}");
    axum::serve(listener, app).await
}

/// A JSON array of task-shaped objects, padded to exactly `bytes` bytes.
fn json_page(bytes: usize) -> Vec<u8> {
    let task = r#"{"id":"019a9c1e-5b7d-7a3b-9d61-2a4f0c1e5b7d","user_id":"bench-user","title":"Task","description":null,"completed":false,"completed_at":null,"created_at":"2026-11-21T09:00:00.123456Z","updated_at":"2026-11-21T09:00:00.123456Z"}"#;
    let mut out = String::from("[");
    while out.len() + task.len() + 2 < bytes {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(task);
    }
    out.push(']');
    // Pad with white space (valid JSON) so the size is exact.
    while out.len() < bytes {
        out.insert(out.len() - 1, ' ');
    }
    out.into_bytes()
}
