-- The assignment (medarbetaruppdrag) each user acts in: care unit and purpose.
CREATE TABLE journal_assignments (
  user_id INTEGER PRIMARY KEY,
  username TEXT NOT NULL,
  care_unit TEXT NOT NULL,
  care_unit_name TEXT NOT NULL DEFAULT '',
  purpose TEXT NOT NULL CHECK (purpose = 'Vård och behandling'),
  chosen_at INTEGER NOT NULL
);

-- Bookings and visits learnt from the booking and check-in events: the patient relationship.
CREATE TABLE journal_visits (
  booking_id TEXT PRIMARY KEY,
  patient TEXT NOT NULL CHECK (length(patient) = 12),
  care_unit TEXT NOT NULL,
  start_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('booked', 'arrived', 'cancelled')),
  updated_at INTEGER NOT NULL
);
CREATE INDEX journal_visits_patient ON journal_visits(patient, care_unit);

-- Relations staff assert with a reason when there is no booking.
CREATE TABLE journal_relations (
  id INTEGER PRIMARY KEY,
  patient TEXT NOT NULL CHECK (length(patient) = 12),
  care_unit TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  username TEXT NOT NULL,
  reason TEXT NOT NULL CHECK (length(reason) >= 5),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX journal_relations_patient ON journal_relations(patient, care_unit);

-- Consents and emergency accesses this box registered (the consent service is the master).
CREATE TABLE journal_assertions (
  assertion_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('consent', 'emergency')),
  patient TEXT NOT NULL CHECK (length(patient) = 12),
  care_unit TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  username TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  registered_at INTEGER NOT NULL,
  ends_at INTEGER,                                  -- NULL: until revoked
  CHECK (kind = 'consent' OR (length(reason) >= 5 AND ends_at IS NOT NULL))
);
CREATE INDEX journal_assertions_patient ON journal_assertions(patient, care_unit, kind);

-- Every access to shared records, shown or refused: the base of log review and extract.
CREATE TABLE journal_accesses (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  username TEXT NOT NULL,
  employee_id TEXT NOT NULL,
  care_unit TEXT NOT NULL,
  care_unit_name TEXT NOT NULL DEFAULT '',
  purpose TEXT NOT NULL,
  patient TEXT NOT NULL CHECK (length(patient) = 12),
  what TEXT NOT NULL,                               -- notes, diagnoses, alerts, consent, emergency
  relation TEXT NOT NULL,                           -- booking, asserted, none
  basis TEXT NOT NULL DEFAULT '',                   -- consent, emergency, '' when refused
  outcome TEXT NOT NULL CHECK (outcome IN ('shown', 'refused', 'registered')),
  refusal TEXT NOT NULL DEFAULT '',
  shown_count INTEGER NOT NULL DEFAULT 0,
  blocked_count INTEGER NOT NULL DEFAULT 0,
  flagged INTEGER NOT NULL DEFAULT 0,
  reviewed_at INTEGER,
  reviewed_by TEXT,
  review_comment TEXT
);
CREATE INDEX journal_accesses_at ON journal_accesses(at);
CREATE INDEX journal_accesses_patient ON journal_accesses(patient, at);

-- StoreLog records waiting for (or delivered to) the national log service.
CREATE TABLE journal_national_log (
  log_id TEXT PRIMARY KEY,
  record TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
);
CREATE INDEX journal_national_log_pending ON journal_national_log(sent_at, created_at);
