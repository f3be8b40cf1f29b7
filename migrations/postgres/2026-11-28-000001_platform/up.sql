-- The org tree, users and refresh tokens. Ids are UUID text; times are UTC written by the app.
CREATE TABLE org_units (
    id          TEXT PRIMARY KEY NOT NULL,
    parent_id   TEXT REFERENCES org_units (id),
    -- the branch at the root of this unit's tree: the distribution key of every business row
    branch_id   TEXT NOT NULL,
    -- materialised path '/<branch>/<sub_branch>/<outlet>/': a subtree is a prefix match
    path        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('branch', 'sub_branch', 'outlet')),
    name        TEXT NOT NULL,
    territory   TEXT,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX org_units_parent ON org_units (parent_id);
CREATE INDEX org_units_branch ON org_units (branch_id);

CREATE TABLE users (
    id             TEXT PRIMARY KEY NOT NULL,
    phone          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('account_manager', 'supervisor', 'sub_branch_manager', 'branch_manager', 'admin')),
    org_unit_id    TEXT REFERENCES org_units (id),
    -- copy of the unit's path ('/' for an admin without a unit) so scope needs no join
    org_path       TEXT NOT NULL,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX users_org_path ON users (org_path);

-- Opaque refresh tokens, stored as SHA-256 hashes. A family is one login: every rotation stays in
-- it, and replaying a spent member revokes the whole family.
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    family_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    issued_at   TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    spent_at    TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Prefix matches (`path LIKE '/a/b/%'`) use a btree only with the C collation's operator class.
CREATE INDEX org_units_path_prefix ON org_units (path text_pattern_ops);
CREATE INDEX users_org_path_prefix ON users (org_path text_pattern_ops);
