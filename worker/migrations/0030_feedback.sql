-- Feedback besides NPS: CES after a redemption (1..7), CSAT (1..5) and free text about the program
-- itself (score optional, 1..5). One answer per kind and redemption (a unique key, so even two
-- concurrent answers store one); answers without a redemption are not limited. The CHECKs hold the
-- score ranges in the database as well as at the edge.
CREATE TABLE feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  kind TEXT NOT NULL CHECK (kind IN ('ces', 'csat', 'program')),
  score INTEGER,
  comment TEXT,
  redemption_id TEXT,
  created_at TEXT NOT NULL,
  CHECK (kind != 'ces' OR (score BETWEEN 1 AND 7 AND redemption_id IS NOT NULL)),
  CHECK (kind != 'csat' OR score BETWEEN 1 AND 5),
  CHECK (kind != 'program' OR score IS NULL OR score BETWEEN 1 AND 5),
  UNIQUE (shop_id, kind, redemption_id)
);
CREATE INDEX feedback_shop_created ON feedback (shop_id, created_at);
CREATE INDEX feedback_customer ON feedback (customer_id);

-- The Customer Loyalty Index asks two more NPS-style questions with the NPS one: how likely to buy
-- again (repurchase) and to try other products (upsell), 0..10 each, both optional.
ALTER TABLE nps_responses ADD COLUMN repurchase INTEGER CHECK (repurchase BETWEEN 0 AND 10);
ALTER TABLE nps_responses ADD COLUMN upsell INTEGER CHECK (upsell BETWEEN 0 AND 10);
