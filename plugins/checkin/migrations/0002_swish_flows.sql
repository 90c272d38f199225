-- Swish m-commerce and e-commerce, and the reconciler that asks Swish about every unsettled
-- payment until it is final (also after a restart).
ALTER TABLE checkin_payments ADD COLUMN request_token TEXT;   -- PaymentRequestToken (m-commerce)
ALTER TABLE checkin_payments ADD COLUMN payer_alias TEXT;     -- the payer's mobile number (e-commerce)
ALTER TABLE checkin_payments ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;  -- status queries so far
ALTER TABLE checkin_payments ADD COLUMN next_check_at INTEGER;              -- when to ask Swish next
CREATE INDEX checkin_payments_unsettled ON checkin_payments(next_check_at) WHERE status = 'created' AND method = 'swish';
