-- Keys providers push completions with (issue 11). Only a SHA-256 of the
-- key is kept: the key is 30 random bytes, so a fast hash is enough and
-- the gateway can check one per webhook call without argon2's cost.
CREATE TABLE provider_api_keys (
    id          uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers (id),
    label       text NOT NULL CHECK (length(label) <= 200),
    prefix      text NOT NULL,
    key_hash    bytea NOT NULL UNIQUE,
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX provider_api_keys_provider ON provider_api_keys (provider_id, created_at);
