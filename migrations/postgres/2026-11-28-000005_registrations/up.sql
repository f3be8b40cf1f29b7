-- Attendees who registered through an event's public link. Name and phone become NULL when the
-- attendee's data is erased (withdrawal or retention); the row stays for the event's figures.
CREATE TABLE registrations (
    id               TEXT PRIMARY KEY NOT NULL,
    event_id         TEXT NOT NULL REFERENCES events (id),
    name             TEXT,
    phone            TEXT,
    ticket_code      TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL,
    consent_version  TEXT NOT NULL,
    consent_at       TIMESTAMP NOT NULL,
    registered_at    TIMESTAMP NOT NULL,
    checked_in_at    TIMESTAMP,
    checked_in_by    TEXT,
    erased_at        TIMESTAMP,
    UNIQUE (event_id, phone)
);
CREATE INDEX registrations_event_status ON registrations (event_id, status, registered_at);
