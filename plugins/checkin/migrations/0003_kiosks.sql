-- A registered kiosk device: the touch screen in the waiting room. Its browser holds the
-- token (an HttpOnly cookie); a check-in from it proves the patient is at the clinic.
CREATE TABLE checkin_kiosks (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,        -- SHA-256 of the device token
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER
);
