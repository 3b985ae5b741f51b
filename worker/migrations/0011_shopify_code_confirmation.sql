-- A Shopify shop's redemption is two steps: the debit and the code in D1, then the discount created
-- through the Admin API (voided when that fails). `shopify_status` says where the second step is:
-- 'pending' from the debit until Shopify has the discount, 'created' after; null for other shops.
-- A crash between the steps leaves a 'pending' code: the scheduled sweep finds those older than a
-- few minutes through this partial index, and confirms them with Shopify or voids them.
ALTER TABLE redemptions ADD COLUMN shopify_status TEXT CHECK (shopify_status IN ('pending', 'created'));
CREATE INDEX redemptions_shopify_pending ON redemptions (shop_id, created_at) WHERE status = 'issued' AND shopify_status = 'pending';
