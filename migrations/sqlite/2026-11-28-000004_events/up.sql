-- Non-financial community events with a partner, their six steps, and public registrations.
CREATE TABLE events (
    id                     TEXT PRIMARY KEY NOT NULL,
    branch_id              TEXT NOT NULL,
    org_unit_id            TEXT NOT NULL REFERENCES org_units (id),
    org_path               TEXT NOT NULL,
    owner_id               TEXT NOT NULL REFERENCES users (id),
    partner_id             TEXT NOT NULL REFERENCES partners (id),
    project_id             TEXT,
    title                  TEXT NOT NULL,
    theme                  TEXT NOT NULL,
    description            TEXT NOT NULL,
    starts_at              TIMESTAMP NOT NULL,
    ends_at                TIMESTAMP NOT NULL,
    venue                  TEXT NOT NULL,
    lat                    REAL NOT NULL,
    lon                    REAL NOT NULL,
    lat_band               BIGINT NOT NULL,
    capacity               INTEGER NOT NULL,
    registration_deadline  TIMESTAMP NOT NULL,
    -- the unguessable code in the public link and QR code
    registration_code      TEXT NOT NULL UNIQUE,
    registration_open      BOOLEAN NOT NULL,
    status                 TEXT NOT NULL,
    -- places taken; raised with a conditional UPDATE so capacity holds under concurrency
    registered_count       INTEGER NOT NULL,
    retention_days         INTEGER NOT NULL,
    create_digest          TEXT NOT NULL,
    version                BIGINT NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL,
    deleted_at             TIMESTAMP,
    seq                    BIGINT NOT NULL,
    created_seq            BIGINT NOT NULL
);
CREATE INDEX events_path_seq ON events (org_path, seq);
CREATE INDEX events_partner ON events (partner_id);
CREATE INDEX events_branch_start ON events (branch_id, starts_at);
CREATE INDEX events_band_lon ON events (lat_band, lon);

CREATE TABLE event_steps (
    event_id      TEXT NOT NULL REFERENCES events (id),
    step          TEXT NOT NULL,
    position      INTEGER NOT NULL,
    -- JSON: [{"item": "…", "done": false}]
    checklist     TEXT NOT NULL,
    due_at        TIMESTAMP NOT NULL,
    completed_at  TIMESTAMP,
    completed_by  TEXT REFERENCES users (id),
    notes         TEXT,
    -- JSON: photo ids
    evidence      TEXT NOT NULL,
    -- JSON: the review's figures, computed at completion
    figures       TEXT,
    PRIMARY KEY (event_id, step)
);
