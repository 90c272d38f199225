-- Accepting an offer books the slot (booking.book): the offer keeps the booking's id, and an
-- offer whose slot someone else booked meanwhile is closed as 'taken'. SQLite cannot change
-- a CHECK constraint in place, so the table is rebuilt with its rows.
CREATE TABLE vantelista_offers_new (
  id INTEGER PRIMARY KEY,
  entry_id INTEGER NOT NULL REFERENCES vantelista_entries(id),
  cancelled_booking TEXT NOT NULL,
  slot_id INTEGER,                     -- when booking.cancelled carries it
  care_unit TEXT NOT NULL,
  practitioner TEXT NOT NULL,
  visit_type TEXT NOT NULL,
  start TEXT NOT NULL,                 -- ISO 8601, local time
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'declined', 'expired', 'taken')),
  offered_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  booking_id INTEGER,                  -- the booking made when the patient accepted
  UNIQUE (entry_id, cancelled_booking)
);
INSERT INTO vantelista_offers_new (id, entry_id, cancelled_booking, slot_id, care_unit, practitioner, visit_type, start,
                                   state, offered_at, expires_at)
  SELECT id, entry_id, cancelled_booking, slot_id, care_unit, practitioner, visit_type, start, state, offered_at, expires_at
  FROM vantelista_offers;
DROP TABLE vantelista_offers;
ALTER TABLE vantelista_offers_new RENAME TO vantelista_offers;
CREATE INDEX vantelista_offers_open ON vantelista_offers(state, expires_at);
