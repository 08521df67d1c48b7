-- The monitoring service (issue 11): completions pushed by providers, the
-- post-course windows they open, certificates and transcripts, PD records.

-- Identity's units (pd_units applies their events) and educators.
CREATE TABLE known_municipalities (
    id        uuid PRIMARY KEY,
    region_id uuid NOT NULL,
    name      text NOT NULL
);

CREATE TABLE known_organizations (
    id              uuid PRIMARY KEY,
    region_id       uuid NOT NULL,
    municipality_id uuid NOT NULL,
    name            text NOT NULL
);

CREATE TABLE known_educators (
    id              uuid PRIMARY KEY,
    region_id       uuid NOT NULL,
    municipality_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    last_name       text NOT NULL,
    first_name      text NOT NULL,
    middle_name     text NOT NULL DEFAULT ''
);

-- The registry's groups: what a completion and a document name.
CREATE TABLE known_groups (
    id             uuid PRIMARY KEY,
    program_id     uuid NOT NULL,
    campaign_id    uuid NOT NULL,
    region_id      uuid NOT NULL,
    provider_id    uuid NOT NULL,
    provider_name  text NOT NULL,
    program_title  text NOT NULL,
    program_kind   text NOT NULL,
    program_hours  integer NOT NULL,
    direction      text NOT NULL DEFAULT '',
    starts_on      date NOT NULL,
    ends_on        date NOT NULL,
    -- [{"name": …, "hours": …}] of a cumulative program.
    modules        jsonb NOT NULL DEFAULT '[]',
    status         text NOT NULL
);

-- Enrollment's fixed rosters: a completion is accepted only for a learner
-- of its group's roster.
CREATE TABLE rosters (
    group_id uuid PRIMARY KEY,
    -- formed | under_min | merged | cancelled (enrollment's words)
    roster   text NOT NULL
);

CREATE TABLE roster_members (
    group_id       uuid NOT NULL REFERENCES rosters (group_id) ON DELETE CASCADE,
    educator_id    uuid NOT NULL,
    application_id uuid NOT NULL,
    -- An individual route's modules (empty: the whole program).
    modules        text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (group_id, educator_id)
);
CREATE INDEX roster_members_educator ON roster_members (educator_id);

-- A region's post-course settings (absent: the service's defaults).
CREATE TABLE region_settings (
    region_id     uuid PRIMARY KEY,
    window_days   integer NOT NULL CHECK (window_days BETWEEN 1 AND 90),
    test_attempts integer NOT NULL CHECK (test_attempts BETWEEN 1 AND 10),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE completions (
    id                  uuid PRIMARY KEY,
    provider_id         uuid NOT NULL,
    group_id            uuid NOT NULL,
    educator_id         uuid NOT NULL,
    region_id           uuid NOT NULL,
    program_id          uuid NOT NULL,
    status              text NOT NULL CHECK (status IN ('completed', 'not_completed')),
    reason              text NOT NULL DEFAULT '',
    document_type       text NOT NULL DEFAULT '',
    document_series     text NOT NULL DEFAULT '',
    document_number     text NOT NULL DEFAULT '',
    issued_on           date,
    registration_number text NOT NULL DEFAULT '',
    hours               integer NOT NULL DEFAULT 0,
    -- [{"name", "hours", "credited_on"}]
    modules             jsonb NOT NULL DEFAULT '[]',
    received_at         timestamptz NOT NULL,
    -- A provider sending the same learner's document again records nothing.
    UNIQUE (provider_id, group_id, educator_id, document_number)
);
CREATE INDEX completions_region ON completions (region_id, status, received_at);
CREATE INDEX completions_educator ON completions (educator_id);

CREATE TABLE post_course_windows (
    completion_id  uuid PRIMARY KEY REFERENCES completions (id),
    educator_id    uuid NOT NULL,
    region_id      uuid NOT NULL,
    opens_at       timestamptz NOT NULL,
    closes_at      timestamptz NOT NULL,
    attempts_limit integer NOT NULL,
    survey_done_at timestamptz,
    best_percent   integer NOT NULL DEFAULT 0,
    best_passed    boolean NOT NULL DEFAULT false,
    attempts_used  integer NOT NULL DEFAULT 0,
    closed_at      timestamptz,
    -- Closed without the questionnaire answered.
    missed         boolean NOT NULL DEFAULT false
);
CREATE INDEX post_course_windows_due ON post_course_windows (closes_at) WHERE closed_at IS NULL;
CREATE INDEX post_course_windows_region ON post_course_windows (region_id, closes_at);

CREATE TABLE documents (
    id             uuid PRIMARY KEY,
    -- The public verification code (random, unguessable).
    code           text NOT NULL UNIQUE,
    kind           text NOT NULL CHECK (kind IN ('certificate', 'transcript')),
    completion_id  uuid NOT NULL UNIQUE REFERENCES completions (id),
    educator_id    uuid NOT NULL,
    holder_name    text NOT NULL,
    program_id     uuid NOT NULL,
    program_title  text NOT NULL,
    hours          integer NOT NULL,
    starts_on      date NOT NULL,
    ends_on        date NOT NULL,
    provider_id    uuid NOT NULL,
    provider_name  text NOT NULL,
    modules        jsonb NOT NULL DEFAULT '[]',
    issued_at      timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoke_reason  text NOT NULL DEFAULT ''
);
CREATE INDEX documents_educator ON documents (educator_id);

CREATE TABLE pd_records (
    id              uuid PRIMARY KEY,
    educator_id     uuid NOT NULL,
    region_id       uuid NOT NULL,
    organization_id uuid NOT NULL,
    municipality_id uuid NOT NULL,
    started_on      date NOT NULL,
    ended_on        date NOT NULL CHECK (ended_on >= started_on),
    document_type   text NOT NULL,
    document_series text NOT NULL DEFAULT '',
    document_number text NOT NULL,
    program_title   text NOT NULL,
    topic           text NOT NULL DEFAULT '',
    hours           integer NOT NULL CHECK (hours > 0),
    provider_name   text NOT NULL,
    funded          boolean NOT NULL,
    source          text NOT NULL CHECK (source IN ('completion', 'declared')),
    status          text NOT NULL CHECK (status IN ('verified', 'pending', 'rejected')),
    reject_reason   text NOT NULL DEFAULT '',
    completion_id   uuid UNIQUE REFERENCES completions (id),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    decided_by      uuid,
    decided_at      timestamptz
);
CREATE INDEX pd_records_educator ON pd_records (educator_id, ended_on);
CREATE INDEX pd_records_region ON pd_records (region_id, status, created_at);
