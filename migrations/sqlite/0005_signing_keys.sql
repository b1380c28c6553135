-- The service's own Ed25519 signing keys, oldest first by created_at (Unix milliseconds); the
-- newest signs. The private key is sealed under a key derived from the server secret.
CREATE TABLE signing_keys (
    kid                TEXT    NOT NULL PRIMARY KEY,
    public_key         BLOB    NOT NULL CHECK (length(public_key) = 32),
    sealed_private_key BLOB    NOT NULL,
    created_at         INTEGER NOT NULL
) STRICT;
