-- What operators need day to day: educators who left (kept, never
-- deleted, with their history), search by name and SNILS, Russian order.

ALTER TABLE educators
    ADD COLUMN employment_status  TEXT NOT NULL DEFAULT 'employed'
        CHECK (employment_status IN ('employed', 'left')),
    ADD COLUMN left_on            DATE,
    ADD COLUMN leave_reason       TEXT NOT NULL DEFAULT ''
        CHECK (leave_reason IN ('', 'dismissal', 'retirement', 'transfer', 'other'));

-- Lists are sorted the Russian way (Ё with Е, not before А) and searched by
-- the start of the last name.
CREATE INDEX educators_org_ru ON educators
    (organization_id, (last_name COLLATE "ru-x-icu"), (first_name COLLATE "ru-x-icu"), id);
CREATE INDEX educators_last_name_prefix ON educators (lower(last_name) text_pattern_ops);
CREATE INDEX organizations_name_lower ON organizations (lower(name) text_pattern_ops);

CREATE TABLE educator_history (
    id           UUID PRIMARY KEY,
    educator_id  UUID NOT NULL REFERENCES educators (id),
    at           TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    actor_id     UUID,
    change       TEXT NOT NULL CHECK (change IN ('created', 'updated', 'moved', 'left')),
    details      JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX educator_history_educator ON educator_history (educator_id, at);
