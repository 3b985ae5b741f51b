-- Guest orders: an order that names no customer, only an email. Its points are not in anyone's
-- balance; they are held for the email for 30 days (held_until) and credited, as that order of
-- the member's, when a member with the same email appears: a customer created (Shopify
-- customers/create, or customer.created on POST /v1/events), or a later order of a customer with
-- that email. Refunds and a cancellation meanwhile lower what is held (points_reversed), by the
-- same proportional rule as a member's order. The daily run lets unclaimed holdings expire.
--
-- The address itself is never stored: email_hash is HMAC-SHA256 of the trimmed, lower-cased
-- address, keyed by a secret of the shop, and it is cleared (NULL) once the holding is claimed,
-- expires or is redacted, so only a holding that can still be claimed can be matched.
CREATE TABLE guest_orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_id TEXT NOT NULL,
  external_id TEXT NOT NULL,
  email_hash TEXT,
  currency TEXT NOT NULL,
  eligible_amount INTEGER NOT NULL CHECK (eligible_amount >= 0),
  total_amount INTEGER NOT NULL DEFAULT 0,
  points_awarded INTEGER NOT NULL CHECK (points_awarded >= 0),
  points_reversed INTEGER NOT NULL DEFAULT 0 CHECK (points_reversed >= 0),
  refunded_amount INTEGER NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
  -- The rounding mode in force when the order was paid: refunds and the claim use the same rule.
  rounding TEXT NOT NULL,
  order_status TEXT NOT NULL CHECK (order_status IN ('paid', 'partially_refunded', 'refunded', 'cancelled')),
  status TEXT NOT NULL CHECK (status IN ('held', 'claimed', 'expired')),
  ordered_at TEXT NOT NULL,
  held_until TEXT NOT NULL,
  -- The member who claimed it (their order of the same external id is in `orders` from then on).
  customer_id INTEGER REFERENCES customers (id),
  claimed_at TEXT,
  version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  CHECK (points_reversed <= points_awarded),
  CHECK (status = 'held' OR email_hash IS NULL),
  CHECK ((status = 'claimed') = (customer_id IS NOT NULL)),
  UNIQUE (shop_id, external_id)
);
CREATE INDEX guest_orders_email ON guest_orders (shop_id, email_hash) WHERE status = 'held';
CREATE INDEX guest_orders_due ON guest_orders (shop_id, held_until) WHERE status = 'held';
