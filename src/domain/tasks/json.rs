//! A page of tasks as JSON, written by hand: the bytes `serde_json` writes for `Vec<Task>` (a
//! test holds the two equal), without escaping the keys, ids and timestamps that never need it.
//! An uncached page spent most of its time in the general serializer's escaping.

use crate::domain::tasks::{Task, Timestamp};

/// The tasks as a JSON array, byte for byte as `serde_json::to_vec(tasks)`.
pub fn tasks_to_json(tasks: &[Task]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + tasks.len() * 320);
    out.push(b'[');
    for (n, task) in tasks.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_task(&mut out, task);
    }
    out.push(b']');
    out
}

fn write_task(out: &mut Vec<u8>, task: &Task) {
    out.extend_from_slice(b"{\"id\":");
    let mut id = uuid::Uuid::encode_buffer();
    write_str(out, task.id.as_uuid().hyphenated().encode_lower(&mut id));
    out.extend_from_slice(b",\"user_id\":");
    write_str(out, &task.user_id);
    out.extend_from_slice(b",\"title\":");
    write_str(out, &task.title);
    out.extend_from_slice(b",\"description\":");
    match &task.description {
        Some(description) => write_str(out, description),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(if task.completed {
        b",\"completed\":true,\"completed_at\":"
    } else {
        b",\"completed\":false,\"completed_at\":"
    });
    write_timestamp(out, task.completed_at);
    out.extend_from_slice(b",\"created_at\":");
    write_timestamp(out, Some(task.created_at));
    out.extend_from_slice(b",\"updated_at\":");
    write_timestamp(out, Some(task.updated_at));
    out.extend_from_slice(b",\"priority\":");
    write_quoted(out, task.priority.as_str().as_bytes());
    out.extend_from_slice(b",\"tags\":[");
    for (n, tag) in task.tags.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_str(out, tag);
    }
    out.extend_from_slice(b"],\"due\":");
    match &task.due {
        // Rare enough, and small: the general serializer.
        Some(due) => {
            if serde_json::to_writer(&mut *out, due).is_err() {
                out.extend_from_slice(b"null");
            }
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"list_id\":");
    let mut buffer = uuid::Uuid::encode_buffer();
    match task.list_id {
        Some(list) => write_str(out, list.as_uuid().hyphenated().encode_lower(&mut buffer)),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"parent_id\":");
    match task.parent_id {
        Some(parent) => write_str(out, parent.as_uuid().hyphenated().encode_lower(&mut buffer)),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"version\":");
    out.extend_from_slice(itoa::Buffer::new().format(task.version).as_bytes());
    out.push(b'}');
}

/// Timestamps need no escaping. One without a text form (a year past 9999, which nothing of ours
/// makes) is `null` rather than a broken page.
fn write_timestamp(out: &mut Vec<u8>, at: Option<Timestamp>) {
    match at.and_then(Timestamp::text) {
        Some(text) => write_quoted(out, text.as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON string: copied as is unless it holds a quote, a backslash or a control character,
/// which `serde_json` escapes (so both agree on every string).
fn write_str(out: &mut Vec<u8>, value: &str) {
    // A fold, not `all`: without an early exit the check runs many bytes per instruction.
    let plain =
        value.bytes().fold(true, |plain, b| plain & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        write_quoted(out, value.as_bytes());
    } else if serde_json::to_writer(&mut *out, value).is_err() {
        // Writing to a Vec cannot fail; keep the document valid regardless.
        out.extend_from_slice(b"\"\"");
    }
}

/// Text that needs no escaping, in quotes.
fn write_quoted(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    out.extend_from_slice(text);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(title: &str, description: Option<&str>, completed: bool) -> Task {
        let at = Timestamp::parse("2026-11-21T09:00:00.1234Z").unwrap();
        Task {
            id: crate::domain::tasks::TaskId::parse("01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7d")
                .unwrap(),
            user_id: "user \"quoted\"\\".into(),
            title: title.into(),
            description: description.map(str::to_owned),
            completed,
            completed_at: completed.then(|| Timestamp::parse("2026-11-22T10:00:00Z").unwrap()),
            created_at: at,
            updated_at: at,
            priority: if completed {
                crate::domain::tasks::Priority::High
            } else {
                Default::default()
            },
            tags: if completed { vec!["Work".into(), "naïve \"q\"".into()] } else { Vec::new() },
            due: completed.then(|| {
                crate::domain::tasks::DueInput {
                    date: "2026-12-24".into(),
                    time: description.map(|_| "09:30".into()),
                    time_zone: description.map(|_| "Europe/Berlin".into()),
                    at: None,
                }
                .resolve()
                .unwrap()
            }),
            list_id: completed.then(|| {
                crate::domain::lists::ListId::parse("01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7e", "l")
                    .unwrap()
            }),
            parent_id: description.map(|_| {
                crate::domain::tasks::TaskId::parse("01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7f").unwrap()
            }),
            version: 7,
        }
    }

    #[test]
    fn pages_are_written_as_serde_json_writes_them() {
        let titles = [
            "Buy milk",
            "quote \" and backslash \\",
            "new\nline, tab\t, nul \0, escape \u{1b}, del \u{7f}",
            "naïve café – 日本語 😀 \u{2028} \u{feff}",
            "</script><!--",
        ];
        let mut tasks = Vec::new();
        for (n, title) in titles.iter().enumerate() {
            tasks.push(task(title, None, n % 2 == 0));
            tasks.push(task(title, Some(title), n % 2 == 1));
        }
        for count in [0, 1, tasks.len()] {
            let page = &tasks[..count];
            assert_eq!(
                String::from_utf8(tasks_to_json(page)).unwrap(),
                serde_json::to_string(page).unwrap()
            );
        }
    }
}
