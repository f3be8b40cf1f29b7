ALTER TABLE org_units DROP COLUMN contact_phone;
ALTER TABLE org_units DROP COLUMN address;
DROP INDEX registrations_ticket_hash;
ALTER TABLE registrations DROP COLUMN ticket_hash;
