-- The allocation service: candidates and their lists, funding, quotas,
-- unique numbers, vouchers, refusals and freed places, and what it keeps of
-- identity (regions, municipalities, organizations, educators) and of the
-- registry (campaigns; the calendar is pd_calendar's).

-- ---------- read-models ----------

CREATE TABLE known_regions (
    id                UUID PRIMARY KEY,
    pd_model          TEXT NOT NULL DEFAULT 'un_quota',
    pd_interval_years INTEGER NOT NULL DEFAULT 3
);

CREATE TABLE known_municipalities (
    id        UUID PRIMARY KEY,
    region_id UUID NOT NULL,
    name      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE known_organizations (
    id              UUID PRIMARY KEY,
    region_id       UUID NOT NULL,
    municipality_id UUID NOT NULL,
    name            TEXT NOT NULL DEFAULT ''
);

-- Educators; those who left stay, inactive (never candidates).
CREATE TABLE known_educators (
    id                   UUID PRIMARY KEY,
    region_id            UUID NOT NULL,
    municipality_id      UUID NOT NULL,
    organization_id      UUID NOT NULL,
    last_name            TEXT NOT NULL DEFAULT '',
    first_name           TEXT NOT NULL DEFAULT '',
    middle_name          TEXT NOT NULL DEFAULT '',
    position             TEXT NOT NULL DEFAULT '',
    subjects             TEXT[] NOT NULL DEFAULT '{}',
    last_pd_completed_on DATE,
    active               BOOLEAN NOT NULL DEFAULT true
);
CREATE INDEX known_educators_region ON known_educators (region_id);

-- Campaigns (from the registry's calendar events).
CREATE TABLE known_campaigns (
    id        UUID PRIMARY KEY,
    region_id UUID NOT NULL,
    year      INTEGER NOT NULL
);
CREATE INDEX known_campaigns_region ON known_campaigns (region_id);

-- ---------- candidates ----------

-- The campaign's due educators. A row whose educator is no longer due
-- (a newer PD record, left the organization) is marked not eligible
-- instead of deleted, so a decision once taken stays on record.
CREATE TABLE candidates (
    campaign_id          UUID NOT NULL,
    educator_id          UUID NOT NULL,
    region_id            UUID NOT NULL,
    municipality_id      UUID NOT NULL,
    organization_id      UUID NOT NULL,
    last_pd_completed_on DATE,
    eligible             BOOLEAN NOT NULL DEFAULT true,
    status               TEXT NOT NULL DEFAULT 'included' CHECK (status IN ('included', 'excluded')),
    exclusion_reason     TEXT CHECK (exclusion_reason IN ('leave', 'dismissal', 'other')),
    exclusion_note       TEXT NOT NULL DEFAULT '',
    decided_by           UUID,
    decided_at           TIMESTAMPTZ,
    PRIMARY KEY (campaign_id, educator_id)
);
CREATE INDEX candidates_org ON candidates (campaign_id, organization_id) WHERE eligible;
CREATE INDEX candidates_municipality ON candidates (campaign_id, municipality_id) WHERE eligible;

-- An organization's confirmation of its list.
CREATE TABLE candidate_lists (
    campaign_id     UUID NOT NULL,
    organization_id UUID NOT NULL,
    confirmed_by    UUID NOT NULL,
    confirmed_at    TIMESTAMPTZ NOT NULL,
    confirmed_count INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, organization_id)
);

-- ---------- funding and quotas ----------

CREATE TABLE funding (
    campaign_id            UUID PRIMARY KEY,
    region_id              UUID NOT NULL,
    pd_model               TEXT NOT NULL,
    budget_kopecks         BIGINT NOT NULL CHECK (budget_kopecks >= 0),
    normative_cost_kopecks BIGINT NOT NULL CHECK (normative_cost_kopecks > 0),
    reserve_percent        INTEGER NOT NULL CHECK (reserve_percent BETWEEN 0 AND 50),
    funded_places          INTEGER NOT NULL CHECK (funded_places >= 0),
    reserve_places         INTEGER NOT NULL CHECK (reserve_places >= 0),
    set_by                 UUID NOT NULL,
    set_at                 TIMESTAMPTZ NOT NULL,
    allocated_at           TIMESTAMPTZ
);

CREATE TABLE quotas (
    campaign_id      UUID NOT NULL,
    level            TEXT NOT NULL CHECK (level IN ('municipality', 'organization')),
    unit_id          UUID NOT NULL,
    municipality_id  UUID NOT NULL,
    candidates       INTEGER NOT NULL,
    candidates_total INTEGER NOT NULL,
    places_total     INTEGER NOT NULL,
    floor            INTEGER NOT NULL,
    remainder_rank   INTEGER NOT NULL,
    extra_place      BOOLEAN NOT NULL,
    quota            INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, level, unit_id)
);

-- ---------- unique numbers and vouchers ----------

-- One number per funding of one educator in one campaign. A refused number
-- stays (status refused, then reassigned once its place went to someone else).
CREATE TABLE unique_numbers (
    id                UUID PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    campaign_id       UUID NOT NULL,
    region_id         UUID NOT NULL,
    municipality_id   UUID NOT NULL,
    organization_id   UUID NOT NULL,
    educator_id       UUID NOT NULL,
    status            TEXT NOT NULL DEFAULT 'assigned' CHECK (status IN ('assigned', 'used', 'refused', 'reassigned')),
    assigned_by_level TEXT NOT NULL CHECK (assigned_by_level IN ('quota', 'organization', 'municipality', 'region')),
    replaces          UUID REFERENCES unique_numbers (id),
    assigned_at       TIMESTAMPTZ NOT NULL
);
-- An educator holds at most one live number per campaign.
CREATE UNIQUE INDEX unique_numbers_one_live ON unique_numbers (campaign_id, educator_id)
    WHERE status IN ('assigned', 'used');
CREATE INDEX unique_numbers_org ON unique_numbers (campaign_id, organization_id);

-- Voucher blocks (voucher_hours): the voucher is the number's, its blocks spent by applications.
CREATE TABLE voucher_blocks (
    number_id      UUID NOT NULL REFERENCES unique_numbers (id),
    position       INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('subject', 'free', 'internship')),
    hours          INTEGER NOT NULL CHECK (hours > 0),
    application_id UUID,
    PRIMARY KEY (number_id, position)
);

-- ---------- refusals and freed places ----------

CREATE TABLE refusals (
    id            UUID PRIMARY KEY,
    campaign_id   UUID NOT NULL,
    number_id     UUID NOT NULL REFERENCES unique_numbers (id),
    educator_id   UUID NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected')),
    decision_note TEXT NOT NULL DEFAULT '',
    decided_by    UUID,
    requested_at  TIMESTAMPTZ NOT NULL,
    decided_at    TIMESTAMPTZ
);
-- One open request per number.
CREATE UNIQUE INDEX refusals_one_open ON refusals (number_id) WHERE status = 'requested';
CREATE INDEX refusals_campaign ON refusals (campaign_id);

-- A funded place without an educator: freed by a refusal, or the region's reserve.
CREATE TABLE free_places (
    id              UUID PRIMARY KEY,
    campaign_id     UUID NOT NULL,
    region_id       UUID NOT NULL,
    municipality_id UUID,
    organization_id UUID,
    freed_number    UUID REFERENCES unique_numbers (id),
    freed_at        TIMESTAMPTZ NOT NULL,
    taken_by        UUID REFERENCES unique_numbers (id),
    taken_at        TIMESTAMPTZ
);
CREATE INDEX free_places_campaign ON free_places (campaign_id) WHERE taken_by IS NULL;
