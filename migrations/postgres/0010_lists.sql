-- Lists, and tasks in lists and under other tasks. A list's `tasks` and `open` count its tasks,
-- kept by every write under the owner's row lock (so GET /lists and a count of `list=…` read one
-- row each). `key` is the name's case folding: names are unique per owner case-insensitively.
CREATE TABLE lists (
    issuer     text        NOT NULL,
    subject    text        NOT NULL,
    id         uuid        NOT NULL,
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    key        text        COLLATE "C" NOT NULL,
    color      text        CHECK (color IS NULL OR char_length(color) = 7),
    position   bigint      NOT NULL,
    tasks      bigint      NOT NULL DEFAULT 0 CHECK (tasks >= 0),
    open       bigint      NOT NULL DEFAULT 0 CHECK (open BETWEEN 0 AND tasks),
    version    bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject, id)
);
CREATE UNIQUE INDEX lists_by_key ON lists (issuer, subject, key);

-- NULL: the inbox; NULL: a top-level task. Old tasks are top-level tasks in the inbox.
ALTER TABLE tasks ADD COLUMN list_id uuid, ADD COLUMN parent_id uuid;
-- A list's tasks in creation order: `list=…` walks it as the default list walks the primary
-- key. Inbox tasks are in it too (NULL).
CREATE INDEX tasks_by_list ON tasks (issuer, subject, list_id, id);
-- A task's subtasks: what depth, cycle and subtree checks and `parent=…` read.
CREATE INDEX tasks_by_parent ON tasks (issuer, subject, parent_id, id) WHERE parent_id IS NOT NULL;
