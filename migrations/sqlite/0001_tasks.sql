-- Tasks are clustered by owner: every query is scoped by user_id, so (user_id, id) is the key and a
-- user's list is one range scan. ids are UUIDv7 text, so id order is creation order.
CREATE TABLE tasks (
    user_id      TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    title        TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description  TEXT             CHECK (description IS NULL OR length(description) <= 1000),
    completed    INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
    completed_at TEXT,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (user_id, id)
) STRICT, WITHOUT ROWID;
