-- Each refund once: efrikort_ledger.refunded_ore is the sum of these rows. A refund is
-- recorded when the check-in plugin reports it (and again, harmlessly, when its correction
-- is delivered), so a redelivered event or a retried correction never counts it twice, and
-- two corrections delivered at once by two outbox workers both count.
CREATE TABLE efrikort_refunds (
  payment_id TEXT NOT NULL,
  refund_id TEXT NOT NULL,
  amount_ore INTEGER NOT NULL CHECK (amount_ore > 0),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (payment_id, refund_id)
);
