-- The ledger and everything that moves points. Invariants are enforced here, in the
-- database itself, so that no code path can break them:
--   * customers.balance >= 0 (CHECK);
--   * balance is only ever changed by the ledger trigger, so balance = sum of ledger deltas;
--   * each entry's balance_after is checked against the balance it lands on;
--   * the ledger is append-only (updates of amounts and deletes are refused);
--   * idempotency keys, event ids, order ids and refund ids are unique per shop.

CREATE TABLE shops (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  currency TEXT NOT NULL,
  public_key TEXT NOT NULL UNIQUE,
  origins TEXT NOT NULL DEFAULT '[]',
  platform TEXT NOT NULL DEFAULT 'custom' CHECK (platform IN ('custom', 'shopify')),
  shopify_domain TEXT UNIQUE,
  secret_key_hash TEXT NOT NULL UNIQUE,
  webhook_secret TEXT NOT NULL,
  widget_secret TEXT NOT NULL,
  program TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE customers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_id TEXT NOT NULL REFERENCES shops (id),
  external_id TEXT NOT NULL,
  email TEXT,
  first_name TEXT,
  birthday TEXT,
  referral_code TEXT NOT NULL,
  balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
  lifetime_points INTEGER NOT NULL DEFAULT 0,
  tier TEXT,
  -- When the current tier was reached: a downgrade waits for the tier's window to end.
  tier_since TEXT,
  order_count INTEGER NOT NULL DEFAULT 0,
  total_spent INTEGER NOT NULL DEFAULT 0,
  last_order_at TEXT,
  created_at TEXT NOT NULL,
  redacted_at TEXT,
  UNIQUE (shop_id, external_id),
  UNIQUE (shop_id, referral_code)
);
CREATE INDEX customers_shop_email ON customers (shop_id, email);
CREATE INDEX customers_shop_created ON customers (shop_id, id);

CREATE TABLE ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  delta INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('order', 'refund', 'cancel', 'signup', 'birthday', 'review',
    'social', 'challenge', 'referral', 'nps', 'custom', 'redemption', 'redemption_reversal',
    'adjustment', 'expiry')),
  reference TEXT,
  idempotency_key TEXT NOT NULL,
  balance_after INTEGER NOT NULL,
  -- Points a claw-back could not take because the balance was already spent.
  shortfall INTEGER NOT NULL DEFAULT 0 CHECK (shortfall >= 0),
  note TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  UNIQUE (shop_id, idempotency_key)
);
CREATE INDEX ledger_customer ON ledger (customer_id, id);
CREATE INDEX ledger_shop_created ON ledger (shop_id, created_at);

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

-- Amounts never change. Personal text (note, reference) may be cleared by a GDPR redact.
CREATE TRIGGER ledger_amounts_are_final
BEFORE UPDATE OF id, shop_id, customer_id, delta, kind, idempotency_key, balance_after, shortfall,
  created_at, expires_at ON ledger
BEGIN
  SELECT RAISE(ABORT, 'ledger_is_append_only');
END;

-- Only a shop's erasure (shop/redact, after the shop row is gone) removes ledger rows.
CREATE TRIGGER ledger_rows_stay
BEFORE DELETE ON ledger
WHEN EXISTS (SELECT 1 FROM shops WHERE id = OLD.shop_id)
BEGIN
  SELECT RAISE(ABORT, 'ledger_is_append_only');
END;

CREATE TABLE orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_id TEXT NOT NULL,
  external_id TEXT NOT NULL,
  customer_id INTEGER REFERENCES customers (id),
  currency TEXT NOT NULL,
  -- The earning basis in minor units: subtotal minus discounts (+ shipping / tax if configured).
  eligible_amount INTEGER NOT NULL CHECK (eligible_amount >= 0),
  total_amount INTEGER NOT NULL DEFAULT 0,
  points_awarded INTEGER NOT NULL DEFAULT 0 CHECK (points_awarded >= 0),
  points_reversed INTEGER NOT NULL DEFAULT 0 CHECK (points_reversed >= 0),
  refunded_amount INTEGER NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
  -- The rounding mode in force when the order earned: refunds claw back by the same rule.
  rounding TEXT NOT NULL DEFAULT 'floor',
  status TEXT NOT NULL CHECK (status IN ('paid', 'partially_refunded', 'refunded', 'cancelled')),
  email TEXT,
  lines TEXT NOT NULL DEFAULT '[]',
  discount_codes TEXT NOT NULL DEFAULT '[]',
  version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  CHECK (points_reversed <= points_awarded),
  UNIQUE (shop_id, external_id)
);
CREATE INDEX orders_customer ON orders (customer_id, created_at);
CREATE INDEX orders_shop_created ON orders (shop_id, created_at);

-- Every refund and cancellation seen, also those that arrive before their order: those wait with
-- applied = 0 and are applied when the order arrives, so delivery order never changes the outcome.
CREATE TABLE order_refunds (
  shop_id TEXT NOT NULL,
  order_external_id TEXT NOT NULL,
  refund_id TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'refund' CHECK (kind IN ('refund', 'cancel')),
  amount INTEGER NOT NULL CHECK (amount >= 0),
  applied INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  PRIMARY KEY (shop_id, order_external_id, refund_id)
);

CREATE TABLE received_events (
  shop_id TEXT NOT NULL,
  source TEXT NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (shop_id, source, event_id)
);

CREATE TABLE idempotency_keys (
  shop_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  response TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (shop_id, scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- A write made from a read that has since gone stale inserts a row here, which the CHECK refuses,
-- and so rolls back its whole batch (D1 has no interactive transactions).
CREATE TABLE write_guards (
  ok INTEGER NOT NULL,
  CONSTRAINT stale_read CHECK (ok = 1)
);
