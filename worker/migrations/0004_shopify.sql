-- Shopify connection of a shop: the Admin API access token (sealed with a key derived from
-- SHOPIFY_API_SECRET, never stored in the clear), when the shop connected, and when it uninstalled
-- the app (app/uninstalled clears the token; shop/redact later erases the whole shop).
ALTER TABLE shops ADD COLUMN shopify_access_token TEXT;
ALTER TABLE shops ADD COLUMN shopify_connected_at TEXT;
ALTER TABLE shops ADD COLUMN shopify_uninstalled_at TEXT;
