DROP TABLE supervision_findings;
DROP TABLE supervisions;
ALTER TABLE org_units DROP COLUMN lon;
ALTER TABLE org_units DROP COLUMN lat;
