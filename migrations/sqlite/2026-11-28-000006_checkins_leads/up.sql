-- Leads (线索): the people outreach finds. Event check-ins create them; the segment-project work
-- extends this table. One lead per phone within a branch.
CREATE TABLE leads (
    id           TEXT PRIMARY KEY NOT NULL,
    branch_id    TEXT NOT NULL,
    org_unit_id  TEXT NOT NULL REFERENCES org_units (id),
    org_path     TEXT NOT NULL,
    owner_id     TEXT NOT NULL REFERENCES users (id),
    project_id   TEXT,
    name         TEXT NOT NULL,
    phone        TEXT NOT NULL,
    source       TEXT NOT NULL,
    source_id    TEXT,
    status       TEXT NOT NULL,
    version      BIGINT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (branch_id, phone)
);

ALTER TABLE registrations ADD COLUMN lead_id TEXT REFERENCES leads (id);
