DROP INDEX events_seq;
DROP INDEX visits_seq;
DROP INDEX partners_seq;
DROP INDEX leads_seq;
ALTER TABLE leads DROP COLUMN created_seq;
ALTER TABLE leads DROP COLUMN seq;
