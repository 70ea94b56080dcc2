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
ALTER TABLE tickets ADD COLUMN resolved_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN closed_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN done_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN is_unroutable BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tickets ADD COLUMN workflow_id TEXT;
UPDATE tickets SET
    resolved_at = CASE WHEN status IN ('resolved', 'closed') THEN updated_at END,
    closed_at = CASE WHEN status IN ('closed', 'rejected', 'withdrawn') THEN updated_at END,
    is_unroutable = (data->>'unroutable') IS NOT NULL;
UPDATE tickets SET done_at = COALESCE(resolved_at, closed_at),
    data = (data::jsonb || jsonb_build_object('resolved_at', resolved_at, 'closed_at', closed_at))::json
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
UPDATE tasks SET workflow_id = data->>'workflow_id', workflow_version = (data->>'workflow_version')::integer;
UPDATE tickets t SET workflow_id = k.workflow_id,
    data = (t.data::jsonb || jsonb_build_object('workflow_id', k.workflow_id))::json
    FROM tasks k WHERE k.ticket_id = t.id;

-- Assignments: their ticket and workflow version (copied from the task, so that reports need no join),
-- step, origin, when they ended and how long the turn took (whole milliseconds), and whether they were
-- ever breached.
ALTER TABLE assignments ADD COLUMN ticket_id BIGINT;
ALTER TABLE assignments ADD COLUMN workflow_id TEXT;
ALTER TABLE assignments ADD COLUMN workflow_version INTEGER;
ALTER TABLE assignments ADD COLUMN step_id TEXT;
ALTER TABLE assignments ADD COLUMN origin TEXT;
ALTER TABLE assignments ADD COLUMN acted_at TIMESTAMPTZ;
ALTER TABLE assignments ADD COLUMN breached BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE assignments ADD COLUMN turn_ms BIGINT;
UPDATE assignments a SET
    ticket_id = k.ticket_id,
    workflow_id = k.workflow_id,
    workflow_version = k.workflow_version,
    step_id = a.data->>'step',
    origin = a.data->>'origin',
    acted_at = (a.data->>'acted_at')::timestamptz,
    breached = EXISTS (SELECT 1 FROM json_array_elements(a.data->'history') h WHERE h->>'status' = 'breached'),
    turn_ms = FLOOR(EXTRACT(EPOCH FROM ((a.data->>'acted_at')::timestamptz - a.assigned_at)) * 1000)::bigint
    FROM tasks k WHERE k.id = a.task_id;
-- SLA outcomes by due date; ended turns (agents' actions, time per step); escalations and transfers in.
CREATE INDEX assignments_target ON assignments
    (target, breached, status, sla_warned, workflow_id, workflow_version, step_id, user_id) WHERE target IS NOT NULL;
CREATE INDEX assignments_acted_at ON assignments
    (acted_at, status, user_id, turn_ms, workflow_id, workflow_version, step_id) WHERE acted_at IS NOT NULL;
CREATE INDEX assignments_handed_in ON assignments (assigned_at, origin, user_id) WHERE origin <> 'system';
CREATE INDEX assignments_open ON assignments (user_id) WHERE is_open;
