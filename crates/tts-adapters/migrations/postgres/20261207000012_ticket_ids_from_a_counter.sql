-- Ticket ids come from a counter row beside each year's numbers, as on SQLite, instead of a sequence: a
-- server that knows where both counters stand can then move them in the statement that writes its
-- tickets, checked to find them where it expected (sql/forecast.rs), so a batch of creates is one
-- statement. The row starts after every id the sequence gave out and every id in use.
INSERT INTO counters (name, value)
SELECT 'ticket_id', GREATEST(
    COALESCE((SELECT max(id) FROM tickets), 0),
    (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ticket_ids))
ON CONFLICT (name) DO NOTHING;

DROP SEQUENCE ticket_ids;

-- A statement that finds a counter moved since its server saw it ends through this function: an error
-- with SQLSTATE 40001 (serialization_failure) aborts the whole statement, so nothing of it is kept, and
-- the engine runs the command again, as after any lost race.
CREATE FUNCTION tts_lost_race() RETURNS BIGINT LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a counter moved since it was read; retry' USING ERRCODE = 'serialization_failure';
END
$$;
