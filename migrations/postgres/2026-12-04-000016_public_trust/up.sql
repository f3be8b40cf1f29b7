-- Issue 21: a ticket only its holder has, and an organiser the public page can name.

-- The SHA-256 (hex) of the ticket's secret, which only the registration's answer carries: the
-- ticket page, cancel and withdraw need the secret. Registrations made before have none (their
-- holders withdraw through the organiser).
ALTER TABLE registrations ADD COLUMN ticket_hash TEXT;
CREATE UNIQUE INDEX registrations_ticket_hash ON registrations (ticket_hash);

-- Who organises an event, as its public page names them (PIPL: the handler of the data).
ALTER TABLE org_units ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE org_units ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';

-- A conversion above the confirmation amount counts and earns only once a manager confirms it,
-- with the product sold and, optionally, the bank's own reference. Conversions already made
-- stand as confirmed.
ALTER TABLE leads ADD COLUMN conversion_product TEXT;
ALTER TABLE leads ADD COLUMN conversion_reference TEXT;
ALTER TABLE leads ADD COLUMN conversion_confirmed_at TIMESTAMP;
ALTER TABLE leads ADD COLUMN conversion_confirmed_by TEXT;
UPDATE leads SET conversion_confirmed_at = converted_at WHERE status = 'converted';
