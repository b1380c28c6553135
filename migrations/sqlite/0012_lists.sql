-- Lists, and tasks in lists and under other tasks. A list's `tasks` and `open` count its tasks,
-- kept by every write (so GET /lists and a count of `list=…` read one row each). `key` is the
-- name's case folding: names are unique per owner case-insensitively.
CREATE TABLE lists (
    issuer     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    key        TEXT    NOT NULL,
    color      TEXT    CHECK (color IS NULL OR length(color) = 7),
    position   INTEGER NOT NULL,
    tasks      INTEGER NOT NULL DEFAULT 0 CHECK (tasks >= 0),
    open       INTEGER NOT NULL DEFAULT 0 CHECK (open BETWEEN 0 AND tasks),
    version    INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (issuer, subject, id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX lists_by_key ON lists (issuer, subject, key);

-- NULL: the inbox; NULL: a top-level task. Old tasks are top-level tasks in the inbox.
ALTER TABLE tasks ADD COLUMN list_id TEXT;
ALTER TABLE tasks ADD COLUMN parent_id TEXT;
-- A list's tasks in creation order (an index entry ends with the task's id, its primary key):
-- `list=…` walks it as the default list walks the table. Inbox tasks are in it too (NULL).
CREATE INDEX tasks_by_list ON tasks (issuer, subject, list_id);
-- A task's subtasks: what depth, cycle and subtree checks and `parent=…` read.
CREATE INDEX tasks_by_parent ON tasks (issuer, subject, parent_id) WHERE parent_id IS NOT NULL;
