-- Poison rows and ordering (DESIGN.md, Messaging).
--
-- An outbox row that cannot be published (too large for the bus, refused
-- by JetStream again and again) is parked after its attempts run out: the
-- relay skips it, the rest of the outbox flows, and `pd admin outbox`
-- lists and releases parked rows.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS attempts INT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_error TEXT;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_at TIMESTAMPTZ;
DROP INDEX IF EXISTS outbox_unsent;
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND parked_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_parked ON outbox (id) WHERE sent_at IS NULL AND parked_at IS NOT NULL;

-- Every event carries its aggregate's version: 1, 2, 3, ... in commit
-- order, since the counter's row stays locked until the writing
-- transaction ends.
CREATE TABLE IF NOT EXISTS aggregate_versions (
    aggregate_id TEXT PRIMARY KEY,
    version      BIGINT NOT NULL CHECK (version > 0)
);

-- The newest version of each aggregate a consumer has applied, so a
-- snapshot delivered late (relays in parallel, redelivery after a NAK)
-- never overwrites a newer one.
CREATE TABLE IF NOT EXISTS applied_versions (
    consumer     TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    version      BIGINT NOT NULL,
    PRIMARY KEY (consumer, aggregate_id)
);
