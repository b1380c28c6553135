-- Organising tasks: a priority, tags, a due date and a version per task; the columns the lists
-- sort by; each owner's tags; full-text search. Old tasks get priority none (0), no tags, no due
-- and version 1.
--
-- title_key and search are computed by the store (Rust), never by SQL: title_key is the Unicode
-- case folding of the title (what `sort=title` orders by; lower() folds neither "ß" nor every
-- script), search the words `q=` matches, cut as the domain cuts them. For the rows that exist
-- already the store fills both at the `taskgate: fill` line below, in the same transaction.
ALTER TABLE tasks
    ADD COLUMN priority  smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 3),
    -- The tag names as served, in the task's order (the keys are in task_tags).
    ADD COLUMN tags      text[]   NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
    -- A due: its local date; for a timed due also its local time and IANA zone. due_at is what
    -- `sort=due` orders by, in Unix seconds: a timed due's instant (the `at` served), an all-day
    -- due's date at 00:00 UTC.
    ADD COLUMN due_date  date,
    ADD COLUMN due_time  time,
    ADD COLUMN due_zone  text,
    ADD COLUMN due_at    bigint,
    ADD COLUMN version   bigint   NOT NULL DEFAULT 1 CHECK (version >= 1),
    -- "C": folded titles order by code point, as on SQLite, and no libc upgrade reorders the index.
    ADD COLUMN title_key text COLLATE "C" NOT NULL DEFAULT '',
    -- The owner's token and the task's words (see PgTaskStore's search_words): a search reads
    -- only its owner's postings, and a word matches as the domain cut it, whatever the
    -- database's locale.
    ADD COLUMN search    tsvector NOT NULL DEFAULT '',
    ADD CONSTRAINT tasks_due_shape CHECK (
        (due_date IS NULL AND due_time IS NULL AND due_zone IS NULL AND due_at IS NULL)
        OR (due_date IS NOT NULL AND due_at IS NOT NULL AND (due_time IS NULL) = (due_zone IS NULL)));

-- Each owner's tags by key (the case folding of the name), with the one spelling served and how
-- many of the owner's tasks have it (`open`: of those not completed), kept by every write: what
-- GET /tags serves and what `tag=...` (with or without `completed=...`) counts, read in one row.
CREATE TABLE tags (
    issuer  text   NOT NULL,
    subject text   NOT NULL,
    key     text   COLLATE "C" NOT NULL,
    name    text   NOT NULL CHECK (char_length(name) BETWEEN 1 AND 32),
    tasks   bigint NOT NULL DEFAULT 0 CHECK (tasks >= 0),
    open    bigint NOT NULL DEFAULT 0 CHECK (open BETWEEN 0 AND tasks),
    PRIMARY KEY (issuer, subject, key)
);

-- Which task has which tag: what `tag=` filters and a rename reads. Kept by the store with the
-- task's `tags` in each write's transaction. `completed` is the task's, so that a filter of tags
-- and completion with others counts from this index.
CREATE TABLE task_tags (
    issuer    text    NOT NULL,
    subject   text    NOT NULL,
    key       text    COLLATE "C" NOT NULL,
    task_id   uuid    NOT NULL,
    completed boolean NOT NULL,
    PRIMARY KEY (issuer, subject, key, task_id) INCLUDE (completed)
);

-- taskgate: fill
-- (Here the store fills title_key and search of the existing tasks, before the indexes are
-- built, so that each index is built once rather than updated row by row.)

-- Every sort walks an index in order, ties broken by id (the primary key serves `created`).
-- `sort=updated` compares updated_at itself: a cursor carries it in microseconds, which is
-- timestamptz's precision, so the comparison is exact.
CREATE INDEX tasks_by_updated  ON tasks (issuer, subject, updated_at, id);
-- The due index also holds what the due filters read, so counting the tasks of a date range or
-- the overdue ones reads the index alone.
CREATE INDEX tasks_by_due      ON tasks (issuer, subject, due_at, id)
    INCLUDE (due_date, due_time, completed);
CREATE INDEX tasks_by_priority ON tasks (issuer, subject, priority, id);
CREATE INDEX tasks_by_title    ON tasks (issuer, subject, title_key, id);
-- Without the pending list of fast updates, which every search would read through.
CREATE INDEX tasks_search      ON tasks USING gin (search) WITH (fastupdate = off);
