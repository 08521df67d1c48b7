-- Role grants as identity announces them, in version order: a revocation
-- stays as an inactive row with its version, so a grant delivered after
-- it (an older event) cannot bring the role back.
ALTER TABLE known_grants ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE known_grants ADD COLUMN IF NOT EXISTS active BOOLEAN NOT NULL DEFAULT true;

-- Regions and providers are snapshots; `applied_versions` orders them.

-- Queries that exist: a provider's programs.
CREATE INDEX IF NOT EXISTS programs_provider ON programs (provider_id, campaign_id);

-- Status columns hold only the values the code knows.
ALTER TABLE programs ADD CONSTRAINT programs_status_known CHECK (status IN (
    'draft', 'submitted', 'returned', 'in_review', 'expert_rejected', 'reviewed',
    'recommended', 'not_recommended', 'approved', 'excluded'));
ALTER TABLE programs ADD CONSTRAINT programs_kind_known CHECK (kind IN ('ordinary', 'internship', 'cumulative'));
ALTER TABLE programs ADD CONSTRAINT programs_form_known CHECK (form IN ('full_time', 'distance', 'blended'));
ALTER TABLE groups ADD CONSTRAINT groups_status_known CHECK (status IN ('draft', 'published', 'cancelled'));
ALTER TABLE groups ADD CONSTRAINT groups_cancellation_known CHECK (cancellation IN ('', 'requested', 'rejected'));
ALTER TABLE council_sessions ADD CONSTRAINT council_sessions_status_known CHECK (status IN ('open', 'closed', 'approved', 'cancelled'));
