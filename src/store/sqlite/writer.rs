//! The writer thread, which commits whatever writes have queued up in one transaction (group
//! commit), and the checkpointer thread, which copies the WAL back into the database file
//! without holding the writer up.

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;
use std::ffi::c_int;
use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;

use super::*;

pub(super) fn run_writer(conn: Connection, mut queue: mpsc::Receiver<WriteJob>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.blocking_recv().map(|job| batch.push(job)).is_some() {
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch.drain(..));
    }
}

/// Runs on the writer after each commit, with the WAL's size in pages. It must not fail: an error
/// here would report a transaction that did commit as failed.
pub(super) fn after_commit(
    wal: &mut Wal,
    pages: c_int,
    checkpointer: &std_mpsc::SyncSender<()>,
    state: &CheckpointState,
) {
    if pages < CHECKPOINT_PAGES {
        return;
    }
    // Copying a checkpoint's leftovers takes the writer little; a WAL past its limit means the
    // checkpointer cannot keep up, and the writer slowing down is the back-pressure.
    if state.tail_left.swap(false, Ordering::AcqRel) || pages >= WAL_LIMIT_PAGES {
        match wal.checkpoint_v2(CheckpointMode::PASSIVE) {
            Ok(_) => {}
            // The checkpointer is at it already.
            Err(e) if e.sqlite_error_code() == Some(SqliteCode::DatabaseBusy) => {}
            Err(e) => tracing::warn!(error = %e, pages, "the writer could not checkpoint the WAL"),
        }
    } else {
        // Full means a wake-up is already pending; closed means the database is closing.
        let _ = checkpointer.try_send(());
    }
}

/// Copies committed pages from the WAL into the database file whenever the writer says the WAL
/// has grown, without blocking the writer (a passive checkpoint takes no lock writers need). Ends
/// with the writer's connection, which holds the other end of `woken`.
pub(super) fn run_checkpointer(
    conn: Connection,
    woken: std_mpsc::Receiver<()>,
    state: &CheckpointState,
) {
    while woken.recv().is_ok() {
        match conn.wal_checkpoint_v2(rusqlite::DEFAULT_NAME, CheckpointMode::PASSIVE) {
            Ok(_) => {
                state.done.fetch_add(1, Ordering::Relaxed);
                // Whatever was committed while this ran is left for the writer (from its next
                // commit on it no longer wakes this thread); a wake-up queued before that would
                // only race it.
                state.tail_left.store(true, Ordering::Release);
                while woken.try_recv().is_ok() {}
            }
            Err(e) => {
                tracing::warn!(error = %e, "a WAL checkpoint failed; the next commit retries")
            }
        }
    }
}

pub(super) fn commit_batch(conn: &Connection, jobs: impl Iterator<Item = WriteJob>) {
    // Prepared once per connection: parsing these four on every write was a fifth of the
    // writer's work.
    let run = |sql: &str| conn.prepare_cached(sql)?.execute([]).map(drop);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    let outcome = (|| {
        run("BEGIN IMMEDIATE")?;
        for job in jobs {
            run("SAVEPOINT job")?;
            let (succeeded, reply) = job(conn);
            replies.push(reply);
            // A failed write is undone alone; the others in the batch still commit.
            if !succeeded {
                run("ROLLBACK TO job")?;
            }
            run("RELEASE job")?;
        }
        super::task_sql::apply_staged_search(conn)?;
        run("COMMIT")
    })();
    if outcome.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for reply in replies {
        reply(outcome.as_ref().map(|_| ()).map_err(classify));
    }
    // Jobs never started (BEGIN failed) are dropped here, which answers their callers with an error.
}
