-- The surveys service: the competence catalog, the questionnaire-and-test
-- engine (instruments, windows, responses, attempts), deficits, priorities,
-- and what it keeps of identity (educators, organizations, municipalities)
-- and of the registry (published programs; the calendar is pd_calendar's).

-- ---------- read-models ----------

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

-- Educators in employment (those who left are kept, inactive: their answers stay).
CREATE TABLE known_educators (
    id              UUID PRIMARY KEY,
    region_id       UUID NOT NULL,
    municipality_id UUID NOT NULL,
    organization_id UUID NOT NULL,
    name            TEXT NOT NULL,
    subjects        TEXT[] NOT NULL DEFAULT '{}',
    active          BOOLEAN NOT NULL DEFAULT true
);
CREATE INDEX known_educators_scope ON known_educators (region_id, municipality_id, organization_id) WHERE active;

-- Programs of the published registry (registry_entry_published).
CREATE TABLE known_programs (
    id            UUID PRIMARY KEY,
    campaign_id   UUID NOT NULL,
    region_id     UUID NOT NULL,
    provider_id   UUID NOT NULL,
    provider_name TEXT NOT NULL DEFAULT '',
    title         TEXT NOT NULL,
    direction     TEXT NOT NULL DEFAULT '',
    form          TEXT NOT NULL DEFAULT '',
    hours         INTEGER NOT NULL DEFAULT 0,
    competences   TEXT[] NOT NULL DEFAULT '{}'
);
CREATE INDEX known_programs_campaign ON known_programs (campaign_id);

-- ---------- the competence catalog ----------

CREATE TABLE competence_catalogs (
    campaign_id UUID PRIMARY KEY,
    region_id   UUID NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE competences (
    campaign_id UUID NOT NULL REFERENCES competence_catalogs (campaign_id) ON DELETE CASCADE,
    code        TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    group_code  TEXT NOT NULL DEFAULT '',
    group_name  TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, code)
);

-- ---------- instruments ----------

CREATE TABLE instruments (
    id                 UUID PRIMARY KEY,
    region_id          UUID NOT NULL,
    campaign_id        UUID,
    kind               TEXT NOT NULL CHECK (kind IN ('questionnaire', 'test')),
    purpose            TEXT NOT NULL CHECK (purpose IN ('needs_survey', 'diagnostic', 'post_course_survey', 'post_course_test', 'other')),
    program_id         UUID,
    provider_id        UUID,
    title              TEXT NOT NULL,
    -- [{id, kind, text, options, required, correct, points, competence, dimension}]
    questions          JSONB NOT NULL,
    draw_count         INTEGER NOT NULL DEFAULT 0 CHECK (draw_count >= 0),
    time_limit_minutes INTEGER NOT NULL DEFAULT 0 CHECK (time_limit_minutes >= 0),
    pass_percent       INTEGER NOT NULL DEFAULT 0 CHECK (pass_percent BETWEEN 0 AND 100),
    -- [{competence, threshold_percent}]
    sections           JSONB NOT NULL DEFAULT '[]',
    created_by         UUID,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One needs survey per campaign; one post-course questionnaire and test per
-- program, and one default of each per region.
CREATE UNIQUE INDEX instruments_one_needs_survey ON instruments (campaign_id) WHERE purpose = 'needs_survey';
CREATE UNIQUE INDEX instruments_one_post_course ON instruments (region_id, purpose, COALESCE(program_id, '00000000-0000-0000-0000-000000000000'::uuid))
    WHERE purpose IN ('post_course_survey', 'post_course_test');
CREATE INDEX instruments_region ON instruments (region_id, purpose);

-- ---------- windows ----------

CREATE TABLE windows (
    id             UUID PRIMARY KEY,
    instrument_id  UUID NOT NULL REFERENCES instruments (id),
    kind           TEXT NOT NULL CHECK (kind IN ('phase', 'personal')),
    region_id      UUID NOT NULL,
    campaign_id    UUID,
    -- Phase windows follow the campaign calendar (pd_calendar); personal
    -- windows carry their own instants.
    phase          TEXT,
    opens_at       TIMESTAMPTZ,
    closes_at      TIMESTAMPTZ,
    attempts_limit INTEGER NOT NULL DEFAULT 1 CHECK (attempts_limit BETWEEN 1 AND 10),
    source         TEXT NOT NULL CHECK (source IN ('campaign', 'operator', 'monitoring')),
    reference      TEXT NOT NULL DEFAULT '',
    created_by     UUID,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at      TIMESTAMPTZ,
    CHECK ((kind = 'phase' AND phase IS NOT NULL AND campaign_id IS NOT NULL)
        OR (kind = 'personal' AND opens_at IS NOT NULL AND closes_at IS NOT NULL AND opens_at < closes_at))
);
CREATE UNIQUE INDEX windows_one_per_phase ON windows (instrument_id) WHERE kind = 'phase';
CREATE INDEX windows_due ON windows (closes_at) WHERE closed_at IS NULL;

CREATE TABLE window_members (
    window_id   UUID NOT NULL REFERENCES windows (id) ON DELETE CASCADE,
    educator_id UUID NOT NULL,
    PRIMARY KEY (window_id, educator_id)
);
CREATE INDEX window_members_educator ON window_members (educator_id);

-- ---------- responses and attempts ----------

CREATE TABLE responses (
    id           UUID PRIMARY KEY,
    window_id    UUID NOT NULL REFERENCES windows (id),
    educator_id  UUID NOT NULL,
    answers      JSONB NOT NULL,
    -- The needs survey's answers that count towards demand (option texts),
    -- kept on the row: one row per response, aggregation unnests them.
    -- (A row per chosen value, with an index on its few distinct values,
    -- made the December-like rush of answers contend on hot index pages.)
    directions   TEXT[] NOT NULL DEFAULT '{}',
    topics       TEXT[] NOT NULL DEFAULT '{}',
    forms        TEXT[] NOT NULL DEFAULT '{}',
    submitted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (window_id, educator_id)
);

CREATE TABLE attempts (
    id            UUID PRIMARY KEY,
    window_id     UUID NOT NULL REFERENCES windows (id),
    educator_id   UUID NOT NULL,
    number        INTEGER NOT NULL CHECK (number >= 1),
    -- The questions drawn, with their correct answers (shown once closed).
    questions     JSONB NOT NULL,
    answers       JSONB NOT NULL DEFAULT '[]',
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    deadline      TIMESTAMPTZ,
    closed_at     TIMESTAMPTZ,
    closed_reason TEXT CHECK (closed_reason IN ('submitted', 'time_limit', 'window_closed')),
    score         INTEGER NOT NULL DEFAULT 0,
    max_score     INTEGER NOT NULL DEFAULT 0,
    percent       INTEGER NOT NULL DEFAULT 0,
    passed        BOOLEAN NOT NULL DEFAULT false,
    sections      JSONB NOT NULL DEFAULT '[]',
    UNIQUE (window_id, educator_id, number)
);
-- At most one open attempt per educator and window.
CREATE UNIQUE INDEX attempts_one_open ON attempts (window_id, educator_id) WHERE closed_at IS NULL;
CREATE INDEX attempts_due ON attempts (deadline) WHERE closed_at IS NULL;

-- Deficits per educator and campaign: picked in the needs survey, or
-- marked by a diagnostic test.
CREATE TABLE educator_deficits (
    campaign_id UUID NOT NULL,
    educator_id UUID NOT NULL,
    code        TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('survey', 'diagnostic')),
    marked_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, educator_id, code, source)
);

-- ---------- priorities ----------

CREATE TABLE priorities (
    campaign_id  UUID PRIMARY KEY,
    region_id    UUID NOT NULL,
    directions   TEXT[] NOT NULL,
    topics       TEXT[] NOT NULL,
    published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_by UUID
);
