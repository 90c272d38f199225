-- Care units, practitioners, rooms and visit types (crm:scheduling: healthcare_facility,
-- performer, resource, timeType/careType).
CREATE TABLE booking_units (
  hsa_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  address TEXT NOT NULL DEFAULT ''
);
CREATE TABLE booking_practitioners (
  hsa_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  profession TEXT NOT NULL,
  unit TEXT NOT NULL REFERENCES booking_units(hsa_id)
);
CREATE TABLE booking_rooms (
  id INTEGER PRIMARY KEY,
  unit TEXT NOT NULL REFERENCES booking_units(hsa_id),
  name TEXT NOT NULL,
  UNIQUE (unit, name)
);
CREATE TABLE booking_visit_types (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  visit_form TEXT NOT NULL CHECK (visit_form IN ('physical', 'video', 'phone')),
  minutes INTEGER NOT NULL CHECK (minutes BETWEEN 5 AND 480),
  profession TEXT NOT NULL,
  time_type_id TEXT NOT NULL,
  time_type_name TEXT NOT NULL,
  care_type_id TEXT NOT NULL,
  care_type_name TEXT NOT NULL,
  vip_bookable INTEGER NOT NULL DEFAULT 0
);
-- A weekly rule: opening hours on some weekdays for a period, cut into slots.
CREATE TABLE booking_schedules (
  id INTEGER PRIMARY KEY,
  practitioner TEXT NOT NULL REFERENCES booking_practitioners(hsa_id),
  visit_type TEXT NOT NULL REFERENCES booking_visit_types(id),
  room_id INTEGER REFERENCES booking_rooms(id),
  weekdays TEXT NOT NULL,            -- "1,2,3,4,5"
  start_min INTEGER NOT NULL,
  end_min INTEGER NOT NULL,
  breaks TEXT NOT NULL DEFAULT '',   -- "720-780,900-915"
  valid_from TEXT NOT NULL,          -- YYYY-MM-DD
  valid_to TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE booking_closed_days (
  unit TEXT NOT NULL REFERENCES booking_units(hsa_id),
  date TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (unit, date)
);
-- Slots are materialised from the schedules; a practitioner has one slot per start time.
CREATE TABLE booking_slots (
  id INTEGER PRIMARY KEY,
  schedule_id INTEGER NOT NULL REFERENCES booking_schedules(id),
  practitioner TEXT NOT NULL,
  unit TEXT NOT NULL,
  visit_type TEXT NOT NULL,
  room_id INTEGER,
  start_at INTEGER NOT NULL,         -- unix seconds, UTC
  end_at INTEGER NOT NULL,
  withdrawn INTEGER NOT NULL DEFAULT 0,
  UNIQUE (practitioner, start_at)
);
CREATE INDEX booking_slots_by_unit_time ON booking_slots(unit, start_at);
CREATE TABLE booking_bookings (
  id INTEGER PRIMARY KEY,
  slot_id INTEGER NOT NULL REFERENCES booking_slots(id),
  patient TEXT NOT NULL,             -- 12 digits
  status TEXT NOT NULL CHECK (status IN ('booked', 'arrived', 'noshow', 'cancelled', 'rebooked')),
  channel TEXT NOT NULL,
  purpose TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  guardian TEXT NOT NULL DEFAULT '',
  invitation_id INTEGER,
  rebooked_to INTEGER,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  changed_at INTEGER NOT NULL
);
-- The database itself makes a double booking impossible: one live booking per slot.
CREATE UNIQUE INDEX booking_one_live_booking_per_slot ON booking_bookings(slot_id)
  WHERE status IN ('booked', 'arrived', 'noshow');
CREATE INDEX booking_bookings_by_patient ON booking_bookings(patient);
CREATE TABLE booking_vip_codes (
  id INTEGER PRIMARY KEY,
  code_hash TEXT NOT NULL UNIQUE,    -- SHA-256 of the code; the code itself is shown once
  patient TEXT NOT NULL,
  visit_types TEXT NOT NULL,         -- "id1,id2"
  max_active INTEGER NOT NULL,
  horizon_days INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE booking_invitations (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  patient TEXT NOT NULL,
  unit TEXT NOT NULL REFERENCES booking_units(hsa_id),
  visit_type TEXT NOT NULL REFERENCES booking_visit_types(id),
  purpose TEXT NOT NULL,
  questions TEXT NOT NULL DEFAULT '[]',  -- JSON array of question texts
  answers TEXT,                          -- JSON array, when answered
  kind TEXT NOT NULL CHECK (kind IN ('timed', 'open')),
  booking_id INTEGER REFERENCES booking_bookings(id),
  phone TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE booking_ical_feeds (
  practitioner TEXT PRIMARY KEY REFERENCES booking_practitioners(hsa_id),
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
