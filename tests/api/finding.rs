//! Finding tasks: the query parameters of `GET /tasks`, their combinations, paging through them
//! while others write, and the list's ETag.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app, token_for};
use crate::organising::{call, create};

/// The titles a query lists (one page of up to 500), and its total.
async fn titles(app: &TestApp, user: &str, query: &str) -> (Vec<String>, u64) {
    let response =
        call(app, Method::GET, user, &format!("/tasks?limit=500&{query}"), None, &[]).await;
    assert_eq!(response.status(), 200, "{query}");
    let total = response.headers()["x-total-count"].to_str().unwrap().parse().unwrap();
    let tasks: Vec<Value> = response.json().await.unwrap();
    (tasks.iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect(), total)
}

async fn sorted_titles(app: &TestApp, user: &str, query: &str) -> Vec<String> {
    let (mut found, total) = titles(app, user, query).await;
    assert_eq!(total as usize, found.len(), "{query}: the total counts what matches");
    found.sort();
    found
}

/// Every page of a query, following `Link: rel="next"`.
async fn all_pages(app: &TestApp, user: &str, first: &str) -> Vec<Value> {
    let mut url = app.url(&format!("/api/{user}/tasks?{first}"));
    let mut all = Vec::new();
    loop {
        let response = app.authed(app.client.get(&url), &token_for(user)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            app.url(link.trim_start_matches('<').split('>').next().unwrap())
        });
        all.extend(response.json::<Vec<Value>>().await.unwrap());
        match next {
            Some(next) => url = next,
            None => return all,
        }
    }
}

/// Eight tasks of alice's and one of bob's, to filter.
async fn seed(app: &TestApp) {
    for body in [
        json!({"title": "Buy milk", "priority": "high", "tags": ["Errands", "home"], "due": {"date": "2026-12-20"}}),
        json!({"title": "Write report", "description": "quarterly numbers", "priority": "medium", "tags": ["Work"],
               "due": {"date": "2026-12-21", "time": "09:00", "time_zone": "Europe/Berlin"}}),
        json!({"title": "Call mum", "priority": "low", "tags": ["home"], "completed": true}),
        json!({"title": "buy stamps", "tags": ["errands"], "due": {"date": "2026-12-24"}}),
        json!({"title": "Milkshake recipe", "description": "banana", "priority": "high"}),
        json!({"title": "Old overdue", "priority": "medium", "due": {"date": "2020-01-01", "time": "12:00", "time_zone": "UTC"}}),
        json!({"title": "Done overdue", "completed": true, "due": {"date": "2020-01-02"}}),
        json!({"title": "Far future", "tags": ["Work", "home"], "due": {"date": "2099-01-01"}}),
    ] {
        create(app, "alice", body).await;
    }
    create(app, "bob", json!({"title": "Buy milk for bob", "priority": "high", "tags": ["home"]}))
        .await;
}

#[tokio::test]
async fn each_filter_and_their_combinations() {
    let app = spawn_app().await;
    seed(&app).await;
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for (query, expected) in [
        (
            "",
            s(&[
                "Buy milk",
                "Call mum",
                "Done overdue",
                "Far future",
                "Milkshake recipe",
                "Old overdue",
                "Write report",
                "buy stamps",
            ]),
        ),
        ("completed=true", s(&["Call mum", "Done overdue"])),
        ("completed=false&priority=high", s(&["Buy milk", "Milkshake recipe"])),
        ("priority=high&priority=low", s(&["Buy milk", "Call mum", "Milkshake recipe"])),
        ("priority=none", s(&["Done overdue", "Far future", "buy stamps"])),
        ("tag=HOME", s(&["Buy milk", "Call mum", "Far future"])),
        ("tag=home&tag=errands", s(&["Buy milk"])),
        ("tag=home&tag=work", s(&["Far future"])),
        ("tag=nothing", s(&[])),
        ("q=mil", s(&["Buy milk", "Milkshake recipe"])),
        ("q=mil+buy", s(&["Buy milk"])),
        ("q=BUY%20mil", s(&["Buy milk"])),
        ("q=quart", s(&["Write report"])),
        ("q=ilk", s(&[])),
        ("q=banana+milk", s(&["Milkshake recipe"])),
        ("due_from=2026-12-20&due_to=2026-12-21", s(&["Buy milk", "Write report"])),
        ("due_from=2026-12-22", s(&["Far future", "buy stamps"])),
        ("due_to=2020-12-31", s(&["Done overdue", "Old overdue"])),
        ("has_due=false", s(&["Call mum", "Milkshake recipe"])),
        ("has_due=true&completed=false&tag=errands", s(&["Buy milk", "buy stamps"])),
        ("overdue=true", s(&["Old overdue"])),
        ("overdue=true&tz=Pacific/Kiritimati&completed=false", s(&["Old overdue"])),
        ("q=buy&priority=high&tag=home&has_due=true", s(&["Buy milk"])),
    ] {
        assert_eq!(sorted_titles(&app, "alice", query).await, expected, "{query}");
    }
}

#[tokio::test]
async fn overdue_all_day_dues_follow_the_zone_asked() {
    let app = spawn_app().await;
    // Today in the zone furthest ahead (UTC+14) is tomorrow, or today, in UTC: a due of
    // yesterday there is overdue in that zone, and at most "today" in UTC-12.
    let now = time::OffsetDateTime::now_utc();
    let kiritimati_today = (now + time::Duration::hours(14)).date();
    let yesterday_there = kiritimati_today.previous_day().unwrap();
    let date = format!("{yesterday_there}");
    create(&app, "alice", json!({"title": "due yesterday in Kiritimati", "due": {"date": date}}))
        .await;
    let (ahead, _) = titles(&app, "alice", "overdue=true&tz=Pacific/Kiritimati").await;
    assert_eq!(ahead, ["due yesterday in Kiritimati"]);
    let (behind, _) = titles(&app, "alice", "overdue=true&tz=Etc/GMT%2B12").await;
    assert!(behind.is_empty(), "in UTC-12 that date is today or later: {behind:?}");
    let (not_overdue, _) = titles(&app, "alice", "overdue=false&tz=Etc/GMT%2B12").await;
    assert_eq!(not_overdue.len(), 1);
}

#[tokio::test]
async fn each_sort_in_both_orders_is_total_and_dueless_tasks_come_last() {
    let app = spawn_app().await;
    seed(&app).await;
    let order = |query: &'static str| {
        let app = &app;
        async move { titles(app, "alice", query).await.0 }
    };
    assert_eq!(
        order("sort=title&order=asc").await,
        [
            "Buy milk",
            "buy stamps",
            "Call mum",
            "Done overdue",
            "Far future",
            "Milkshake recipe",
            "Old overdue",
            "Write report"
        ],
        "case-insensitively"
    );
    let mut reversed = order("sort=title&order=asc").await;
    reversed.reverse();
    assert_eq!(order("sort=title&order=desc").await, reversed);
    assert_eq!(
        order("sort=due&order=asc").await,
        [
            "Old overdue",
            "Done overdue",
            "Buy milk",
            "Write report",
            "buy stamps",
            "Far future",
            "Call mum",
            "Milkshake recipe"
        ]
    );
    assert_eq!(
        order("sort=due&order=desc").await,
        [
            "Far future",
            "buy stamps",
            "Write report",
            "Buy milk",
            "Done overdue",
            "Old overdue",
            "Milkshake recipe",
            "Call mum"
        ],
        "without a due last, ties by id in the same direction"
    );
    let priorities: Vec<String> = {
        let response =
            call(&app, Method::GET, "alice", "/tasks?sort=priority&order=asc", None, &[]).await;
        response
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .iter()
            .map(|t| t["priority"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(priorities, ["none", "none", "none", "low", "medium", "medium", "high", "high"]);
    assert_eq!(order("sort=created&order=asc").await.first().map(String::as_str), Some("Buy milk"));
    assert_eq!(
        order("").await.first().map(String::as_str),
        Some("Far future"),
        "newest first by default"
    );
    // Updated: the task changed last comes first.
    let (tasks, _) = titles(&app, "alice", "sort=title&order=asc").await;
    let all: Vec<Value> =
        call(&app, Method::GET, "alice", "/tasks", None, &[]).await.json().await.unwrap();
    let milk = all.iter().find(|t| t["title"] == "Buy milk").unwrap();
    call(
        &app,
        Method::PATCH,
        "alice",
        &format!("/tasks/{}", milk["id"].as_str().unwrap()),
        Some(&json!({"priority": "low"})),
        &[],
    )
    .await;
    assert_eq!(order("sort=updated").await.first().map(String::as_str), Some("Buy milk"));
    assert_eq!(order("sort=updated&order=asc").await.last().map(String::as_str), Some("Buy milk"));
    assert_eq!(tasks.len(), 8);
}

#[tokio::test]
async fn bad_parameters_are_422_naming_them() {
    let app = spawn_app().await;
    for (query, field) in [
        ("colour=red", "colour"),
        ("priority=urgent", "priority"),
        ("due_from=2026-02-30", "due_from"),
        ("due_to=20261224", "due_to"),
        ("overdue=true&tz=Mars/Base", "tz"),
        ("sort=size", "sort"),
        ("order=sideways", "order"),
        ("has_due=maybe", "has_due"),
        ("completed=1", "completed"),
        ("q=%2B%2B%2B", "q"),
        ("sort=due&sort=title", "sort"),
        ("limit=501", "limit"),
    ] {
        let response =
            call(&app, Method::GET, "alice", &format!("/tasks?{query}"), None, &[]).await;
        let error = assert_error(response, 422, "VALIDATION_ERROR").await;
        assert_eq!(error["errors"][0]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn a_cursor_works_only_with_the_filters_and_sort_it_was_issued_for() {
    let app = spawn_app().await;
    seed(&app).await;
    let first =
        call(&app, Method::GET, "alice", "/tasks?tag=home&sort=title&order=asc&limit=1", None, &[])
            .await;
    let link = first.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("tag=home") && link.contains("sort=title") && link.contains("order=asc"),
        "{link}"
    );
    let cursor = link.split("cursor=").nth(1).unwrap().split('>').next().unwrap();
    for other in ["tag=home&sort=title", "tag=work&sort=title&order=asc", "sort=title&order=asc"] {
        let response =
            call(&app, Method::GET, "alice", &format!("/tasks?{other}&cursor={cursor}"), None, &[])
                .await;
        let error = assert_error(response, 422, "VALIDATION_ERROR").await;
        assert_eq!(error["errors"][0]["field"], "cursor", "{other}");
    }
    let same = call(
        &app,
        Method::GET,
        "alice",
        &format!("/tasks?order=asc&sort=title&tag=HOME&cursor={cursor}"),
        None,
        &[],
    )
    .await;
    assert_eq!(same.status(), 200, "the same filters in another order and case");
}

#[tokio::test]
async fn paging_a_sorted_filtered_list_while_others_write_shows_each_unchanged_task_once() {
    let app = spawn_app().await;
    let mut unchanged = Vec::new();
    for n in 0..30 {
        let priority = ["low", "high"][n % 2];
        let due = if n % 3 == 0 {
            Value::Null
        } else {
            json!({"date": format!("2026-12-{:02}", 1 + n % 28)})
        };
        let task = create(&app, "alice", json!({"title": format!("task {n:02}"), "tags": ["page"], "priority": priority, "due": due})).await;
        unchanged.push(task);
    }
    for (sort, order) in [
        ("title", "asc"),
        ("due", "asc"),
        ("due", "desc"),
        ("priority", "desc"),
        ("created", "asc"),
        ("updated", "desc"),
    ] {
        let mut url =
            app.url(&format!("/api/alice/tasks?tag=page&sort={sort}&order={order}&limit=4"));
        let mut seen: Vec<String> = Vec::new();
        let mut changed: Vec<String> = Vec::new();
        let mut page = 0;
        loop {
            let response =
                app.authed(app.client.get(&url), &token_for("alice")).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let next = response.headers().get("link").map(|l| {
                app.url(l.to_str().unwrap().trim_start_matches('<').split('>').next().unwrap())
            });
            let tasks: Vec<Value> = response.json().await.unwrap();
            seen.extend(tasks.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
            // Meanwhile another client adds a task and changes one not yet seen.
            create(&app, "alice", json!({"title": format!("added {sort} {order} {page}"), "tags": ["page"], "due": {"date": "2026-12-15"}})).await;
            if let Some(victim) = unchanged.iter().find(|t| {
                !seen.contains(&t["id"].as_str().unwrap().to_owned())
                    && !changed.contains(&t["id"].as_str().unwrap().to_owned())
            }) {
                let victim_id = victim["id"].as_str().unwrap().to_owned();
                call(&app, Method::PATCH, "alice", &format!("/tasks/{victim_id}"), Some(&json!({"title": format!("changed {page}"), "priority": "medium", "due": {"date": "2026-12-31"}})), &[]).await;
                changed.push(victim_id);
            }
            page += 1;
            match next {
                Some(next) => url = next,
                None => break,
            }
        }
        let mut counts = std::collections::HashMap::new();
        for id in &seen {
            *counts.entry(id.clone()).or_insert(0) += 1;
        }
        for task in &unchanged {
            let id = task["id"].as_str().unwrap();
            if changed.iter().any(|c| c == id) {
                continue;
            }
            assert_eq!(
                counts.get(id),
                Some(&1),
                "{sort} {order}: unchanged {} seen once",
                task["title"]
            );
        }
        assert!(counts.values().all(|&n| n == 1), "{sort} {order}: no task twice");
        // Later listings see the changed tasks as they are now; restore nothing.
        unchanged.retain(|t| !changed.iter().any(|c| c == t["id"].as_str().unwrap()));
    }
}

#[tokio::test]
async fn every_page_of_every_sort_covers_the_query_exactly() {
    let app = spawn_app().await;
    seed(&app).await;
    for query in [
        "sort=title&order=asc",
        "sort=due&order=desc",
        "sort=priority&order=asc",
        "sort=updated&order=asc",
        "tag=home&sort=due",
        "q=buy&order=asc",
        "overdue=false&sort=due&order=asc",
    ] {
        let (whole, total) = titles(&app, "alice", query).await;
        let paged: Vec<String> = all_pages(&app, "alice", &format!("{query}&limit=2"))
            .await
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(paged, whole, "{query}: pages of 2 list what one page does, in order");
        assert_eq!(total as usize, whole.len());
    }
}

#[tokio::test]
async fn a_list_etag_answers_304_until_the_list_changes() {
    let app = spawn_app().await;
    seed(&app).await;
    for query in ["", "tag=home&sort=title", "overdue=true"] {
        let path = format!("/tasks?{query}");
        let first = call(&app, Method::GET, "alice", &path, None, &[]).await;
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let again =
            call(&app, Method::GET, "alice", &path, None, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), 304, "{query}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
        let other_query = call(
            &app,
            Method::GET,
            "alice",
            &format!("{path}&limit=3"),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
        assert_eq!(other_query.status(), 200, "{query}: another query has another tag");
        let created = create(
            &app,
            "alice",
            json!({"title": "new", "tags": ["home"], "due": {"date": "2020-02-02"}}),
        )
        .await;
        let changed =
            call(&app, Method::GET, "alice", &path, None, &[("if-none-match", &etag)]).await;
        assert_eq!(changed.status(), 200, "{query}: a write changed the list");
        assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
        call(
            &app,
            Method::DELETE,
            "alice",
            &format!("/tasks/{}", created["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    }
}

#[tokio::test]
async fn one_users_filters_and_counts_never_see_anothers_tasks() {
    let app = spawn_app().await;
    seed(&app).await;
    for query in ["q=milk", "tag=home", "priority=high", "has_due=false"] {
        let (found, total) = titles(&app, "bob", query).await;
        assert!(found.iter().all(|t| t.contains("bob")), "{query}: {found:?}");
        assert_eq!(total as usize, found.len());
    }
    let (alice_home, _) = titles(&app, "alice", "q=bob").await;
    assert!(alice_home.is_empty());
}

#[tokio::test]
async fn search_follows_every_write_even_many_in_one_commit() {
    let app = spawn_app().await;
    let found = async |q: &str| sorted_titles(&app, "alice", &format!("q={q}")).await;
    // Concurrent creates share the writer's commits (SQLite): each is found.
    let creates = (0..20).map(|n| create(&app, "alice", json!({"title": format!("zebra {n}")})));
    let tasks = futures_join_all(creates).await;
    assert_eq!(found("zeb").await.len(), 20);
    let id = tasks[0]["id"].as_str().unwrap().to_owned();
    call(
        &app,
        Method::PATCH,
        "alice",
        &format!("/tasks/{id}"),
        Some(&json!({"title": "okapi", "description": "striped"})),
        &[],
    )
    .await;
    assert_eq!(found("zeb").await.len(), 19);
    assert_eq!(found("okap+strip").await, ["okapi"]);
    call(&app, Method::DELETE, "alice", &format!("/tasks/{id}"), None, &[]).await;
    assert!(found("okapi").await.is_empty());
    let again = create(&app, "alice", json!({"title": "okapi again"})).await;
    assert_eq!(found("okapi").await, ["okapi again"], "a new task may take a freed search row");
    assert_eq!(again["title"], "okapi again");
}

/// Runs the futures at once (no extra dependency for a join of many).
pub(crate) async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(pinned.len());
    let mut done: Vec<Option<F::Output>> =
        std::iter::repeat_with(|| None).take(pinned.len()).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (n, future) in pinned.iter_mut().enumerate() {
            if done[n].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => done[n] = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    for output in done.into_iter().flatten() {
        outputs.push(output);
    }
    outputs
}
