-- The ticket list's scopes. `assigned` lists the tickets whose task the user holds an open assignment
-- on; `acted` those whose task has an assignment of the user that their own move ended (they acted,
-- escalated, transferred or cancelled it: not the SLA sweep, not someone else). The latter needs a fact
-- the columns did not have: `ended_by_holder`. Assignments that ended before this migration get it from
-- their document (the holder is the author of the last history entry).
ALTER TABLE assignments ADD COLUMN ended_by_holder BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE assignments SET ended_by_holder = COALESCE((data->'history'->-1->>'by') = (data->>'user'), FALSE)
    WHERE NOT is_open;
-- Both scopes are `EXISTS (SELECT 1 FROM assignments a WHERE a.ticket_id = tickets.id AND a.user_id = $1
-- AND a.is_open)` (or `AND a.ended_by_holder`): answered from this index alone, by user then ticket.
CREATE INDEX assignments_user_tickets ON assignments (user_id, ticket_id, is_open, ended_by_holder);
