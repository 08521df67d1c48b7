-- Vouchers (voucher_hours): allocation's numbers with blocks of hours. An
-- application spends one or more blocks of its voucher instead of the
-- whole number, so a voucher may have an active application per block.

CREATE TABLE voucher_blocks (
    number_id      uuid NOT NULL REFERENCES unique_numbers (id),
    -- 1, 2, … as allocation numbers them.
    position       integer NOT NULL,
    -- subject | free | internship
    kind           text NOT NULL,
    hours          integer NOT NULL,
    -- The active application spending it; the row lock serializes spenders.
    application_id uuid,
    PRIMARY KEY (number_id, position)
);
CREATE INDEX voucher_blocks_application ON voucher_blocks (application_id)
    WHERE application_id IS NOT NULL;

-- What the subject-match and internship rules need of a program.
ALTER TABLE groups
    ADD COLUMN program_kind text NOT NULL DEFAULT 'ordinary',
    ADD COLUMN target_subjects text[] NOT NULL DEFAULT '{}';

-- The blocks an application spends (none for un_quota).
ALTER TABLE applications ADD COLUMN voucher_blocks integer[] NOT NULL DEFAULT '{}';

-- One active application per number still, but per block for vouchers.
DROP INDEX applications_one_per_number;
CREATE UNIQUE INDEX applications_one_per_number ON applications (unique_number_id)
    WHERE status IN ('enrolled', 'waitlisted') AND voucher_blocks = '{}';
