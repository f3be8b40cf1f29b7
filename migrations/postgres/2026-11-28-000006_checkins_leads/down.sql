ALTER TABLE registrations DROP COLUMN lead_id;
DROP TABLE leads;
