-- Status columns hold only the values the code knows.
ALTER TABLE import_jobs ADD CONSTRAINT import_jobs_status_known CHECK (status IN (
    'receiving', 'queued', 'validating', 'importing', 'completed', 'rejected', 'failed'));
