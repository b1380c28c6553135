-- The service's own Ed25519 signing keys, oldest first by created_at; the newest signs. The
-- private key is sealed under a key derived from the server secret, which every instance shares.
CREATE TABLE signing_keys (
    kid                text        PRIMARY KEY,
    public_key         bytea       NOT NULL CHECK (length(public_key) = 32),
    sealed_private_key bytea       NOT NULL,
    created_at         timestamptz NOT NULL
);
