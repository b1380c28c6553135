//! Priorities, tags, due dates with time zones, versions and conditional requests, merge patches.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app, token_for};

/// A request as `user`, with a JSON body and extra headers.
pub async fn call(
    app: &TestApp,
    method: Method,
    user: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut builder = app.authed(
        app.client.request(method, app.url(&format!("/api/{user}{path}"))),
        &token_for(user),
    );
    if let Some(body) = body {
        builder = builder.json(body);
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.send().await.unwrap()
}

/// Creates a task from `body` and returns it.
pub async fn create(app: &TestApp, user: &str, body: Value) -> Value {
    let response = call(app, Method::POST, user, "/tasks", Some(&body), &[]).await;
    assert_eq!(response.status(), 201, "{body}");
    response.json().await.unwrap()
}

pub async fn patch(app: &TestApp, user: &str, id: &str, body: Value) -> reqwest::Response {
    app.authed(app.client.patch(app.url(&format!("/api/{user}/tasks/{id}"))), &token_for(user))
        .header("content-type", "application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn id(task: &Value) -> &str {
    task["id"].as_str().unwrap()
}

fn fields_of(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_new_task_has_defaults_version_1_and_an_etag() {
    let app = spawn_app().await;
    let response =
        call(&app, Method::POST, "alice", "/tasks", Some(&json!({"title": "t"})), &[]).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["priority"], "none");
    assert_eq!(task["tags"], json!([]));
    assert_eq!(task["due"], Value::Null);
    assert_eq!(task["version"], 1);
    let fetched = app.get_task("alice", &token_for("alice"), id(&task)).await;
    assert_eq!(fetched.headers()["etag"], "\"1\"");
    assert_eq!(fetched.json::<Value>().await.unwrap(), task);
}

#[tokio::test]
async fn priority_tags_and_due_are_stored_and_served() {
    let app = spawn_app().await;
    let task = create(
        &app,
        "alice",
        json!({"title": "Plan", "priority": "high", "tags": [" Work ", "home", "WORK"],
               "due": {"date": "2026-12-24", "time": "09:30", "time_zone": "Europe/Berlin"}}),
    )
    .await;
    assert_eq!(task["priority"], "high");
    assert_eq!(task["tags"], json!(["Work", "home"]), "trimmed, later duplicate dropped");
    assert_eq!(
        task["due"],
        json!({"date": "2026-12-24", "time": "09:30", "time_zone": "Europe/Berlin",
               "at": "2026-12-24T08:30:00Z"})
    );
    let all_day = create(&app, "alice", json!({"title": "x", "due": {"date": "2026-12-31"}})).await;
    assert_eq!(all_day["due"], json!({"date": "2026-12-31"}), "an all-day due has no `at`");
    let fetched: Value =
        app.get_task("alice", &token_for("alice"), id(&task)).await.json().await.unwrap();
    assert_eq!(fetched, task);
}

#[tokio::test]
async fn a_users_tag_keeps_the_spelling_first_used() {
    let app = spawn_app().await;
    create(&app, "alice", json!({"title": "a", "tags": ["Work"]})).await;
    let second = create(&app, "alice", json!({"title": "b", "tags": ["work", "STRASSE"]})).await;
    assert_eq!(second["tags"], json!(["Work", "STRASSE"]));
    let third = create(&app, "alice", json!({"title": "c", "tags": ["straße"]})).await;
    assert_eq!(third["tags"], json!(["STRASSE"]), "compared by Unicode case folding");
    let bob = create(&app, "bob", json!({"title": "b", "tags": ["WORK"]})).await;
    assert_eq!(bob["tags"], json!(["WORK"]), "another user's tags are their own");
}

#[tokio::test]
async fn invalid_fields_are_422_naming_each() {
    let app = spawn_app().await;
    for (body, fields) in [
        (json!({"title": "t", "priority": "urgent"}), vec!["priority"]),
        (json!({"title": "t", "tags": ["ok", ""]}), vec!["tags[1]"]),
        (json!({"title": "t", "tags": ["x".repeat(33)]}), vec!["tags[0]"]),
        (json!({"title": "t", "tags": ["a\u{202E}b"]}), vec!["tags[0]"]),
        (
            json!({"title": "t", "tags": (0..21).map(|n| n.to_string()).collect::<Vec<_>>()}),
            vec!["tags"],
        ),
        (json!({"title": "t", "due": {"date": "2026-02-30"}}), vec!["due.date"]),
        (
            json!({"title": "t", "due": {"date": "2026-12-24", "time": "25:00", "time_zone": "UTC"}}),
            vec!["due.time"],
        ),
        (
            json!({"title": "t", "due": {"date": "2026-12-24", "time": "09:00", "time_zone": "Mars/Base"}}),
            vec!["due.time_zone"],
        ),
        (
            json!({"title": "t", "due": {"date": "2026-12-24", "time": "09:00"}}),
            vec!["due.time_zone"],
        ),
        (json!({"title": "", "due": {"date": "nope"}}), vec!["title", "due.date"]),
    ] {
        let response = call(&app, Method::POST, "alice", "/tasks", Some(&body), &[]).await;
        let error = assert_error(response, 422, "VALIDATION_ERROR").await;
        assert_eq!(fields_of(&error), fields, "{body}");
    }
    let listed = app.list_tasks("alice", &token_for("alice")).await;
    assert_eq!(listed.headers()["x-total-count"], "0", "nothing was written");
}

#[tokio::test]
async fn dst_gaps_move_forward_and_folds_take_the_earlier_instant() {
    let app = spawn_app().await;
    for (date, time, zone, at) in [
        ("2026-03-08", "02:30", "America/New_York", "2026-03-08T07:30:00Z"),
        ("2026-11-01", "01:30", "America/New_York", "2026-11-01T05:30:00Z"),
        ("2026-03-29", "02:30", "Europe/Berlin", "2026-03-29T01:30:00Z"),
        ("2026-10-25", "02:30", "Europe/Berlin", "2026-10-25T00:30:00Z"),
    ] {
        let task = create(
            &app,
            "alice",
            json!({"title": "t", "due": {"date": date, "time": time, "time_zone": zone}}),
        )
        .await;
        assert_eq!(task["due"]["at"], at, "{date} {time} {zone}");
        assert_eq!(task["due"]["time"], time, "the wall-clock time is kept as given");
    }
}

#[tokio::test]
async fn put_replaces_every_field_and_a_change_raises_the_version() {
    let app = spawn_app().await;
    let task = create(
        &app,
        "alice",
        json!({"title": "t", "priority": "low", "tags": ["a"], "due": {"date": "2026-01-01"}}),
    )
    .await;
    let token = token_for("alice");
    let response = app.replace_task("alice", &token, id(&task), &json!({"title": "t"})).await;
    assert_eq!(response.headers()["etag"], "\"2\"");
    let replaced: Value = response.json().await.unwrap();
    assert_eq!(
        (replaced["priority"].clone(), replaced["tags"].clone(), replaced["due"].clone()),
        (json!("none"), json!([]), Value::Null)
    );
    assert_eq!(replaced["version"], 2);
    let again: Value = app
        .replace_task("alice", &token, id(&task), &json!({"title": "t"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["version"], 2, "a PUT that changes nothing keeps the version");
    assert_eq!(again["updated_at"], replaced["updated_at"]);
}

#[tokio::test]
async fn a_merge_patch_changes_only_what_it_names() {
    let app = spawn_app().await;
    let task = create(
        &app,
        "alice",
        json!({"title": "Plan", "description": "d", "priority": "high", "tags": ["Work"],
               "due": {"date": "2026-12-24", "time": "09:30", "time_zone": "Europe/Berlin"}}),
    )
    .await;
    let id = id(&task).to_owned();
    let moved: Value = patch(&app, "alice", &id, json!({"due": {"date": "2026-12-31"}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["due"]["date"], "2026-12-31");
    assert_eq!(moved["due"]["time"], "09:30", "the time and zone are kept");
    assert_eq!(moved["due"]["at"], "2026-12-31T08:30:00Z");
    assert_eq!(
        (moved["title"].clone(), moved["priority"].clone(), moved["version"].clone()),
        (json!("Plan"), json!("high"), json!(2))
    );

    let all_day: Value =
        patch(&app, "alice", &id, json!({"due": {"time": null, "time_zone": null}}))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(all_day["due"], json!({"date": "2026-12-31"}));

    let response = patch(
        &app,
        "alice",
        &id,
        json!({"description": null, "priority": null, "tags": null, "due": null}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let reset: Value = response.json().await.unwrap();
    assert_eq!(reset["description"], Value::Null);
    assert_eq!(reset["priority"], "none");
    assert_eq!(reset["tags"], json!([]));
    assert_eq!(reset["due"], Value::Null);
    assert_eq!(reset["version"], 4);

    let unchanged = patch(&app, "alice", &id, json!({})).await;
    assert_eq!(unchanged.headers()["etag"], "\"4\"");
    assert_eq!(unchanged.json::<Value>().await.unwrap(), reset, "{{}} changes nothing");

    let plain_json = call(
        &app,
        Method::PATCH,
        "alice",
        &format!("/tasks/{id}"),
        Some(&json!({"completed": true})),
        &[],
    )
    .await;
    assert_eq!(plain_json.status(), 200, "application/json is accepted too");
    let done: Value = plain_json.json().await.unwrap();
    assert_eq!((done["completed"].clone(), done["version"].clone()), (json!(true), json!(5)));
    assert!(done["completed_at"].is_string());
}

#[tokio::test]
async fn a_patch_that_is_not_acceptable_changes_nothing() {
    let app = spawn_app().await;
    let task = create(&app, "alice", json!({"title": "t"})).await;
    for (body, fields) in [
        (json!({"title": null}), vec!["title"]),
        (json!({"colour": "red"}), vec!["colour"]),
        (json!({"id": "x", "version": 3}), vec!["id", "version"]),
        (json!({"priority": "urgent"}), vec!["priority"]),
        (json!({"due": {"time": "09:00", "time_zone": "UTC"}}), vec!["due"]),
        (json!({"due": {"date": "2026-01-01", "time": "09:00"}}), vec!["due.time_zone"]),
        (json!({"tags": "work"}), vec!["tags"]),
    ] {
        let error = assert_error(
            patch(&app, "alice", id(&task), body.clone()).await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
        assert_eq!(fields_of(&error), fields, "{body}");
    }
    let response = app
        .authed(
            app.client.patch(app.url(&format!("/api/alice/tasks/{}", id(&task)))),
            &token_for("alice"),
        )
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    let now: Value =
        app.get_task("alice", &token_for("alice"), id(&task)).await.json().await.unwrap();
    assert_eq!(now, task);
}

#[tokio::test]
async fn if_match_guards_every_write_and_if_none_match_saves_a_read() {
    let app = spawn_app().await;
    let task = create(&app, "alice", json!({"title": "t"})).await;
    let path = format!("/tasks/{}", id(&task));
    let stale = [("if-match", "\"7\"")];
    for (method, path, body) in [
        (Method::PUT, path.clone(), Some(json!({"title": "u"}))),
        (Method::PATCH, path.clone(), Some(json!({"title": "u"}))),
        (Method::PATCH, format!("{path}/complete"), None),
        (Method::DELETE, path.clone(), None),
    ] {
        let response = call(&app, method.clone(), "alice", &path, body.as_ref(), &stale).await;
        assert_eq!(response.headers()["etag"], "\"1\"", "{method} {path}: the current version");
        assert_error(response, 412, "PRECONDITION_FAILED").await;
    }
    let weak = call(
        &app,
        Method::PUT,
        "alice",
        &path,
        Some(&json!({"title": "u"})),
        &[("if-match", "W/\"1\"")],
    )
    .await;
    assert_eq!(weak.status(), 412, "If-Match compares strongly");
    let unchanged: Value =
        app.get_task("alice", &token_for("alice"), id(&task)).await.json().await.unwrap();
    assert_eq!(unchanged, task, "nothing changed");

    let current = [("if-match", "\"1\"")];
    let put = call(&app, Method::PUT, "alice", &path, Some(&json!({"title": "u"})), &current).await;
    assert_eq!((put.status().as_u16(), put.headers()["etag"].to_str().unwrap()), (200, "\"2\""));
    let any =
        call(&app, Method::PATCH, "alice", &format!("{path}/complete"), None, &[("if-match", "*")])
            .await;
    assert_eq!(any.headers()["etag"], "\"3\"");
    let listed = call(
        &app,
        Method::PATCH,
        "alice",
        &path,
        Some(&json!({"priority": "low"})),
        &[("if-match", "\"1\", \"3\"")],
    )
    .await;
    assert_eq!(listed.headers()["etag"], "\"4\"", "any of the listed tags");
    let malformed =
        call(&app, Method::PUT, "alice", &path, Some(&json!({"title": "v"})), &[("if-match", "4")])
            .await;
    assert_error(malformed, 422, "VALIDATION_ERROR").await;

    let not_modified =
        call(&app, Method::GET, "alice", &path, None, &[("if-none-match", "\"4\"")]).await;
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()["etag"], "\"4\"");
    let modified =
        call(&app, Method::GET, "alice", &path, None, &[("if-none-match", "\"3\"")]).await;
    assert_eq!(modified.status(), 200);

    let deleted = call(&app, Method::DELETE, "alice", &path, None, &[("if-match", "\"4\"")]).await;
    assert_eq!(deleted.status(), 204);
    let gone = call(&app, Method::DELETE, "alice", &path, None, &[("if-match", "*")]).await;
    assert_error(gone, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn of_two_clients_racing_with_if_match_exactly_one_wins() {
    let app = spawn_app().await;
    for round in 0..10 {
        let task = create(&app, "alice", json!({"title": format!("race {round}")})).await;
        let path = format!("/tasks/{}", id(&task));
        let (phone, laptop) =
            (json!({"title": "from phone"}), json!({"description": "from laptop"}));
        let (first, second) = tokio::join!(
            call(&app, Method::PATCH, "alice", &path, Some(&phone), &[("if-match", "\"1\"")]),
            call(&app, Method::PATCH, "alice", &path, Some(&laptop), &[("if-match", "\"1\"")]),
        );
        let statuses = [first.status().as_u16(), second.status().as_u16()];
        let mut sorted = statuses;
        sorted.sort();
        assert_eq!(sorted, [200, 412], "round {round}");
        let (winner, loser) = if statuses[0] == 200 { (first, second) } else { (second, first) };
        assert_eq!(loser.headers()["etag"], "\"2\"", "the loser learns the version to read");
        let won: Value = winner.json().await.unwrap();
        let now: Value =
            call(&app, Method::GET, "alice", &path, None, &[]).await.json().await.unwrap();
        assert_eq!(now, won, "the winner's write is the task, the loser's changed nothing");
    }
}

#[tokio::test]
async fn concurrent_patches_without_if_match_lose_no_update() {
    let app = spawn_app().await;
    let task = create(&app, "alice", json!({"title": "t"})).await;
    let path = format!("/tasks/{}", id(&task));
    let (high, tagged) = (json!({"priority": "high"}), json!({"tags": ["x"]}));
    let (a, b) = tokio::join!(
        call(&app, Method::PATCH, "alice", &path, Some(&high), &[]),
        call(&app, Method::PATCH, "alice", &path, Some(&tagged), &[]),
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let now: Value = call(&app, Method::GET, "alice", &path, None, &[]).await.json().await.unwrap();
    assert_eq!(
        (now["priority"].clone(), now["tags"].clone(), now["version"].clone()),
        (json!("high"), json!(["x"]), json!(3))
    );
}

#[tokio::test]
async fn tags_are_listed_renamed_merged_and_deleted_across_tasks() {
    let app = spawn_app().await;
    let a = create(&app, "alice", json!({"title": "a", "tags": ["Work", "urgent"]})).await;
    let b = create(&app, "alice", json!({"title": "b", "tags": ["work"], "completed": true})).await;
    let c = create(&app, "alice", json!({"title": "c", "tags": ["Job", "Home"]})).await;
    create(&app, "bob", json!({"title": "b", "tags": ["Work", "secret"]})).await;
    let tags = |user: &'static str| {
        let app = &app;
        async move {
            call(app, Method::GET, user, "/tags", None, &[]).await.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(
        tags("alice").await,
        json!([{"name": "Home", "tasks": 1, "open": 1}, {"name": "Job", "tasks": 1, "open": 1},
               {"name": "urgent", "tasks": 1, "open": 1}, {"name": "Work", "tasks": 2, "open": 1}])
    );

    let renamed =
        call(&app, Method::PATCH, "alice", "/tags/WORK", Some(&json!({"name": "Office"})), &[])
            .await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(
        renamed.json::<Value>().await.unwrap(),
        json!({"name": "Office", "tasks": 2, "open": 1})
    );
    let a_now: Value = call(&app, Method::GET, "alice", &format!("/tasks/{}", id(&a)), None, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (a_now["tags"].clone(), a_now["version"].clone()),
        (json!(["Office", "urgent"]), json!(2))
    );

    // Into an existing tag: merged, and the task that had both keeps one.
    call(
        &app,
        Method::PATCH,
        "alice",
        &format!("/tasks/{}", id(&c)),
        Some(&json!({"tags": ["Job", "Office"]})),
        &[],
    )
    .await;
    let merged =
        call(&app, Method::PATCH, "alice", "/tags/office", Some(&json!({"name": "job"})), &[])
            .await;
    assert_eq!(
        merged.json::<Value>().await.unwrap(),
        json!({"name": "Job", "tasks": 3, "open": 2})
    );
    let c_now: Value = call(&app, Method::GET, "alice", &format!("/tasks/{}", id(&c)), None, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c_now["tags"], json!(["Job"]));

    let encoded = call(
        &app,
        Method::PATCH,
        "alice",
        "/tags/urgent",
        Some(&json!({"name": "très urgent"})),
        &[],
    )
    .await;
    assert_eq!(encoded.status(), 200);
    let deleted = call(&app, Method::DELETE, "alice", "/tags/TR%C3%88S%20URGENT", None, &[]).await;
    assert_eq!(deleted.status(), 204, "the name is percent-decoded and matched in any case");
    let b_now: Value = call(&app, Method::GET, "alice", &format!("/tasks/{}", id(&b)), None, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b_now["tags"], json!(["Job"]));
    assert_eq!(tags("alice").await, json!([{"name": "Job", "tasks": 3, "open": 2}]));
    assert_eq!(
        tags("bob").await,
        json!([{"name": "secret", "tasks": 1, "open": 1}, {"name": "Work", "tasks": 1, "open": 1}]),
        "bob's tags are untouched"
    );

    for (method, path) in [
        (Method::PATCH, "/tags/nothing"),
        (Method::DELETE, "/tags/secret"),
        (Method::DELETE, "/tags/%20"),
    ] {
        let response = call(&app, method, "alice", path, Some(&json!({"name": "x"})), &[]).await;
        assert_error(response, 404, "NOT_FOUND").await;
    }
    let bad =
        call(&app, Method::PATCH, "alice", "/tags/job", Some(&json!({"name": ""})), &[]).await;
    assert_error(bad, 422, "VALIDATION_ERROR").await;
    let forbidden = app
        .authed(app.client.get(app.url("/api/bob/tags")), &token_for("alice"))
        .send()
        .await
        .unwrap();
    assert_error(forbidden, 403, "FORBIDDEN_USER_ACCESS").await;
}

#[tokio::test]
async fn a_user_cannot_pass_1000_tags() {
    let app = spawn_app().await;
    for batch in 0..50 {
        let tags: Vec<String> = (0..20).map(|n| format!("t{batch}-{n}")).collect();
        create(&app, "alice", json!({"title": "t", "tags": tags})).await;
    }
    let response = call(
        &app,
        Method::POST,
        "alice",
        "/tasks",
        Some(&json!({"title": "one more", "tags": ["t0-0", "new"]})),
        &[],
    )
    .await;
    assert_error(response, 409, "TAG_LIMIT_REACHED").await;
    let known = call(
        &app,
        Method::POST,
        "alice",
        "/tasks",
        Some(&json!({"title": "known", "tags": ["T0-0"]})),
        &[],
    )
    .await;
    assert_eq!(known.status(), 201, "existing tags can still be used");
    let listed = app.list_tasks("alice", &token_for("alice")).await;
    assert_eq!(listed.headers()["x-total-count"], "51", "the refused task was not written");
    // Swapping a task's own tags for new ones, at the limit: its old tags go as the new come.
    let tasks: Vec<Value> =
        call(&app, Method::GET, "alice", "/tasks?tag=t7-0", None, &[]).await.json().await.unwrap();
    let swapped: Vec<String> = (0..20).map(|n| format!("new-{n}")).collect();
    let response = call(
        &app,
        Method::PATCH,
        "alice",
        &format!("/tasks/{}", id(&tasks[0])),
        Some(&json!({"tags": swapped})),
        &[],
    )
    .await;
    assert_eq!(response.status(), 200);
    let tags: Vec<Value> =
        call(&app, Method::GET, "alice", "/tags", None, &[]).await.json().await.unwrap();
    assert_eq!(tags.len(), 1000);
}

#[tokio::test]
async fn renaming_a_tag_to_its_own_spelling_changes_no_task() {
    let app = spawn_app().await;
    let task = create(&app, "alice", json!({"title": "t", "tags": ["Work"]})).await;
    let same =
        call(&app, Method::PATCH, "alice", "/tags/work", Some(&json!({"name": "Work"})), &[]).await;
    assert_eq!(same.status(), 200);
    let now: Value = call(&app, Method::GET, "alice", &format!("/tasks/{}", id(&task)), None, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["version"], 1);
    call(&app, Method::PATCH, "alice", "/tags/work", Some(&json!({"name": "WORK"})), &[]).await;
    let respelled: Value =
        call(&app, Method::GET, "alice", &format!("/tasks/{}", id(&task)), None, &[])
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        (respelled["tags"].clone(), respelled["version"].clone()),
        (json!(["WORK"]), json!(2))
    );
}

#[tokio::test]
async fn tag_counts_and_filters_follow_completion_both_ways() {
    let app = spawn_app().await;
    let task = create(&app, "alice", json!({"title": "t", "tags": ["Work", "home"]})).await;
    create(&app, "alice", json!({"title": "u", "tags": ["work"]})).await;
    let path = format!("/tasks/{}/complete", id(&task));
    let summary = async || -> Value {
        call(&app, Method::GET, "alice", "/tags", None, &[]).await.json().await.unwrap()
    };
    let open_work = async || -> String {
        let response =
            call(&app, Method::GET, "alice", "/tasks?tag=work&completed=false", None, &[]).await;
        response.headers()["x-total-count"].to_str().unwrap().to_owned()
    };
    assert_eq!(summary().await[1], json!({"name": "Work", "tasks": 2, "open": 2}));
    call(&app, Method::PATCH, "alice", &path, None, &[]).await;
    assert_eq!(summary().await[1], json!({"name": "Work", "tasks": 2, "open": 1}));
    assert_eq!(summary().await[0], json!({"name": "home", "tasks": 1, "open": 0}));
    assert_eq!(open_work().await, "1");
    call(&app, Method::PATCH, "alice", &path, None, &[]).await;
    assert_eq!(summary().await[1], json!({"name": "Work", "tasks": 2, "open": 2}));
    assert_eq!(open_work().await, "2");
    call(
        &app,
        Method::PATCH,
        "alice",
        &format!("/tasks/{}", id(&task)),
        Some(&json!({"tags": ["work"], "completed": true})),
        &[],
    )
    .await;
    assert_eq!(
        summary().await,
        json!([{"name": "Work", "tasks": 2, "open": 1}]),
        "home went with its last task"
    );
    call(&app, Method::DELETE, "alice", &format!("/tasks/{}", id(&task)), None, &[]).await;
    assert_eq!(summary().await, json!([{"name": "Work", "tasks": 1, "open": 1}]));
    assert_eq!(open_work().await, "1");
}
