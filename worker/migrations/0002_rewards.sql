-- Rewards and redemptions. A redemption row and its ledger debit are written
-- in one batch; the code is unique per shop so a code is never issued twice.

CREATE TABLE rewards (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL REFERENCES shops (id),
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('amount_off', 'percent_off', 'free_shipping', 'free_product', 'store_credit')),
  cost INTEGER NOT NULL CHECK (cost > 0),
  -- Minor units for money rewards, a whole percent for percent_off, null otherwise.
  value INTEGER,
  -- The product (SKU or platform id) for free_product.
  product TEXT,
  min_order INTEGER,
  active INTEGER NOT NULL DEFAULT 1,
  deleted_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX rewards_shop ON rewards (shop_id, deleted_at, cost);

CREATE TABLE redemptions (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  reward_id TEXT NOT NULL REFERENCES rewards (id),
  code TEXT NOT NULL,
  points INTEGER NOT NULL CHECK (points > 0),
  status TEXT NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'used', 'void')),
  -- What the code is worth, frozen at issue time (the reward may change later).
  reward_type TEXT NOT NULL,
  reward_value INTEGER,
  min_order INTEGER,
  created_at TEXT NOT NULL,
  used_at TEXT,
  voided_at TEXT,
  void_reason TEXT,
  UNIQUE (shop_id, code)
);
CREATE INDEX redemptions_customer ON redemptions (customer_id, created_at);
CREATE INDEX redemptions_shop_created ON redemptions (shop_id, created_at);
