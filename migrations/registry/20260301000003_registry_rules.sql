-- Registry rules a real campaign needs: the region's PD model, the
-- council's protocol (attendance, chair and secretary, number and date,
-- returns by the ministry), expert declines, the technical-review log,
-- group cancellations with the operator's approval, the calendar audit.

-- un_quota | voucher_hours | cumulative_route ('' until identity says).
ALTER TABLE known_regions ADD COLUMN pd_model TEXT NOT NULL DEFAULT '';

ALTER TABLE council_sessions
    ADD COLUMN chair_id            UUID,
    ADD COLUMN secretary_id        UUID,
    ADD COLUMN present_ids         UUID[] NOT NULL DEFAULT '{}',
    ADD COLUMN protocol_number     INT,
    ADD COLUMN protocol_date       DATE,
    ADD COLUMN return_reason       TEXT NOT NULL DEFAULT '',
    ADD COLUMN returned_at         TIMESTAMPTZ;
CREATE UNIQUE INDEX council_sessions_protocol_number
    ON council_sessions (campaign_id, protocol_number);
CREATE INDEX council_sessions_campaign ON council_sessions (campaign_id, created_at);

-- Protocols the ministry returned to the council, as they were.
CREATE TABLE council_protocol_returns (
    session_id   UUID NOT NULL REFERENCES council_sessions (id),
    protocol     JSONB NOT NULL,
    reason       TEXT NOT NULL,
    returned_by  TEXT NOT NULL,
    returned_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX council_protocol_returns_session ON council_protocol_returns (session_id, returned_at);

-- An expert who declined a program (or declared a conflict of interest).
CREATE TABLE review_declines (
    program_id            UUID NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    expert_id             UUID NOT NULL,
    reason                TEXT NOT NULL,
    conflict_of_interest  BOOLEAN NOT NULL,
    assigned_at           TIMESTAMPTZ NOT NULL,
    declined_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, expert_id)
);
CREATE INDEX review_assignments_expert ON review_assignments (expert_id);

-- Every submission and technical-review decision of a program, with the
-- fields as they stood: resubmission never erases earlier remarks.
CREATE TABLE technical_review_log (
    id          UUID PRIMARY KEY,
    program_id  UUID NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    -- submitted | accepted | returned
    action      TEXT NOT NULL,
    remarks     TEXT NOT NULL DEFAULT '',
    actor       TEXT NOT NULL,
    fields      JSONB NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX technical_review_log_program ON technical_review_log (program_id, at);

-- A published group is cancelled with a reason and the operator's approval.
ALTER TABLE groups
    -- '' | requested | rejected (an approved cancellation is status cancelled)
    ADD COLUMN cancellation         TEXT NOT NULL DEFAULT '',
    ADD COLUMN cancel_reason        TEXT NOT NULL DEFAULT '',
    ADD COLUMN cancel_requested_by  TEXT,
    ADD COLUMN cancel_decided_by    TEXT,
    ADD COLUMN cancel_note          TEXT NOT NULL DEFAULT '';

-- Calendar changes made once a phase has started: who, when, what.
CREATE TABLE campaign_calendar_changes (
    id              UUID PRIMARY KEY,
    campaign_id     UUID NOT NULL REFERENCES campaigns (id),
    changed_by      TEXT NOT NULL,
    changed_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_phases  TEXT[] NOT NULL,
    changes         JSONB NOT NULL
);
CREATE INDEX campaign_calendar_changes_campaign ON campaign_calendar_changes (campaign_id, changed_at);
