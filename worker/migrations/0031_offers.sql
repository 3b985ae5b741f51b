-- Personal offers (win-back): orders a member places in [starts_at, expires_at) earn `multiplier`
-- times. The daily run grants one per at-risk episode (`episode` names it: the member's last order
-- when found at risk; UNIQUE, so a second run, or a concurrent one, grants nothing more); the
-- merchant grants them by hand too (`source` manual, no episode). The multiplier is a decimal
-- with at most four places, as the program's other rates.
CREATE TABLE offers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  source TEXT NOT NULL CHECK (source IN ('win_back', 'manual')),
  multiplier REAL NOT NULL CHECK (multiplier > 1 AND multiplier <= 10),
  starts_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  episode TEXT,
  note TEXT,
  created_at TEXT NOT NULL,
  CHECK (expires_at > starts_at),
  UNIQUE (customer_id, episode)
);
CREATE INDEX offers_customer ON offers (customer_id, expires_at);
CREATE INDEX offers_shop_started ON offers (shop_id, starts_at);
