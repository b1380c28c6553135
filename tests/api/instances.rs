//! Several instances on one PostgreSQL database (when `TEST_DATABASE_URL` is set): a write through
//! one is seen by the very next read through any other, warm caches included.

use serde_json::{Value, json};

use crate::helpers::{pg, spawn, token_for};

#[tokio::test]
async fn a_write_through_one_instance_is_seen_at_once_through_another_with_warm_caches() {
    let Some(url) = pg::test_database_url() else { return };
    let schema = pg::TestSchema::create(&url).await;
    let writer = spawn(None, |s| s.database_url = schema.url()).await;
    let reader = spawn(None, |s| s.database_url = schema.url()).await;
    let (user, token) = ("shared", token_for("shared"));
    for round in 0..20 {
        // Warm the reader's cache, then write through the other instance.
        let before = reader.list_tasks(user, &token).await;
        assert_eq!(before.headers()["x-total-count"], round.to_string());
        assert_eq!(
            reader.list_tasks(user, &token).await.headers()["x-total-count"],
            round.to_string()
        );
        let created =
            writer.create_task(user, &token, &json!({ "title": format!("t{round}") })).await;
        assert_eq!(created.status(), 201);
        let after = reader.list_tasks(user, &token).await;
        assert_eq!(after.headers()["x-total-count"], (round + 1).to_string(), "round {round}");
        let tasks: Value = after.json().await.unwrap();
        assert_eq!(tasks[0]["title"], format!("t{round}"), "round {round}: no stale page");
    }
    // A toggle and a delete through the reader are seen through the writer just as fast.
    let tasks: Value = writer.list_tasks(user, &token).await.json().await.unwrap();
    let id = tasks[0]["id"].as_str().unwrap();
    assert_eq!(reader.complete_task(user, &token, id, None).await.status(), 200);
    let tasks: Value = writer.list_tasks(user, &token).await.json().await.unwrap();
    assert_eq!(tasks[0]["completed"], true);
    assert_eq!(reader.delete_task(user, &token, id).await.status(), 204);
    let listed = writer.list_tasks(user, &token).await;
    assert_eq!(listed.headers()["x-total-count"], "19");
    drop((writer, reader));
}
