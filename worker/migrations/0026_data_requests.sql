-- customers/data_request, recorded: Shopify discards a webhook's response body, so the export is
-- kept here for the store owner to download from the console (GET /v1/data-requests) and hand to
-- the customer. One row per delivery (a retry of the same delivery is not a second request). The
-- export holds personal data: customers/redact and shop/redact erase it with the rest.
CREATE TABLE data_requests (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  orders_requested TEXT NOT NULL DEFAULT '[]',
  export TEXT,
  requested_at TEXT NOT NULL,
  UNIQUE (shop_id, delivery_id)
);
CREATE INDEX data_requests_by_shop ON data_requests (shop_id, requested_at, id);
CREATE INDEX data_requests_by_customer ON data_requests (shop_id, customer_id);
