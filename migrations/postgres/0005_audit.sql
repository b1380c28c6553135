-- Security events of each user (sign-up, sign-ins, failed sign-ins, revocations, password
-- changes), which the user can read back; they go with the user.
CREATE TABLE audit_events (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event      text        NOT NULL,
    ip_address text,
    created_at timestamptz NOT NULL
);

CREATE INDEX audit_events_by_user ON audit_events (user_id, id);
