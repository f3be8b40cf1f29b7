-- Alliance partners, their status history, and the audit log of changes to business records.
CREATE TABLE partners (
    id                  TEXT PRIMARY KEY NOT NULL,
    branch_id           TEXT NOT NULL,
    org_unit_id         TEXT NOT NULL REFERENCES org_units (id),
    org_path            TEXT NOT NULL,
    owner_id            TEXT NOT NULL REFERENCES users (id),
    name                TEXT NOT NULL,
    category            TEXT NOT NULL,
    status              TEXT NOT NULL,
    -- WGS-84 degrees; lat_band = floor(lat * 100) makes (lat_band, lon) a box index on any SQL
    lat                 DOUBLE PRECISION NOT NULL,
    lon                 DOUBLE PRECISION NOT NULL,
    lat_band            BIGINT NOT NULL,
    address             TEXT NOT NULL,
    contact_name        TEXT,
    contact_phone       TEXT,
    audience_size       BIGINT,
    audience_unit       TEXT,
    pain_points         TEXT NOT NULL,
    agreed_benefits     TEXT NOT NULL,
    visit_cadence_days  INTEGER NOT NULL,
    geofence_m          INTEGER NOT NULL,
    -- the deepest org unit whose territory holds the location (derived)
    territory_unit_id   TEXT,
    -- SHA-256 of the create request, so a retried create with the same id is recognised
    create_digest       TEXT NOT NULL,
    version             BIGINT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    deleted_at          TIMESTAMP
);
CREATE INDEX partners_band_lon ON partners (lat_band, lon);
CREATE INDEX partners_owner ON partners (owner_id);
CREATE INDEX partners_branch_updated ON partners (branch_id, updated_at);
CREATE INDEX partners_territory ON partners (territory_unit_id);

CREATE TABLE partner_status_changes (
    id           TEXT PRIMARY KEY NOT NULL,
    partner_id   TEXT NOT NULL REFERENCES partners (id),
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    changed_by   TEXT NOT NULL REFERENCES users (id),
    note         TEXT,
    changed_at   TIMESTAMP NOT NULL
);
CREATE INDEX partner_status_changes_partner ON partner_status_changes (partner_id, id);

-- Who changed what and when. changes is JSON: {"field": {"from": …, "to": …}}.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY NOT NULL,
    org_path    TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    changes     TEXT NOT NULL,
    at          TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
CREATE INDEX partners_org_path ON partners (org_path text_pattern_ops);
CREATE INDEX audit_log_org_path ON audit_log (org_path text_pattern_ops);
