-- Väntelista (waiting list): patients who want an earlier time, and the offers of freed slots.
CREATE TABLE vantelista_entries (
  id INTEGER PRIMARY KEY,
  patient TEXT NOT NULL,               -- personnummer (12 digits)
  phone TEXT NOT NULL,                 -- where the offer goes (SMS)
  care_unit TEXT NOT NULL,             -- HSA-id of the care unit (vårdenhet)
  visit_type TEXT,                     -- NULL: any visit type
  practitioner TEXT,                   -- NULL: any practitioner
  latest TEXT,                         -- YYYY-MM-DD: only slots on or before this day
  state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'offered', 'booked', 'removed')),
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX vantelista_entries_queue ON vantelista_entries(care_unit, state, created_at);

-- One offer of one freed slot to one patient; the slot is named by the cancelled booking.
CREATE TABLE vantelista_offers (
  id INTEGER PRIMARY KEY,
  entry_id INTEGER NOT NULL REFERENCES vantelista_entries(id),
  cancelled_booking TEXT NOT NULL,
  slot_id INTEGER,                     -- when booking.cancelled carries it
  care_unit TEXT NOT NULL,
  practitioner TEXT NOT NULL,
  visit_type TEXT NOT NULL,
  start TEXT NOT NULL,                 -- ISO 8601, local time
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'declined', 'expired')),
  offered_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  UNIQUE (entry_id, cancelled_booking)
);
CREATE INDEX vantelista_offers_open ON vantelista_offers(state, expires_at);
