-- Console: analytics, exports and the simulator read whole shops by time and by row id. These
-- indexes keep those reads to the shop's own rows (D1 bills and limits by rows read).

-- CSV export of the ledger pages through a shop's entries by id.
CREATE INDEX ledger_shop_entry ON ledger (shop_id, id);
-- Members at a moment and new members per day.
CREATE INDEX customers_shop_joined ON customers (shop_id, created_at);
-- Challenge participations that moved in a period.
CREATE INDEX challenge_progress_shop_updated ON challenge_progress (shop_id, updated_at);
