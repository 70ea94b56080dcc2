-- Without a broker the outbox is the queue: each message names the queue of the consumer that handles
-- it, counts its failed deliveries and is due again at `available_at` (after a back-off). Consumers
-- claim due rows of their queue and delete them in the unit that applies their effect.
ALTER TABLE outbox ADD COLUMN queue TEXT;
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE outbox ADD COLUMN available_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
UPDATE outbox SET available_at = created_at;
ALTER TABLE outbox ALTER COLUMN available_at SET NOT NULL;
-- Messages written before: routed by event type to the default queue names. Other events only fed live
-- views of a process that has since stopped: nothing would ever consume them.
UPDATE outbox SET queue = CASE data->'event'->>'type'
    WHEN 'ticket.created' THEN 'TICKET_TASKS_PRODUCTION'
    WHEN 'ticket.allocation_requested' THEN 'TICKET_TASKS_PRODUCTION'
    WHEN 'notification.requested' THEN 'notification-queue-default'
END;
DELETE FROM outbox WHERE queue IS NULL;
-- The consumers' claim: due rows of one queue in write order.
CREATE INDEX outbox_queue ON outbox (queue, seq);

-- Messages no consumer will try again, until an admin replays or deletes them.
CREATE TABLE dead_letters (
    id        UUID PRIMARY KEY,
    queue     TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL,
    data      JSON NOT NULL
);
CREATE INDEX dead_letters_failed_at ON dead_letters (failed_at, id);
