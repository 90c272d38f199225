#include "store/CoreMigrations.h"

namespace klinikbox::store {

// Append only: never edit a migration that has shipped (the checksum is verified at start).
const std::vector<Migration>& coreMigrations() {
    static const std::vector<Migration> list = {
        {1, "0001_core",
         R"SQL(
PRAGMA application_id = 1263288920;
CREATE TABLE kb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- The outbox: every call to an outside service, written in the transaction that causes it.
CREATE TABLE kb_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner TEXT NOT NULL,                 -- plugin id
  channel TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivering','delivered','dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,    -- unix ms
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  delivered_at INTEGER,
  UNIQUE (channel, idempotency_key)
);
CREATE INDEX kb_outbox_due ON kb_outbox(state, next_attempt_at);

-- The PDL audit log: append-only, each record chained to the previous by a keyed hash.
CREATE TABLE kb_audit (
  seq INTEGER PRIMARY KEY,             -- 1, 2, 3 ... without gaps
  at TEXT NOT NULL,                    -- UTC ISO-8601 with milliseconds
  user_id INTEGER,
  username TEXT NOT NULL,
  role TEXT NOT NULL,
  hsa_id TEXT NOT NULL DEFAULT '',
  care_unit TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  patient TEXT NOT NULL DEFAULT '',
  purpose TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL DEFAULT '',
  remote_addr TEXT NOT NULL DEFAULT '',
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX kb_audit_patient ON kb_audit(patient, at);
CREATE INDEX kb_audit_user ON kb_audit(username, at);
CREATE INDEX kb_audit_at ON kb_audit(at);
CREATE TRIGGER kb_audit_no_update BEFORE UPDATE ON kb_audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER kb_audit_no_delete BEFORE DELETE ON kb_audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)SQL"},
        {2, "0002_accounts",
         R"SQL(
-- Staff accounts. Passwords are scrypt hashes with their parameters, so costs can rise.
CREATE TABLE kb_users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(username) BETWEEN 2 AND 64),
  display_name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL CHECK (role IN ('admin','staff','auditor','it')),
  hsa_id TEXT NOT NULL DEFAULT '',
  care_unit TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL
);

-- Sessions: only the SHA-256 of the token is stored.
CREATE TABLE kb_sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES kb_users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  remote_addr TEXT NOT NULL DEFAULT ''
);
CREATE INDEX kb_sessions_user ON kb_sessions(user_id);

-- Failed logins per account name and per address, for throttling.
CREATE TABLE kb_login_failures (
  subject TEXT PRIMARY KEY,          -- 'user:<name>' or 'addr:<ip>'
  failures INTEGER NOT NULL,
  first_at INTEGER NOT NULL,
  locked_until INTEGER NOT NULL DEFAULT 0
);

-- One-time setup links for the first admin.
CREATE TABLE kb_setup_tokens (
  token_hash TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
)SQL"},
        {3, "0003_plugin_settings",
         R"SQL(
-- Plugin settings changed in the console; they take precedence over klinikbox.yaml.
CREATE TABLE kb_plugin_settings (
  plugin TEXT PRIMARY KEY,
  settings TEXT NOT NULL,              -- JSON object, validated against the plugin's schema
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);
)SQL"},
        {4, "0004_pluginsets",
         R"SQL(
-- Plugin sets uploaded through the console: the archive lives in data_dir/pluginsets/.
CREATE TABLE kb_pluginsets (
  id INTEGER PRIMARY KEY,
  archive_sha256 TEXT NOT NULL UNIQUE,
  file TEXT NOT NULL,
  name TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  region_hsa_id TEXT NOT NULL,
  region_name TEXT NOT NULL,
  expires TEXT NOT NULL,
  signers TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'stored' CHECK (state IN ('stored','active','previous')),
  rolled_back INTEGER NOT NULL DEFAULT 0,  -- active through an admin's rollback
  uploaded_at INTEGER NOT NULL,
  uploaded_by TEXT NOT NULL
);
CREATE UNIQUE INDEX kb_pluginsets_one_active ON kb_pluginsets(state) WHERE state = 'active';
CREATE UNIQUE INDEX kb_pluginsets_one_previous ON kb_pluginsets(state) WHERE state = 'previous';
)SQL"},
        {5, "0005_lua_plugin_runtime",
         R"SQL(
-- Timers of Lua plugins (kb.schedule): when each job is next due, so they survive restarts.
CREATE TABLE kb_lua_jobs (
  plugin TEXT NOT NULL,
  job TEXT NOT NULL,
  next_at INTEGER NOT NULL,            -- unix seconds
  last_run_at INTEGER,
  last_error TEXT,
  runs INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (plugin, job)
);
-- The gateway (an entry of lua.channels) each channel a Lua plugin declares is bound to,
-- set by an admin in the console.
CREATE TABLE kb_lua_channel_bindings (
  channel TEXT PRIMARY KEY,            -- <plugin>.<name>
  gateway TEXT NOT NULL,
  bound_at INTEGER NOT NULL,
  bound_by TEXT NOT NULL
);
)SQL"},
        {6, "0006_settings",
         R"SQL(
-- Box settings written by the first-run wizard (clinic name, care unit HSA-id, public URL,
-- host names); a value here wins over the same setting in klinikbox.yaml.
CREATE TABLE kb_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,         -- unix ms
  updated_by TEXT NOT NULL
);
)SQL"},
        {7, "0007_audit_subjects",
         R"SQL(
-- The patients (subjects) one audit record of a multi-patient view showed, e.g. a day's
-- booking calendar: one row per patient. The record's keyed hash covers the sorted list, so
-- the chain check proves these rows; the second index finds every view of a patient for the
-- review and the log extract. Append-only like kb_audit.
CREATE TABLE kb_audit_subjects (
  seq INTEGER NOT NULL,                -- kb_audit.seq of the record
  subject TEXT NOT NULL,               -- 12-digit personnummer (or reserve id)
  PRIMARY KEY (seq, subject)
) WITHOUT ROWID;
CREATE INDEX kb_audit_subjects_subject ON kb_audit_subjects(subject, seq);
CREATE TRIGGER kb_audit_subjects_no_update BEFORE UPDATE ON kb_audit_subjects
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER kb_audit_subjects_no_delete BEFORE DELETE ON kb_audit_subjects
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)SQL"},
    };
    return list;
}

}  // namespace klinikbox::store
