-- Supervision (督导): a supervisor's geotagged visit to an outlet with the method's checklist,
-- findings with an owner and a due date, and the review (复盘) of the visit.

-- Where an outlet is, for verifying that a supervision happened there (WGS-84).
ALTER TABLE org_units ADD COLUMN lat DOUBLE PRECISION;
ALTER TABLE org_units ADD COLUMN lon DOUBLE PRECISION;

CREATE TABLE supervisions (
    id              TEXT PRIMARY KEY NOT NULL,
    branch_id       TEXT NOT NULL,
    -- the outlet supervised
    org_unit_id     TEXT NOT NULL REFERENCES org_units (id),
    org_path        TEXT NOT NULL,
    supervisor_id   TEXT NOT NULL REFERENCES users (id),
    project_id      TEXT REFERENCES projects (id),
    visited_at      TIMESTAMP NOT NULL,
    lat             DOUBLE PRECISION NOT NULL,
    lon             DOUBLE PRECISION NOT NULL,
    accuracy_m      DOUBLE PRECISION NOT NULL,
    mock_location   BOOLEAN,
    location_age_s  DOUBLE PRECISION,
    verified        BOOLEAN NOT NULL,
    distance_m      DOUBLE PRECISION,
    reasons         TEXT NOT NULL,
    -- JSON list of {item, score, notes, photos}
    checklist       TEXT NOT NULL,
    -- the review (复盘): what worked, what to change
    review_worked   TEXT NOT NULL,
    review_change   TEXT NOT NULL,
    create_digest   TEXT NOT NULL,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP,
    seq             BIGINT NOT NULL,
    created_seq     BIGINT NOT NULL
);
CREATE INDEX supervisions_unit_time ON supervisions (org_unit_id, visited_at);
CREATE INDEX supervisions_supervisor_time ON supervisions (supervisor_id, visited_at);
CREATE INDEX supervisions_path_seq ON supervisions (org_path text_pattern_ops, seq);

CREATE TABLE supervision_findings (
    id              TEXT PRIMARY KEY NOT NULL,
    supervision_id  TEXT NOT NULL REFERENCES supervisions (id),
    branch_id       TEXT NOT NULL,
    org_unit_id     TEXT NOT NULL REFERENCES org_units (id),
    org_path        TEXT NOT NULL,
    owner_id        TEXT NOT NULL REFERENCES users (id),
    title           TEXT NOT NULL,
    detail          TEXT NOT NULL,
    due_on          DATE NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'done')),
    done_at         TIMESTAMP,
    done_by         TEXT REFERENCES users (id),
    done_note       TEXT,
    created_by      TEXT NOT NULL REFERENCES users (id),
    create_digest   TEXT NOT NULL,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP,
    seq             BIGINT NOT NULL,
    created_seq     BIGINT NOT NULL
);
CREATE INDEX supervision_findings_supervision ON supervision_findings (supervision_id);
-- The morning report's overdue findings of a unit, and an owner's list.
CREATE INDEX supervision_findings_unit_due ON supervision_findings (org_unit_id, status, due_on);
CREATE INDEX supervision_findings_owner ON supervision_findings (owner_id, status, due_on);
CREATE INDEX supervision_findings_path_seq ON supervision_findings (org_path text_pattern_ops, seq);
