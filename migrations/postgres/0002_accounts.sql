-- Accounts: users, their password credentials and their sessions, in Better Auth's shape. Ids are
-- 32 random [A-Za-z0-9] characters. E-mails are stored trimmed and lowercased, so the unique
-- constraint compares them case-insensitively.
CREATE TABLE users (
    id             text        PRIMARY KEY,
    name           text        NOT NULL,
    email          text        NOT NULL UNIQUE,
    email_verified boolean     NOT NULL DEFAULT false,
    image          text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- A user's password credential (Better Auth's `credential` account): an argon2id PHC string.
CREATE TABLE credentials (
    user_id       text        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- Sessions are found by the SHA-256 of their token: the database never holds a usable token.
CREATE TABLE sessions (
    id          text        PRIMARY KEY,
    token_hash  bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id     text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL,
    ip_address  text,
    user_agent  text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);
