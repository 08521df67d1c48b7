-- Which run of a request holds its key: a retry may take over a claim
-- whose caller has stopped waiting (its process died, say), and only the
-- holder can record an answer, so the superseded run's effect rolls back
-- with its transaction instead of happening twice.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS claim UUID;
