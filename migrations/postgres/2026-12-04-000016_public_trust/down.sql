ALTER TABLE leads DROP COLUMN conversion_confirmed_by;
ALTER TABLE leads DROP COLUMN conversion_confirmed_at;
ALTER TABLE leads DROP COLUMN conversion_reference;
ALTER TABLE leads DROP COLUMN conversion_product;
ALTER TABLE org_units DROP COLUMN contact_phone;
ALTER TABLE org_units DROP COLUMN address;
DROP INDEX registrations_ticket_hash;
ALTER TABLE registrations DROP COLUMN ticket_hash;
