-- Visits with verified check-ins, their photos, and the sync sequence that orders every change.

-- One monotonic counter for all synced rows. Taking the next value locks this row until commit,
-- so values become visible in commit order: a pull that has seen N never misses a later M < N.
CREATE TABLE sync_counter (
    id     INTEGER PRIMARY KEY NOT NULL,
    value  BIGINT NOT NULL
);
INSERT INTO sync_counter (id, value) VALUES (1, 0);

ALTER TABLE partners ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE partners ADD COLUMN created_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX partners_path_seq ON partners (org_path text_pattern_ops, seq);

CREATE TABLE visits (
    id              TEXT PRIMARY KEY NOT NULL,
    branch_id       TEXT NOT NULL,
    org_unit_id     TEXT NOT NULL REFERENCES org_units (id),
    org_path        TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id),
    partner_id      TEXT REFERENCES partners (id),
    visited_at      TIMESTAMP NOT NULL,
    lat             DOUBLE PRECISION NOT NULL,
    lon             DOUBLE PRECISION NOT NULL,
    lat_band        BIGINT NOT NULL,
    accuracy_m      DOUBLE PRECISION NOT NULL,
    purpose         TEXT NOT NULL,
    notes           TEXT NOT NULL,
    outcome         TEXT,
    next_step       TEXT,
    next_visit_at   TIMESTAMP,
    mock_location   BOOLEAN,
    location_age_s  DOUBLE PRECISION,
    -- the server's verdict and the signals behind it
    verified        BOOLEAN NOT NULL,
    distance_m      DOUBLE PRECISION,
    reasons         TEXT NOT NULL,
    create_digest   TEXT NOT NULL,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP,
    seq             BIGINT NOT NULL,
    created_seq     BIGINT NOT NULL
);
CREATE INDEX visits_user_time ON visits (user_id, visited_at);
CREATE INDEX visits_partner_time ON visits (partner_id, visited_at);
CREATE INDEX visits_branch_time ON visits (branch_id, visited_at);
CREATE INDEX visits_band_lon ON visits (lat_band, lon);
CREATE INDEX visits_path_seq ON visits (org_path text_pattern_ops, seq);

CREATE TABLE visit_photos (
    id            TEXT PRIMARY KEY NOT NULL,
    visit_id      TEXT NOT NULL REFERENCES visits (id),
    branch_id     TEXT NOT NULL,
    org_path      TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    thumb_sha256  TEXT NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    bytes         BIGINT NOT NULL,
    exif_lat      DOUBLE PRECISION,
    exif_lon      DOUBLE PRECISION,
    exif_time     TIMESTAMP,
    -- the camera's own UTC offset for exif_time, when it wrote one (else China time is assumed)
    exif_offset_minutes INTEGER,
    uploaded_by   TEXT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL,
    deleted_at    TIMESTAMP,
    seq           BIGINT NOT NULL,
    created_seq   BIGINT NOT NULL
);
CREATE INDEX visit_photos_visit ON visit_photos (visit_id);
CREATE INDEX visit_photos_path_seq ON visit_photos (org_path text_pattern_ops, seq);

-- A record deleted, or moved out of a subtree: the subtree's phones must drop it.
CREATE TABLE sync_tombstones (
    seq        BIGINT NOT NULL,
    entity     TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    org_path   TEXT NOT NULL,
    -- the author, for records only their author's phone holds (an account manager's visits)
    user_id    TEXT,
    PRIMARY KEY (seq, entity, record_id)
);
CREATE INDEX sync_tombstones_path_seq ON sync_tombstones (org_path text_pattern_ops, seq);
