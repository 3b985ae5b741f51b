-- Rewards that are remembered, used and expire, and points held for the return window.
--
-- Redemptions gain `expires_at` (a reward's `validityDays` after issue; null = never), `order_id`
-- (the order that used the code) and the status `expired` (the daily run; points are not
-- returned). SQLite cannot change a CHECK in place, so the table is rebuilt like the ledger in
-- 0013: same columns plus the new ones, rows copied, then its indexes, the redemption_events view
-- and the outbox triggers of 0014 created again, the view now carrying expiresAt, usedAt and
-- orderId. `code` may be null: a donation is a redemption without a code; UNIQUE
-- (shop_id, code) still holds for every code. Nothing references redemption rows, and DROP TABLE
-- fires no trigger. The view goes first: a view naming a missing table would fail the rename.
PRAGMA defer_foreign_keys = ON;

DROP VIEW redemption_events;

CREATE TABLE redemptions_next (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  reward_id TEXT NOT NULL REFERENCES rewards (id),
  code TEXT,
  points INTEGER NOT NULL CHECK (points > 0),
  status TEXT NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'used', 'void', 'expired')),
  reward_type TEXT NOT NULL,
  reward_value INTEGER,
  min_order INTEGER,
  created_at TEXT NOT NULL,
  used_at TEXT,
  voided_at TEXT,
  void_reason TEXT,
  shopify_status TEXT CHECK (shopify_status IN ('pending', 'created')),
  -- When the code stops being valid (null: never); the daily run marks it expired after that.
  expires_at TEXT,
  -- The merchant's id of the order that used the code.
  order_id TEXT,
  UNIQUE (shop_id, code)
);

INSERT INTO redemptions_next (id, shop_id, customer_id, reward_id, code, points, status, reward_type, reward_value,
  min_order, created_at, used_at, voided_at, void_reason, shopify_status)
SELECT id, shop_id, customer_id, reward_id, code, points, status, reward_type, reward_value, min_order, created_at,
  used_at, voided_at, void_reason, shopify_status
FROM redemptions;

DROP TABLE redemptions;
ALTER TABLE redemptions_next RENAME TO redemptions;

CREATE INDEX redemptions_customer ON redemptions (customer_id, created_at);
CREATE INDEX redemptions_shop_created ON redemptions (shop_id, created_at);
CREATE INDEX redemptions_shopify_pending ON redemptions (shop_id, created_at) WHERE status = 'issued' AND shopify_status = 'pending';
-- The daily run's search for issued codes whose time is up.
CREATE INDEX redemptions_expiring ON redemptions (shop_id, expires_at) WHERE status = 'issued' AND expires_at IS NOT NULL;

-- A redemption as the reward.* events carry it, written once here.
CREATE VIEW redemption_events AS
SELECT r.id, r.shop_id, r.customer_id, c.external_id AS customer_external_id,
  json_object('id', r.id, 'code', r.code, 'rewardId', r.reward_id,
    'rewardName', (SELECT name FROM rewards WHERE id = r.reward_id), 'points', r.points, 'status', r.status,
    'createdAt', r.created_at, 'expiresAt', r.expires_at, 'usedAt', r.used_at, 'orderId', r.order_id) AS redemption
FROM redemptions r JOIN customers c ON c.id = r.customer_id;

CREATE TRIGGER outbox_reward_redeemed
AFTER INSERT ON redemptions
BEGIN
  INSERT INTO outbox (id, shop_id, type, customer_id, data, occurred_at)
  SELECT 'evt_' || lower(hex(randomblob(16))), NEW.shop_id, 'reward.redeemed', NEW.customer_id,
    json_object('customerId', v.customer_external_id, 'redemption', json(v.redemption)), NEW.created_at
  FROM redemption_events v WHERE v.id = NEW.id;
END;

CREATE TRIGGER outbox_reward_used
AFTER UPDATE OF status ON redemptions
WHEN NEW.status = 'used' AND OLD.status IS NOT 'used'
BEGIN
  INSERT INTO outbox (id, shop_id, type, customer_id, data, occurred_at)
  SELECT 'evt_' || lower(hex(randomblob(16))), NEW.shop_id, 'reward.used', NEW.customer_id,
    json_object('customerId', v.customer_external_id, 'redemption', json(v.redemption)),
    COALESCE(NEW.used_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  FROM redemption_events v WHERE v.id = NEW.id;
END;

-- A reward's codes are valid for this many days after issue (null: for ever).
ALTER TABLE rewards ADD COLUMN validity_days INTEGER CHECK (validity_days BETWEEN 1 AND 3650);

-- Pending points (program.earning.pendingDays): an order paid while the program holds points for
-- the return window earns nothing into the balance; `pending` = 1 holds `points_awarded -
-- points_reversed` until `available_at`, when the daily run credits them as the order's own
-- ledger entry (key `order:<id>`, so at most once) and clears `pending`. Refunds meanwhile only
-- raise `points_reversed`. Orders that earned at once have `available_at` null.
ALTER TABLE orders ADD COLUMN pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1));
ALTER TABLE orders ADD COLUMN available_at TEXT;
CREATE INDEX orders_pending_due ON orders (shop_id, available_at) WHERE pending = 1;
CREATE INDEX orders_pending_member ON orders (customer_id, available_at) WHERE pending = 1;
