/**
 * The outbox dispatcher's and the queue consumer's statements (0020_webhooks.sql).
 *
 * Dispatch, in one batch: claim a slice of undispatched outbox events under a token, write one
 * pending delivery per (subscribed, enabled) endpoint, and list the deliveries still to enqueue.
 * After the queue took them, the events are marked dispatched. A dispatcher that dies before that
 * leaves its claim to lapse; the next one writes the same deliveries (nothing new: one per
 * endpoint and event) and enqueues them again, and the consumer's lease and attempt count make
 * a second copy of a message a no-op.
 */
import { allRows, firstRow, type Read } from "./batch";

/** A delivery's queue message: which delivery, and how many attempts it had when enqueued. */
export interface DeliveryMessage {
  deliveryId: string;
  shopId: string;
  base: number;
}

interface ToEnqueueRow {
  id: string;
  shop_id: string;
  attempts: number;
}

export interface DispatchClaim {
  claimed: number;
  toEnqueue: DeliveryMessage[];
}

export function claimAndPlanDeliveries(db: D1Database, claim: { token: string; until: string; now: string; limit: number }): Read<DispatchClaim> {
  return {
    statements: [
      db
        .prepare(
          `UPDATE outbox SET dispatch_claim = ?1, dispatch_claimed_until = ?2
           WHERE seq IN (SELECT seq FROM outbox WHERE dispatched_at IS NULL
             AND (dispatch_claimed_until IS NULL OR dispatch_claimed_until < ?3) ORDER BY seq LIMIT ?4)`,
        )
        .bind(claim.token, claim.until, claim.now, claim.limit),
      db
        .prepare(
          `INSERT INTO webhook_deliveries (id, shop_id, endpoint_id, event_id, type, status, attempts, next_attempt_at, created_at, updated_at)
           SELECT 'dlv_' || lower(hex(randomblob(12))), o.shop_id, e.id, o.id, o.type, 'pending', 0, ?2, ?2, ?2
           FROM outbox o JOIN webhook_endpoints e ON e.shop_id = o.shop_id AND e.enabled = 1 AND o.seq > e.from_seq
           WHERE o.dispatch_claim = ?1 AND o.dispatched_at IS NULL
             AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value IN ('*', o.type))
           ORDER BY o.seq
           ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
        )
        .bind(claim.token, claim.now),
      db
        .prepare(
          `SELECT d.id, d.shop_id, d.attempts FROM outbox o JOIN webhook_deliveries d ON d.event_id = o.id AND d.shop_id = o.shop_id
           WHERE o.dispatch_claim = ?1 AND o.dispatched_at IS NULL AND d.status = 'pending' AND d.attempts = 0
           ORDER BY o.seq`,
        )
        .bind(claim.token),
      db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE dispatch_claim = ? AND dispatched_at IS NULL").bind(claim.token),
    ],
    parse: (results) => ({
      toEnqueue: ((results[2]?.results ?? []) as ToEnqueueRow[]).map((r) => ({ deliveryId: r.id, shopId: r.shop_id, base: r.attempts })),
      claimed: (results[3]?.results[0] as { n: number } | undefined)?.n ?? 0,
    }),
  };
}

export function markDispatched(db: D1Database, token: string, at: string): D1PreparedStatement {
  return db.prepare("UPDATE outbox SET dispatched_at = ? WHERE dispatch_claim = ? AND dispatched_at IS NULL").bind(at, token);
}

/**
 * Pending deliveries whose next attempt is long overdue: their queue message was lost (a crash
 * after the deliveries were written, before the queue took them). They are due again now.
 */
export function overdueDeliveries(db: D1Database, olderThan: string, limit: number): Read<DeliveryMessage[]> {
  return allRows(
    db
      .prepare(
        `SELECT id, shop_id, attempts FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at < ?1 AND (lease_until IS NULL OR lease_until < ?1)
         ORDER BY next_attempt_at LIMIT ?2`,
      )
      .bind(olderThan, limit),
    (r: ToEnqueueRow) => ({ deliveryId: r.id, shopId: r.shop_id, base: r.attempts }),
  );
}

export function markDue(db: D1Database, ids: string[], at: string): D1PreparedStatement {
  return db
    .prepare("UPDATE webhook_deliveries SET next_attempt_at = ?1 WHERE id IN (SELECT value FROM json_each(?2)) AND status = 'pending'")
    .bind(at, JSON.stringify(ids));
}

/** What an attempt needs: the delivery, its endpoint, and the event it carries. */
export interface Attempt {
  id: string;
  shopId: string;
  endpointId: string;
  eventId: string;
  type: string;
  attempts: number;
  url: string;
  sealedSecret: string;
  enabled: boolean;
  /** The payload's `data` and `occurredAt` (an outbox event) or the whole payload (a test event). */
  data: Record<string, unknown> | null;
  occurredAt: string | null;
  testPayload: string | null;
}

interface AttemptRow {
  id: string;
  shop_id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  attempts: number;
  url: string;
  sealed_secret: string;
  enabled: number;
  data: string | null;
  occurred_at: string | null;
  test_payload: string | null;
}

/**
 * Leases a delivery for one attempt: only while it is pending, has had exactly `expected`
 * attempts (an older copy of its message finds it moved on) and no one else holds it.
 */
export function leaseAttempt(
  db: D1Database,
  lease: { deliveryId: string; shopId: string; expected: number; token: string; until: string; now: string },
): Read<Attempt | null> {
  const leased = firstRow(
    db
      .prepare(
        `SELECT d.id, d.shop_id, d.endpoint_id, d.event_id, d.type, d.attempts, e.url, e.sealed_secret, e.enabled,
           o.data, o.occurred_at, d.test_payload
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.shop_id = d.shop_id
         LEFT JOIN outbox o ON o.id = d.event_id AND o.shop_id = d.shop_id
         WHERE d.id = ? AND d.shop_id = ? AND d.lease_token = ?`,
      )
      .bind(lease.deliveryId, lease.shopId, lease.token),
    (row: AttemptRow): Attempt => ({
      id: row.id,
      shopId: row.shop_id,
      endpointId: row.endpoint_id,
      eventId: row.event_id,
      type: row.type,
      attempts: row.attempts,
      url: row.url,
      sealedSecret: row.sealed_secret,
      enabled: row.enabled === 1,
      data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
      occurredAt: row.occurred_at,
      testPayload: row.test_payload,
    }),
  );
  return {
    statements: [
      db
        .prepare(
          `UPDATE webhook_deliveries SET lease_token = ?1, lease_until = ?2
           WHERE id = ?3 AND shop_id = ?4 AND status = 'pending' AND attempts = ?5 AND (lease_until IS NULL OR lease_until < ?6)`,
        )
        .bind(lease.token, lease.until, lease.deliveryId, lease.shopId, lease.expected, lease.now),
      ...leased.statements,
    ],
    parse: (results) => leased.parse(results.slice(1)),
  };
}

export interface AttemptOutcome {
  delivered: boolean;
  status: number | null;
  error: string | null;
  response: string | null;
  at: string;
  /** When the queue will try again; null when this was the last attempt of its message. */
  nextAttemptAt: string | null;
}

/**
 * Records an attempt under its lease, and what it says of the endpoint: a success ends its run
 * of failures; a failure starts one (or continues it), and one that has lasted since `pauseBefore`
 * pauses the endpoint.
 */
export function recordAttempt(
  db: D1Database,
  attempt: { id: string; shopId: string; endpointId: string; token: string },
  outcome: AttemptOutcome,
  pauseBefore: string,
): D1PreparedStatement[] {
  const delivery = db
    .prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?1, last_status = ?2, last_error = ?3, last_response = ?4,
         last_attempt_at = ?5, next_attempt_at = ?6, delivered_at = CASE WHEN ?1 = 'delivered' THEN ?5 ELSE delivered_at END,
         lease_token = NULL, lease_until = NULL, updated_at = ?5
       WHERE id = ?7 AND shop_id = ?8 AND lease_token = ?9`,
    )
    .bind(
      outcome.delivered ? "delivered" : "pending",
      outcome.status,
      outcome.error,
      outcome.response,
      outcome.at,
      outcome.delivered ? null : outcome.nextAttemptAt,
      attempt.id,
      attempt.shopId,
      attempt.token,
    );
  if (outcome.delivered) {
    return [
      delivery,
      db
        .prepare("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND shop_id = ? AND failing_since IS NOT NULL")
        .bind(attempt.endpointId, attempt.shopId),
    ];
  }
  return [
    delivery,
    db
      .prepare("UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ? AND shop_id = ?")
      .bind(outcome.at, attempt.endpointId, attempt.shopId),
    db
      .prepare(
        `UPDATE webhook_endpoints SET enabled = 0, paused_reason = 'failing', paused_at = ?1, updated_at = ?1
         WHERE id = ?2 AND shop_id = ?3 AND enabled = 1 AND failing_since <= ?4`,
      )
      .bind(outcome.at, attempt.endpointId, attempt.shopId, pauseBefore),
  ];
}

/** A delivery whose endpoint is paused: not sent, kept as failed (a retry by hand sends it). */
export function failUnsent(db: D1Database, attempt: { id: string; shopId: string; token: string }, error: string, at: string) {
  return db
    .prepare(
      `UPDATE webhook_deliveries SET status = 'failed', last_error = ?1, next_attempt_at = NULL, lease_token = NULL,
         lease_until = NULL, updated_at = ?2 WHERE id = ?3 AND shop_id = ?4 AND lease_token = ?5`,
    )
    .bind(error, at, attempt.id, attempt.shopId, attempt.token);
}

/** The dead-letter queue's verdict: the delivery's attempts are spent. */
export function markFailed(db: D1Database, message: DeliveryMessage, at: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = ?1
       WHERE id = ?2 AND shop_id = ?3 AND status = 'pending'`,
    )
    .bind(at, message.deliveryId, message.shopId);
}
