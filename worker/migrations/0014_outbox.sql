-- The outbox: every domain event (the types of worker/store/outbox.ts) is a row written in the same transaction as
-- the change it reports, so a change that commits always has its events and one that is refused
-- has none. Events that follow from a row change are written by triggers on that row (a writer
-- cannot forget them, and they carry what the batch really did: a claw-back clamped at zero
-- reports the points it took, a challenge completes in exactly one of two racing batches). Other
-- announcements (the daily run's reminders) are inserted by the writer itself (store/outbox.ts).
-- `id` is the event's id for every attempt and every endpoint; `seq` orders a shop's events.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  shop_id TEXT NOT NULL,
  type TEXT NOT NULL,
  -- The member the event is about (row id): GDPR erasure scrubs what the event says of them.
  customer_id INTEGER,
  -- The ledger entry a points event reports.
  ledger_id INTEGER UNIQUE,
  data TEXT NOT NULL CHECK (json_valid(data)),
  occurred_at TEXT NOT NULL,
  -- Set once the event is handed to delivery (the webhooks dispatcher).
  dispatched_at TEXT
);
CREATE INDEX outbox_shop ON outbox (shop_id, seq);
CREATE INDEX outbox_undispatched ON outbox (seq) WHERE dispatched_at IS NULL;

-- Every credit is points.earned, every debit points.spent, with the balance it left. A claw-back
-- that found nothing to take (delta 0) moved nothing and reports nothing.
CREATE TRIGGER outbox_points_moved
AFTER INSERT ON ledger
WHEN NEW.delta <> 0
BEGIN
  INSERT INTO outbox (id, shop_id, type, customer_id, ledger_id, data, occurred_at)
  SELECT 'evt_' || lower(hex(randomblob(16))), NEW.shop_id,
    CASE WHEN NEW.delta > 0 THEN 'points.earned' ELSE 'points.spent' END, NEW.customer_id, NEW.id,
    json_object('customerId', c.external_id, 'points', abs(NEW.delta), 'kind', NEW.kind,
      'reference', NEW.reference, 'balance', NEW.balance_after),
    NEW.created_at
  FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER outbox_member_created
AFTER INSERT ON customers
BEGIN
  INSERT INTO outbox (id, shop_id, type, customer_id, data, occurred_at)
  VALUES ('evt_' || lower(hex(randomblob(16))), NEW.shop_id, 'member.created', NEW.id,
    json_object('customerId', NEW.external_id, 'email', NEW.email), NEW.created_at);
END;

CREATE TRIGGER outbox_tier_changed
AFTER UPDATE OF tier ON customers
WHEN OLD.tier IS NOT NEW.tier
BEGIN
  INSERT INTO outbox (id, shop_id, type, customer_id, data, occurred_at)
  VALUES ('evt_' || lower(hex(randomblob(16))), NEW.shop_id, 'tier.changed', NEW.id,
    json_object('customerId', NEW.external_id, 'from', OLD.tier, 'to', NEW.tier),
    COALESCE(NEW.tier_since, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
END;

-- A redemption as the reward.* events carry it, written once here.
CREATE VIEW redemption_events AS
SELECT r.id, r.shop_id, r.customer_id, c.external_id AS customer_external_id,
  json_object('id', r.id, 'code', r.code, 'rewardId', r.reward_id,
    'rewardName', (SELECT name FROM rewards WHERE id = r.reward_id), 'points', r.points, 'status', r.status,
    'createdAt', r.created_at, 'expiresAt', NULL, 'usedAt', r.used_at, 'orderId', NULL) AS redemption
FROM redemptions r JOIN customers c ON c.id = r.customer_id;

CREATE TRIGGER outbox_reward_redeemed
AFTER INSERT ON redemptions
BEGIN
  INSERT INTO outbox (id, shop_id, type, customer_id, data, occurred_at)
  SELECT 'evt_' || lower(hex(randomblob(16))), NEW.shop_id, 'reward.redeemed', NEW.customer_id,
    json_object('customerId', v.customer_external_id, 'redemption', json(v.redemption)), NEW.created_at
  FROM redemption_events v WHERE v.id = NEW.id;
END;

CREATE TRIGGER outbox_reward_used
AFTER UPDATE OF status ON redemptions
WHEN NEW.status = 'used' AND OLD.status IS NOT 'used'
BEGIN
  INSERT INTO outbox (id, shop_id, type, customer_id, data, occurred_at)
  SELECT 'evt_' || lower(hex(randomblob(16))), NEW.shop_id, 'reward.used', NEW.customer_id,
    json_object('customerId', v.customer_external_id, 'redemption', json(v.redemption)),
    COALESCE(NEW.used_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  FROM redemption_events v WHERE v.id = NEW.id;
END;

-- Completion is decided inside the batch (store/challenges.ts), so only the batch that really
-- completes the challenge reports it; `points` is what its ledger entry paid (written just before).
CREATE TRIGGER outbox_challenge_completed
AFTER UPDATE OF completed_at ON challenge_progress
WHEN OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL
BEGIN
  INSERT INTO outbox (id, shop_id, type, customer_id, data, occurred_at)
  SELECT 'evt_' || lower(hex(randomblob(16))), NEW.shop_id, 'challenge.completed', NEW.customer_id,
    json_object('customerId', c.external_id, 'challengeId', NEW.challenge_id,
      'points', COALESCE((SELECT delta FROM ledger WHERE shop_id = NEW.shop_id
        AND idempotency_key = 'challenge:' || NEW.challenge_id || ':' || NEW.customer_id), 0),
      'badge', ch.badge),
    NEW.completed_at
  FROM customers c, challenges ch WHERE c.id = NEW.customer_id AND ch.id = NEW.challenge_id;
END;

-- The referrer's reward is credited before the referral is marked completed (store/referrals.ts).
CREATE TRIGGER outbox_referral_completed
AFTER UPDATE OF status ON referrals
WHEN NEW.status = 'completed' AND OLD.status IS NOT 'completed'
BEGIN
  INSERT INTO outbox (id, shop_id, type, customer_id, data, occurred_at)
  SELECT 'evt_' || lower(hex(randomblob(16))), NEW.shop_id, 'referral.completed', NEW.referrer_id,
    json_object('referrerId', rc.external_id,
      'refereeId', (SELECT external_id FROM customers WHERE id = NEW.referee_customer_id),
      'points', COALESCE((SELECT delta FROM ledger WHERE shop_id = NEW.shop_id
        AND idempotency_key = 'referral:' || NEW.id), 0)),
    COALESCE(NEW.completed_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  FROM customers rc WHERE rc.id = NEW.referrer_id;
END;
