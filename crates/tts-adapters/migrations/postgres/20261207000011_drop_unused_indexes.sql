-- Indexes no statement of the store uses on PostgreSQL (issue 15). Every index is written again with
-- each insert of its table; this one only costs. The inventory (each index with the statements that use
-- it, checked with EXPLAIN, also with enable_seqscan off) is in benches/README.md, session 12.
--
-- SQLite also drops `assignments_due_warn` and `assignments_user`; PostgreSQL keeps both: the SLA
-- sweep reads `assignments_due_warn` in a BitmapOr when few assignments are due, and the assignment
-- list of one user's open assignments walks `assignments_user` in `assigned_at` order.

-- `outbox (seq) WHERE sent_at IS NULL`: nothing sets `sent_at` (delivered messages are deleted), so
-- this index holds every row in `seq` order, as `outbox_pkey` does. The relay's `unsent_outbox`
-- (`WHERE sent_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`) walks `outbox_pkey` instead.
DROP INDEX IF EXISTS outbox_unsent;
