-- Enrollment: applications, seats and waitlists, with the read-models
-- applying needs (no synchronous call to another service in the window).

-- identity's organizations and municipalities (names for the operators' lists).
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

-- identity's educators: names for the lists, the scope of on-behalf filing.
CREATE TABLE known_educators (
    id              uuid PRIMARY KEY,
    region_id       uuid NOT NULL,
    municipality_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    last_name       text NOT NULL,
    first_name      text NOT NULL,
    middle_name     text NOT NULL DEFAULT '',
    position        text NOT NULL DEFAULT '',
    subjects        text[] NOT NULL DEFAULT '{}',
    active          boolean NOT NULL DEFAULT true
);

-- allocation's unique numbers; `funds` is false once released (refused or
-- reassigned). Snapshots apply only when newer (applied_versions).
CREATE TABLE unique_numbers (
    id              uuid PRIMARY KEY,
    number          text NOT NULL UNIQUE,
    campaign_id     uuid NOT NULL,
    educator_id     uuid NOT NULL,
    educator_name   text NOT NULL DEFAULT '',
    organization_id uuid NOT NULL,
    municipality_id uuid NOT NULL,
    funds           boolean NOT NULL
);
CREATE INDEX unique_numbers_educator ON unique_numbers (educator_id);

-- The registry's published groups, with enrollment's own seat counters:
-- `taken` seats never exceed `capacity` (every application takes its seat
-- with one conditional UPDATE of this row in its own transaction, so the
-- row lock serializes the takers of a group across every instance).
CREATE TABLE groups (
    id              uuid PRIMARY KEY,
    campaign_id     uuid NOT NULL,
    region_id       uuid NOT NULL,
    program_id      uuid NOT NULL,
    provider_id     uuid NOT NULL,
    provider_name   text NOT NULL DEFAULT '',
    program_title   text NOT NULL,
    program_hours   integer NOT NULL DEFAULT 0,
    starts_on       date,
    ends_on         date,
    online          boolean NOT NULL DEFAULT false,
    address         text NOT NULL DEFAULT '',
    municipality_id uuid,
    capacity        integer NOT NULL,
    min_size        integer NOT NULL DEFAULT 0,
    -- published | cancelled
    status          text NOT NULL,
    taken           integer NOT NULL DEFAULT 0 CHECK (taken >= 0),
    waitlisted      integer NOT NULL DEFAULT 0 CHECK (waitlisted >= 0)
);
CREATE INDEX groups_program ON groups (program_id);

CREATE TABLE applications (
    id               uuid PRIMARY KEY,
    -- Order of arrival: the waitlist is served in this order.
    seq              bigserial NOT NULL,
    campaign_id      uuid NOT NULL,
    region_id        uuid NOT NULL,
    municipality_id  uuid NOT NULL,
    organization_id  uuid NOT NULL,
    educator_id      uuid NOT NULL,
    group_id         uuid NOT NULL REFERENCES groups (id),
    program_id       uuid NOT NULL,
    unique_number_id uuid NOT NULL REFERENCES unique_numbers (id),
    status           text NOT NULL
        CHECK (status IN ('enrolled', 'waitlisted', 'withdrawn', 'rejected')),
    reason           text NOT NULL DEFAULT '',
    note             text NOT NULL DEFAULT '',
    -- educator | organization | municipality | region
    filed_by         text NOT NULL,
    filed_by_user    uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- One active application per unique number, whatever the concurrency.
CREATE UNIQUE INDEX applications_one_per_number ON applications (unique_number_id)
    WHERE status IN ('enrolled', 'waitlisted');
CREATE INDEX applications_waitlist ON applications (group_id, seq) WHERE status = 'waitlisted';
CREATE INDEX applications_group ON applications (group_id);
CREATE INDEX applications_educator ON applications (educator_id);
CREATE INDEX applications_campaign_org ON applications (campaign_id, organization_id);
CREATE INDEX applications_campaign_muni ON applications (campaign_id, municipality_id);
