-- An assignment names its holder by id without requiring a `users` row, as the store port's contract
-- (and its conformance suite) allows: the engine only ever assigns users of the directory, and users
-- are never deleted, so the foreign key only refused what the port accepts. SQLite cannot drop a
-- foreign key, so the table is rebuilt (nothing references it) with the same columns and indexes.

CREATE TABLE assignments_new (
    id          BLOB PRIMARY KEY,
    task_id     BLOB NOT NULL REFERENCES tasks (id),
    user_id     BLOB NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('new','in_progress','resolved','escalated','reassigned','breached','cancelled')),
    is_open     BOOLEAN NOT NULL,
    assigned_at TEXT NOT NULL,
    warn_at     TEXT,
    target      TEXT,
    sla_warned  BOOLEAN NOT NULL,
    history_len INTEGER NOT NULL CHECK (history_len > 0),
    version     INTEGER NOT NULL CHECK (version > 0),
    data        TEXT NOT NULL
);
INSERT INTO assignments_new (id, task_id, user_id, status, is_open, assigned_at, warn_at, target, sla_warned,
                             history_len, version, data)
    SELECT id, task_id, user_id, status, is_open, assigned_at, warn_at, target, sla_warned,
           history_len, version, data
    FROM assignments;
DROP TABLE assignments;
ALTER TABLE assignments_new RENAME TO assignments;
CREATE INDEX assignments_task ON assignments (task_id, assigned_at);
CREATE INDEX assignments_user ON assignments (user_id, is_open, assigned_at);
CREATE INDEX assignments_due_target ON assignments (target) WHERE is_open;
CREATE INDEX assignments_due_warn ON assignments (warn_at) WHERE is_open AND NOT sla_warned;
