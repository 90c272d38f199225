-- The local ledger: every fee this clinic charged, and its registration in eFrikort.
CREATE TABLE efrikort_ledger (
  id INTEGER PRIMARY KEY,
  payment_id TEXT NOT NULL UNIQUE,       -- from the check-in plugin: a fee is registered once
  patient TEXT NOT NULL,
  care_unit TEXT NOT NULL,
  visit_date TEXT NOT NULL,              -- YYYY-MM-DD
  fee_ore INTEGER NOT NULL,
  charged_ore INTEGER NOT NULL,
  counts INTEGER NOT NULL,               -- counts toward the high-cost protection
  state TEXT NOT NULL CHECK (state IN ('pending', 'registered', 'optin_required', 'not_registered', 'failed', 'deleted')),
  transaction_id TEXT,
  refunded_ore INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  registered_at INTEGER
);
CREATE INDEX efrikort_ledger_by_patient ON efrikort_ledger(patient, visit_date);
-- Patients who consented to e-frikort at check-in, and whether it reached eFrikort.
CREATE TABLE efrikort_optins (
  patient TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('pending', 'registered')),
  created_at INTEGER NOT NULL,
  registered_at INTEGER
);
