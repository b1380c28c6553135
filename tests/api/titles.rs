//! Titles that show nothing, and text that reorders itself on screen, are refused on POST and PUT.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app, token_for};

const INVISIBLE_TITLES: [&str; 10] = [
    "\u{200B}",
    "\u{200C}\u{200D}\u{2060}",
    "\u{FEFF}",
    "\u{3164}\u{FFA0}\u{115F}\u{1160}",
    "\u{2800}",
    "\u{00AD}\u{034F}\u{180E}",
    "\u{FE0F}",
    "\u{E0001}\u{E0074}\u{E007F}",
    "\u{2061}\u{2062}\u{2063}\u{2064}",
    " \u{200B}\u{3000}\u{200B} ",
];

const BIDI: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
];

/// Asserts a 422 whose only field error is on `field` and mentions `words`.
async fn assert_refused(response: reqwest::Response, field: &str, words: &str) {
    let body = assert_error(response, 422, "VALIDATION_ERROR").await;
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["field"], field, "{body}");
    assert!(errors[0]["message"].as_str().unwrap().contains(words), "{body}");
}

async fn create(app: &TestApp, body: &Value) -> reqwest::Response {
    app.create_task("u", &token_for("u"), body).await
}

#[tokio::test]
async fn a_title_of_only_invisible_characters_is_422_on_post() {
    let app = spawn_app().await;
    for title in INVISIBLE_TITLES {
        assert_refused(create(&app, &json!({ "title": title })).await, "title", "visible").await;
    }
    let tasks: Vec<Value> = app.list_tasks("u", &token_for("u")).await.json().await.unwrap();
    assert!(tasks.is_empty(), "nothing was created: {tasks:?}");
}

#[tokio::test]
async fn a_title_of_only_invisible_characters_is_422_on_put_and_changes_nothing() {
    let app = spawn_app().await;
    let task = app.new_task("u", "keep me").await;
    let id = task["id"].as_str().unwrap();
    for title in INVISIBLE_TITLES {
        let response = app.replace_task("u", &token_for("u"), id, &json!({ "title": title })).await;
        assert_refused(response, "title", "visible").await;
    }
    let stored: Value = app.get_task("u", &token_for("u"), id).await.json().await.unwrap();
    assert_eq!(stored, task);
}

#[tokio::test]
async fn bidirectional_controls_are_422_in_the_title_on_post_and_put() {
    let app = spawn_app().await;
    let task = app.new_task("u", "keep me").await;
    let id = task["id"].as_str().unwrap();
    for bidi in BIDI {
        let body = json!({ "title": format!("invoice {bidi}gpj.exe") });
        assert_refused(create(&app, &body).await, "title", "bidirectional").await;
        let response = app.replace_task("u", &token_for("u"), id, &body).await;
        assert_refused(response, "title", "bidirectional").await;
    }
    let tasks: Vec<Value> = app.list_tasks("u", &token_for("u")).await.json().await.unwrap();
    assert_eq!(tasks, [task]);
}

#[tokio::test]
async fn bidirectional_controls_are_422_in_the_description_where_line_breaks_are_fine() {
    let app = spawn_app().await;
    let task = app.new_task("u", "keep me").await;
    let id = task["id"].as_str().unwrap();
    for bidi in BIDI {
        let body = json!({ "title": "pay", "description": format!("amount: {bidi}0001") });
        assert_refused(create(&app, &body).await, "description", "bidirectional").await;
        let response = app.replace_task("u", &token_for("u"), id, &body).await;
        assert_refused(response, "description", "bidirectional").await;
    }
    let body = json!({ "title": "pay", "description": "line one\nline two\r\n\tthree" });
    let created: Value = create(&app, &body).await.json().await.unwrap();
    assert_eq!(created["description"], body["description"]);
}

#[tokio::test]
async fn visible_text_with_an_emoji_zwj_sequence_stays_valid() {
    let app = spawn_app().await;
    let title = "👩\u{200D}💻 deploy";
    let response = create(&app, &json!({ "title": title })).await;
    assert_eq!(response.status(), 201);
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["title"], title);
    let id = task["id"].as_str().unwrap();
    let renamed = "🏳\u{FE0F}\u{200D}🌈 parade";
    let response = app.replace_task("u", &token_for("u"), id, &json!({ "title": renamed })).await;
    assert_eq!(response.status(), 200);
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["title"], renamed);
}
