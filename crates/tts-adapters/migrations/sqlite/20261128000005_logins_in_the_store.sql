-- Logins live in the store: one credential per user (committed with the user), throttle counters per
-- e-mail and client instead of a lockout per account, and sessions that end instead of being revoked.

-- Credentials: the lockout columns go (login_throttles replace them) and a user has one login. SQLite
-- cannot drop a column that has a CHECK, so the table is rebuilt.
CREATE TABLE credentials_new (
    email         TEXT PRIMARY KEY,
    user_id       BLOB NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
INSERT INTO credentials_new (email, user_id, password_hash)
    SELECT email, user_id, password_hash FROM credentials;
DROP TABLE credentials;
ALTER TABLE credentials_new RENAME TO credentials;

-- Failed logins of one client on one e-mail (known or not); pruned by `updated_at`.
CREATE TABLE login_throttles (
    email      TEXT NOT NULL,
    client     TEXT NOT NULL,
    failures   INTEGER NOT NULL CHECK (failures >= 0),
    retry_at   TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (email, client)
);
CREATE INDEX login_throttles_updated_at ON login_throttles (updated_at);

-- Sessions end (logout, reuse, password change, deactivation, role change) at a time every server reads
-- back to refuse the session's access tokens. Revoked sessions count as ended now.
ALTER TABLE refresh_sessions ADD COLUMN ended_at TEXT;
UPDATE refresh_sessions SET ended_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') WHERE revoked;
ALTER TABLE refresh_sessions DROP COLUMN revoked;
CREATE INDEX refresh_sessions_ended_at ON refresh_sessions (ended_at) WHERE ended_at IS NOT NULL;
