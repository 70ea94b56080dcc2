-- Idempotent ticket creation and refresh-token sessions.

-- One row per (user, Idempotency-Key): the request's fingerprint and the ticket the first request created.
-- Written in the same transaction as the ticket.
CREATE TABLE idempotency_keys (
    user_id     UUID NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Local identity: one row per login session (a family of rotating refresh tokens). Only `current_token`
-- may be presented; presenting an older token of the family sets `revoked`, which is never cleared.
CREATE TABLE refresh_sessions (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL,
    current_token UUID NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    revoked       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX refresh_sessions_user ON refresh_sessions (user_id);
