-- Organising tasks: priority, tags, a due date, a version per task; the columns lists sort by;
-- the tags of each owner; full-text search. Old tasks get priority none (0), no tags, no due and
-- version 1. `taskgate_fold`, `taskgate_micros` and `taskgate_owner_token` are functions the
-- store registers on its connections (Unicode case folding, a timestamp as Unix microseconds,
-- the search token of an owner).
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 3);
-- The tag names as served, a JSON array in the task's order (the keys are in task_tags).
ALTER TABLE tasks ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
-- A due: its local date; for a timed due also its local time, its zone and its instant (Unix
-- seconds). due_at is what `sort=due` orders by: for an all-day due, 00:00 UTC of its date.
ALTER TABLE tasks ADD COLUMN due_date TEXT;
ALTER TABLE tasks ADD COLUMN due_time TEXT;
ALTER TABLE tasks ADD COLUMN due_zone TEXT;
ALTER TABLE tasks ADD COLUMN due_at INTEGER;
ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
-- Sort keys: the case-folded title, and updated_at as Unix microseconds (its text form drops
-- trailing zeros, so it does not sort as text).
ALTER TABLE tasks ADD COLUMN title_key TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN updated_key INTEGER NOT NULL DEFAULT 0;
-- The task's row in task_search (tasks have no rowid of their own).
ALTER TABLE tasks ADD COLUMN search_id INTEGER;

UPDATE tasks SET title_key = taskgate_fold(title), updated_key = taskgate_micros(updated_at);
UPDATE tasks SET search_id = numbered.n
    FROM (SELECT issuer, subject, id, row_number() OVER (ORDER BY issuer, subject, id) AS n
          FROM tasks) AS numbered
    WHERE tasks.issuer = numbered.issuer AND tasks.subject = numbered.subject
      AND tasks.id = numbered.id;

-- Every sort walks an index in order, ties broken by id (the primary key serves `created`).
CREATE UNIQUE INDEX tasks_by_search_id ON tasks (search_id);
CREATE INDEX tasks_by_updated ON tasks (issuer, subject, updated_key);
CREATE INDEX tasks_by_priority ON tasks (issuer, subject, priority);
CREATE INDEX tasks_by_title ON tasks (issuer, subject, title_key);
-- `sort=due`, holding what the due filters and a priority filter read, so that counting a date
-- range reads this index alone; and the open tasks by due, which counting the overdue reads.
-- Tasks without a due are in neither (any condition on due_at implies it is not null), so they
-- cost a write nothing here.
CREATE INDEX tasks_by_due
    ON tasks (issuer, subject, due_at, id, priority, completed, due_date, due_time)
    WHERE due_at IS NOT NULL;
CREATE INDEX tasks_open_by_due ON tasks (issuer, subject, completed, due_at, due_date, due_time)
    WHERE due_at IS NOT NULL;

-- Each owner's tags, by key (the case folding of the name), with the one spelling served, and
-- how many tasks carry it and how many of those are open (kept by every write, so GET /tags and
-- a count of `tag=…` read one row). A tag no task carries is deleted.
CREATE TABLE tags (
    issuer  TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    name    TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 32),
    tasks   INTEGER NOT NULL DEFAULT 0 CHECK (tasks >= 0),
    open    INTEGER NOT NULL DEFAULT 0 CHECK (open BETWEEN 0 AND tasks),
    PRIMARY KEY (issuer, subject, key)
) STRICT, WITHOUT ROWID;

-- Which task has which tag: what `tag=` filters and GET /tags counts read. `completed` is the
-- task's, kept with it, so that a tag's counts (and `tag=…&completed=…`) read this table alone,
-- and a tag's tasks in creation order are one range of it.
CREATE TABLE task_tags (
    issuer    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    task_id   TEXT    NOT NULL,
    completed INTEGER NOT NULL CHECK (completed IN (0, 1)),
    PRIMARY KEY (issuer, subject, key, task_id)
) STRICT, WITHOUT ROWID;

-- Title and description of every task, one row per task (rowid = tasks.search_id), with the
-- owner as a token so that a search reads only its owner's postings. unicode61 splits words at
-- anything but letters and digits and ignores case and diacritics; the prefix indexes serve
-- `q=` terms of two and three characters.
CREATE VIRTUAL TABLE task_search USING fts5(owner, text, tokenize = 'unicode61', prefix = '2 3');
INSERT INTO task_search (rowid, owner, text)
    SELECT search_id, taskgate_owner_token(issuer, subject),
           title || char(10) || coalesce(description, '')
    FROM tasks;

-- What task_search is to become, written by each write and applied to task_search once per
-- commit, by the writer, before it commits: FTS5 flushes its pending terms at every savepoint,
-- and the writer runs each write in one, so writing task_search directly would make a segment
-- (and later merges) per task instead of per commit. A row is a task's search row as it is to be
-- (`text` NULL: to be deleted).
CREATE TABLE search_pending (
    search_id INTEGER PRIMARY KEY,
    owner     TEXT NOT NULL,
    text      TEXT
) STRICT;
