-- Retention: bookkeeping rows carry the time they were written, so that old ones can be deleted in
-- batches (consumer dedup records, idempotency keys, expired refresh sessions). Rows written before this
-- migration count as written now.

ALTER TABLE processed ADD COLUMN processed_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE processed ALTER COLUMN processed_at DROP DEFAULT;
CREATE INDEX processed_at ON processed (processed_at);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE INDEX refresh_sessions_expires_at ON refresh_sessions (expires_at);
