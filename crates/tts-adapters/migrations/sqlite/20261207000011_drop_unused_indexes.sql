-- Indexes no statement of the store uses on SQLite (issue 15). Every index is written again with each
-- insert of its table, and with each update of a column it holds; these three only cost. The inventory
-- (each index with the statements that use it, checked with EXPLAIN QUERY PLAN with and without
-- ANALYZE) is in benches/README.md, session 12. No plan changes but the relay's, which walks the table
-- instead. PostgreSQL drops only the first: its planner uses the other two.

-- `outbox (seq) WHERE sent_at IS NULL`: nothing sets `sent_at` (delivered messages are deleted), so
-- this index holds every row in `seq` order, which is the table's own order (`seq` is the rowid). The
-- relay's `unsent_outbox` (`WHERE sent_at IS NULL [AND seq <= $2] ORDER BY seq LIMIT $1`) walks the
-- table by rowid instead.
DROP INDEX IF EXISTS outbox_unsent;

-- `assignments (warn_at) WHERE is_open AND NOT sla_warned`: its one reader, the SLA sweep
-- (`assignments_due`), tests `warn_at` inside an OR, where SQLite cannot prove the index's condition
-- (naming it with INDEXED BY gives "no query solution"). The sweep walks `assignments_due_target`.
DROP INDEX IF EXISTS assignments_due_warn;

-- `assignments (user_id, is_open, assigned_at)`: the assignment list filters with a bare `is_open`,
-- which SQLite does not match to an index column, so only `user_id` could be used, and it leads
-- `assignments_user_tickets`, which is the one the planner picks (and `assignments_open` when the list
-- is of open assignments only).
DROP INDEX IF EXISTS assignments_user;
