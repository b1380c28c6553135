-- The Idempotency-Key of each POST /tasks in the last 24 hours, per owner: the fingerprint of the
-- request and the answer first sent, so a retry replays it. A row is written in the same
-- transaction as the task it created, never alone. There is no foreign key to tasks: a retry after
-- the task was deleted still gets the first answer. created_at is in Unix seconds; the index serves
-- the purge of expired rows.
CREATE TABLE idempotency_keys (
    user_id     TEXT    NOT NULL,
    key         TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    task_id     TEXT    NOT NULL,
    response    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
) STRICT;

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
