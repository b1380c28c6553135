//! An owner's tags on PostgreSQL: counts, and renaming or removing a tag on every task that has
//! it, set-wise (a tag may be on thousands of tasks, and the work has one statement timeout).

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::task_sql::{Owner, lock_owner};
use crate::domain::tasks::fields::retagged;
use crate::domain::tasks::{TagName, TagSummary};
use crate::store::StoreError;

/// The owner's tags with their task counts, by key (the case folding of the name).
pub(super) async fn summaries<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
) -> Result<Vec<TagSummary>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT name, tasks, open FROM tags WHERE issuer = $1 AND subject = $2 \
             AND tasks > 0 ORDER BY key",
        )
        .await?;
    client
        .query(&statement, &[&owner.issuer, &owner.subject])
        .await?
        .iter()
        .map(|row| {
            Ok(TagSummary {
                name: row.try_get(0)?,
                tasks: row.try_get::<_, i64>(1)?.unsigned_abs(),
                open: row.try_get::<_, i64>(2)?.unsigned_abs(),
            })
        })
        .collect()
}

/// Renames the tag `key` to `to` on every task that has it (merging into `to`'s tag when the
/// owner has one), or removes it when `to` is `None`, in the caller's transaction. Each task
/// whose tags change gets a new version, and the owner's list a new version. `false` when the
/// owner has no such tag.
pub(super) async fn rename<C: GenericClient>(
    tx: &C,
    owner: Owner<'_>,
    key: &str,
    to: Option<&TagName>,
) -> Result<bool, StoreError> {
    if !lock_owner(tx, owner).await? {
        return Ok(false);
    }
    let (issuer, subject) = (owner.issuer, owner.subject);
    let names = tx
        .prepare_cached(
            "SELECT key, name FROM tags WHERE issuer = $1 AND subject = $2 \
             AND key = ANY($3::text[])",
        )
        .await?;
    let wanted: Vec<&str> = std::iter::once(key).chain(to.map(|to| to.key.as_str())).collect();
    let known: Vec<(String, String)> = tx
        .query(&names, &[&issuer, &subject, &wanted])
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, StoreError>>()?;
    let name_of = |wanted: &str| known.iter().find(|(k, _)| k == wanted).map(|(_, n)| n.clone());
    let Some(current) = name_of(key) else { return Ok(false) };
    // The name every task's tag takes: the spelling of the tag merged into, or the new one.
    let target = match to {
        None => None,
        Some(to) if to.key == key => Some(to.name.clone()),
        Some(to) => Some(name_of(&to.key).unwrap_or_else(|| to.name.clone())),
    };
    if target.as_deref() == Some(current.as_str()) {
        return Ok(true);
    }
    let tagged = tx
        .prepare_cached(
            "SELECT id, tags FROM tasks WHERE issuer = $1 AND subject = $2 AND id IN \
             (SELECT task_id FROM task_tags WHERE issuer = $1 AND subject = $2 AND key = $3)",
        )
        .await?;
    let mut ids: Vec<Uuid> = Vec::new();
    // Each task's new tags as a JSON array: an array of arrays cannot be ragged.
    let mut tags: Vec<String> = Vec::new();
    for row in tx.query(&tagged, &[&issuer, &subject, &key]).await? {
        let before: Vec<String> = row.try_get(1)?;
        let after = retagged(&before, key, target.as_deref());
        if after != before {
            ids.push(row.try_get(0)?);
            tags.push(serde_json::to_string(&after).map_err(StoreError::internal)?);
        }
    }
    if let Some(to) = to {
        // The tag renamed into: created with the new spelling, or respelled in place.
        let upsert = tx
            .prepare_cached(
                "INSERT INTO tags (issuer, subject, key, name) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (issuer, subject, key) DO UPDATE SET name = excluded.name \
                 WHERE $3 = $5",
            )
            .await?;
        tx.execute(&upsert, &[&issuer, &subject, &to.key, &to.name, &key]).await?;
    }
    let statement = tx
        .prepare_cached(
            "WITH t AS (UPDATE tasks SET tags = ARRAY(SELECT name FROM \
             jsonb_array_elements_text(u.tags::jsonb) WITH ORDINALITY AS e (name, n) ORDER BY n), \
             version = version + 1, updated_at = statement_timestamp() \
             FROM unnest($3::uuid[], $4::text[]) AS u (id, tags) \
             WHERE tasks.issuer = $1 AND tasks.subject = $2 AND tasks.id = u.id), \
             o AS (UPDATE task_owners SET version = version + 1, priorities_at = CASE \
             WHEN priorities_at = version THEN version + 1 ELSE priorities_at END \
             WHERE issuer = $1 AND subject = $2) \
             INSERT INTO task_tags (issuer, subject, key, task_id, completed) \
             SELECT $1, $2, $5::text, task_id, completed FROM task_tags \
             WHERE issuer = $1 AND subject = $2 AND key = $6 AND $5::text IS NOT NULL \
             AND $5::text <> $6 ON CONFLICT DO NOTHING",
        )
        .await?;
    let to_key = to.map(|to| to.key.as_str());
    tx.execute(&statement, &[&issuer, &subject, &ids, &tags, &to_key, &key]).await?;
    if to.is_none_or(|to| to.key != key) {
        let forget = tx
            .prepare_cached(
                "WITH k AS (DELETE FROM task_tags WHERE issuer = $1 AND subject = $2 AND key = $3) \
                 DELETE FROM tags WHERE issuer = $1 AND subject = $2 AND key = $3",
            )
            .await?;
        tx.execute(&forget, &[&issuer, &subject, &key]).await?;
    }
    if let Some(to) = to.filter(|to| to.key != key) {
        // Merged: counted again from its task rows, which a task with both tags has once.
        let recount = tx
            .prepare_cached(
                "UPDATE tags SET (tasks, open) = (SELECT count(*), \
                 count(*) FILTER (WHERE NOT completed) FROM task_tags \
                 WHERE issuer = $1 AND subject = $2 AND key = $3) \
                 WHERE issuer = $1 AND subject = $2 AND key = $3",
            )
            .await?;
        tx.execute(&recount, &[&issuer, &subject, &to.key]).await?;
    }
    Ok(true)
}
