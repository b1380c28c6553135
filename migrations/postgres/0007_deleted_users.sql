-- Accounts deleted lately. Their access tokens stay signed until they expire, so every instance
-- reads this list every second and refuses them; rows older than any token's life are purged.
-- deleted_at is in Unix milliseconds.
CREATE TABLE deleted_users (
    user_id    text   PRIMARY KEY,
    deleted_at bigint NOT NULL
);
CREATE INDEX deleted_users_by_time ON deleted_users (deleted_at);
