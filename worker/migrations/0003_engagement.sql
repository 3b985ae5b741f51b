-- Challenges, badges, referrals and NPS. Completion and referral rewards are unique per
-- (challenge, customer) and per referral, so they pay once under any concurrency.

CREATE TABLE challenges (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL REFERENCES shops (id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('order_count', 'spend', 'product_type', 'streak', 'referrals', 'review',
    'social', 'nps')),
  -- Orders, minor units of spend, periods in a row, referrals or actions to reach.
  goal INTEGER NOT NULL CHECK (goal > 0),
  reward_points INTEGER NOT NULL DEFAULT 0 CHECK (reward_points >= 0),
  badge TEXT,
  product_type TEXT,
  period_days INTEGER,
  starts_at TEXT,
  ends_at TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  deleted_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX challenges_shop ON challenges (shop_id, deleted_at);

CREATE TABLE challenge_progress (
  shop_id TEXT NOT NULL,
  challenge_id TEXT NOT NULL REFERENCES challenges (id),
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  progress INTEGER NOT NULL DEFAULT 0,
  -- For streaks: the last period index (days since epoch / period_days) with an order.
  last_period INTEGER,
  completed_at TEXT,
  version INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (challenge_id, customer_id)
);
CREATE INDEX challenge_progress_customer ON challenge_progress (customer_id);

CREATE TABLE badges (
  shop_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  challenge_id TEXT NOT NULL,
  name TEXT NOT NULL,
  badge TEXT NOT NULL,
  earned_at TEXT NOT NULL,
  PRIMARY KEY (customer_id, challenge_id)
);

CREATE TABLE referrals (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL REFERENCES shops (id),
  referrer_id INTEGER NOT NULL REFERENCES customers (id),
  code TEXT NOT NULL,
  referee_email TEXT,
  -- Lower-cased, +tag and (for gmail) dots removed: what fraud rules compare.
  referee_email_key TEXT,
  referee_customer_id INTEGER REFERENCES customers (id),
  offer_code TEXT,
  status TEXT NOT NULL CHECK (status IN ('claimed', 'completed', 'rejected', 'reversed')),
  rejection_reason TEXT,
  claim_address TEXT,
  order_external_id TEXT,
  created_at TEXT NOT NULL,
  completed_at TEXT,
  UNIQUE (shop_id, offer_code)
);
CREATE INDEX referrals_shop_email ON referrals (shop_id, referee_email_key);
CREATE INDEX referrals_referrer ON referrals (referrer_id);
CREATE INDEX referrals_shop_created ON referrals (shop_id, created_at);
CREATE INDEX referrals_address ON referrals (shop_id, claim_address, created_at);

CREATE TABLE nps_responses (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
  comment TEXT,
  -- The period index (days since epoch / npsPeriodDays): one answer per customer per period.
  period INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (customer_id, period)
);
CREATE INDEX nps_shop_created ON nps_responses (shop_id, created_at);
