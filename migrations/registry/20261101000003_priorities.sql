-- The campaign's priority directions and topic base, as the surveys
-- service published them (priorities_published): shown with the campaign
-- for the call for programs.
CREATE TABLE campaign_priorities (
    campaign_id  UUID PRIMARY KEY,
    directions   TEXT[] NOT NULL,
    topics       TEXT[] NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);
