-- Comments and internal notes on tickets, stored whole in `data`. A ticket's thread is read oldest
-- first, with or without the internal notes (the requester's view): one index serves both.
CREATE TABLE comments (
    id          BLOB PRIMARY KEY,
    ticket_id   INTEGER NOT NULL,
    is_internal BOOLEAN NOT NULL,
    created_at  TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    data        TEXT NOT NULL
);
CREATE INDEX comments_thread ON comments (ticket_id, created_at, id);

-- Mentions find users by e-mail (stored lower-case); users.email is UNIQUE, so its index serves them.

-- Attachments are listed in their ticket's document; the blobs they use are counted here, so that a blob
-- is deleted only when no attachment refers to it. A blob nothing uses waits on the orphan list until
-- the sweep deletes it (sparing one written again since).
CREATE TABLE blob_refs (
    attachment_id BLOB PRIMARY KEY,
    sha256        TEXT NOT NULL
);
CREATE INDEX blob_refs_sha256 ON blob_refs (sha256);

CREATE TABLE blob_orphans (
    sha256 TEXT PRIMARY KEY,
    since  TEXT NOT NULL
);
CREATE INDEX blob_orphans_since ON blob_orphans (since);
