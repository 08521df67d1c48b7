-- Registry: campaigns, programs, expert review, council, schedule.

-- Read-models fed by identity's events.
CREATE TABLE known_regions (
    id         UUID PRIMARY KEY,
    time_zone  TEXT NOT NULL
);
CREATE TABLE known_municipalities (
    id         UUID PRIMARY KEY,
    region_id  UUID NOT NULL
);
CREATE TABLE known_providers (
    id              UUID PRIMARY KEY,
    region_id       UUID NOT NULL,
    name            TEXT NOT NULL,
    licence_number  TEXT NOT NULL DEFAULT ''
);
-- Role grants of users (experts, council members, provider admins).
CREATE TABLE known_grants (
    user_id   UUID NOT NULL,
    role      TEXT NOT NULL,
    scope_id  UUID NOT NULL,
    PRIMARY KEY (user_id, role, scope_id)
);

CREATE TABLE campaigns (
    id                      UUID PRIMARY KEY,
    region_id               UUID NOT NULL,
    year                    INT NOT NULL,
    title                   TEXT NOT NULL,
    time_zone               TEXT NOT NULL,
    pass_threshold_percent  DOUBLE PRECISION NOT NULL DEFAULT 60,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (region_id, year)
);

CREATE TABLE campaign_criteria (
    campaign_id  UUID NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    position     INT NOT NULL,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    max_score    INT NOT NULL CHECK (max_score > 0),
    weight       DOUBLE PRECISION NOT NULL DEFAULT 1 CHECK (weight > 0),
    min_score    INT NOT NULL DEFAULT 0 CHECK (min_score >= 0),
    PRIMARY KEY (campaign_id, code)
);

CREATE TABLE campaign_experts (
    campaign_id              UUID NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id                  UUID NOT NULL,
    affiliated_provider_ids  UUID[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (campaign_id, user_id)
);

CREATE TABLE programs (
    id                  UUID PRIMARY KEY,
    campaign_id         UUID NOT NULL REFERENCES campaigns (id),
    provider_id         UUID NOT NULL,
    kind                TEXT NOT NULL,
    title               TEXT NOT NULL,
    direction           TEXT NOT NULL,
    topic               TEXT NOT NULL,
    annotation          TEXT NOT NULL,
    hours               INT NOT NULL,
    form                TEXT NOT NULL,
    target_positions    TEXT[] NOT NULL DEFAULT '{}',
    target_subjects     TEXT[] NOT NULL DEFAULT '{}',
    modules             JSONB NOT NULL DEFAULT '[]',
    competences         TEXT[] NOT NULL DEFAULT '{}',
    max_group_size      INT NOT NULL,
    cost_per_learner    DOUBLE PRECISION NOT NULL,
    internship_site     TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT 'draft',
    remarks             TEXT NOT NULL DEFAULT '',
    mean_score_percent  DOUBLE PRECISION NOT NULL DEFAULT 0,
    include_votes       INT NOT NULL DEFAULT 0,
    exclude_votes       INT NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX programs_campaign ON programs (campaign_id, status);

CREATE TABLE review_assignments (
    program_id   UUID NOT NULL REFERENCES programs (id),
    expert_id    UUID NOT NULL,
    assigned_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, expert_id)
);

CREATE TABLE reviews (
    program_id     UUID NOT NULL REFERENCES programs (id),
    expert_id      UUID NOT NULL,
    scores         JSONB NOT NULL,
    conclusion     TEXT NOT NULL,
    comment        TEXT NOT NULL DEFAULT '',
    score_percent  DOUBLE PRECISION NOT NULL,
    submitted_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, expert_id)
);

CREATE TABLE council_sessions (
    id           UUID PRIMARY KEY,
    campaign_id  UUID NOT NULL REFERENCES campaigns (id),
    held_on      DATE NOT NULL,
    member_ids   UUID[] NOT NULL,
    program_ids  UUID[] NOT NULL,
    quorum       INT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open',
    protocol     JSONB,
    approved_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE council_votes (
    session_id  UUID NOT NULL REFERENCES council_sessions (id),
    program_id  UUID NOT NULL,
    member_id   UUID NOT NULL,
    vote        TEXT NOT NULL CHECK (vote IN ('for', 'against', 'abstain')),
    cast_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, program_id, member_id)
);

CREATE TABLE groups (
    id               UUID PRIMARY KEY,
    program_id       UUID NOT NULL REFERENCES programs (id),
    starts_on        DATE NOT NULL,
    ends_on          DATE NOT NULL,
    online           BOOLEAN NOT NULL,
    address          TEXT NOT NULL DEFAULT '',
    municipality_id  UUID,
    capacity         INT NOT NULL,
    min_size         INT NOT NULL,
    language         TEXT NOT NULL DEFAULT 'ru',
    status           TEXT NOT NULL DEFAULT 'draft',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX groups_program ON groups (program_id);
