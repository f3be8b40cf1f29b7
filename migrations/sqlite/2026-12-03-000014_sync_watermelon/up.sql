-- WatermelonDB-native sync (docs/SYNC.md). A push is acknowledged whole; what the server did
-- not take as sent reaches the phone through the next pull:

-- Records to send one user again on their next pull (a refused or normalised change): the
-- server's copy, or a deletion when the user cannot read the record. One row per record, its
-- change number renewed at each resend.
CREATE TABLE sync_resends (
    user_id     TEXT NOT NULL REFERENCES users (id),
    entity      TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (user_id, entity, record_id)
);
CREATE INDEX sync_resends_by_user ON sync_resends (user_id, seq);

-- Why a pushed change was refused, synced to its author as a table of its own; the app shows
-- it and dismisses it by deleting it.
CREATE TABLE sync_rejections (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    table_name  TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    -- the problem's stable code, the message in Chinese, and the detail as the API gives it
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    -- the existing record a refused duplicate is, when the author may read it
    existing_id TEXT,
    created_at  TIMESTAMP NOT NULL,
    seq         BIGINT NOT NULL,
    deleted_at  TIMESTAMP
);
CREATE INDEX sync_rejections_by_user ON sync_rejections (user_id, seq);
