//! Organising tasks, on every backend: conditional writes, tags (one spelling per owner, the
//! limit, rename, merge, delete, counts), owners that never see each other's tags or tasks, and
//! (on PostgreSQL) tasks of the previous release after the migration.

use std::collections::BTreeSet;

use taskgate::domain::auth::UserId;
use taskgate::domain::tasks::fields::{MAX_TAGS_PER_USER, parse_tags};
use taskgate::domain::tasks::idempotency::IdempotencyKey;
use taskgate::domain::tasks::{
    Completion, Due, DueInput, Expected, Priority, TagName, TagSummary, Task, TaskDraft, TaskId,
    TaskQuery,
};
use taskgate::store::{DynTaskStore, Guarded, StoreError};

use crate::{done, draft, owner, page_through, stores_with};

/// 2026-06-15T12:00:00Z: the moment the list tests list at.
pub(crate) const NOW: i64 = 1_781_524_800;

pub(crate) fn tagged(title: &str, tags: &[&str]) -> TaskDraft {
    let raw: Vec<String> = tags.iter().map(|tag| tag.to_string()).collect();
    TaskDraft { tags: parse_tags(&raw).unwrap(), ..draft(title) }
}

pub(crate) fn all_day(date: &str) -> Due {
    DueInput { date: date.into(), ..DueInput::default() }.resolve().unwrap()
}

pub(crate) fn timed(date: &str, time: &str, zone: &str) -> Due {
    let input = DueInput {
        date: date.into(),
        time: Some(time.into()),
        time_zone: Some(zone.into()),
        at: None,
    };
    input.resolve().unwrap()
}

fn tag(name: &str) -> TagName {
    TagName::parse(name, "name").unwrap()
}

fn summary(name: &str, tasks: u64, open: u64) -> TagSummary {
    TagSummary { name: name.into(), tasks, open }
}

/// The owner's tag summaries agree with the tasks themselves, and so do the totals of listing
/// by each tag, with and without completion.
async fn assert_tag_counts_agree(name: &str, tasks: &DynTaskStore, owner: &UserId) {
    let all = tasks.list(owner, &TaskQuery::newest(500)).await.unwrap();
    let mut expected: Vec<TagSummary> = Vec::new();
    for task in &all.tasks {
        for tag in &task.tags {
            let key = taskgate::domain::tasks::fields::fold(tag);
            let at =
                expected.iter().position(|t| taskgate::domain::tasks::fields::fold(&t.name) == key);
            let summary = match at {
                Some(at) => &mut expected[at],
                None => {
                    expected.push(summary(tag, 0, 0));
                    expected.last_mut().unwrap()
                }
            };
            assert_eq!(&summary.name, tag, "{name}: one spelling per tag");
            summary.tasks += 1;
            summary.open += u64::from(!task.completed);
        }
    }
    expected.sort_by_key(|t| taskgate::domain::tasks::fields::fold(&t.name));
    assert_eq!(tasks.tags(owner).await.unwrap(), expected, "{name}");
    for tag in &expected {
        let encoded: String = url_encode(&tag.name);
        for (raw, count) in [
            (format!("tag={encoded}"), tag.tasks),
            (format!("tag={encoded}&completed=false"), tag.open),
            (format!("tag={encoded}&completed=true"), tag.tasks - tag.open),
        ] {
            let query = TaskQuery::parse(Some(&format!("{raw}&limit=1")), NOW).unwrap();
            assert_eq!(tasks.list(owner, &query).await.unwrap().total, count, "{name}: {raw}");
        }
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn tags_of(tasks: &DynTaskStore, owner: &UserId, id: TaskId) -> Vec<String> {
    tasks.get(owner, id).await.unwrap().unwrap().tags
}

#[tokio::test]
async fn a_refused_conditional_write_changes_nothing_and_a_write_that_changes_nothing_keeps_the_version()
 {
    for store in stores_with(true, 100).await {
        let (name, tasks) = (store.name, &store.tasks);
        let u = owner("", "guarded");
        let task = tasks.create(&u, tagged("t", &["Work"])).await.unwrap();
        assert_eq!(task.version, 1, "{name}");
        let list = tasks.list_version(&u).await.unwrap();

        let refused = tasks.replace(&u, task.id, draft("x"), Expected::version(2)).await.unwrap();
        assert_eq!(refused, Guarded::Conflict { current: 1 }, "{name}");
        let refused = tasks.set_completion(&u, task.id, Completion::Toggle, Expected::version(7));
        assert_eq!(refused.await.unwrap(), Guarded::Conflict { current: 1 }, "{name}");
        let refused = tasks.delete(&u, task.id, Expected::one_of(vec![2, 3]), false).await.unwrap();
        assert_eq!(refused, Guarded::Conflict { current: 1 }, "{name}");
        assert_eq!(tasks.get(&u, task.id).await.unwrap().as_ref(), Some(&task), "{name}");
        assert_eq!(tasks.list_version(&u).await.unwrap(), list, "{name}: nothing written");

        // The same content, tags in another case: nothing a client sees changes.
        let same = tagged("t", &["WORK"]);
        let kept = done(tasks.replace(&u, task.id, same, Expected::version(1)).await.unwrap());
        assert_eq!(kept, task, "{name}: same version, same stamp, same spelling");
        let kept = tasks.set_completion(&u, task.id, Completion::Set(false), Expected::any());
        assert_eq!(done(kept.await.unwrap()), task, "{name}");
        assert_eq!(tasks.list_version(&u).await.unwrap(), list, "{name}: no-ops write nothing");

        let changed = TaskDraft {
            priority: Priority::High,
            due: Some(timed("2026-12-24", "09:30", "Europe/Berlin")),
            ..tagged("t2", &["work", "Home"])
        };
        let after =
            done(tasks.replace(&u, task.id, changed.clone(), Expected::version(1)).await.unwrap());
        assert_eq!(after.version, 2, "{name}");
        assert!(after.updated_at > task.updated_at, "{name}");
        assert_eq!(after.created_at, task.created_at, "{name}");
        assert_eq!(
            (after.priority, after.tags.clone()),
            (Priority::High, vec!["Work".into(), "Home".into()])
        );
        assert_eq!(after.due, changed.due, "{name}: the due reads back as written");
        assert_eq!(tasks.get(&u, task.id).await.unwrap().as_ref(), Some(&after), "{name}");
        assert!(tasks.list_version(&u).await.unwrap() > list, "{name}");

        let toggled =
            tasks.set_completion(&u, task.id, Completion::Toggle, Expected::one_of(vec![1, 2]));
        let toggled = done(toggled.await.unwrap());
        assert_eq!((toggled.version, toggled.completed), (3, true), "{name}");
        assert!(toggled.completed_at.is_some(), "{name}");
        assert_eq!((toggled.tags.clone(), toggled.due.clone()), (after.tags, after.due), "{name}");

        let refused = tasks.delete(&u, task.id, Expected::version(2), false).await.unwrap();
        assert_eq!(refused, Guarded::Conflict { current: 3 }, "{name}");
        done(tasks.delete(&u, task.id, Expected::version(3), false).await.unwrap());
        assert_eq!(tasks.get(&u, task.id).await.unwrap(), None, "{name}");
        assert_eq!(
            tasks.delete(&u, task.id, Expected::any(), false).await.unwrap(),
            Guarded::Missing
        );
        assert!(tasks.tags(&u).await.unwrap().is_empty(), "{name}: its tags went with it");
    }
}

#[tokio::test]
async fn tags_take_the_owners_first_spelling_and_are_forgotten_with_their_last_task() {
    for store in stores_with(true, 100).await {
        let (name, tasks) = (store.name, &store.tasks);
        let u = owner("", "speller");
        let a = tasks.create(&u, tagged("a", &["Work", "home"])).await.unwrap();
        assert_eq!(a.tags, ["Work", "home"], "{name}");
        let b = tasks.create(&u, tagged("b", &["WORK", "Errands", "Straße"])).await.unwrap();
        assert_eq!(b.tags, ["Work", "Errands", "Straße"], "{name}: the first spelling");
        let c = tasks.create(&u, TaskDraft { completed: true, ..tagged("c", &["STRASSE"]) });
        assert_eq!(c.await.unwrap().tags, ["Straße"], "{name}: compared by Unicode case folding");
        let listed = tasks.list(&u, &TaskQuery::newest(10)).await.unwrap();
        assert_eq!(listed.tasks[1].tags, ["Work", "Errands", "Straße"], "{name}");

        assert_eq!(
            tasks.tags(&u).await.unwrap(),
            [
                summary("Errands", 1, 1),
                summary("home", 1, 1),
                summary("Straße", 2, 1),
                summary("Work", 2, 2)
            ],
            "{name}: by key, with counts"
        );
        done(tasks.set_completion(&u, b.id, Completion::Set(true), Expected::any()).await.unwrap());
        let a2 =
            done(tasks.replace(&u, a.id, tagged("a", &["HOME"]), Expected::any()).await.unwrap());
        assert_eq!((a2.tags, a2.version), (vec!["home".to_owned()], 2), "{name}");
        assert_eq!(
            tasks.tags(&u).await.unwrap(),
            [
                summary("Errands", 1, 0),
                summary("home", 1, 1),
                summary("Straße", 2, 0),
                summary("Work", 1, 0)
            ],
            "{name}"
        );
        done(tasks.delete(&u, b.id, Expected::any(), false).await.unwrap());
        assert_eq!(
            tasks.tags(&u).await.unwrap(),
            [summary("home", 1, 1), summary("Straße", 1, 0)],
            "{name}: a tag no task has is gone"
        );
        let again = tasks.create(&u, tagged("d", &["WORK", "errands"])).await.unwrap();
        assert_eq!(again.tags, ["WORK", "errands"], "{name}: a forgotten tag's spelling is free");
        assert_tag_counts_agree(name, tasks, &u).await;
    }
}

#[tokio::test]
async fn the_tag_limit_refuses_the_write_that_would_pass_it_and_writes_nothing() {
    for store in stores_with(false, 100).await {
        let (name, tasks) = (store.name, &store.tasks);
        let u = owner("", "collector");
        let per_task = 20;
        let mut first = None;
        for n in 0..MAX_TAGS_PER_USER as usize / per_task {
            let names: Vec<String> = (0..per_task).map(|m| format!("t{n}-{m}")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let task = tasks.create(&u, tagged(&format!("task {n}"), &names)).await.unwrap();
            first.get_or_insert(task);
        }
        let first = first.unwrap();
        assert_eq!(tasks.tags(&u).await.unwrap().len() as u64, MAX_TAGS_PER_USER, "{name}");
        // A twin carries the first task's tags, so dropping them from the first frees none.
        let first_tags: Vec<&str> = first.tags.iter().map(String::as_str).collect();
        let twin = tasks.create(&u, tagged("twin", &first_tags)).await.unwrap();
        let (version, total) = (tasks.list_version(&u).await.unwrap(), 51);

        let refused = tasks.create(&u, tagged("over", &["t0-0", "new"])).await.unwrap_err();
        assert!(
            matches!(refused, StoreError::TagLimitReached { limit: 1000 }),
            "{name}: {refused:?}"
        );
        let key = IdempotencyKey::parse("k").unwrap();
        let refused = tasks.create_once(&u, tagged("over", &["new"]), &key).await.unwrap_err();
        assert!(matches!(refused, StoreError::TagLimitReached { .. }), "{name}: {refused:?}");
        let grown = tagged("task 0", &["t0-0", "new"]);
        let refused = tasks.replace(&u, first.id, grown, Expected::any()).await.unwrap_err();
        assert!(matches!(refused, StoreError::TagLimitReached { .. }), "{name}: {refused:?}");
        assert_eq!(tasks.get(&u, first.id).await.unwrap().as_ref(), Some(&first), "{name}");
        assert_eq!(tasks.list_version(&u).await.unwrap(), version, "{name}: nothing written");
        let page = tasks.list(&u, &TaskQuery::newest(500)).await.unwrap();
        assert_eq!((page.total, page.tasks.len()), (total, 51), "{name}");
        assert!(!tasks.tags(&u).await.unwrap().iter().any(|t| t.name == "new"), "{name}");

        // Tags the owner has are no new tags; and a freed place can be taken.
        let known = tasks.create(&u, tagged("known", &["T1-1", "t2-2"])).await.unwrap();
        assert_eq!(known.tags, ["t1-1", "t2-2"], "{name}");
        let fewer = tagged("task 0", &["t0-0"]);
        done(tasks.replace(&u, first.id, fewer, Expected::any()).await.unwrap());
        assert!(matches!(
            tasks.delete(&u, twin.id, Expected::any(), false).await.unwrap(),
            Guarded::Done(())
        ));
        tasks.create(&u, tagged("now it fits", &["new"])).await.unwrap();
        assert_eq!(tasks.tags(&u).await.unwrap().len() as u64, MAX_TAGS_PER_USER - 18, "{name}");
    }
}

#[tokio::test]
async fn a_renamed_tag_changes_on_every_task_and_merges_into_an_existing_one() {
    for store in stores_with(true, 100).await {
        let (name, tasks) = (store.name, &store.tasks);
        let u = owner("", "renamer");
        let a = tasks.create(&u, tagged("a", &["Work", "home"])).await.unwrap();
        let b = tasks.create(&u, tagged("b", &["work"])).await.unwrap();
        let c = tasks.create(&u, tagged("c", &["Job"])).await.unwrap();
        // Cached now: a rename must not leave this page to be served again.
        tasks.list(&u, &TaskQuery::newest(10)).await.unwrap();
        let version = tasks.list_version(&u).await.unwrap();

        assert!(tasks.rename_tag(&u, "work", tag("Office")).await.unwrap(), "{name}");
        assert!(tasks.list_version(&u).await.unwrap() > version, "{name}");
        let page = tasks.list(&u, &TaskQuery::newest(10)).await.unwrap();
        let listed: Vec<(Vec<String>, u64)> =
            page.tasks.iter().map(|t| (t.tags.clone(), t.version)).collect();
        let expected = [(vec!["Job"], 1), (vec!["Office"], 2), (vec!["Office", "home"], 2)];
        let expected: Vec<(Vec<String>, u64)> = expected
            .iter()
            .map(|(tags, v)| (tags.iter().map(|t| t.to_string()).collect(), *v))
            .collect();
        assert_eq!(listed, expected, "{name}: renamed on every task, each a new version");
        let (found, _) = page_through(tasks, &u, "tag=OFFICE", 10, NOW).await;
        assert_eq!(found.iter().map(|t| t.id).collect::<Vec<_>>(), [b.id, a.id], "{name}");
        assert!(page_through(tasks, &u, "tag=work", 10, NOW).await.0.is_empty(), "{name}");

        // The same key in another case: the spelling changes.
        assert!(tasks.rename_tag(&u, "office", tag("office")).await.unwrap(), "{name}");
        assert_eq!(tags_of(tasks, &u, a.id).await, ["office", "home"], "{name}");
        // Into an existing tag: its spelling, and a task with both keeps one.
        assert!(tasks.rename_tag(&u, "job", tag("HOME")).await.unwrap(), "{name}");
        assert_eq!(tags_of(tasks, &u, c.id).await, ["home"], "{name}");
        assert!(tasks.rename_tag(&u, "office", tag("Home")).await.unwrap(), "{name}");
        assert_eq!(tags_of(tasks, &u, a.id).await, ["home"], "{name}");
        assert_eq!(tags_of(tasks, &u, b.id).await, ["home"], "{name}");
        assert_eq!(tasks.tags(&u).await.unwrap(), [summary("home", 3, 3)], "{name}");
        assert_tag_counts_agree(name, tasks, &u).await;
        assert_eq!(page_through(tasks, &u, "tag=home", 10, NOW).await.0.len(), 3, "{name}");

        let version = tasks.list_version(&u).await.unwrap();
        assert!(!tasks.rename_tag(&u, "nothing", tag("x")).await.unwrap(), "{name}");
        assert!(!tasks.delete_tag(&u, "nothing").await.unwrap(), "{name}");
        assert!(!tasks.delete_tag(&u, "HOME").await.unwrap(), "{name}: a key is folded");
        assert_eq!(tasks.list_version(&u).await.unwrap(), version, "{name}: misses write nothing");

        let before = tasks.get(&u, a.id).await.unwrap().unwrap();
        assert!(tasks.delete_tag(&u, "home").await.unwrap(), "{name}");
        let after = tasks.get(&u, a.id).await.unwrap().unwrap();
        assert_eq!((after.tags.len(), after.version), (0, before.version + 1), "{name}");
        assert!(after.updated_at > before.updated_at, "{name}");
        assert!(tasks.tags(&u).await.unwrap().is_empty(), "{name}");
        let page = tasks.list(&u, &TaskQuery::newest(10)).await.unwrap();
        assert!(page.tasks.iter().all(|t| t.tags.is_empty()), "{name}: not served from the cache");
        let fresh = tasks.create(&u, tagged("d", &["WORK"])).await.unwrap();
        assert_eq!(fresh.tags, ["WORK"], "{name}: no old spelling is left behind");
        assert_tag_counts_agree(name, tasks, &u).await;
    }
}

#[tokio::test]
async fn one_owner_never_sees_another_owners_tags_or_tasks() {
    for store in stores_with(true, 100).await {
        let (name, tasks) = (store.name, &store.tasks);
        let a = owner("https://a.example", "same");
        let b = owner("https://b.example", "same");
        let c = owner("https://a.example", "other");
        let mine = tasks.create(&a, tagged("Buy milk", &["Work"])).await.unwrap();
        let theirs = tasks.create(&b, tagged("Buy bread", &["WORK", "b-only"])).await.unwrap();
        assert_eq!(theirs.tags, ["WORK", "b-only"], "{name}: spellings are each owner's");
        tasks.create(&c, tagged("Buy milk too", &["work"])).await.unwrap();

        assert_eq!(tasks.tags(&a).await.unwrap(), [summary("Work", 1, 1)], "{name}");
        assert_eq!(tasks.tags(&b).await.unwrap(), [summary("b-only", 1, 1), summary("WORK", 1, 1)]);
        for raw in ["tag=work", "q=buy", "q=milk", "priority=none", "has_due=false"] {
            let (found, totals) = page_through(tasks, &a, raw, 10, NOW).await;
            assert_eq!(found.iter().map(|t| t.id).collect::<Vec<_>>(), [mine.id], "{name}: {raw}");
            assert_eq!(totals, [1], "{name}: {raw}");
        }
        assert!(page_through(tasks, &a, "tag=b-only", 10, NOW).await.0.is_empty(), "{name}");
        assert!(page_through(tasks, &b, "q=milk", 10, NOW).await.0.is_empty(), "{name}");

        assert!(!tasks.rename_tag(&a, "b-only", tag("mine")).await.unwrap(), "{name}");
        assert!(!tasks.delete_tag(&c, "b-only").await.unwrap(), "{name}");
        assert!(tasks.rename_tag(&a, "work", tag("Job")).await.unwrap(), "{name}");
        assert_eq!(tags_of(tasks, &b, theirs.id).await, ["WORK", "b-only"], "{name}: untouched");
        assert_eq!(tasks.tags(&c).await.unwrap(), [summary("work", 1, 1)], "{name}");
        let taken = tasks.replace(&b, mine.id, tagged("x", &["y"]), Expected::any()).await.unwrap();
        assert_eq!(taken, Guarded::Missing, "{name}");
        assert!(tasks.delete_tag(&a, "job").await.unwrap(), "{name}");
        assert_eq!(tasks.tags(&b).await.unwrap().len(), 2, "{name}");
        for owner in [&a, &b, &c] {
            assert_tag_counts_agree(name, tasks, owner).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_writes_racing_on_one_version_exactly_one_wins_and_tags_get_one_spelling() {
    for store in stores_with(false, 100).await {
        let (name, tasks) = (store.name, store.tasks.clone());
        let u = owner("", "racer");
        let task = tasks.create(&u, draft("raced")).await.unwrap();
        let mut running = Vec::new();
        for n in 0..8 {
            let (tasks, u) = (tasks.clone(), u.clone());
            // Each also brings a new tag in its own case, and a tag of its own.
            let spelling = if n % 2 == 0 { "Shared" } else { "SHARED" };
            let own = format!("own{n}");
            let draft = tagged(&format!("writer {n}"), &[spelling, &own]);
            running.push(tokio::spawn(async move {
                tasks.replace(&u, task.id, draft, Expected::version(1)).await.unwrap()
            }));
        }
        let mut won = Vec::new();
        for outcome in running {
            match outcome.await.unwrap() {
                Guarded::Done(task) => won.push(task),
                Guarded::Conflict { current } => assert_eq!(current, 2, "{name}"),
                Guarded::Missing => panic!("{name}: the task is there"),
            }
        }
        assert_eq!(won.len(), 1, "{name}: exactly one write wins");
        let now = tasks.get(&u, task.id).await.unwrap().unwrap();
        assert_eq!(now, won[0], "{name}: the winner's write is what is stored");
        let names: Vec<String> =
            tasks.tags(&u).await.unwrap().into_iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [now.tags[1].clone(), now.tags[0].clone()],
            "{name}: losers left no tags"
        );

        // Creates racing with the tag in both cases, and a rename racing with changes.
        let mut running = Vec::new();
        for n in 0..8 {
            let (tasks, u) = (tasks.clone(), u.clone());
            let spelling = if n % 2 == 0 { "Errands" } else { "ERRANDS" };
            running.push(tokio::spawn(async move {
                let made = tasks.create(&u, tagged(&format!("c{n}"), &[spelling, "shared"])).await;
                let made = made.unwrap();
                let renamed = tasks.rename_tag(&u, "shared", tag("Common")).await;
                let changed =
                    tasks.set_completion(&u, made.id, Completion::Toggle, Expected::any());
                (made, renamed.unwrap(), done(changed.await.unwrap()))
            }));
        }
        let mut spellings = BTreeSet::new();
        for outcome in running {
            let (made, _, changed) = outcome.await.unwrap();
            spellings.insert(made.tags[0].clone());
            assert!(changed.completed, "{name}");
        }
        assert_eq!(spellings.len(), 1, "{name}: one spelling for all: {spellings:?}");
        let summaries = tasks.tags(&u).await.unwrap();
        let errands = summaries.iter().find(|t| t.name.to_lowercase() == "errands").unwrap();
        assert_eq!((errands.tasks, errands.open), (8, 0), "{name}: {summaries:?}");
        let page = tasks.list(&u, &TaskQuery::newest(100)).await.unwrap();
        // Each tag "shared" was made before its maker's rename: all of them went.
        for made in page.tasks.iter().filter(|t| t.title.starts_with('c')) {
            assert_eq!(made.tags[1], "Common", "{name}: {:?}", made.tags);
        }
        assert_eq!(page.tasks.iter().filter(|t| t.tags.len() == 2).count(), 9, "{name}");
        assert_tag_counts_agree(name, &tasks, &u).await;
    }
}

/// The previous release's PostgreSQL migrations, as it applied them.
const POSTGRES_BEFORE: [&str; 7] = [
    include_str!("../../migrations/postgres/0001_tasks.sql"),
    include_str!("../../migrations/postgres/0002_accounts.sql"),
    include_str!("../../migrations/postgres/0003_signing_keys.sql"),
    include_str!("../../migrations/postgres/0004_rate_limits.sql"),
    include_str!("../../migrations/postgres/0005_audit.sql"),
    include_str!("../../migrations/postgres/0006_session_expiry.sql"),
    include_str!("../../migrations/postgres/0007_deleted_users.sql"),
];

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test]
async fn on_postgres_tasks_of_the_previous_release_are_sorted_and_found_as_new_ones_are() {
    use taskgate::store::postgres::PgOptions;
    use taskgate::store::{Backend, StoreConfig};
    let url = crate::pg::required_database_url();
    let schema = crate::pg::TestSchema::create(&url).await;
    let (side, connection) =
        tokio_postgres::connect(&schema.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    side.batch_execute(
        "CREATE TABLE taskgate_migrations (version integer PRIMARY KEY, \
         applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .unwrap();
    for (n, sql) in POSTGRES_BEFORE.iter().enumerate() {
        side.batch_execute(sql).await.unwrap();
        side.execute("INSERT INTO taskgate_migrations (version) VALUES ($1)", &[&(n as i32 + 1)])
            .await
            .unwrap();
    }
    // Titles whose order by Unicode case folding is not their order by lower(), and words
    // with diacritics; two owners with the same words.
    side.batch_execute(
        "INSERT INTO task_owners VALUES ('', 'old', 4, 4), ('', 'other', 1, 1); \
         INSERT INTO tasks VALUES \
         ('', 'old', '01937f6c-0000-7000-8000-000000000001', 'Strasse z', 'Crème brûlée', \
          false, NULL, now(), now()), \
         ('', 'old', '01937f6c-0000-7000-8000-000000000002', 'Straße', NULL, true, now(), \
          now(), now()), \
         ('', 'old', '01937f6c-0000-7000-8000-000000000003', 'ÉTÉ', 'summer', false, NULL, \
          now(), now()), \
         ('', 'old', '01937f6c-0000-7000-8000-000000000004', 'eta', NULL, false, NULL, now(), \
          now()), \
         ('', 'other', '01937f6c-0000-7000-8000-000000000005', 'Crème', 'brûlée', false, NULL, \
          now(), now())",
    )
    .await
    .unwrap();
    let options = PgOptions::from_url(&schema.url()).unwrap().unwrap();
    let config = StoreConfig {
        backend: Backend::Postgres(Box::new(options)),
        list_cache_bytes: 0,
        max_tasks_per_user: 100,
    };
    let tasks = taskgate::store::connect(&config).await.unwrap().tasks;
    let u = owner("", "old");
    let old = tasks.list(&u, &TaskQuery::newest(10)).await.unwrap();
    assert_eq!(old.total, 4);
    for task in &old.tasks {
        assert_eq!(
            (task.priority, task.tags.len(), task.due.as_ref(), task.version),
            (Priority::None, 0, None, 1)
        );
    }
    let titles = |found: Vec<Task>| found.into_iter().map(|t| t.title).collect::<Vec<_>>();
    for limit in [1, 10] {
        let (found, _) = page_through(&tasks, &u, "sort=title&order=asc", limit, NOW).await;
        assert_eq!(titles(found), ["eta", "Straße", "Strasse z", "ÉTÉ"], "by {limit}");
    }
    for (raw, expected) in [
        ("q=creme", &["Strasse z"][..]),
        ("q=BRUL", &["Strasse z"]),
        ("q=summer+ete", &["ÉTÉ"]),
        ("q=eta", &["eta"]),
        ("q=stras", &["Strasse z"]),
        ("q=straße", &["Straße"]),
    ] {
        assert_eq!(titles(page_through(&tasks, &u, raw, 10, NOW).await.0), expected, "{raw}");
    }
    let other = owner("", "other");
    assert_eq!(titles(page_through(&tasks, &other, "q=brulee", 10, NOW).await.0), ["Crème"]);
    // And they change as new ones do.
    let id = old.tasks[0].id;
    let changed = TaskDraft { priority: Priority::High, ..tagged("eta", &["Old"]) };
    let changed = done(tasks.replace(&u, id, changed, Expected::version(1)).await.unwrap());
    assert_eq!((changed.version, changed.tags), (2, vec!["Old".to_owned()]));
    assert_eq!(tasks.tags(&u).await.unwrap(), [summary("Old", 1, 1)]);
}
