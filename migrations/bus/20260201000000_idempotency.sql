-- Idempotency-Key (DESIGN.md, Conventions): the first answer to a request
-- that carried a key, replayed for 24 hours to the same caller sending the
-- same key with the same body. Kept by every service in its own database.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    -- The caller (user id, or 'anonymous') and the key they chose.
    caller        TEXT NOT NULL,
    key           TEXT NOT NULL,
    operation     TEXT NOT NULL,
    request_hash  BYTEA NOT NULL,
    -- 'pending' while the first request runs, then 'ok' or 'error'.
    outcome       TEXT NOT NULL CHECK (outcome IN ('pending', 'ok', 'error')),
    response      BYTEA,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);
