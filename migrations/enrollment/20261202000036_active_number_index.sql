-- The number's active applications are found through an index whatever
-- the kind (the vouchers migration made the unique index partial on
-- `voucher_blocks = '{}'`, which a lookup by number alone cannot use), and
-- a voucher applies at most once to a group, whatever the concurrency.
CREATE INDEX applications_active_number ON applications (unique_number_id)
    WHERE status IN ('enrolled', 'waitlisted');
CREATE UNIQUE INDEX applications_one_voucher_per_group ON applications (unique_number_id, group_id)
    WHERE status IN ('enrolled', 'waitlisted') AND voucher_blocks <> '{}';
