-- Coaching plans (督导员培养): a supervisor-in-training goes through three phases — observe
-- (21 days, the coach leads), practice (the trainee leads, the coach reviews each day, at most 21
-- days), lead (the trainee is in charge, the coach reviews weekly, at most 21 days) — and moves
-- on only when the phase has its reviews.
CREATE TABLE coaching_plans (
    id                   TEXT PRIMARY KEY NOT NULL,
    branch_id            TEXT NOT NULL,
    org_unit_id          TEXT NOT NULL REFERENCES org_units (id),
    org_path             TEXT NOT NULL,
    trainee_id           TEXT NOT NULL REFERENCES users (id),
    -- the coach: an account of the bank, or an external coach known by name only
    coach_id             TEXT REFERENCES users (id),
    coach_name           TEXT NOT NULL,
    phase                TEXT NOT NULL CHECK (phase IN ('observe', 'practice', 'lead', 'completed')),
    observe_started_on   DATE NOT NULL,
    practice_started_on  DATE,
    lead_started_on      DATE,
    completed_on         DATE,
    notes                TEXT NOT NULL,
    created_by           TEXT NOT NULL REFERENCES users (id),
    create_digest        TEXT NOT NULL,
    version              BIGINT NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX coaching_plans_path ON coaching_plans (org_path text_pattern_ops);
CREATE INDEX coaching_plans_trainee ON coaching_plans (trainee_id);

CREATE TABLE coaching_reviews (
    id           TEXT PRIMARY KEY NOT NULL,
    plan_id      TEXT NOT NULL REFERENCES coaching_plans (id),
    phase        TEXT NOT NULL CHECK (phase IN ('observe', 'practice', 'lead')),
    reviewed_on  DATE NOT NULL,
    author_id    TEXT NOT NULL REFERENCES users (id),
    summary      TEXT NOT NULL,
    went_well    TEXT NOT NULL,
    to_improve   TEXT NOT NULL,
    create_digest TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX coaching_reviews_plan ON coaching_reviews (plan_id, phase, reviewed_on);
