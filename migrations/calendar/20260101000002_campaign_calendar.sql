-- The campaign calendar read-model (fed by registry's
-- campaign_calendar_changed events): which phase is open when. Kept by
-- every service that gates its actions on the cycle's phases.
CREATE TABLE IF NOT EXISTS campaign_calendar (
    campaign_id  UUID NOT NULL,
    region_id    UUID NOT NULL,
    phase        TEXT NOT NULL,
    starts_on    DATE NOT NULL,
    ends_on      DATE NOT NULL,
    opens_at     TIMESTAMPTZ NOT NULL,
    closes_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, phase)
);
