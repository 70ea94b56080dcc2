-- Logins live in the store: one credential per user (committed with the user), throttle counters per
-- e-mail and client instead of a lockout per account, and sessions that end instead of being revoked.

-- Credentials: the lockout columns go (login_throttles replace them) and a user has one login.
ALTER TABLE credentials DROP COLUMN failures, DROP COLUMN locked_until;
ALTER TABLE credentials ADD CONSTRAINT credentials_user_id_key UNIQUE (user_id);

-- Failed logins of one client on one e-mail (known or not); pruned by `updated_at`.
CREATE TABLE login_throttles (
    email      TEXT NOT NULL,
    client     TEXT NOT NULL,
    failures   BIGINT NOT NULL CHECK (failures >= 0),
    retry_at   TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (email, client)
);
CREATE INDEX login_throttles_updated_at ON login_throttles (updated_at);

-- Sessions end (logout, reuse, password change, deactivation, role change) at a time every server reads
-- back to refuse the session's access tokens. Revoked sessions count as ended now.
ALTER TABLE refresh_sessions ADD COLUMN ended_at TIMESTAMPTZ;
UPDATE refresh_sessions SET ended_at = now() WHERE revoked;
ALTER TABLE refresh_sessions DROP COLUMN revoked;
CREATE INDEX refresh_sessions_ended_at ON refresh_sessions (ended_at) WHERE ended_at IS NOT NULL;
