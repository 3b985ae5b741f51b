-- The daily expiry looks for earned points whose expiry has come: a range over this partial index
-- instead of every ledger row of the shop.
CREATE INDEX ledger_expiring_credits ON ledger (shop_id, expires_at) WHERE delta > 0 AND expires_at IS NOT NULL;
