-- Tasks are clustered by owner, the pair (issuer, subject): every query is scoped by it, so
-- (issuer, subject, id) is the key and a user's list is one backward range scan. ids are UUIDv7,
-- whose byte order is creation order. The shared secret is the empty issuer. Timestamps come from
-- the database's clock, so instances with skewed clocks agree on order.
CREATE TABLE tasks (
    issuer       text        NOT NULL,
    subject      text        NOT NULL,
    id           uuid        NOT NULL,
    title        text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description  text                 CHECK (description IS NULL OR char_length(description) <= 1000),
    completed    boolean     NOT NULL DEFAULT false,
    completed_at timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject, id)
);

-- One row per owner, written in every write's statement or transaction: the number of tasks (so a
-- page never counts rows and the cap is checked without counting) and the list version, which
-- changes with every write that changes the owner's tasks. Every instance checks it before
-- serving a cached page, so a cache is never stale, whichever instance wrote.
CREATE TABLE task_owners (
    issuer  text   NOT NULL,
    subject text   NOT NULL,
    total   bigint NOT NULL CHECK (total >= 0),
    version bigint NOT NULL,
    PRIMARY KEY (issuer, subject)
);

-- The Idempotency-Key of each POST /tasks in the last 24 hours, per owner: the fingerprint of the
-- request and the answer first sent, so a retry replays it. A row is written in the same
-- transaction as the task it created, never alone. There is no foreign key to tasks: a retry after
-- the task was deleted still gets the first answer. The index serves the purge of expired rows.
CREATE TABLE idempotency_keys (
    issuer      text        NOT NULL,
    subject     text        NOT NULL,
    key         text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    fingerprint bytea       NOT NULL CHECK (length(fingerprint) = 32),
    task_id     uuid        NOT NULL,
    response    text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject, key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
