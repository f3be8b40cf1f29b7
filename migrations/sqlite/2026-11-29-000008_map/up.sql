-- The outreach map keeps an in-memory index in each app process and, before it answers, catches
-- up on every change since the last one it saw, by the sync change number: one short index range
-- per table. Leads now take a change number on every write too.
ALTER TABLE leads ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN created_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX leads_seq ON leads (seq);
CREATE INDEX partners_seq ON partners (seq);
CREATE INDEX visits_seq ON visits (seq);
CREATE INDEX events_seq ON events (seq);
