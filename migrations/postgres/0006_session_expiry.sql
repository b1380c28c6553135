-- Expired sessions are purged now and then in bounded batches; this index finds them without
-- scanning every session.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
