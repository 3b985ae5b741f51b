-- Expiring offline access tokens (Shopify requires them of public apps from 1 January 2027): the
-- access token lasts an hour and comes with a refresh token, both sealed like the access token
-- (AES-GCM under a key derived from SHOPIFY_API_SECRET).
--   shopify_token_kind     'expiring' (OAuth or token exchange, refreshed before it lapses),
--                          'manual' (a custom app's token connected by hand: it does not expire),
--                          'legacy' (a non-expiring token stored before this migration: it is
--                          exchanged for an expiring one on its next use).
--   shopify_token_version  bumped by every new token: a refresh saves only over the version it read.
--   shopify_refresh_lease  who is refreshing (a nonce), until shopify_refresh_lease_until: one refresh
--                          at a time across requests and isolates; a lease past its time is free.
--   shopify_token_error    why Laurel has no usable token (Shopify refused the refresh): the console
--                          tells the merchant to open the app again; cleared by the next token.
ALTER TABLE shops ADD COLUMN shopify_token_kind TEXT CHECK (shopify_token_kind IN ('expiring', 'manual', 'legacy'));
ALTER TABLE shops ADD COLUMN shopify_token_expires_at TEXT;
ALTER TABLE shops ADD COLUMN shopify_refresh_token TEXT;
ALTER TABLE shops ADD COLUMN shopify_refresh_expires_at TEXT;
ALTER TABLE shops ADD COLUMN shopify_token_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shops ADD COLUMN shopify_refresh_lease TEXT;
ALTER TABLE shops ADD COLUMN shopify_refresh_lease_until TEXT;
ALTER TABLE shops ADD COLUMN shopify_token_error TEXT;
UPDATE shops SET shopify_token_kind = 'legacy' WHERE shopify_access_token IS NOT NULL;
