-- Best-practice cases (优秀案例): written by anyone, published by a manager, shared with the
-- whole branch, marked useful by their readers.
CREATE TABLE practice_cases (
    id                TEXT PRIMARY KEY NOT NULL,
    branch_id         TEXT NOT NULL,
    org_unit_id       TEXT NOT NULL REFERENCES org_units (id),
    org_path          TEXT NOT NULL,
    author_id         TEXT NOT NULL REFERENCES users (id),
    title             TEXT NOT NULL,
    segment           TEXT NOT NULL,
    partner_category  TEXT,
    what_done         TEXT NOT NULL,
    results           TEXT NOT NULL,
    -- JSON list of {label, value, unit}: the results in figures
    figures           TEXT NOT NULL,
    project_id        TEXT REFERENCES projects (id),
    -- JSON list of stored photos (sha256, thumbnail, size, who and when)
    photos            TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_by      TEXT REFERENCES users (id),
    published_at      TIMESTAMP,
    useful_count      BIGINT NOT NULL CHECK (useful_count >= 0),
    create_digest     TEXT NOT NULL,
    version           BIGINT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    deleted_at        TIMESTAMP
);
-- The library as readers browse it: a branch's published cases by segment, newest first.
CREATE INDEX practice_cases_library ON practice_cases (branch_id, status, segment, id);
CREATE INDEX practice_cases_path ON practice_cases (org_path text_pattern_ops);

-- One "useful" per reader and case.
CREATE TABLE practice_case_votes (
    case_id     TEXT NOT NULL REFERENCES practice_cases (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
