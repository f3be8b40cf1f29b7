-- Schema version 2 of the phone's sync (docs/SYNC.md): leads, events, their steps and
-- attendees, projects and the directory go offline. Each needs a change number; existing rows
-- keep 0, which every first sync and every migration pull reads (they start from -1).

-- Event steps are keyed by (event, step); the phone needs one id per record.
ALTER TABLE event_steps ADD COLUMN sync_id TEXT NOT NULL DEFAULT '';
UPDATE event_steps SET sync_id =
    lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
    substr(lower(hex(randomblob(2))), 2) || '-' ||
    substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' ||
    lower(hex(randomblob(6)));
CREATE UNIQUE INDEX event_steps_sync_id ON event_steps (sync_id);
ALTER TABLE event_steps ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX event_steps_seq ON event_steps (seq);

ALTER TABLE registrations ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX registrations_seq ON registrations (seq);

ALTER TABLE projects ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX projects_seq ON projects (seq);

ALTER TABLE org_units ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX org_units_seq ON org_units (seq);

-- `scope_seq`: the change that last moved the user to another role, unit or activity; a phone
-- that pulled before it holds another scope's records and must start again.
ALTER TABLE users ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN scope_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX users_seq ON users (seq);
