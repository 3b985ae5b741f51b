-- Points for good: a `donation` reward (a cause and the money given per redemption). Redeeming it
-- debits its cost and records the gift as a redemption without a code, status `used`, with its
-- cause frozen on the redemption (the reward may change later); the merchant pays causes out from
-- GET /v1/donations. SQLite cannot change a CHECK in place, so `rewards` is rebuilt as 0015 rebuilt
-- redemptions: same columns plus `cause`, rows copied, its index again. The redemption_events view
-- names rewards, so it goes first (a rename fails on a view naming a missing table), and with it
-- the two triggers that read it; all three are created again unchanged.
PRAGMA defer_foreign_keys = ON;

DROP TRIGGER outbox_reward_redeemed;
DROP TRIGGER outbox_reward_used;
DROP VIEW redemption_events;

CREATE TABLE rewards_next (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL REFERENCES shops (id),
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('amount_off', 'percent_off', 'free_shipping', 'free_product', 'store_credit', 'donation')),
  cost INTEGER NOT NULL CHECK (cost > 0),
  value INTEGER,
  product TEXT,
  min_order INTEGER,
  active INTEGER NOT NULL DEFAULT 1,
  deleted_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  validity_days INTEGER CHECK (validity_days BETWEEN 1 AND 3650),
  -- The cause a donation reward gives to (required for donations, absent otherwise).
  cause TEXT,
  CHECK ((type = 'donation') = (cause IS NOT NULL))
);

INSERT INTO rewards_next (id, shop_id, name, type, cost, value, product, min_order, active, deleted_at, created_at,
  updated_at, validity_days)
SELECT id, shop_id, name, type, cost, value, product, min_order, active, deleted_at, created_at, updated_at, validity_days
FROM rewards;

DROP TABLE rewards;
ALTER TABLE rewards_next RENAME TO rewards;
CREATE INDEX rewards_shop ON rewards (shop_id, deleted_at, cost);

-- The cause of a donation, as it was when redeemed.
ALTER TABLE redemptions ADD COLUMN cause TEXT;
CREATE INDEX redemptions_donations ON redemptions (shop_id, created_at) WHERE cause IS NOT NULL;

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
