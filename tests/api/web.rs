//! The web app's HTTP surface: pages are HTML under the page CSP, assets are typed and
//! revalidated with ETags, and the API keeps its own conventions (JSON errors, its own CSP).

use reqwest::Response;
use reqwest::header::{CONTENT_TYPE, ETAG, HeaderMap};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app, token_for};

const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers.get(name).map_or("", |value| value.to_str().unwrap())
}

async fn get(app: &TestApp, path: &str) -> Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

/// Asserts the answer is the app's page: 200, HTML, the page CSP, revalidated; returns its text.
async fn assert_app_page(response: Response) -> String {
    let what = response.url().path().to_owned();
    assert_eq!(response.status(), 200, "{what}");
    let headers = response.headers();
    assert_eq!(header(headers, "content-type"), "text/html; charset=utf-8", "{what}");
    assert_eq!(header(headers, "content-security-policy"), PAGE_CSP, "{what}");
    assert_eq!(header(headers, "cache-control"), "no-cache", "{what}");
    assert_eq!(header(headers, "x-content-type-options"), "nosniff", "{what}");
    let body = response.text().await.unwrap();
    assert!(body.starts_with("<!doctype html>"), "{what}: {body}");
    assert!(body.contains(r#"<script type="module" src="/assets/app.js"></script>"#), "{what}");
    body
}

#[tokio::test]
async fn the_root_and_every_app_path_answer_the_app_page_under_the_page_csp() {
    let app = spawn_app().await;
    let root = assert_app_page(get(&app, "/").await).await;
    for path in
        ["/tasks", "/sign-in?next=%2Ftasks", "/account", "/no/such/page", "/apiary", "/docsearch"]
    {
        assert_eq!(assert_app_page(get(&app, path).await).await, root, "{path}");
    }
}

#[tokio::test]
async fn the_page_has_no_inline_script_or_style_and_loads_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let page = assert_app_page(get(&app, "/").await).await;
    assert_eq!(page.matches("<script").count(), 1, "one script, an external module: {page}");
    assert!(!page.contains("style="), "inline styles are blocked by the CSP: {page}");
    assert!(!page.contains("<style"), "{page}");
    assert!(!page.contains("//"), "every URL is a path of this origin: {page}");
}

#[tokio::test]
async fn assets_are_served_with_their_content_type() {
    let app = spawn_app().await;
    let cases = [
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/tasks.js", "text/javascript; charset=utf-8"),
        ("/assets/vendor/preact-htm.module.js", "text/javascript; charset=utf-8"),
        ("/assets/style.css", "text/css; charset=utf-8"),
        ("/assets/favicon.svg", "image/svg+xml"),
        ("/assets/vendor/LICENSE-htm", "text/plain; charset=utf-8"),
    ];
    for (path, content_type) in cases {
        let response = get(&app, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(response.headers(), "content-type"), content_type, "{path}");
        assert_eq!(header(response.headers(), "cache-control"), "no-cache", "{path}");
        assert!(header(response.headers(), "etag").starts_with('"'), "{path}: a strong ETag");
        assert!(!response.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn a_revalidation_with_the_current_etag_is_a_304_without_a_body() {
    let app = spawn_app().await;
    for path in ["/assets/app.js", "/assets/style.css", "/", "/tasks"] {
        let first = get(&app, path).await;
        let etag = first.headers()[ETAG].clone();
        let revalidated =
            app.client.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(revalidated.status(), 304, "{path}");
        assert_eq!(revalidated.headers()[ETAG], etag, "{path}");
        assert_eq!(header(revalidated.headers(), "cache-control"), "no-cache", "{path}");
        assert!(revalidated.bytes().await.unwrap().is_empty(), "{path}");

        let weak = format!("\"other\", W/{}", etag.to_str().unwrap());
        let listed = app.client.get(app.url(path)).header("if-none-match", weak).send().await;
        assert_eq!(listed.unwrap().status(), 304, "{path}: weak comparison, in a list");
        let stale = app.client.get(app.url(path)).header("if-none-match", "\"stale\"").send();
        assert_eq!(stale.await.unwrap().status(), 200, "{path}: another tag gets the file");
    }
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    for path in ["/", "/assets/app.js"] {
        let head = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "{path}");
        assert!(header(head.headers(), "etag").starts_with('"'), "{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn an_unknown_asset_is_a_plain_404_not_the_page() {
    let app = spawn_app().await;
    // The folder itself too: it is no page of the app.
    for path in ["/assets/nope.js", "/assets/", "/assets/vendor/"] {
        let response = get(&app, path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(header(response.headers(), "content-type"), "text/plain; charset=utf-8");
        assert_eq!(header(response.headers(), "content-security-policy"), PAGE_CSP);
    }
}

#[tokio::test]
async fn other_methods_outside_the_api_are_405_and_not_json() {
    let app = spawn_app().await;
    for path in ["/", "/tasks", "/assets/app.js"] {
        for method in [reqwest::Method::POST, reqwest::Method::PUT, reqwest::Method::DELETE] {
            let response = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            let content_type = header(response.headers(), "content-type").to_owned();
            assert!(content_type.starts_with("text/plain"), "{method} {path}: {content_type}");
            assert!(header(response.headers(), "allow").contains("GET"), "{method} {path}");
            let body = response.text().await.unwrap();
            assert!(!body.is_empty() && serde_json::from_str::<Value>(&body).is_err(), "{body}");
        }
    }
}

#[tokio::test]
async fn unknown_api_paths_keep_the_task_apis_json_404_and_csp() {
    let app = spawn_app().await;
    for path in ["/api", "/api/", "/api/nope", "/api/u/tasks/x/y/z", "/api/authors", "/healthz/x"] {
        let response = get(&app, path).await;
        assert_eq!(header(response.headers(), "content-security-policy"), API_CSP, "{path}");
        assert_error(response, 404, "NOT_FOUND").await;
    }
    let response = app.client.post(app.url("/api/nope")).send().await.unwrap();
    assert_error(response, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn unknown_auth_paths_keep_better_auths_error_shape() {
    let app = spawn_app().await;
    for path in ["/api/auth/nope", "/api/auth"] {
        let response = get(&app, path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(header(response.headers(), "content-type"), "application/json", "{path}");
        assert_eq!(header(response.headers(), "content-security-policy"), API_CSP, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({ "code": "NOT_FOUND", "message": "Not found" }), "{path}");
    }
}

#[tokio::test]
async fn the_task_api_and_health_keep_their_json_and_api_csp() {
    let app = spawn_app().await;
    let tasks = app.list_tasks("u", &token_for("u")).await;
    assert_eq!(tasks.status(), 200);
    assert_eq!(header(tasks.headers(), "content-security-policy"), API_CSP);
    assert_eq!(header(tasks.headers(), "cache-control"), "no-store");
    let health = get(&app, "/healthz").await;
    assert_eq!(header(health.headers(), "content-security-policy"), API_CSP);
    assert_eq!(health.headers()[CONTENT_TYPE], "application/json");
    let docs = get(&app, "/docs/").await;
    assert_eq!(docs.status(), 200);
    assert!(
        header(docs.headers(), "content-security-policy")
            .contains("style-src 'self' 'unsafe-inline'")
    );
}

#[tokio::test]
async fn the_edges_own_errors_outside_the_api_are_plain_text() {
    let app = spawn_app().await;
    let response = app.client.post(app.url("/tasks")).body(vec![b'x'; 70 * 1024]).send().await;
    let response = response.unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(header(response.headers(), "content-type"), "text/plain; charset=utf-8");
    assert_eq!(header(response.headers(), "content-security-policy"), PAGE_CSP);
    assert_eq!(response.text().await.unwrap(), "Payload Too Large");
}
