-- Webhooks: the merchant's endpoints and one delivery per (endpoint, event). Events come from the
-- outbox (0014); the dispatcher claims undispatched events, writes their deliveries and enqueues
-- them; the queue consumer signs and POSTs each one (services/webhook-delivery.ts).
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL,
  url TEXT NOT NULL,
  -- A JSON array of event types, or ["*"] for all of them.
  events TEXT NOT NULL CHECK (json_valid(events) AND json_type(events) = 'array'),
  description TEXT,
  -- The signing secret, AES-GCM sealed under a key from the worker's secrets: a copy of the
  -- database alone cannot sign.
  sealed_secret TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  -- The last outbox seq when the endpoint was created or last enabled: events up to it (those
  -- that happened before, or while it was paused) are never sent to it.
  from_seq INTEGER NOT NULL,
  -- Why it is paused: 'merchant' (PATCH enabled:false) or 'failing' (every attempt failed for days).
  paused_reason TEXT CHECK (paused_reason IN ('merchant', 'failing')),
  paused_at TEXT,
  -- The first failed attempt of the current run of failures; cleared by a delivery that succeeds.
  failing_since TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_shop ON webhook_endpoints (shop_id, created_at);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  -- The outbox event's id (the same for every endpoint and attempt), or a test event's own id.
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  -- A test event's whole payload; outbox events are read from the outbox at each attempt, so a
  -- GDPR erasure of the member also erases what later attempts send.
  test_payload TEXT CHECK (test_payload IS NULL OR json_valid(test_payload)),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- The last attempt's HTTP status (null: no answer: timeout, refused connection, blocked address).
  last_status INTEGER,
  last_error TEXT,
  -- The start of the last answer's body (a few hundred characters at most).
  last_response TEXT,
  last_attempt_at TEXT,
  next_attempt_at TEXT,
  -- Held by the consumer attempting it, so two copies of a queue message never POST at once.
  lease_token TEXT,
  lease_until TEXT,
  delivered_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
-- Pending deliveries whose queue message may have been lost (the scheduled sweep re-enqueues them).
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- A dispatcher claims a slice of undispatched events under a token for a short while; if it dies
-- before marking them dispatched, the claim lapses and the next dispatcher takes them again.
ALTER TABLE outbox ADD COLUMN dispatch_claim TEXT;
ALTER TABLE outbox ADD COLUMN dispatch_claimed_until TEXT;
CREATE INDEX outbox_claimed ON outbox (dispatch_claim) WHERE dispatched_at IS NULL;

-- No endpoint existed before this migration, so nothing recorded so far has anyone to go to.
UPDATE outbox SET dispatched_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE dispatched_at IS NULL;
