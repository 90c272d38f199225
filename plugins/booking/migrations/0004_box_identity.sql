-- A random identity of this box, made once: it makes the iCalendar UIDs of its bookings
-- globally unique (RFC 5545 3.8.4.7), so two boxes never publish the same UID.
CREATE TABLE booking_box_identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  uid TEXT NOT NULL
);
INSERT INTO booking_box_identity(id, uid) VALUES (1, lower(hex(randomblob(16))));
