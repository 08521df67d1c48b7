-- Account lifecycle: who created an account (scoped operators grant roles
-- only to their own accounts or to accounts inside their scope), active /
-- deactivated accounts, one-time passwords, refresh-token families for
-- reuse detection, and the audit trail of every security-relevant change.

ALTER TABLE users
    ADD COLUMN created_by            UUID,
    ADD COLUMN active                BOOLEAN NOT NULL DEFAULT true,
    ADD COLUMN deactivated_at        TIMESTAMPTZ,
    ADD COLUMN deactivation_reason   TEXT NOT NULL DEFAULT '',
    -- Set by an operator's password reset: the one-time password signs in
    -- only to set a new one.
    ADD COLUMN must_change_password  BOOLEAN NOT NULL DEFAULT false,
    -- Access tokens issued before this instant are refused (deactivation,
    -- revoked grants, password changes); see the sessions_revoked event.
    ADD COLUMN tokens_valid_after    TIMESTAMPTZ;
CREATE INDEX users_created_by ON users (created_by);

-- Every refresh token descends from one sign-in; presenting a token that
-- was already exchanged revokes the whole family (it was stolen or leaked).
ALTER TABLE refresh_tokens
    ADD COLUMN family_id  UUID,
    ADD COLUMN used_at    TIMESTAMPTZ;
UPDATE refresh_tokens SET family_id = gen_random_uuid() WHERE family_id IS NULL;
ALTER TABLE refresh_tokens ALTER COLUMN family_id SET NOT NULL;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE INDEX role_grants_user ON role_grants (user_id);
CREATE INDEX role_grants_scope ON role_grants (role, scope_id);

CREATE TABLE audit_log (
    id          UUID PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor_id    UUID,
    action      TEXT NOT NULL CHECK (action IN (
                    'role_granted', 'role_revoked', 'user_created', 'user_deactivated',
                    'user_reactivated', 'password_reset', 'password_changed',
                    'refresh_reuse_detected')),
    user_id     UUID NOT NULL,
    details     JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_user ON audit_log (user_id, at DESC);
CREATE INDEX audit_log_at ON audit_log (at DESC);
