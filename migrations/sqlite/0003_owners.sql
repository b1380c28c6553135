-- A task's owner becomes the pair (issuer, subject): two issuers' users with the same `sub` are two
-- owners. The shared secret is the empty issuer; rows written before this migration were written
-- without an issuer and are given the shared secret's.
CREATE TABLE tasks_by_owner (
    issuer       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    title        TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description  TEXT             CHECK (description IS NULL OR length(description) <= 1000),
    completed    INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
    completed_at TEXT,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (issuer, subject, id)
) STRICT, WITHOUT ROWID;
INSERT INTO tasks_by_owner
    (issuer, subject, id, title, description, completed, completed_at, created_at, updated_at)
    SELECT '', user_id, id, title, description, completed, completed_at, created_at, updated_at
    FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_by_owner RENAME TO tasks;

CREATE TABLE idempotency_keys_by_owner (
    issuer      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    key         TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    task_id     TEXT    NOT NULL,
    response    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject, key)
) STRICT;
INSERT INTO idempotency_keys_by_owner
    SELECT '', user_id, key, fingerprint, task_id, response, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_by_owner RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- One row per owner, written in every write's transaction: the number of tasks (so a page never
-- counts rows, and the cap is checked without counting) and the list version, which changes with
-- every write that changes the owner's tasks (cached pages are served only under their version).
CREATE TABLE task_owners (
    issuer  TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    total   INTEGER NOT NULL CHECK (total >= 0),
    version INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
) STRICT, WITHOUT ROWID;
INSERT INTO task_owners (issuer, subject, total, version)
    SELECT issuer, subject, count(*), 1 FROM tasks GROUP BY issuer, subject;
