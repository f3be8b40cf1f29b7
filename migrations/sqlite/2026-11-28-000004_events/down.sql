DROP TABLE event_steps;
DROP TABLE events;
