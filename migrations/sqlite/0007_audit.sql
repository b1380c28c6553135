-- Security events of each user (sign-up, sign-ins, failed sign-ins, revocations, password
-- changes), which the user can read back; they go with the user. created_at: Unix milliseconds.
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event      TEXT    NOT NULL,
    ip_address TEXT,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX audit_events_by_user ON audit_events (user_id, id);
