//! Finding tasks, on every backend: each filter, each sort in both directions paged by cursors
//! of every size, and paging that lists each task left alone exactly once while others change.

use std::collections::BTreeSet;

use taskgate::domain::tasks::query::SortValue;
use taskgate::domain::tasks::{
    Due, Expected, Priority, Sort, SortKey, Task, TaskDraft, TaskId, TaskQuery,
};

use crate::organising::{NOW, all_day, tagged, timed};
use crate::{done, draft, owner, page_through, stores_with};

/// The filter tests' tasks, oldest first: (title, description, completed, priority, tags, due).
fn filter_tasks() -> Vec<TaskDraft> {
    let task = |title: &str, description: Option<&str>, completed, priority, tags: &[&str], due| {
        TaskDraft {
            description: description.map(str::to_owned),
            completed,
            priority,
            due,
            ..tagged(title, tags)
        }
    };
    use Priority::{High, Low, Medium};
    vec![
        task(
            "Buy milk",
            Some("2 litres, semi-skimmed"),
            false,
            High,
            &["Errands", "Home"],
            Some(all_day("2026-06-14")),
        ),
        task(
            "Café au lait",
            None,
            false,
            Low,
            &["Home"],
            Some(timed("2026-06-15", "11:00", "Europe/Berlin")),
        ),
        task(
            "Write report",
            None,
            false,
            Medium,
            &["Work"],
            Some(timed("2026-06-15", "14:00", "UTC")),
        ),
        task("File taxes", None, false, High, &["Work", "Home"], Some(all_day("2026-06-15"))),
        task(
            "Old milk receipt",
            None,
            true,
            Priority::None,
            &["Errands"],
            Some(all_day("2026-06-01")),
        ),
        task("Call mum", Some("about the milk-run"), false, Priority::None, &[], None),
        task("Plan e-mail campaign", None, true, Medium, &["Work"], None),
    ]
}

#[tokio::test]
async fn each_filter_finds_exactly_the_matching_tasks_and_counts_them() {
    for store in stores_with(true, 100).await {
        let (name, tasks) = (store.name, &store.tasks);
        let u = owner("", "finder");
        let mut titles = Vec::new();
        for draft in filter_tasks() {
            titles.push(tasks.create(&u, draft).await.unwrap().title);
        }
        let [milk, cafe, report, taxes, receipt, mum, plan] = [0, 1, 2, 3, 4, 5, 6];
        let cases: &[(&str, &[usize])] = &[
            ("", &[milk, cafe, report, taxes, receipt, mum, plan]),
            ("completed=true", &[receipt, plan]),
            ("completed=false", &[milk, cafe, report, taxes, mum]),
            ("priority=high", &[milk, taxes]),
            ("priority=low&priority=medium", &[cafe, report, plan]),
            ("priority=none", &[receipt, mum]),
            ("tag=home", &[milk, cafe, taxes]),
            ("tag=HOME&tag=work", &[taxes]),
            ("tag=errands&completed=false", &[milk]),
            ("tag=nothing", &[]),
            ("q=milk", &[milk, receipt, mum]),
            ("q=MIL", &[milk, receipt, mum]),
            ("q=mil+buy", &[milk]),
            ("q=buy%20mil", &[milk]),
            ("q=ilk", &[]),
            ("q=milks", &[]),
            ("q=litres", &[milk]),
            ("q=caf%C3%A9", &[cafe]),
            ("q=cafe", &[cafe]),
            ("q=mail", &[plan]),
            ("q=e", &[plan]),
            ("due_from=2026-06-15", &[cafe, report, taxes]),
            ("due_to=2026-06-14", &[milk, receipt]),
            ("due_from=2026-06-14&due_to=2026-06-15", &[milk, cafe, report, taxes]),
            ("has_due=true", &[milk, cafe, report, taxes, receipt]),
            ("has_due=false", &[mum, plan]),
            ("overdue=true", &[milk, cafe]),
            ("overdue=true&tz=America/Los_Angeles", &[milk, cafe]),
            // 02:00 on 2026-06-16 there: an all-day due of the 15th has passed.
            ("overdue=true&tz=Pacific/Kiritimati", &[milk, cafe, taxes]),
            ("overdue=false", &[report, taxes, receipt, mum, plan]),
            ("overdue=false&has_due=true", &[report, taxes, receipt]),
            ("priority=high&tag=work&completed=false", &[taxes]),
            ("q=milk&completed=false&sort=title&order=asc", &[milk, mum]),
        ];
        for (raw, expected) in cases {
            let mut expected: Vec<&str> = expected.iter().map(|n| titles[*n].as_str()).collect();
            if !raw.contains("sort=") {
                expected.reverse(); // newest first
            }
            for limit in [2, 500] {
                let (found, totals) = page_through(tasks, &u, raw, limit, NOW).await;
                let found: Vec<&str> = found.iter().map(|t| t.title.as_str()).collect();
                assert_eq!(found, expected, "{name}: {raw} (limit {limit})");
                let count = expected.len() as u64;
                assert!(totals.iter().all(|t| *t == count), "{name}: {raw}: {totals:?}");
            }
        }
    }
}

/// The order a sort must list `tasks` in: by the sort's value (tasks without a due last in both
/// directions), then by id in the same direction.
fn sorted(tasks: &[Task], sort: Sort) -> Vec<TaskId> {
    let place = |task: &Task| match sort.value_of(task) {
        SortValue::Nothing => (1, 0, String::new()),
        SortValue::Number(n) => (0, n, String::new()),
        SortValue::Text(text) => (0, 0, text),
    };
    let mut all: Vec<&Task> = tasks.iter().collect();
    all.sort_by(|a, b| {
        let (pa, pb) = (place(a), place(b));
        let order = (pa.1, &pa.2, a.id).cmp(&(pb.1, &pb.2, b.id));
        pa.0.cmp(&pb.0).then(if sort.descending { order.reverse() } else { order })
    });
    all.into_iter().map(|task| task.id).collect()
}

/// Which of the tasks a filter keeps.
type Wanted = fn(&Task) -> bool;

const SORTS: [(&str, SortKey); 5] = [
    ("created", SortKey::Created),
    ("updated", SortKey::Updated),
    ("due", SortKey::Due),
    ("priority", SortKey::Priority),
    ("title", SortKey::Title),
];

#[tokio::test]
async fn each_sort_pages_through_in_its_order_both_ways() {
    for store in stores_with(true, 100).await {
        let (name, tasks) = (store.name, &store.tasks);
        let u = owner("", "sorter");
        use Priority::{High, Low, Medium, None as Nil};
        // Ties everywhere: equal folded titles, equal priorities, equal due instants (the
        // 1st of July at 00:00 UTC, all-day and timed), and tasks without a due.
        let specs: [(&str, Priority, Option<Due>); 12] = [
            ("apple", Low, Some(all_day("2026-07-01"))),
            ("Banana", High, None),
            ("Apple", Low, Some(timed("2026-07-01", "02:00", "Europe/Berlin"))),
            ("straße", Nil, Some(timed("2026-03-29", "02:30", "Europe/Berlin"))),
            ("Äpfel", Medium, None),
            ("STRASSE", High, Some(all_day("2026-06-30"))),
            ("zebra", Nil, Some(timed("2026-11-01", "01:30", "America/New_York"))),
            ("10 things", Medium, Some(all_day("2026-07-01"))),
            ("Émile", High, None),
            ("banana", Low, Some(all_day("2025-01-01"))),
            ("Zebra", Nil, None),
            ("éclair", Medium, Some(timed("2026-07-01", "00:00", "UTC"))),
        ];
        let mut created = Vec::new();
        for (n, (title, priority, due)) in specs.iter().enumerate() {
            let draft = TaskDraft {
                priority: *priority,
                due: due.clone(),
                completed: n % 3 == 0,
                description: Some(format!("item {}", if n % 2 == 0 { "even" } else { "odd" })),
                ..draft(title)
            };
            created.push(tasks.create(&u, draft).await.unwrap());
        }
        // Changed in another order than made, so `updated` differs from `created`.
        for n in [7, 2, 10, 0, 5] {
            let task = &created[n];
            let draft = TaskDraft {
                description: Some("changed item".into()),
                completed: task.completed,
                priority: task.priority,
                due: task.due.clone(),
                ..draft(&task.title)
            };
            done(tasks.replace(&u, task.id, draft, Expected::any()).await.unwrap());
        }
        let all = tasks.list(&u, &TaskQuery::newest(500)).await.unwrap().tasks.clone();
        for (sort_name, key) in SORTS {
            for (order, descending) in [("asc", false), ("desc", true)] {
                // Searches page through the matches they found, in every order too.
                let filters: [(&str, Wanted); 4] = [
                    ("", |_| true),
                    ("completed=false&", |task| !task.completed),
                    ("q=ite&", |_| true),
                    ("q=chan+ITEM&", |task| task.description.as_deref() == Some("changed item")),
                ];
                for (filter, wanted) in filters {
                    let raw = format!("{filter}sort={sort_name}&order={order}");
                    let matching: Vec<Task> =
                        all.iter().filter(|task| wanted(task)).cloned().collect();
                    let expected = sorted(&matching, Sort { key, descending });
                    for limit in [1, 2, 3, 5, 500] {
                        let (found, totals) = page_through(tasks, &u, &raw, limit, NOW).await;
                        let found: Vec<TaskId> = found.iter().map(|task| task.id).collect();
                        assert_eq!(found, expected, "{name}: {raw} by {limit}");
                        assert!(totals.iter().all(|t| *t == expected.len() as u64), "{name}");
                    }
                }
            }
        }
        let titles = |ids: Vec<TaskId>| -> Vec<String> {
            ids.iter().map(|id| all.iter().find(|t| t.id == *id).unwrap().title.clone()).collect()
        };
        let by_due = titles(sorted(&all, Sort { key: SortKey::Due, descending: true }));
        assert_eq!(by_due[..2], ["zebra", "éclair"], "{name}: {by_due:?}");
        assert_eq!(by_due[8..], ["Zebra", "Émile", "Äpfel", "Banana"], "{name}: no due, last");
    }
}

#[tokio::test]
async fn a_task_left_alone_while_others_change_is_listed_exactly_once() {
    for store in stores_with(true, 100).await {
        let (name, tasks) = (store.name, &store.tasks);
        let u = owner("", "pager");
        for raw in ["sort=updated&order=desc", "sort=title&order=asc", "sort=due&order=asc"] {
            let mut made = Vec::new();
            for n in 0..10 {
                let due = (n % 2 == 0).then(|| all_day(&format!("2026-07-{:02}", 10 - n)));
                made.push(
                    tasks
                        .create(&u, TaskDraft { due, ..draft(&format!("{raw} {n:02}")) })
                        .await
                        .unwrap(),
                );
            }
            let mut query = TaskQuery::parse(Some(&format!("{raw}&limit=3")), NOW).unwrap();
            let (mut seen, mut changed) = (Vec::new(), BTreeSet::new());
            for round in 0.. {
                let page = tasks.list(&u, &query).await.unwrap();
                seen.extend(page.tasks.iter().map(|task| task.id));
                let Some(last) = page.tasks.last().filter(|_| page.more) else { break };
                let cursor = query.cursor_after(last);
                // Meanwhile: one task changes its place, another is made.
                let moved = &made[(round * 3 + 1) % made.len()];
                let change = TaskDraft {
                    due: Some(all_day("2026-01-01")),
                    ..draft(&format!("a {raw} moved {round}"))
                };
                done(tasks.replace(&u, moved.id, change, Expected::any()).await.unwrap());
                changed.insert(moved.id);
                let new = tasks.create(&u, draft(&format!("{raw} new {round}"))).await.unwrap();
                changed.insert(new.id);
                query =
                    TaskQuery::parse(Some(&format!("{raw}&limit=3&cursor={cursor}")), NOW).unwrap();
            }
            for task in made.iter().filter(|task| !changed.contains(&task.id)) {
                let times = seen.iter().filter(|id| **id == task.id).count();
                assert_eq!(times, 1, "{name}: {raw}: {} listed {times} times", task.title);
            }
            for task in tasks.list(&u, &TaskQuery::newest(500)).await.unwrap().tasks.iter() {
                done(tasks.delete(&u, task.id, Expected::any(), false).await.unwrap());
            }
        }
    }
}

/// Every count of a filter by priority and completion (what the SQLite store answers from the
/// owner's counters, not from the tasks), checked against the tasks themselves.
async fn assert_counts(store: &crate::TestStore, u: &taskgate::domain::auth::UserId, step: &str) {
    let everything = page_through(&store.tasks, u, "", 500, NOW).await.0;
    let filters = [
        "completed=false",
        "completed=true",
        "priority=none",
        "priority=high",
        "priority=low&priority=medium",
        "priority=high&completed=false",
        "priority=none&priority=medium&completed=true",
    ];
    for raw in filters {
        let query = TaskQuery::parse(Some(raw), NOW).unwrap();
        let expected = everything
            .iter()
            .filter(|task| query.filter.completed.is_none_or(|wanted| task.completed == wanted))
            .filter(|task| {
                query.filter.priorities.is_empty()
                    || query.filter.priorities.contains(&task.priority)
            })
            .count() as u64;
        let page = store.tasks.list(u, &query).await.unwrap();
        assert_eq!(page.total, expected, "{}: {raw} after {step}", store.name);
    }
}

#[tokio::test]
async fn counts_by_priority_and_completion_stay_exact_through_every_kind_of_write() {
    use taskgate::domain::tasks::{Completion, TagName};
    for store in stores_with(false, 100).await {
        let (tasks, u, other) = (&store.tasks, owner("", "counted"), owner("", "other"));
        tasks
            .create(&other, TaskDraft { priority: Priority::High, ..draft("not mine") })
            .await
            .unwrap();
        let mut made = Vec::new();
        for (n, priority) in Priority::ALL.iter().cycle().take(9).enumerate() {
            let task =
                TaskDraft { priority: *priority, completed: n % 3 == 0, ..tagged("t", &["x"]) };
            made.push(tasks.create(&u, task).await.unwrap());
        }
        assert_counts(&store, &u, "creates").await;
        let changed = TaskDraft { priority: Priority::Low, completed: true, ..made[1].to_draft() };
        done(tasks.replace(&u, made[1].id, changed, Expected::any()).await.unwrap());
        assert_counts(&store, &u, "a replace changing both").await;
        done(
            tasks
                .set_completion(&u, made[2].id, Completion::Toggle, Expected::any())
                .await
                .unwrap(),
        );
        done(
            tasks
                .set_completion(&u, made[0].id, Completion::Toggle, Expected::any())
                .await
                .unwrap(),
        );
        assert_counts(&store, &u, "toggles").await;
        done(tasks.delete(&u, made[3].id, Expected::any(), false).await.unwrap());
        assert_counts(&store, &u, "a delete").await;
        let renamed = TagName::parse("y", "name").unwrap();
        assert!(tasks.rename_tag(&u, "x", renamed).await.unwrap());
        assert!(tasks.delete_tag(&u, "y").await.unwrap());
        assert_counts(&store, &u, "a tag renamed and deleted").await;
        let theirs = TaskQuery::parse(Some("priority=high"), NOW).unwrap();
        assert_eq!(tasks.list(&other, &theirs).await.unwrap().total, 1, "{}", store.name);
    }
}
