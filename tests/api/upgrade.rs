//! A database made by the previous release (schema and rows as it wrote them), opened by this
//! one: every task reads back with the new fields' defaults, and is found, sorted and changed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, pg, spawn, token_for};
use crate::organising::call;

/// The previous release's migrations, as it applied them.
const SQLITE_BEFORE: [&str; 9] = [
    include_str!("../../migrations/sqlite/0001_tasks.sql"),
    include_str!("../../migrations/sqlite/0002_idempotency.sql"),
    include_str!("../../migrations/sqlite/0003_owners.sql"),
    include_str!("../../migrations/sqlite/0004_accounts.sql"),
    include_str!("../../migrations/sqlite/0005_signing_keys.sql"),
    include_str!("../../migrations/sqlite/0006_rate_limits.sql"),
    include_str!("../../migrations/sqlite/0007_audit.sql"),
    include_str!("../../migrations/sqlite/0008_session_expiry.sql"),
    include_str!("../../migrations/sqlite/0009_deleted_users.sql"),
];

const POSTGRES_BEFORE: [&str; 7] = [
    include_str!("../../migrations/postgres/0001_tasks.sql"),
    include_str!("../../migrations/postgres/0002_accounts.sql"),
    include_str!("../../migrations/postgres/0003_signing_keys.sql"),
    include_str!("../../migrations/postgres/0004_rate_limits.sql"),
    include_str!("../../migrations/postgres/0005_audit.sql"),
    include_str!("../../migrations/postgres/0006_session_expiry.sql"),
    include_str!("../../migrations/postgres/0007_deleted_users.sql"),
];

/// The rows the previous release kept: (subject, id, title, description, completed).
const OLD_TASKS: [(&str, &str, &str, Option<&str>, bool); 4] = [
    ("alice", "01937f6c-0000-7000-8000-000000000001", "Buy milk", Some("2 litres"), false),
    ("alice", "01937f6c-0000-7000-8000-000000000002", "Write report", None, true),
    ("alice", "01937f6c-0000-7000-8000-000000000003", "água fresca", None, false),
    ("bob", "01937f6c-0000-7000-8000-000000000004", "Bob''s", None, false),
];

fn old_rows_sql(timestamp: &str) -> String {
    let mut sql = String::new();
    for (subject, id, title, description, completed) in OLD_TASKS {
        let description = description.map_or("NULL".to_owned(), |d| format!("'{d}'"));
        let completed_at = if completed { format!("'{timestamp}'") } else { "NULL".to_owned() };
        let completed = if completed { "true" } else { "false" };
        sql.push_str(&format!(
            "INSERT INTO tasks (issuer, subject, id, title, description, completed, completed_at, \
             created_at, updated_at) VALUES ('', '{subject}', '{id}', '{title}', {description}, \
             {completed}, {completed_at}, '{timestamp}', '{timestamp}');\n"
        ));
    }
    sql.push_str(
        "INSERT INTO task_owners (issuer, subject, total, version) VALUES \
         ('', 'alice', 3, 3), ('', 'bob', 1, 1);",
    );
    sql
}

async fn reads_everything_after_the_upgrade(app: &TestApp) {
    let token = token_for("alice");
    let response = app.list_tasks("alice", &token).await;
    assert_eq!(response.headers()["x-total-count"], "3");
    let tasks: Vec<Value> = response.json().await.unwrap();
    let titles: Vec<&str> = tasks.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["água fresca", "Write report", "Buy milk"], "newest first, as before");
    for task in &tasks {
        assert_eq!(task["priority"], "none");
        assert_eq!(task["tags"], json!([]));
        assert_eq!(task["due"], Value::Null);
        assert_eq!(task["version"], 1);
        assert_eq!((&task["list_id"], &task["parent_id"]), (&Value::Null, &Value::Null));
    }
    let inbox = call(app, Method::GET, "alice", "/tasks?list=inbox&parent=none", None, &[]).await;
    assert_eq!(inbox.headers()["x-total-count"], "3", "old tasks are top-level, in the inbox");
    assert_eq!(tasks[1]["completed"], true);
    assert_eq!(tasks[2]["description"], "2 litres");

    let found: Vec<Value> =
        call(app, Method::GET, "alice", "/tasks?q=milk", None, &[]).await.json().await.unwrap();
    assert_eq!(found.len(), 1, "old tasks are in the search index");
    assert_eq!(found[0]["title"], "Buy milk");
    let by_title: Vec<Value> =
        call(app, Method::GET, "alice", "/tasks?sort=title&order=asc", None, &[])
            .await
            .json()
            .await
            .unwrap();
    let titles: Vec<&str> = by_title.iter().map(|t| t["title"].as_str().unwrap()).collect();
    // Case-folded titles compare by code point: an accented first letter sorts after z.
    assert_eq!(titles, ["Buy milk", "Write report", "água fresca"]);
    let open =
        call(app, Method::GET, "alice", "/tasks?completed=false&sort=updated", None, &[]).await;
    assert_eq!(open.headers()["x-total-count"], "2", "the upgrade counts the old tasks");
    let open: Vec<Value> = open.json().await.unwrap();
    assert_eq!(open.len(), 2);
    let none =
        call(app, Method::GET, "alice", "/tasks?priority=none&completed=true", None, &[]).await;
    assert_eq!(none.headers()["x-total-count"], "1");

    let path = format!("/tasks/{}", OLD_TASKS[0].1);
    let patched = call(
        app,
        Method::PATCH,
        "alice",
        &path,
        Some(&json!({"tags": ["Home"]})),
        &[("if-match", "\"1\"")],
    )
    .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(patched.headers()["etag"], "\"2\"");
    let bob: Vec<Value> = app.list_tasks("bob", &token_for("bob")).await.json().await.unwrap();
    assert_eq!(bob.len(), 1);
}

#[tokio::test]
async fn a_sqlite_database_of_the_previous_release_is_upgraded_with_its_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in SQLITE_BEFORE {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(&old_rows_sql("2026-11-21T09:00:00.5Z")).unwrap();
        conn.pragma_update(None, "user_version", SQLITE_BEFORE.len() as i64).unwrap();
    }
    let app =
        spawn(None, |settings| settings.database_url = format!("sqlite://{}", path.display()))
            .await;
    reads_everything_after_the_upgrade(&app).await;
}

#[tokio::test]
#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
async fn a_postgres_database_of_the_previous_release_is_upgraded_with_its_tasks() {
    let url = pg::required_database_url();
    let schema = pg::TestSchema::create(&url).await;
    let mut sql = String::from(
        "CREATE TABLE taskgate_migrations (version integer PRIMARY KEY, \
         applied_at timestamptz NOT NULL DEFAULT now());\n",
    );
    for (n, migration) in POSTGRES_BEFORE.iter().enumerate() {
        sql.push_str(migration);
        sql.push_str(&format!("\nINSERT INTO taskgate_migrations (version) VALUES ({});\n", n + 1));
    }
    sql.push_str(&old_rows_sql("2026-11-21T09:00:00.5Z"));
    pg::execute(&schema.url(), &sql).await;
    let app = spawn(Some(schema), |_| {}).await;
    reads_everything_after_the_upgrade(&app).await;
}
