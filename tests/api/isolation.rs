//! One user can never see or change another's tasks.

use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app, token_for};

#[tokio::test]
async fn a_token_for_another_users_path_is_403_on_every_route() {
    let app = spawn_app().await;
    let victim_task = app.new_task("victim", "secret").await;
    let id = victim_task["id"].as_str().unwrap();
    let mallory = token_for("mallory");
    let responses = [
        app.list_tasks("victim", &mallory).await,
        app.create_task("victim", &mallory, &json!({ "title": "x" })).await,
        app.get_task("victim", &mallory, id).await,
        app.replace_task("victim", &mallory, id, &json!({ "title": "x" })).await,
        app.complete_task("victim", &mallory, id, None).await,
        app.delete_task("victim", &mallory, id).await,
    ];
    for response in responses {
        assert_error(response, 403, "FORBIDDEN_USER_ACCESS").await;
    }
    let unchanged = app.get_task("victim", &token_for("victim"), id).await;
    assert_eq!(unchanged.json::<Value>().await.unwrap(), victim_task);
}

#[tokio::test]
async fn the_403_body_is_the_same_whether_or_not_the_user_exists() {
    let app = spawn_app().await;
    app.new_task("exists", "t").await;
    let mallory = token_for("mallory");
    let existing: Value = app.list_tasks("exists", &mallory).await.json().await.unwrap();
    let missing: Value = app.list_tasks("never-seen", &mallory).await.json().await.unwrap();
    assert_eq!(existing, missing);
}

#[tokio::test]
async fn the_path_check_comes_before_body_and_id_validation() {
    let app = spawn_app().await;
    let mallory = token_for("mallory");
    assert_error(
        app.get_task("victim", &mallory, "not-a-uuid").await,
        403,
        "FORBIDDEN_USER_ACCESS",
    )
    .await;
    let response = app
        .authed(app.client.post(app.url("/api/victim/tasks")), &mallory)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "FORBIDDEN_USER_ACCESS").await;
}

#[tokio::test]
async fn another_users_task_id_under_ones_own_path_is_404_and_untouched() {
    let app = spawn_app().await;
    let victim_task = app.new_task("victim", "secret").await;
    let id = victim_task["id"].as_str().unwrap();
    let mallory = token_for("mallory");
    assert_error(app.get_task("mallory", &mallory, id).await, 404, "NOT_FOUND").await;
    assert_error(
        app.replace_task("mallory", &mallory, id, &json!({ "title": "pwned" })).await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_error(app.complete_task("mallory", &mallory, id, None).await, 404, "NOT_FOUND").await;
    assert_error(
        app.complete_task("mallory", &mallory, id, Some(&json!({ "completed": true }))).await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_error(app.delete_task("mallory", &mallory, id).await, 404, "NOT_FOUND").await;
    let after = app.get_task("victim", &token_for("victim"), id).await;
    assert_eq!(after.status(), 200);
    assert_eq!(after.json::<Value>().await.unwrap(), victim_task, "nothing changed");
    let mallory_list: Value = app.list_tasks("mallory", &mallory).await.json().await.unwrap();
    assert_eq!(mallory_list, json!([]));
}

#[tokio::test]
async fn the_path_user_id_is_percent_decoded_then_compared_byte_for_byte() {
    let app = spawn_app().await;
    let user = "user@example.com/ü";
    let token = token_for(user);
    let response = app
        .authed(app.client.post(app.url("/api/user%40example.com%2F%C3%BC/tasks")), &token)
        .json(&json!({ "title": "encoded" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["location"].to_str().unwrap().split("/tasks/").next().unwrap(),
        "/api/user@example.com%2F%C3%BC"
    );
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["user_id"], user);

    // A different spelling of a different id does not match, nor does a case change.
    for path in [
        "/api/USER%40example.com%2F%C3%BC/tasks",
        "/api/user%40example.com%2Fu/tasks",
        "/api/user%40example.com/tasks",
    ] {
        let response = app.authed(app.client.get(app.url(path)), &token).send().await.unwrap();
        assert_error(response, 403, "FORBIDDEN_USER_ACCESS").await;
    }
}
