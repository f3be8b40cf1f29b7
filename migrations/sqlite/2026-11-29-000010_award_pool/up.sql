-- A project's award pool (众筹池): members and managers pay in, stars are paid out by period.
-- Append-only and never negative: each entry carries its place in the project's chain and the
-- balance after it, so two appends racing for the same place cannot both land, and the balance
-- is checked by the database as well as by the domain.
CREATE TABLE award_pool_entries (
    id             TEXT PRIMARY KEY NOT NULL,
    project_id     TEXT NOT NULL REFERENCES projects (id),
    position       BIGINT NOT NULL CHECK (position > 0),
    kind           TEXT NOT NULL CHECK (kind IN ('contribution', 'payout')),
    amount_fen     BIGINT NOT NULL CHECK (amount_fen > 0),
    balance_fen    BIGINT NOT NULL CHECK (balance_fen >= 0),
    -- who paid in, or the star paid out to
    user_id        TEXT NOT NULL REFERENCES users (id),
    period         TEXT CHECK (period IN ('day', 'week', 'month')),
    period_from    DATE,
    note           TEXT NOT NULL,
    recorded_by    TEXT NOT NULL REFERENCES users (id),
    create_digest  TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    CHECK ((kind = 'payout') = (period IS NOT NULL AND period_from IS NOT NULL)),
    UNIQUE (project_id, position)
);
-- One prize per star: a period is paid once.
CREATE UNIQUE INDEX award_pool_payout_once ON award_pool_entries (project_id, period, period_from)
    WHERE kind = 'payout';

CREATE TRIGGER award_pool_entries_no_update BEFORE UPDATE ON award_pool_entries
BEGIN
    SELECT RAISE(ABORT, 'award pool entries are append-only');
END;
CREATE TRIGGER award_pool_entries_no_delete BEFORE DELETE ON award_pool_entries
BEGIN
    SELECT RAISE(ABORT, 'award pool entries are append-only');
END;
