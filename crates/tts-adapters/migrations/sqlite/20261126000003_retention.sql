-- Retention: bookkeeping rows carry the time they were written, so that old ones can be deleted in
-- batches (consumer dedup records, idempotency keys, expired refresh sessions). Rows written before this
-- migration count as written now. Times are RFC 3339 text in UTC, as sqlx writes them, so they compare
-- as text.

ALTER TABLE processed ADD COLUMN processed_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00+00:00';
UPDATE processed SET processed_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now');
CREATE INDEX processed_at ON processed (processed_at);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE INDEX refresh_sessions_expires_at ON refresh_sessions (expires_at);
