-- Reports: the ended turns in the order the p90s read them. A p90 is the k-th shortest turn of its
-- group, so each group (a step of a workflow version; an agent's actions) is walked in an index
-- ordered by the group and then the turn's length, stopping at the k-th: no sort, no window. The
-- indexes carry the range and status columns, so the walk reads no table row. Only ended turns are
-- in them (an assignment enters once, when it ends).
CREATE INDEX assignments_step_turns ON assignments
    (workflow_id, workflow_version, step_id, turn_ms, acted_at, status) WHERE acted_at IS NOT NULL;
CREATE INDEX assignments_agent_turns ON assignments
    (user_id, status, turn_ms, acted_at) WHERE acted_at IS NOT NULL;
