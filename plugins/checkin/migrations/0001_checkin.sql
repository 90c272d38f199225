-- A check-in: the patient arrived for a booking; what the visit costs and why.
CREATE TABLE checkin_visits (
  id INTEGER PRIMARY KEY,
  booking_id INTEGER NOT NULL UNIQUE,     -- one check-in per booking
  token_hash TEXT NOT NULL UNIQUE,        -- the kiosk/phone session's secret
  patient TEXT NOT NULL,
  care_unit TEXT NOT NULL,
  visit_date TEXT NOT NULL,
  start_at TEXT NOT NULL,
  room TEXT NOT NULL DEFAULT '',
  tariff TEXT NOT NULL,
  fee_ore INTEGER NOT NULL,               -- by the fee rules (and a Lua override)
  charge_ore INTEGER NOT NULL,            -- after the frikort check
  counts INTEGER NOT NULL,
  exempt_reason TEXT NOT NULL DEFAULT '',
  card_status TEXT NOT NULL DEFAULT '',
  card_source TEXT NOT NULL DEFAULT '',
  left_ore INTEGER,
  optin_required INTEGER NOT NULL DEFAULT 0,
  channel TEXT NOT NULL,                  -- kiosk, phone, desk
  arrived_at INTEGER NOT NULL
);
CREATE INDEX checkin_visits_by_day ON checkin_visits(care_unit, visit_date);
-- A payment of a visit. The partial index makes a second live payment of a visit impossible.
CREATE TABLE checkin_payments (
  id INTEGER PRIMARY KEY,
  visit_id INTEGER NOT NULL REFERENCES checkin_visits(id),
  method TEXT NOT NULL CHECK (method IN ('swish', 'desk', 'invoice')),
  amount_ore INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('created', 'paid', 'invoiced', 'declined', 'cancelled', 'error')),
  instruction_id TEXT UNIQUE,             -- Swish: the 32-hex id
  payment_reference TEXT,                 -- Swish's reference when paid
  refunded_ore INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  paid_at INTEGER,
  created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX checkin_one_live_payment_per_visit ON checkin_payments(visit_id)
  WHERE status IN ('created', 'paid', 'invoiced');
CREATE TABLE checkin_refunds (
  id INTEGER PRIMARY KEY,
  payment_id INTEGER NOT NULL REFERENCES checkin_payments(id),
  instruction_id TEXT UNIQUE,
  amount_ore INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
