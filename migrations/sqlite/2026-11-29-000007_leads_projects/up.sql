-- Leads in full, segment projects with their team, targets, schedule and points ledger.

-- Days of a project and of the morning report are counted in the branch's own time zone.
ALTER TABLE org_units ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai';

ALTER TABLE leads ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';
-- checked by the domain; no foreign key, so SQLite can drop the column on the way down
ALTER TABLE leads ADD COLUMN partner_id TEXT;
ALTER TABLE leads ADD COLUMN segment TEXT NOT NULL DEFAULT 'outreach';
-- JSON lists of short texts
ALTER TABLE leads ADD COLUMN portrait_tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE leads ADD COLUMN needs TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN product_interest TEXT NOT NULL DEFAULT '[]';
-- money in fen (0.01 yuan): exact sums
ALTER TABLE leads ADD COLUMN expected_amount_fen BIGINT;
ALTER TABLE leads ADD COLUMN converted_amount_fen BIGINT;
ALTER TABLE leads ADD COLUMN converted_at TIMESTAMP;
ALTER TABLE leads ADD COLUMN lost_reason TEXT;
ALTER TABLE leads ADD COLUMN do_not_contact BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE leads ADD COLUMN create_digest TEXT NOT NULL DEFAULT '';
-- Covering the per-owner counts of a project's progress.
CREATE INDEX leads_project_owner ON leads (project_id, owner_id, created_at);
CREATE INDEX leads_project_converted ON leads (project_id, converted_at);
CREATE INDEX leads_owner ON leads (owner_id, created_at);
CREATE INDEX leads_path ON leads (org_path);

-- Status moves and reassignments of a lead.
CREATE TABLE lead_history (
    id          TEXT PRIMARY KEY NOT NULL,
    lead_id     TEXT NOT NULL REFERENCES leads (id),
    kind        TEXT NOT NULL,
    from_value  TEXT,
    to_value    TEXT NOT NULL,
    note        TEXT,
    changed_by  TEXT NOT NULL REFERENCES users (id),
    changed_at  TIMESTAMP NOT NULL
);
CREATE INDEX lead_history_lead ON lead_history (lead_id, id);

ALTER TABLE visits ADD COLUMN project_id TEXT;
-- Covering the per-visitor counts of a project's progress (no table lookups on 50k visits).
CREATE INDEX visits_project_user ON visits (project_id, user_id, visited_at, verified, deleted_at);
CREATE INDEX events_project ON events (project_id, starts_at);

-- A project's visits per visitor and local day, kept in step with every visit write: progress
-- sums at most members × days rows instead of counting every visit.
CREATE TABLE project_visit_days (
    project_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    day         DATE NOT NULL,
    visits      INTEGER NOT NULL,
    verified    INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, user_id)
);

CREATE TABLE projects (
    id                TEXT PRIMARY KEY NOT NULL,
    branch_id         TEXT NOT NULL,
    org_unit_id       TEXT NOT NULL REFERENCES org_units (id),
    org_path          TEXT NOT NULL,
    name              TEXT NOT NULL,
    segment           TEXT NOT NULL,
    portrait_tags     TEXT NOT NULL,
    product_package   TEXT NOT NULL,
    service_package   TEXT NOT NULL,
    starts_on         DATE NOT NULL,
    ends_on           DATE NOT NULL,
    status            TEXT NOT NULL,
    lead_id           TEXT NOT NULL REFERENCES users (id),
    supervisor_id     TEXT REFERENCES users (id),
    created_by        TEXT NOT NULL REFERENCES users (id),
    create_digest     TEXT NOT NULL,
    version           BIGINT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX projects_path ON projects (org_path);

CREATE TABLE project_members (
    project_id  TEXT NOT NULL REFERENCES projects (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

-- A target of a metric: the total (user_id '') or one member's share.
CREATE TABLE project_targets (
    project_id  TEXT NOT NULL REFERENCES projects (id),
    metric      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    value       DOUBLE NOT NULL,
    PRIMARY KEY (project_id, metric, user_id)
);

CREATE TABLE project_manual_metrics (
    id          TEXT PRIMARY KEY NOT NULL,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    name        TEXT NOT NULL,
    unit        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX project_manual_metrics_project ON project_manual_metrics (project_id);

CREATE TABLE project_manual_values (
    id          TEXT PRIMARY KEY NOT NULL,
    metric_id   TEXT NOT NULL REFERENCES project_manual_metrics (id),
    project_id  TEXT NOT NULL REFERENCES projects (id),
    user_id     TEXT REFERENCES users (id),
    on_date     DATE NOT NULL,
    value       DOUBLE NOT NULL,
    entered_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX project_manual_values_metric ON project_manual_values (metric_id, on_date);

CREATE TABLE project_points_rules (
    project_id  TEXT NOT NULL REFERENCES projects (id),
    action      TEXT NOT NULL,
    points      INTEGER NOT NULL,
    daily_cap   INTEGER,
    PRIMARY KEY (project_id, action)
);

CREATE TABLE project_milestones (
    id          TEXT PRIMARY KEY NOT NULL,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    title       TEXT NOT NULL,
    due_on      DATE NOT NULL,
    done_at     TIMESTAMP,
    done_by     TEXT REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX project_milestones_project ON project_milestones (project_id, due_on);

-- Append-only: a balance is the sum of a member's entries; an invalidated source gets a
-- reversing entry instead of an edit.
CREATE TABLE points_entries (
    id           TEXT PRIMARY KEY NOT NULL,
    project_id   TEXT NOT NULL REFERENCES projects (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    action       TEXT NOT NULL,
    source_type  TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    points       INTEGER NOT NULL,
    occurred_at  TIMESTAMP NOT NULL,
    reverses_id  TEXT,
    created_at   TIMESTAMP NOT NULL
);
-- Time first, covering what the leaderboard sums: a day's board reads only that day's entries.
CREATE INDEX points_entries_project_time ON points_entries (project_id, occurred_at, user_id, action, points, id);
CREATE INDEX points_entries_reversals ON points_entries (project_id, reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX points_entries_source ON points_entries (source_id, action);
CREATE INDEX points_entries_user_time ON points_entries (user_id, occurred_at);
