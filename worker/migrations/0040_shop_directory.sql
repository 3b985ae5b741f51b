-- Many databases: which database holds each shop, and how to find a shop from what a request
-- carries (README "Scaling"). Used in the home database (the `DB` binding) only; created in every
-- database so all of them share one schema. A shop with no placement row lives in the home
-- database, so a deployment with one database never writes here.
CREATE TABLE shop_placements (
  shop_id TEXT PRIMARY KEY,
  -- The binding name of the database holding the shop (`DB`, `DB_1`, ...).
  binding TEXT NOT NULL,
  -- Set while the operator's move copies the shop to another database: its writes are refused
  -- (503, Retry-After) and its reads keep going to `binding` until the switch.
  moving_to TEXT,
  placed_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX shop_placements_binding ON shop_placements (binding);

-- 'public_key:pk_...', 'secret_key_hash:<hex>', 'shopify_domain:<x>.myshopify.com',
-- 'origin:https://...' -> the shop. An origin may be listed by several shops.
CREATE TABLE shop_directory (
  lookup TEXT NOT NULL,
  shop_id TEXT NOT NULL,
  PRIMARY KEY (lookup, shop_id)
) WITHOUT ROWID;
CREATE INDEX shop_directory_shop ON shop_directory (shop_id);
