-- TTS schema, SQLite dialect. Entities are stored whole as JSON in `data`; the columns beside it are the
-- keys, constraints and indexes every list and filter of the API needs.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE tickets (
    id                BIGINT PRIMARY KEY,
    year              INTEGER NOT NULL,
    seq               INTEGER NOT NULL CHECK (seq > 0),
    number            TEXT NOT NULL UNIQUE,
    created_by        BLOB NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open','in_progress','on_hold','pending','resolved','closed','rejected','withdrawn')),
    priority          TEXT NOT NULL CHECK (priority IN ('low','medium','high','critical')),
    priority_rank     INTEGER NOT NULL CHECK (priority_rank BETWEEN 0 AND 3),
    category_key      TEXT NOT NULL,
    department_key    TEXT,
    is_task_allocated BOOLEAN NOT NULL,
    search_text       TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    version           INTEGER NOT NULL CHECK (version > 0),
    data              TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX tickets_created_by ON tickets (created_by);
CREATE INDEX tickets_status ON tickets (status, created_at);
CREATE INDEX tickets_priority ON tickets (priority_rank, created_at);
CREATE INDEX tickets_category ON tickets (category_key);
CREATE INDEX tickets_department ON tickets (department_key);
CREATE INDEX tickets_allocated ON tickets (is_task_allocated, created_at);
CREATE INDEX tickets_created_at ON tickets (created_at);
CREATE INDEX tickets_updated_at ON tickets (updated_at);

CREATE TABLE workflows (
    id       BLOB PRIMARY KEY,
    name_key TEXT NOT NULL UNIQUE,
    status   TEXT NOT NULL CHECK (status IN ('draft','active','paused','archived')),
    data     TEXT NOT NULL
);
CREATE INDEX workflows_status ON workflows (status);

CREATE TABLE workflow_versions (
    workflow_id BLOB NOT NULL REFERENCES workflows (id),
    version     INTEGER NOT NULL CHECK (version > 0),
    data        TEXT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

CREATE TABLE users (
    id        BLOB PRIMARY KEY,
    email     TEXT NOT NULL UNIQUE,
    is_active BOOLEAN NOT NULL,
    data      TEXT NOT NULL
);

CREATE TABLE roles (
    id         BLOB PRIMARY KEY,
    system_key TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    data       TEXT NOT NULL,
    UNIQUE (system_key, name_key)
);

CREATE TABLE memberships (
    role_id   BLOB NOT NULL REFERENCES roles (id),
    user_id   BLOB NOT NULL REFERENCES users (id),
    is_active BOOLEAN NOT NULL,
    PRIMARY KEY (role_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE cursors (
    role_id   BLOB PRIMARY KEY REFERENCES roles (id),
    last_user BLOB
);

CREATE TABLE tasks (
    id        BLOB PRIMARY KEY,
    ticket_id BIGINT NOT NULL UNIQUE REFERENCES tickets (id),
    status    TEXT NOT NULL CHECK (status IN ('pending','in_progress','completed','cancelled')),
    version   INTEGER NOT NULL CHECK (version > 0),
    data      TEXT NOT NULL
);

CREATE TABLE assignments (
    id          BLOB PRIMARY KEY,
    task_id     BLOB NOT NULL REFERENCES tasks (id),
    user_id     BLOB NOT NULL REFERENCES users (id),
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
CREATE INDEX assignments_task ON assignments (task_id, assigned_at);
CREATE INDEX assignments_user ON assignments (user_id, is_open, assigned_at);
CREATE INDEX assignments_due_target ON assignments (target) WHERE is_open;
CREATE INDEX assignments_due_warn ON assignments (warn_at) WHERE is_open AND NOT sla_warned;

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        BLOB NOT NULL UNIQUE,
    at        TEXT NOT NULL,
    ticket_id BIGINT,
    task_id   BLOB,
    data      TEXT NOT NULL
);
CREATE INDEX audit_ticket ON audit (ticket_id, seq);
CREATE INDEX audit_task ON audit (task_id, seq);

CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    sent_at    TEXT,
    data       TEXT NOT NULL
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

CREATE TABLE processed (
    consumer   TEXT NOT NULL,
    message_id BLOB NOT NULL,
    PRIMARY KEY (consumer, message_id)
);

CREATE TABLE notifications (
    id         BLOB PRIMARY KEY,
    user_id    BLOB NOT NULL,
    is_read    BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, is_read, created_at);

-- Local identity: argon2id password hashes and the lockout counters, keyed by lower-case e-mail.
CREATE TABLE credentials (
    email         TEXT PRIMARY KEY,
    user_id       BLOB NOT NULL,
    password_hash TEXT NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until  TEXT
);
