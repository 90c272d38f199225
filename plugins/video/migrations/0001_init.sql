-- The signing key of the plugin's own join tokens: 32 random bytes (as hex) made at first start.
CREATE TABLE video_keys (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  token_key TEXT NOT NULL CHECK (length(token_key) = 64)
);

-- One meeting room per video booking, kept from the booking events.
CREATE TABLE video_rooms (
  booking_id TEXT PRIMARY KEY,
  booking_id_numeric INTEGER NOT NULL DEFAULT 0,  -- 1 when the booking plugin sent a number
  room_id TEXT NOT NULL UNIQUE CHECK (length(room_id) >= 32),
  state TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
  generation INTEGER NOT NULL DEFAULT 1,          -- bumped on rebooking: older links stop working
  patient TEXT NOT NULL CHECK (length(patient) = 12),
  care_unit TEXT NOT NULL,
  care_unit_name TEXT NOT NULL DEFAULT '',
  practitioner TEXT NOT NULL DEFAULT '',
  practitioner_name TEXT NOT NULL DEFAULT '',
  visit_type_name TEXT NOT NULL DEFAULT '',
  start_text TEXT NOT NULL,
  end_text TEXT NOT NULL,
  start_date TEXT NOT NULL,                       -- local calendar date of the start
  start_at INTEGER NOT NULL,                      -- Unix seconds
  end_at INTEGER NOT NULL,
  lobby TEXT NOT NULL DEFAULT 'empty'
    CHECK (lobby IN ('empty', 'identifying', 'waiting', 'admitted', 'refused')),
  session_hash TEXT,                              -- SHA-256 of the patient browser's lobby session
  order_ref TEXT,                                 -- the identity provider's pending order
  identified_name TEXT,
  updated_at INTEGER NOT NULL,
  CHECK (end_at > start_at)
);
