-- Referrals (remiss) sent and received, one row per referral; the request id is the
-- stable "<sender unit>#<uuid>" both sides de-duplicate on.
CREATE TABLE referral_referrals (
  id TEXT PRIMARY KEY,
  direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
  request_id TEXT NOT NULL,
  state TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  patient TEXT NOT NULL CHECK (length(patient) = 12),
  coordination INTEGER NOT NULL DEFAULT 0,
  sender_unit TEXT NOT NULL,
  sender_unit_name TEXT NOT NULL DEFAULT '',
  practitioner_hsa TEXT NOT NULL DEFAULT '',
  practitioner_name TEXT NOT NULL DEFAULT '',
  receiver_hsa TEXT NOT NULL,
  priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal', 'akut')),
  question TEXT NOT NULL DEFAULT '',
  anamnesis TEXT NOT NULL DEFAULT '',
  status_text TEXT NOT NULL DEFAULT '',
  requested TEXT NOT NULL DEFAULT '',
  patient_informed INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  updated_at INTEGER NOT NULL,
  UNIQUE (direction, request_id)
);
CREATE INDEX referral_referrals_state ON referral_referrals (direction, state);

-- Every confirmation and outcome, sent or received; answer_id de-duplicates redeliveries.
CREATE TABLE referral_answers (
  id INTEGER PRIMARY KEY,
  referral_id TEXT NOT NULL REFERENCES referral_referrals (id),
  answer_id TEXT NOT NULL UNIQUE,
  code TEXT NOT NULL,
  text TEXT NOT NULL DEFAULT '',
  forward_to TEXT NOT NULL DEFAULT '',
  direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
  author TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);

CREATE TABLE referral_attachments (
  id INTEGER PRIMARY KEY,
  referral_id TEXT NOT NULL REFERENCES referral_referrals (id),
  name TEXT NOT NULL,
  media_type TEXT NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
  bytes BLOB NOT NULL
);

-- The receiver directory (the shape of an HSA catalogue export).
CREATE TABLE referral_receivers (
  hsa_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  receives TEXT NOT NULL DEFAULT '',
  endpoint_url TEXT NOT NULL,
  contract_version TEXT NOT NULL DEFAULT '2.2'
);
