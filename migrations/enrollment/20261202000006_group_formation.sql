-- Group formation at the application window's close: the campaigns whose
-- groups were formed (once, whichever instance gets there first), each
-- group's roster state, and where a merge moved an application from.

CREATE TABLE formations (
    campaign_id       uuid PRIMARY KEY,
    formed_at         timestamptz NOT NULL DEFAULT now(),
    waitlist_rejected integer NOT NULL DEFAULT 0
);

ALTER TABLE groups
    ADD COLUMN roster text NOT NULL DEFAULT 'open'
        CHECK (roster IN ('open', 'formed', 'under_min', 'merged', 'cancelled')),
    ADD COLUMN merged_into uuid REFERENCES groups (id);
CREATE INDEX groups_campaign ON groups (campaign_id);

ALTER TABLE applications ADD COLUMN moved_from uuid REFERENCES groups (id);
CREATE INDEX applications_campaign_status ON applications (campaign_id, status);
