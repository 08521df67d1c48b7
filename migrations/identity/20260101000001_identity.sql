-- Identity: the region's people and organizations, users and their roles.

CREATE TABLE regions (
    id                 UUID PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    time_zone          TEXT NOT NULL,
    pd_model           TEXT NOT NULL CHECK (pd_model IN ('un_quota', 'voucher_hours', 'cumulative_route')),
    pd_interval_years  INT  NOT NULL DEFAULT 3 CHECK (pd_interval_years BETWEEN 1 AND 10),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE municipalities (
    id          UUID PRIMARY KEY,
    region_id   UUID NOT NULL REFERENCES regions (id),
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (region_id, name)
);

CREATE TABLE organizations (
    id               UUID PRIMARY KEY,
    region_id        UUID NOT NULL REFERENCES regions (id),
    municipality_id  UUID NOT NULL REFERENCES municipalities (id),
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('school', 'preschool', 'college', 'additional_education', 'provider')),
    inn              TEXT NOT NULL UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX organizations_municipality ON organizations (municipality_id);
CREATE INDEX organizations_region ON organizations (region_id);

CREATE TABLE providers (
    id              UUID PRIMARY KEY,
    region_id       UUID NOT NULL REFERENCES regions (id),
    name            TEXT NOT NULL,
    inn             TEXT NOT NULL UNIQUE,
    licence_number  TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE educators (
    id                    UUID PRIMARY KEY,
    snils                 TEXT NOT NULL UNIQUE CHECK (snils ~ '^[0-9]{11}$'),
    last_name             TEXT NOT NULL,
    first_name            TEXT NOT NULL,
    middle_name           TEXT NOT NULL DEFAULT '',
    position              TEXT NOT NULL,
    subjects              TEXT[] NOT NULL DEFAULT '{}',
    organization_id       UUID NOT NULL REFERENCES organizations (id),
    last_pd_completed_on  DATE,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX educators_organization ON educators (organization_id, last_name, first_name);

CREATE TABLE users (
    id             UUID PRIMARY KEY,
    login          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    display_name   TEXT NOT NULL DEFAULT '',
    educator_id    UUID UNIQUE REFERENCES educators (id),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE role_grants (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    scope_id    UUID,
    granted_by  UUID,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One grant per role and scope; admin has no scope (NULL).
CREATE UNIQUE INDEX role_grants_unique
    ON role_grants (user_id, role, coalesce(scope_id, '00000000-0000-0000-0000-000000000000'));

CREATE TABLE refresh_tokens (
    token_hash  BYTEA PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Bulk imports run in the background; the caller polls their progress.
CREATE TABLE import_jobs (
    id               UUID PRIMARY KEY,
    created_by       UUID NOT NULL,
    -- The caller's grants at upload, so a resumed job checks the same scope.
    grants           JSONB NOT NULL,
    organization_id  UUID,
    dry_run          BOOLEAN NOT NULL,
    status           TEXT NOT NULL,
    total_rows       BIGINT NOT NULL DEFAULT 0,
    processed_rows   BIGINT NOT NULL DEFAULT 0,
    imported_rows    BIGINT NOT NULL DEFAULT 0,
    errors           JSONB NOT NULL DEFAULT '[]',
    message          TEXT NOT NULL DEFAULT '',
    encoding         TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Refreshed by the instance working on the job; a stale claim means
    -- that instance died and another may take the job over.
    claimed_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
);

CREATE TABLE import_chunks (
    job_id  UUID NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    seq     INT NOT NULL,
    data    BYTEA NOT NULL,
    PRIMARY KEY (job_id, seq)
);
