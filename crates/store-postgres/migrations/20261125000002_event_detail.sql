-- What an event's log page explains beyond its payload, e.g. why a connection flow failed.
ALTER TABLE events ADD COLUMN detail TEXT;
