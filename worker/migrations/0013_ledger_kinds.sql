-- Ledger kinds gain `import` (points carried over from another program). SQLite cannot change a
-- CHECK in place, so the table is rebuilt: same columns, rows copied in id order, then the
-- indexes and the invariant triggers of 0001, 0006 and 0009 are created again, unchanged.
-- Nothing references ledger rows, and DROP TABLE fires no DELETE trigger.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE ledger_next (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  delta INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('order', 'refund', 'cancel', 'signup', 'birthday', 'review',
    'social', 'challenge', 'referral', 'nps', 'custom', 'redemption', 'redemption_reversal',
    'adjustment', 'expiry', 'import')),
  reference TEXT,
  idempotency_key TEXT NOT NULL,
  balance_after INTEGER NOT NULL,
  shortfall INTEGER NOT NULL DEFAULT 0 CHECK (shortfall >= 0),
  note TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  UNIQUE (shop_id, idempotency_key)
);

INSERT INTO ledger_next (id, shop_id, customer_id, delta, kind, reference, idempotency_key, balance_after, shortfall,
  note, created_at, expires_at)
SELECT id, shop_id, customer_id, delta, kind, reference, idempotency_key, balance_after, shortfall, note, created_at,
  expires_at
FROM ledger ORDER BY id;

DROP TABLE ledger;
ALTER TABLE ledger_next RENAME TO ledger;

CREATE INDEX ledger_customer ON ledger (customer_id, id);
CREATE INDEX ledger_shop_created ON ledger (shop_id, created_at);
CREATE INDEX ledger_shop_entry ON ledger (shop_id, id);
CREATE INDEX ledger_expiring_credits ON ledger (shop_id, expires_at) WHERE delta > 0 AND expires_at IS NOT NULL;

CREATE TRIGGER ledger_balance_after_is_running_sum
BEFORE INSERT ON ledger
WHEN NEW.balance_after IS NOT (SELECT balance FROM customers WHERE id = NEW.customer_id) + NEW.delta
BEGIN
  SELECT RAISE(ABORT, 'ledger_balance_after_mismatch');
END;

CREATE TRIGGER ledger_moves_balance
AFTER INSERT ON ledger
BEGIN
  UPDATE customers
  SET balance = balance + NEW.delta,
      lifetime_points = lifetime_points + CASE
        WHEN NEW.kind IN ('redemption', 'redemption_reversal', 'expiry') THEN 0
        ELSE NEW.delta END
  WHERE id = NEW.customer_id;
END;

CREATE TRIGGER ledger_amounts_are_final
BEFORE UPDATE OF id, shop_id, customer_id, delta, kind, idempotency_key, balance_after, shortfall,
  created_at, expires_at ON ledger
BEGIN
  SELECT RAISE(ABORT, 'ledger_is_append_only');
END;

CREATE TRIGGER ledger_rows_stay
BEFORE DELETE ON ledger
WHEN EXISTS (SELECT 1 FROM shops WHERE id = OLD.shop_id)
BEGIN
  SELECT RAISE(ABORT, 'ledger_is_append_only');
END;
