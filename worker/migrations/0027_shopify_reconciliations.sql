-- Scheduled reconciliation of Shopify stores: each daily run pulls the orders updated since the
-- last run (the last day on the first) through the Admin API and applies what the webhooks missed.
-- One row per run, for the console: the window it covered, what it found and did, or why it could
-- not (`error`: the store not connected, Shopify refusing). `until` is where the next run starts;
-- null when the run did not read every page (the next run covers the same window again).
CREATE TABLE shopify_reconciliations (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL,
  ran_at TEXT NOT NULL,
  since TEXT NOT NULL,
  until TEXT,
  orders INTEGER NOT NULL DEFAULT 0,
  credited INTEGER NOT NULL DEFAULT 0,
  points INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
CREATE INDEX shopify_reconciliations_by_shop ON shopify_reconciliations (shop_id, ran_at);
