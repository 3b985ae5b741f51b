/**
 * The outbox (0014_outbox.sql): domain events written in the same batch as the change they
 * report. Row changes announce themselves through triggers (points moved, member created, tier
 * changed, reward redeemed or used, challenge completed, referral completed); `announce` is for
 * what no row change implies (the daily run's reminders, feedback), put by the writer into its
 * own batch.
 */
import { randomBytes, toHex } from "../crypto";
import { allRows, type Read } from "./batch";

/** Every event type the outbox carries (the README lists what each means). */
export const DOMAIN_EVENT_TYPES = [
  "member.created",
  "points.earned",
  "points.spent",
  "points.expiring",
  "tier.changed",
  "reward.redeemed",
  "reward.used",
  "reward.affordable",
  "referral.completed",
  "challenge.completed",
  "feedback.received",
  "member.at_risk",
] as const;

export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];

export interface Announcement {
  type: DomainEventType;
  /** The member it is about (the merchant's id), if any. */
  customerExternalId: string | null;
  data: Record<string, unknown>;
  occurredAt: string;
  /**
   * A stable id for an announcement that must be made once ("once per lot"): a second one with
   * the same id is dropped. Without it the event gets a fresh id.
   */
  onceId?: string | undefined;
}

export const newEventId = () => `evt_${toHex(randomBytes(16))}`;

/** The statement that records an announcement; it joins the batch of the change it reports. */
export function announce(db: D1Database, shopId: string, event: Announcement): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO outbox (id, shop_id, type, customer_id, data, occurred_at)
       VALUES (?1, ?2, ?3, (SELECT id FROM customers WHERE shop_id = ?2 AND external_id = ?4), ?5, ?6)
       ON CONFLICT (id) DO NOTHING`,
    )
    .bind(
      event.onceId ?? newEventId(),
      shopId,
      event.type,
      event.customerExternalId,
      JSON.stringify(event.data),
      event.occurredAt,
    );
}

export interface OutboxEvent {
  seq: number;
  id: string;
  type: DomainEventType;
  /** The ledger entry a points event reports. */
  ledgerId: number | null;
  data: Record<string, unknown>;
  occurredAt: string;
  dispatchedAt: string | null;
}

interface OutboxRow {
  seq: number;
  id: string;
  type: DomainEventType;
  ledger_id: number | null;
  data: string;
  occurred_at: string;
  dispatched_at: string | null;
}

const toEvent = (row: OutboxRow): OutboxEvent => ({
  seq: row.seq,
  id: row.id,
  type: row.type,
  ledgerId: row.ledger_id,
  data: JSON.parse(row.data) as Record<string, unknown>,
  occurredAt: row.occurred_at,
  dispatchedAt: row.dispatched_at,
});

/** A shop's events after `afterSeq`, in the order they were recorded. */
export function readOutbox(db: D1Database, shopId: string, options: { afterSeq?: number; limit?: number } = {}): Read<OutboxEvent[]> {
  return allRows(
    db
      .prepare(
        `SELECT seq, id, type, ledger_id, data, occurred_at, dispatched_at FROM outbox
         WHERE shop_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      )
      .bind(shopId, options.afterSeq ?? 0, options.limit ?? 1000),
    toEvent,
  );
}

/**
 * GDPR erasure of a member: what their events say of them goes (their email), and the merchant's
 * id they carry becomes the erased member's new id. Runs after the customer row was redacted.
 */
export function redactOutboxStatements(
  db: D1Database,
  shopId: string,
  rowId: number,
  formerExternalId: string,
): D1PreparedStatement[] {
  const personal = ["email", "comment"].map((field) =>
    db
      .prepare(
        `UPDATE outbox SET data = json_set(data, '$.${field}', json('null'))
         WHERE shop_id = ? AND customer_id = ? AND json_type(data, '$.${field}') IS NOT NULL`,
      )
      .bind(shopId, rowId),
  );
  const ids = ["customerId", "referrerId", "refereeId"].map((field) =>
    db
      .prepare(
        `UPDATE outbox SET data = json_set(data, '$.${field}', (SELECT external_id FROM customers WHERE id = ?2))
         WHERE shop_id = ?1 AND json_extract(data, '$.${field}') = ?3`,
      )
      .bind(shopId, rowId, formerExternalId),
  );
  return [...personal, ...ids];
}
