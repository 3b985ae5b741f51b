-- store_credit rewards of a Shopify shop are credited as Shopify store credit (not a code), where
-- the store has it. shopify_store_credit_tx is the credit's transaction GID: set, the redemption is
-- store credit (and its shopify_status 'created'). shopify_store_credit_reversal holds the void's
-- lease while the credit is taken back (a nonce), then the debit's transaction GID: one void debits
-- once, however many requests race.
ALTER TABLE redemptions ADD COLUMN shopify_store_credit_tx TEXT;
ALTER TABLE redemptions ADD COLUMN shopify_store_credit_reversal TEXT;
