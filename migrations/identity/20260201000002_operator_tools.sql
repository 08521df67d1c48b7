-- What operators need day to day: educators who left (kept, never
-- deleted, with their history), search by name and SNILS, Russian order.

ALTER TABLE educators
    ADD COLUMN employment_status  TEXT NOT NULL DEFAULT 'employed'
        CHECK (employment_status IN ('employed', 'left')),
    ADD COLUMN left_on            DATE,
    ADD COLUMN leave_reason       TEXT NOT NULL DEFAULT ''
        CHECK (leave_reason IN ('', 'dismissal', 'retirement', 'transfer', 'other'));

-- Lists are sorted the Russian way (ORDER BY ... COLLATE "ru-x-icu": Ё with
-- Е, not before А). No index for that order: an organization's staff is
-- sorted in memory in no time, while an ICU index costs bulk imports a
-- quarter of their time. Searches go by the start of the last name.
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
