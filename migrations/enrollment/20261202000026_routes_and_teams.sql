-- cumulative_route (seed 004): the organizations' plan-order hours (from
-- allocation), individual routes (applications of modules, no number)
-- and school-team applications the provider accepts or rejects.

CREATE TABLE hour_quotas (
    campaign_id     uuid NOT NULL,
    organization_id uuid NOT NULL,
    hours           integer NOT NULL,
    -- Drawn by active routes and accepted teams; the row lock serializes drawers.
    used            integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (campaign_id, organization_id)
);

-- The modules of a cumulative program, as the registry lists them.
ALTER TABLE groups
    ADD COLUMN module_names text[] NOT NULL DEFAULT '{}',
    ADD COLUMN module_hours integer[] NOT NULL DEFAULT '{}';

CREATE TABLE teams (
    id                uuid PRIMARY KEY,
    campaign_id       uuid NOT NULL,
    region_id         uuid NOT NULL,
    municipality_id   uuid NOT NULL,
    organization_id   uuid NOT NULL,
    group_id          uuid NOT NULL REFERENCES groups (id),
    members           uuid[] NOT NULL,
    modules           text[] NOT NULL,
    hours_per_member  integer NOT NULL,
    goals             text NOT NULL,
    final_work_format text NOT NULL,
    status            text NOT NULL CHECK (status IN ('submitted', 'accepted', 'rejected')),
    reason            text NOT NULL DEFAULT '',
    note              text NOT NULL DEFAULT '',
    submitted_by      uuid,
    decided_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz
);
CREATE INDEX teams_campaign ON teams (campaign_id, organization_id);
CREATE INDEX teams_group ON teams (group_id);

-- Routes and team members apply without a number.
ALTER TABLE applications
    ALTER COLUMN unique_number_id DROP NOT NULL,
    ADD COLUMN modules text[] NOT NULL DEFAULT '{}',
    ADD COLUMN hours integer NOT NULL DEFAULT 0,
    ADD COLUMN team_id uuid REFERENCES teams (id);
-- One active route per educator and group.
CREATE UNIQUE INDEX applications_one_route ON applications (educator_id, group_id)
    WHERE unique_number_id IS NULL AND status IN ('enrolled', 'waitlisted');
