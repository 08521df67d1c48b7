-- Imports of educators may update the educators they know (mode=update)
-- and report, per organization, what the file changes; organizations
-- files arrive through the same chunks (kind 'organizations', the region
-- they belong to).
ALTER TABLE import_jobs
    ADD COLUMN kind             TEXT NOT NULL DEFAULT 'educators'
        CHECK (kind IN ('educators', 'organizations')),
    ADD COLUMN region_id        UUID,
    ADD COLUMN update_existing  BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN report           JSONB NOT NULL DEFAULT '[]';
