-- Reports: the facts the reports aggregate, as columns beside the documents, with the indexes their
-- ranges need. Workflow and step ids are kept as text on both databases (they are only grouped and
-- compared, never joined to a uuid key).
--
-- Reads are index-only where they can be: each report's range index carries the columns it groups and
-- counts by.
--
-- Tickets: when they were resolved and when they reached an end (closed, rejected, withdrawn), when they
-- left the backlog (the earlier of the two), whether no workflow matched them, and the workflow their
-- task runs. Tickets that ended before this migration get their last update as that time, in the column
-- and in the document.
ALTER TABLE tickets ADD COLUMN resolved_at TEXT;
ALTER TABLE tickets ADD COLUMN closed_at TEXT;
ALTER TABLE tickets ADD COLUMN done_at TEXT;
ALTER TABLE tickets ADD COLUMN is_unroutable BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tickets ADD COLUMN workflow_id TEXT;
UPDATE tickets SET
    resolved_at = CASE WHEN status IN ('resolved', 'closed') THEN updated_at END,
    closed_at = CASE WHEN status IN ('closed', 'rejected', 'withdrawn') THEN updated_at END,
    is_unroutable = json_extract(data, '$.unroutable') IS NOT NULL;
UPDATE tickets SET done_at = COALESCE(resolved_at, closed_at),
    data = json_set(data, '$.resolved_at', resolved_at, '$.closed_at', closed_at)
    WHERE resolved_at IS NOT NULL OR closed_at IS NOT NULL;
CREATE INDEX tickets_resolved_at ON tickets (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX tickets_closed_at ON tickets (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX tickets_done_at ON tickets (done_at) WHERE done_at IS NOT NULL;
-- The ticket list's order by creation, and the reports' breakdown of the tickets created in a range.
DROP INDEX tickets_created_at;
CREATE INDEX tickets_created_at ON tickets (created_at, status, priority, category_key, workflow_id);

-- Tasks: the workflow version they run.
ALTER TABLE tasks ADD COLUMN workflow_id TEXT;
ALTER TABLE tasks ADD COLUMN workflow_version INTEGER;
UPDATE tasks SET workflow_id = json_extract(data, '$.workflow_id'),
    workflow_version = json_extract(data, '$.workflow_version');
UPDATE tickets SET workflow_id = (SELECT k.workflow_id FROM tasks k WHERE k.ticket_id = tickets.id);
UPDATE tickets SET data = json_set(data, '$.workflow_id', workflow_id) WHERE workflow_id IS NOT NULL;

-- Assignments: their ticket and workflow version (copied from the task, so that reports need no join),
-- step, origin, when they ended (in the format the store writes times in) and how long the turn took
-- (whole milliseconds), and whether they were ever breached.
ALTER TABLE assignments ADD COLUMN ticket_id INTEGER;
ALTER TABLE assignments ADD COLUMN workflow_id TEXT;
ALTER TABLE assignments ADD COLUMN workflow_version INTEGER;
ALTER TABLE assignments ADD COLUMN step_id TEXT;
ALTER TABLE assignments ADD COLUMN origin TEXT;
ALTER TABLE assignments ADD COLUMN acted_at TEXT;
ALTER TABLE assignments ADD COLUMN breached BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE assignments ADD COLUMN turn_ms INTEGER;
UPDATE assignments SET
    ticket_id = (SELECT k.ticket_id FROM tasks k WHERE k.id = assignments.task_id),
    workflow_id = (SELECT k.workflow_id FROM tasks k WHERE k.id = assignments.task_id),
    workflow_version = (SELECT k.workflow_version FROM tasks k WHERE k.id = assignments.task_id),
    step_id = json_extract(data, '$.step'),
    origin = json_extract(data, '$.origin'),
    acted_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', json_extract(data, '$.acted_at')),
    breached = EXISTS (SELECT 1 FROM json_each(data, '$.history') h
                       WHERE json_extract(h.value, '$.status') = 'breached'),
    turn_ms = CAST((julianday(json_extract(data, '$.acted_at')) - julianday(assigned_at)) * 86400000 AS INTEGER);
-- SLA outcomes by due date; ended turns (agents' actions, time per step); escalations and transfers in.
CREATE INDEX assignments_target ON assignments
    (target, breached, status, sla_warned, workflow_id, workflow_version, step_id, user_id) WHERE target IS NOT NULL;
CREATE INDEX assignments_acted_at ON assignments
    (acted_at, status, user_id, turn_ms, workflow_id, workflow_version, step_id) WHERE acted_at IS NOT NULL;
CREATE INDEX assignments_handed_in ON assignments (assigned_at, origin, user_id) WHERE origin <> 'system';
CREATE INDEX assignments_open ON assignments (user_id) WHERE is_open;
