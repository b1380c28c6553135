-- Accounts: users, their password credentials and their sessions, in Better Auth's shape. Ids are
-- 32 random [A-Za-z0-9] characters; times are Unix milliseconds. E-mails are stored trimmed and
-- lowercased, so the unique index compares them case-insensitively.
CREATE TABLE users (
    id             TEXT    NOT NULL PRIMARY KEY,
    name           TEXT    NOT NULL,
    email          TEXT    NOT NULL UNIQUE,
    email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    image          TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

-- A user's password credential (Better Auth's `credential` account): an argon2id PHC string.
CREATE TABLE credentials (
    user_id       TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Sessions are found by the SHA-256 of their token: the database never holds a usable token.
CREATE TABLE sessions (
    id          TEXT    NOT NULL PRIMARY KEY,
    token_hash  BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL,
    ip_address  TEXT,
    user_agent  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id);
