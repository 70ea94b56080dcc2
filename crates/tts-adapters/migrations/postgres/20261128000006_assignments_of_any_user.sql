-- An assignment names its holder by id without requiring a `users` row, as the store port's contract
-- (and its conformance suite) allows: the engine only ever assigns users of the directory, and users
-- are never deleted, so the foreign key only refused what the port accepts.

ALTER TABLE assignments DROP CONSTRAINT assignments_user_id_fkey;
