/**
 * Guest orders (0029_guest_orders.sql): points held for an email until a member with it appears.
 * Emails arrive here only as their keyed hash (services/guests.ts computes it).
 */
import type { Rounding } from "../domain/decimal";
import { allRows, firstRow, guard, type Read } from "./batch";
import { type OrderStatus, reversalUpdate } from "./orders";

export type GuestOrderStatus = "held" | "claimed" | "expired";

export interface GuestOrder {
  rowId: number;
  externalId: string;
  currency: string;
  eligibleAmount: number;
  totalAmount: number;
  pointsAwarded: number;
  pointsReversed: number;
  refundedAmount: number;
  rounding: Rounding;
  orderStatus: OrderStatus;
  status: GuestOrderStatus;
  orderedAt: string;
  heldUntil: string;
  claimedAt: string | null;
  version: number;
  createdAt: string;
}

interface GuestOrderRow {
  id: number;
  external_id: string;
  currency: string;
  eligible_amount: number;
  total_amount: number;
  points_awarded: number;
  points_reversed: number;
  refunded_amount: number;
  rounding: Rounding;
  order_status: OrderStatus;
  status: GuestOrderStatus;
  ordered_at: string;
  held_until: string;
  claimed_at: string | null;
  version: number;
  created_at: string;
}

const COLUMNS =
  "id, external_id, currency, eligible_amount, total_amount, points_awarded, points_reversed, refunded_amount, rounding, order_status, status, ordered_at, held_until, claimed_at, version, created_at";

function toGuestOrder(row: GuestOrderRow): GuestOrder {
  return {
    rowId: row.id,
    externalId: row.external_id,
    currency: row.currency,
    eligibleAmount: row.eligible_amount,
    totalAmount: row.total_amount,
    pointsAwarded: row.points_awarded,
    pointsReversed: row.points_reversed,
    refundedAmount: row.refunded_amount,
    rounding: row.rounding,
    orderStatus: row.order_status,
    status: row.status,
    orderedAt: row.ordered_at,
    heldUntil: row.held_until,
    claimedAt: row.claimed_at,
    version: row.version,
    createdAt: row.created_at,
  };
}

/** The guest order with this external id (held, claimed or expired), or null. */
export function readGuestOrder(db: D1Database, shopId: string, externalId: string): Read<GuestOrder | null> {
  return firstRow(
    db.prepare(`SELECT ${COLUMNS} FROM guest_orders WHERE shop_id = ? AND external_id = ?`).bind(shopId, externalId),
    toGuestOrder,
  );
}

/** How many holdings one claim takes at most (a member's batch stays bounded). */
export const CLAIMS_PER_WRITE = 50;

/** The holdings still waiting for this email's member, oldest first; [] without a hash. */
export function readHeldForEmail(db: D1Database, shopId: string, emailHash: string | null): Read<GuestOrder[]> {
  if (emailHash === null) return { statements: [], parse: () => [] };
  return allRows(
    db
      .prepare(`SELECT ${COLUMNS} FROM guest_orders WHERE shop_id = ? AND email_hash = ? AND status = 'held' ORDER BY id LIMIT ?`)
      .bind(shopId, emailHash, CLAIMS_PER_WRITE),
    toGuestOrder,
  );
}

/**
 * For a member's order: the guest order of the same id (it arrived first without its customer)
 * and the holdings waiting for the order's email, in one statement.
 */
export function readGuestClaims(
  db: D1Database,
  shopId: string,
  orderExternalId: string,
  emailHash: string | null,
): Read<{ sameOrder: GuestOrder | null; held: GuestOrder[] }> {
  return {
    statements: [
      db
        .prepare(
          `SELECT ${COLUMNS} FROM guest_orders
           WHERE shop_id = ?1 AND (external_id = ?2 OR (?3 IS NOT NULL AND email_hash = ?3 AND status = 'held'))
           ORDER BY id LIMIT ?4`,
        )
        .bind(shopId, orderExternalId, emailHash, CLAIMS_PER_WRITE + 1),
    ],
    parse: ([result]) => {
      const rows = ((result?.results ?? []) as GuestOrderRow[]).map(toGuestOrder);
      return {
        sameOrder: rows.find((g) => g.externalId === orderExternalId) ?? null,
        held: rows.filter((g) => g.externalId !== orderExternalId).slice(0, CLAIMS_PER_WRITE),
      };
    },
  };
}

export interface NewGuestOrder {
  externalId: string;
  emailHash: string;
  currency: string;
  eligibleAmount: number;
  totalAmount: number;
  pointsAwarded: number;
  pointsReversed: number;
  refundedAmount: number;
  rounding: Rounding;
  orderStatus: OrderStatus;
  orderedAt: string;
  heldUntil: string;
  createdAt: string;
}

/**
 * A plain INSERT: the unique (shop, order id) makes a second delivery fail its batch and re-read.
 * `claimedBy` (a member's external id) records it as claimed at once: a member with the email
 * was already there.
 */
export function insertGuestOrder(
  db: D1Database,
  shopId: string,
  order: NewGuestOrder,
  claimedBy: string | null = null,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO guest_orders (shop_id, external_id, email_hash, currency, eligible_amount, total_amount, points_awarded,
         points_reversed, refunded_amount, rounding, order_status, status, ordered_at, held_until, customer_id, claimed_at,
         created_at)
       VALUES (?1, ?2, CASE WHEN ?15 IS NULL THEN ?3 END, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
         CASE WHEN ?15 IS NULL THEN 'held' ELSE 'claimed' END, ?12, ?13,
         (SELECT id FROM customers WHERE shop_id = ?1 AND external_id = ?15), CASE WHEN ?15 IS NOT NULL THEN ?14 END, ?14)`,
    )
    .bind(
      shopId,
      order.externalId,
      order.emailHash,
      order.currency,
      order.eligibleAmount,
      order.totalAmount,
      order.pointsAwarded,
      order.pointsReversed,
      order.refundedAmount,
      order.rounding,
      order.orderStatus,
      order.orderedAt,
      order.heldUntil,
      order.createdAt,
      claimedBy,
    );
}

/** Moves a guest order to its new refund state, only from the version it was read at. */
export function updateGuestReversal(
  db: D1Database,
  shopId: string,
  order: GuestOrder,
  next: { refundedAmount: number; pointsReversed: number; orderStatus: OrderStatus },
): D1PreparedStatement[] {
  return reversalUpdate(db, "guest_orders", shopId, order, { ...next, status: next.orderStatus });
}

/** A holding goes to the member (its hash is cleared), only if it is still held at the version read. */
export function claimGuestOrder(
  db: D1Database,
  shopId: string,
  order: GuestOrder,
  memberExternalId: string,
  at: string,
): D1PreparedStatement[] {
  return [
    guard(db, "EXISTS (SELECT 1 FROM guest_orders WHERE id = ? AND version = ? AND status = 'held')", order.rowId, order.version),
    db
      .prepare(
        `UPDATE guest_orders SET status = 'claimed', email_hash = NULL, claimed_at = ?3, version = version + 1,
           customer_id = (SELECT id FROM customers WHERE shop_id = ?1 AND external_id = ?2)
         WHERE shop_id = ?1 AND id = ?4`,
      )
      .bind(shopId, memberExternalId, at, order.rowId),
  ];
}

/** Fails the batch if a guest order with this id was recorded meanwhile. */
export function guestOrderStillAbsent(db: D1Database, shopId: string, externalId: string): D1PreparedStatement {
  return guard(db, "NOT EXISTS (SELECT 1 FROM guest_orders WHERE shop_id = ? AND external_id = ?)", shopId, externalId);
}

/** Holdings past their 30 days expire: no longer claimable, their hash gone. Returns the statement. */
export function expireGuestOrders(db: D1Database, shopId: string, now: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE guest_orders SET status = 'expired', email_hash = NULL, version = version + 1
       WHERE shop_id = ? AND status = 'held' AND held_until <= ?`,
    )
    .bind(shopId, now);
}

/** A customers/redact for a guest's email: their holdings can no longer be matched to anyone. */
export function forgetGuestEmail(db: D1Database, shopId: string, emailHash: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE guest_orders SET status = 'expired', email_hash = NULL, version = version + 1
       WHERE shop_id = ? AND email_hash = ? AND status = 'held'`,
    )
    .bind(shopId, emailHash);
}

/** The shop's guest orders, newest first (for the merchant). */
export function readGuestOrders(db: D1Database, shopId: string, limit: number): Read<(GuestOrder & { customerId: string | null })[]> {
  return allRows(
    db
      .prepare(
        `SELECT ${COLUMNS.split(", ").map((c) => `g.${c}`).join(", ")}, c.external_id AS customer_external_id
         FROM guest_orders g LEFT JOIN customers c ON c.id = g.customer_id
         WHERE g.shop_id = ? ORDER BY g.id DESC LIMIT ?`,
      )
      .bind(shopId, limit),
    (row: GuestOrderRow & { customer_external_id: string | null }) => ({ ...toGuestOrder(row), customerId: row.customer_external_id }),
  );
}
