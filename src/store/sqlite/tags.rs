//! An owner's tags on SQLite: counts, and renaming or removing a tag on every task that has it.

use rusqlite::{Connection, OptionalExtension, params};

use super::task_sql::{read_task, record_change, update_task};
use super::tasks::Owner;
use crate::domain::tasks::fields::retagged;
use crate::domain::tasks::{TagName, TagSummary, Task, Timestamp};
use crate::store::StoreError;

/// The owner's tags with their task counts (kept in the tag's row by every write), by key (the
/// case folding of the name).
pub(super) fn summaries(conn: &Connection, owner: &Owner) -> Result<Vec<TagSummary>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT name, tasks, open FROM tags WHERE issuer = ?1 AND subject = ?2 AND tasks > 0 \
             ORDER BY key, name",
        )?
        .query_map(params![owner.issuer, owner.subject], |row| {
            Ok(TagSummary {
                name: row.get(0)?,
                tasks: row.get::<_, i64>(1)?.unsigned_abs(),
                open: row.get::<_, i64>(2)?.unsigned_abs(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// Renames the tag `key` to `to` on every task that has it (merging into `to`'s tag when the
/// owner has one), or removes it when `to` is `None`. Each changed task gets a new version.
/// Returns whether the tag existed, and the owner's new list version.
pub(super) fn rename(
    conn: &Connection,
    owner: &Owner,
    key: &str,
    to: Option<&TagName>,
) -> Result<(bool, Option<u64>), StoreError> {
    let name: Option<String> = conn
        .prepare_cached("SELECT name FROM tags WHERE issuer = ?1 AND subject = ?2 AND key = ?3")?
        .query_row(params![owner.issuer, owner.subject, key], |row| row.get(0))
        .optional()?;
    match (&name, to) {
        (None, _) => return Ok((false, None)),
        // The same spelling: nothing changes, no task gets a new version.
        (Some(name), Some(to)) if *name == to.name => return Ok((true, None)),
        _ => {}
    }
    let target = match to {
        None => None,
        Some(to) => {
            let known: Option<String> = match to.key == key {
                true => None,
                false => conn
                    .prepare_cached(
                        "SELECT name FROM tags WHERE issuer = ?1 AND subject = ?2 AND key = ?3",
                    )?
                    .query_row(params![owner.issuer, owner.subject, to.key], |row| row.get(0))
                    .optional()?,
            };
            if known.is_none() {
                conn.prepare_cached(
                    "INSERT INTO tags (issuer, subject, key, name) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (issuer, subject, key) DO UPDATE SET name = excluded.name",
                )?
                .execute(params![owner.issuer, owner.subject, to.key, to.name])?;
            }
            Some(known.unwrap_or_else(|| to.name.clone()))
        }
    };
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT task_id FROM task_tags WHERE issuer = ?1 AND subject = ?2 AND key = ?3",
        )?
        .query_map(params![owner.issuer, owner.subject, key], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let now = Timestamp::now();
    for id in ids {
        let Some(before) = read_task(conn, owner, &id)? else { continue };
        let after = Task {
            tags: retagged(&before.tags, key, target.as_deref()),
            updated_at: now,
            version: before.version + 1,
            ..before.clone()
        };
        update_task(conn, owner, &before, &after)?;
    }
    if to.is_none_or(|to| to.key != key) {
        conn.prepare_cached("DELETE FROM tags WHERE issuer = ?1 AND subject = ?2 AND key = ?3")?
            .execute(params![owner.issuer, owner.subject, key])?;
    }
    Ok((true, Some(record_change(conn, owner, &[])?)))
}
