//! Lists and subtasks: the list resource with its counts and conditions, tasks in lists, subtask
//! depth and cycles, subtrees that move and complete together, and the deletions that say what
//! becomes of what they hold.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};
use crate::organising::{call, create, patch};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

async fn new_list(app: &TestApp, user: &str, name: &str) -> Value {
    let response =
        call(app, Method::POST, user, "/lists", Some(&json!({ "name": name })), &[]).await;
    assert_eq!(response.status(), 201, "{name}");
    response.json().await.unwrap()
}

async fn get(app: &TestApp, user: &str, path: &str) -> Value {
    let response = call(app, Method::GET, user, path, None, &[]).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// The list's `(tasks, open)` as the API counts them.
async fn counts(app: &TestApp, user: &str, list: &str) -> (u64, u64) {
    let list = get(app, user, &format!("/lists/{list}")).await;
    (list["tasks"].as_u64().unwrap(), list["open"].as_u64().unwrap())
}

/// The titles a listing returns and its `X-Total-Count`.
async fn titles(app: &TestApp, user: &str, query: &str) -> (Vec<String>, u64) {
    let response = call(app, Method::GET, user, &format!("/tasks?{query}"), None, &[]).await;
    assert_eq!(response.status(), 200, "{query}");
    let total = response.headers()["x-total-count"].to_str().unwrap().parse().unwrap();
    let tasks: Vec<Value> = response.json().await.unwrap();
    (tasks.iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect(), total)
}

fn field_of(body: &Value) -> &str {
    body["errors"][0]["field"].as_str().unwrap()
}

#[tokio::test]
async fn a_list_is_created_read_ordered_and_changed_under_its_etag() {
    let app = spawn_app().await;
    let response = call(
        &app,
        Method::POST,
        "ann",
        "/lists",
        Some(&json!({ "name": " Work ", "color": "#3366FF" })),
        &[],
    )
    .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let work: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/ann/lists/{}", id(&work)));
    assert_eq!(work["name"], "Work");
    assert_eq!(work["color"], "#3366ff");
    assert_eq!((work["position"].as_i64(), work["tasks"].as_u64()), (Some(1), Some(0)));
    let home = new_list(&app, "ann", "Home").await;
    assert_eq!(home["position"], 2, "after the last list");
    let early =
        call(&app, Method::POST, "ann", "/lists", Some(&json!({"name": "B", "position": 2})), &[])
            .await
            .json::<Value>()
            .await
            .unwrap();
    let names: Vec<Value> = get(&app, "ann", "/lists")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].clone())
        .collect();
    assert_eq!(names, [json!("Work"), json!("B"), json!("Home")], "by position, then name");

    let taken =
        call(&app, Method::POST, "ann", "/lists", Some(&json!({"name": "WORK"})), &[]).await;
    assert_error(taken, 409, "LIST_NAME_TAKEN").await;
    let renamed_onto = patch_list(&app, "ann", &id(&home), json!({"name": "work"}), None).await;
    assert_error(renamed_onto, 409, "LIST_NAME_TAKEN").await;
    for bad in [
        json!({"name": ""}),
        json!({"name": "x", "color": "blue"}),
        json!({"name": "x", "position": 1e13}),
    ] {
        let response = call(&app, Method::POST, "ann", "/lists", Some(&bad), &[]).await;
        assert_error(response, 422, "VALIDATION_ERROR").await;
    }

    let path = format!("/lists/{}", id(&early));
    let unchanged =
        call(&app, Method::GET, "ann", &path, None, &[("if-none-match", "\"1\"")]).await;
    assert_eq!(unchanged.status(), 304);
    let patched = patch_list(
        &app,
        "ann",
        &id(&early),
        json!({"name": "Errands", "color": null}),
        Some("\"1\""),
    )
    .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(patched.headers()["etag"], "\"2\"");
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(
        (patched["name"].as_str(), patched["position"].as_i64()),
        (Some("Errands"), Some(2))
    );
    let stale = patch_list(&app, "ann", &id(&early), json!({"name": "Later"}), Some("\"1\"")).await;
    assert_eq!(stale.headers()["etag"], "\"2\"");
    assert_error(stale, 412, "PRECONDITION_FAILED").await;
    let unknown = patch_list(&app, "ann", &id(&early), json!({"tasks": 3}), None).await;
    assert_error(unknown, 422, "VALIDATION_ERROR").await;
    let put = call(
        &app,
        Method::PUT,
        "ann",
        &path,
        Some(&json!({"name": "Errands"})),
        &[("if-match", "\"2\"")],
    )
    .await;
    assert_eq!(put.status(), 200, "the same content keeps the version");
    assert_eq!(put.headers()["etag"], "\"2\"");

    // Another user's list is a 404 like a missing one, and never listed.
    assert_error(call(&app, Method::GET, "bob", &path, None, &[]).await, 404, "NOT_FOUND").await;
    let theirs = patch_list(&app, "bob", &id(&early), json!({"name": "mine"}), None).await;
    assert_error(theirs, 404, "NOT_FOUND").await;
    assert_eq!(get(&app, "bob", "/lists").await, json!([]));
    let deleted = call(&app, Method::DELETE, "ann", &path, None, &[]).await;
    assert_eq!(deleted.status(), 204);
    assert_error(call(&app, Method::GET, "ann", &path, None, &[]).await, 404, "NOT_FOUND").await;
}

async fn patch_list(
    app: &TestApp,
    user: &str,
    list: &str,
    body: Value,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut headers = vec![("content-type", "application/merge-patch+json")];
    if let Some(tag) = if_match {
        headers.push(("if-match", tag));
    }
    let url = app.url(&format!("/api/{user}/lists/{list}"));
    let mut request = app.authed(app.client.patch(url), &crate::helpers::token_for(user));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.body(body.to_string()).send().await.unwrap()
}

#[tokio::test]
async fn tasks_go_into_lists_and_under_parents_of_their_own_user_only() {
    let app = spawn_app().await;
    let work = id(&new_list(&app, "ann", "Work").await);
    let bobs = id(&new_list(&app, "bob", "Bob's").await);
    let bobs_task = id(&create(&app, "bob", json!({"title": "bob's"})).await);
    let report = create(&app, "ann", json!({"title": "Report", "list_id": work})).await;
    assert_eq!(report["list_id"], work.as_str());
    assert_eq!(report["parent_id"], Value::Null);
    // A subtask without a list takes its parent's.
    let draft = create(&app, "ann", json!({"title": "Draft", "parent_id": id(&report)})).await;
    assert_eq!(
        (draft["list_id"].as_str(), draft["parent_id"].as_str()),
        (Some(work.as_str()), report["id"].as_str())
    );
    assert_eq!(counts(&app, "ann", &work).await, (2, 2));

    // Unknown and another user's ids are the same 422, naming the field.
    let unknown_list = "01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7d";
    for (body, field) in [
        (json!({"title": "x", "list_id": bobs}), "list_id"),
        (json!({"title": "x", "list_id": unknown_list}), "list_id"),
        (json!({"title": "x", "list_id": "nope"}), "list_id"),
        (json!({"title": "x", "parent_id": bobs_task}), "parent_id"),
        (json!({"title": "x", "parent_id": unknown_list}), "parent_id"),
        (json!({"title": "x", "parent_id": id(&report), "list_id": null}), "list_id"),
    ] {
        let response = call(&app, Method::POST, "ann", "/tasks", Some(&body), &[]).await;
        let error = assert_error(response, 422, "VALIDATION_ERROR").await;
        assert_eq!(field_of(&error), field, "{body}");
    }
    let (_, total) = titles(&app, "ann", "").await;
    assert_eq!(total, 2, "nothing was created by a refused write");
    assert_eq!(get(&app, "bob", &format!("/lists/{bobs}")).await["tasks"], 0);
}

#[tokio::test]
async fn subtasks_nest_four_levels_and_never_in_a_cycle() {
    let app = spawn_app().await;
    let one = create(&app, "ann", json!({"title": "1"})).await;
    let two = create(&app, "ann", json!({"title": "2", "parent_id": id(&one)})).await;
    let three = create(&app, "ann", json!({"title": "3", "parent_id": id(&two)})).await;
    let four = create(&app, "ann", json!({"title": "4", "parent_id": id(&three)})).await;
    let five = call(
        &app,
        Method::POST,
        "ann",
        "/tasks",
        Some(&json!({"title": "5", "parent_id": id(&four)})),
        &[],
    )
    .await;
    assert_eq!(field_of(&assert_error(five, 422, "VALIDATION_ERROR").await), "parent_id");
    // Cycles: under itself, under its own subtask.
    for parent in [id(&one), id(&three)] {
        let moved = patch(&app, "ann", &id(&one), json!({"parent_id": parent})).await;
        assert_eq!(field_of(&assert_error(moved, 422, "VALIDATION_ERROR").await), "parent_id");
    }
    // Moving a branch: 3 (with 4 below it) under a new top-level task makes levels 2 and 3;
    // under 2's sibling at level 3 it would make a fifth.
    let other = create(&app, "ann", json!({"title": "other"})).await;
    let deep = create(&app, "ann", json!({"title": "deep", "parent_id": id(&two)})).await;
    let too_deep = patch(&app, "ann", &id(&three), json!({"parent_id": id(&deep)})).await;
    assert_eq!(field_of(&assert_error(too_deep, 422, "VALIDATION_ERROR").await), "parent_id");
    let moved = patch(&app, "ann", &id(&three), json!({"parent_id": id(&other)})).await;
    assert_eq!(moved.status(), 200);
    let (children, total) = titles(&app, "ann", &format!("parent={}", id(&other))).await;
    assert_eq!((children, total), (vec!["3".to_owned()], 1));
    let (top, _) = titles(&app, "ann", "parent=none&sort=title&order=asc").await;
    assert_eq!(top, ["1", "other"]);
}

#[tokio::test]
async fn a_subtree_moves_and_completes_with_its_task() {
    let app = spawn_app().await;
    let work = id(&new_list(&app, "ann", "Work").await);
    let home = id(&new_list(&app, "ann", "Home").await);
    let top = create(&app, "ann", json!({"title": "top", "list_id": work})).await;
    let child = create(&app, "ann", json!({"title": "child", "parent_id": id(&top)})).await;
    let done =
        create(&app, "ann", json!({"title": "done", "parent_id": id(&child), "completed": true}))
            .await;
    let open = create(&app, "ann", json!({"title": "open", "parent_id": id(&child)})).await;
    assert_eq!(counts(&app, "ann", &work).await, (4, 3));
    // A subtask cannot leave its parent's list on its own.
    let alone = patch(&app, "ann", &id(&child), json!({"list_id": home})).await;
    assert_eq!(field_of(&assert_error(alone, 422, "VALIDATION_ERROR").await), "list_id");

    let moved = patch(&app, "ann", &id(&top), json!({"list_id": home})).await;
    assert_eq!(moved.status(), 200);
    assert_eq!(
        (counts(&app, "ann", &work).await, counts(&app, "ann", &home).await),
        ((0, 0), (4, 3))
    );
    for task in [&child, &done, &open] {
        let now = get(&app, "ann", &format!("/tasks/{}", id(task))).await;
        assert_eq!(now["list_id"], home.as_str(), "{}", task["title"]);
        assert_eq!(now["version"], task["version"].as_u64().unwrap() + 1, "a new version each");
    }
    let (in_home, total) = titles(&app, "ann", &format!("list={home}&sort=title&order=asc")).await;
    assert_eq!(
        (in_home, total),
        (vec!["child".into(), "done".into(), "open".into(), "top".into()], 4)
    );

    let completed =
        call(&app, Method::PATCH, "ann", &format!("/tasks/{}/complete", id(&top)), None, &[]).await;
    assert_eq!(completed.status(), 200);
    let was_done = get(&app, "ann", &format!("/tasks/{}", id(&done))).await;
    assert_eq!(was_done["completed_at"], done["completed_at"], "kept its moment");
    assert_eq!(was_done["version"], 2, "moved once, not completed again");
    let now_done = get(&app, "ann", &format!("/tasks/{}", id(&open))).await;
    assert_eq!(
        (now_done["completed"].as_bool(), now_done["version"].as_u64()),
        (Some(true), Some(3))
    );
    assert_eq!(counts(&app, "ann", &home).await, (4, 0));
    let (open_tasks, total) = titles(&app, "ann", &format!("list={home}&completed=false")).await;
    assert_eq!((open_tasks.len(), total), (0, 0));
    // Reopening leaves the subtasks as they are.
    call(&app, Method::PATCH, "ann", &format!("/tasks/{}/complete", id(&top)), None, &[]).await;
    assert_eq!(counts(&app, "ann", &home).await, (4, 1));
    // Moving it to the inbox moves it all.
    let to_inbox = patch(&app, "ann", &id(&top), json!({"list_id": null})).await;
    assert_eq!(to_inbox.status(), 200);
    let (inbox, total) = titles(&app, "ann", "list=inbox").await;
    assert_eq!((inbox.len(), total), (4, 4));
    assert_eq!(counts(&app, "ann", &home).await, (0, 0));
}

#[tokio::test]
async fn deleting_a_task_with_subtasks_or_a_list_with_tasks_says_what_goes() {
    let app = spawn_app().await;
    let work = id(&new_list(&app, "ann", "Work").await);
    let top = create(&app, "ann", json!({"title": "top", "list_id": work})).await;
    let child = create(&app, "ann", json!({"title": "child", "parent_id": id(&top)})).await;
    create(&app, "ann", json!({"title": "grandchild", "parent_id": id(&child)})).await;
    create(&app, "ann", json!({"title": "loose", "list_id": work, "completed": true})).await;
    create(&app, "ann", json!({"title": "elsewhere"})).await;

    let path = format!("/tasks/{}", id(&top));
    let refused = call(&app, Method::DELETE, "ann", &path, None, &[]).await;
    let body = assert_error(refused, 409, "TASK_HAS_SUBTASKS").await;
    assert!(body["detail"].as_str().unwrap().contains("2 subtasks"), "{body}");
    let bad = call(&app, Method::DELETE, "ann", &format!("{path}?subtasks=keep"), None, &[]).await;
    assert_error(bad, 422, "VALIDATION_ERROR").await;
    assert_eq!(counts(&app, "ann", &work).await, (4, 3), "nothing deleted");

    let list_path = format!("/lists/{work}");
    let refused = call(&app, Method::DELETE, "ann", &list_path, None, &[]).await;
    let body = assert_error(refused, 409, "LIST_NOT_EMPTY").await;
    assert!(body["detail"].as_str().unwrap().contains("4 tasks"), "{body}");
    let bad =
        call(&app, Method::DELETE, "ann", &format!("{list_path}?tasks=archive"), None, &[]).await;
    assert_error(bad, 422, "VALIDATION_ERROR").await;

    let deleted = call(
        &app,
        Method::DELETE,
        "ann",
        &format!("/tasks/{}?subtasks=delete", id(&child)),
        None,
        &[],
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(counts(&app, "ann", &work).await, (2, 1));
    let leaf = call(&app, Method::DELETE, "ann", &path, None, &[]).await;
    assert_eq!(leaf.status(), 204, "no subtasks left: deleted as before");

    let home = id(&new_list(&app, "ann", "Home").await);
    create(&app, "ann", json!({"title": "a", "list_id": home})).await;
    let moved =
        call(&app, Method::DELETE, "ann", &format!("/lists/{home}?tasks=inbox"), None, &[]).await;
    assert_eq!(moved.status(), 204);
    let (inbox, total) = titles(&app, "ann", "list=inbox").await;
    assert_eq!((inbox, total), (vec!["a".to_owned(), "elsewhere".to_owned()], 2));
    let emptied =
        call(&app, Method::DELETE, "ann", &format!("{list_path}?tasks=delete"), None, &[]).await;
    assert_eq!(emptied.status(), 204);
    let (all, total) = titles(&app, "ann", "").await;
    assert_eq!((all, total), (vec!["a".to_owned(), "elsewhere".to_owned()], 2));
    assert_eq!(get(&app, "ann", "/lists").await, json!([]));
}

#[tokio::test]
async fn list_counts_stay_exact_under_concurrent_writes_and_one_etag_race_wins() {
    let app = spawn_app().await;
    let work = id(&new_list(&app, "ann", "Work").await);
    let creates = (0..24).map(|n| {
        let app = &app;
        let work = work.clone();
        async move { create(app, "ann", json!({"title": format!("t{n}"), "list_id": work})).await }
    });
    let made = crate::finding::futures_join_all(creates).await;
    let writes = made.iter().enumerate().map(|(n, task)| {
        let app = &app;
        async move {
            let path = format!("/tasks/{}", id(task));
            match n % 3 {
                0 => call(app, Method::PATCH, "ann", &format!("{path}/complete"), None, &[]).await,
                1 => call(app, Method::DELETE, "ann", &path, None, &[]).await,
                _ => patch(app, "ann", &id(task), json!({"list_id": null})).await,
            }
        }
    });
    for response in crate::finding::futures_join_all(writes).await {
        assert!(response.status().is_success(), "{}", response.status());
    }
    assert_eq!(counts(&app, "ann", &work).await, (8, 0));
    let (listed, total) = titles(&app, "ann", &format!("list={work}")).await;
    assert_eq!((listed.len(), total), (8, 8));

    let path = format!("/lists/{work}");
    let race = (0..2).map(|n| {
        let (app, path) = (&app, path.clone());
        async move {
            let body = json!({"name": format!("Work {n}")});
            call(app, Method::PUT, "ann", &path, Some(&body), &[("if-match", "\"1\"")])
                .await
                .status()
        }
    });
    let mut statuses: Vec<u16> =
        crate::finding::futures_join_all(race).await.iter().map(|s| s.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 412], "exactly one wins");
    assert_eq!(get(&app, "ann", &path).await["version"], 2);
}

#[tokio::test]
async fn concurrent_moves_never_make_a_cycle_or_a_fifth_level() {
    let app = spawn_app().await;
    let app = &app;
    for round in 0..5 {
        let top = |name: String| async move { create(app, "ann", json!({ "title": name })).await };
        let (a, c) = (top(format!("a{round}")).await, top(format!("c{round}")).await);
        let (a, c) = (id(&a), id(&c));
        // Two tasks moved under each other at once: one move wins, the other is a cycle.
        let (under_c, under_a) = tokio::join!(
            patch(app, "ann", &a, json!({"parent_id": c})),
            patch(app, "ann", &c, json!({"parent_id": a})),
        );
        let mut statuses = [under_c.status().as_u16(), under_a.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 422], "round {round}");

        // a > b and c > d; c moved under b and e created under d at once: either alone keeps
        // four levels, both would make five.
        let (a, c) = (top(format!("A{round}")).await, top(format!("C{round}")).await);
        let b = create(app, "ann", json!({"title": "b", "parent_id": id(&a)})).await;
        let d = create(app, "ann", json!({"title": "d", "parent_id": id(&c)})).await;
        let (path, c) = ("/tasks".to_owned(), id(&c));
        let e = json!({"title": "e", "parent_id": id(&d)});
        let (moved, created) = tokio::join!(
            patch(app, "ann", &c, json!({"parent_id": id(&b)})),
            call(app, Method::POST, "ann", &path, Some(&e), &[]),
        );
        let mut statuses = [moved.status().as_u16(), created.status().as_u16()];
        statuses.sort();
        assert!(statuses == [200, 422] || statuses == [201, 422], "round {round}: {statuses:?}");
    }
}

#[tokio::test]
async fn a_list_deleted_with_its_tasks_takes_their_tags_and_priorities_out_of_the_counts() {
    let app = spawn_app().await;
    let work = id(&new_list(&app, "ann", "Work").await);
    let task = |title: &str, tags: Value, completed: bool| {
        json!({"title": title, "list_id": work, "tags": tags, "priority": "high",
               "completed": completed})
    };
    create(&app, "ann", task("one", json!(["Only"]), false)).await;
    create(&app, "ann", task("two", json!(["Shared"]), true)).await;
    create(&app, "ann", json!({"title": "kept", "tags": ["Shared"]})).await;
    let gone =
        call(&app, Method::DELETE, "ann", &format!("/lists/{work}?tasks=delete"), None, &[]).await;
    assert_eq!(gone.status(), 204);
    assert_eq!(
        get(&app, "ann", "/tags").await,
        json!([{"name": "Shared", "tasks": 1, "open": 1}]),
        "a tag no task has any more is forgotten, the others counted again"
    );
    assert_eq!(
        (titles(&app, "ann", "tag=shared").await.1, titles(&app, "ann", "priority=high").await.1),
        (1, 0)
    );
    assert_eq!(titles(&app, "ann", "list=inbox").await, (vec!["kept".to_owned()], 1));
}
