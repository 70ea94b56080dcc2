-- Entity documents as `json` instead of `jsonb`. Nothing queries inside the `data` columns (every list
-- and filter uses the key columns beside them), so the server need not parse each document into jsonb
-- on write and print it back on read; `json` keeps the text as written and still checks it is JSON.

ALTER TABLE tickets ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE workflows ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE workflow_versions ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE users ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE roles ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE tasks ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE assignments ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE audit ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE outbox ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE notifications ALTER COLUMN data TYPE json USING data::json;
