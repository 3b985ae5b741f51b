import { allRows, firstRow, guard, type Read } from "./batch";
import type { OrderStep } from "../domain/challenges";
import type { Rounding } from "../domain/decimal";

export type OrderStatus = "paid" | "partially_refunded" | "refunded" | "cancelled";

export interface Order {
  rowId: number;
  externalId: string;
  customerRowId: number | null;
  customerExternalId: string | null;
  currency: string;
  eligibleAmount: number;
  totalAmount: number;
  pointsAwarded: number;
  pointsReversed: number;
  refundedAmount: number;
  rounding: Rounding;
  status: OrderStatus;
  email: string | null;
  lines: unknown[];
  discountCodes: string[];
  /** What it added to challenges when paid, taken back by refunds and cancellation. */
  challengeSteps: OrderStep[];
  /** Its points are held until `availableAt` (program.earning.pendingDays). */
  pending: boolean;
  availableAt: string | null;
  version: number;
  createdAt: string;
}

interface OrderRow {
  id: number;
  external_id: string;
  customer_id: number | null;
  customer_external_id: string | null;
  currency: string;
  eligible_amount: number;
  total_amount: number;
  points_awarded: number;
  points_reversed: number;
  refunded_amount: number;
  rounding: Rounding;
  status: OrderStatus;
  email: string | null;
  lines: string;
  discount_codes: string;
  challenge_steps: string;
  pending: number;
  available_at: string | null;
  version: number;
  created_at: string;
}

function toOrder(row: OrderRow): Order {
  return {
    rowId: row.id,
    externalId: row.external_id,
    customerRowId: row.customer_id,
    customerExternalId: row.customer_external_id,
    currency: row.currency,
    eligibleAmount: row.eligible_amount,
    totalAmount: row.total_amount,
    pointsAwarded: row.points_awarded,
    pointsReversed: row.points_reversed,
    refundedAmount: row.refunded_amount,
    rounding: row.rounding,
    status: row.status,
    email: row.email,
    lines: JSON.parse(row.lines) as unknown[],
    discountCodes: JSON.parse(row.discount_codes) as string[],
    challengeSteps: JSON.parse(row.challenge_steps) as OrderStep[],
    pending: row.pending === 1,
    availableAt: row.available_at,
    version: row.version,
    createdAt: row.created_at,
  };
}

export function readOrder(db: D1Database, shopId: string, externalId: string): Read<Order | null> {
  return firstRow(
    db
      .prepare(
        `SELECT o.*, c.external_id AS customer_external_id FROM orders o LEFT JOIN customers c ON c.id = o.customer_id
         WHERE o.shop_id = ? AND o.external_id = ?`,
      )
      .bind(shopId, externalId),
    toOrder,
  );
}

/** An order as it is first written: the customer by external id, and when it was placed. */
export type NewOrder = Omit<Order, "rowId" | "customerRowId" | "customerExternalId" | "version"> & {
  customerExternalId: string;
  createdAt: string;
};

/** A plain INSERT: the unique (shop, order id) makes a second delivery fail its batch and re-read. */
export function insertOrder(db: D1Database, shopId: string, order: NewOrder): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO orders (shop_id, external_id, customer_id, currency, eligible_amount, total_amount, points_awarded,
         points_reversed, refunded_amount, rounding, status, email, lines, discount_codes, created_at, challenge_steps,
         pending, available_at)
       SELECT ?1, ?2, id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?16, ?17, ?18
       FROM customers WHERE shop_id = ?1 AND external_id = ?15`,
    )
    .bind(
      shopId,
      order.externalId,
      order.currency,
      order.eligibleAmount,
      order.totalAmount,
      order.pointsAwarded,
      order.pointsReversed,
      order.refundedAmount,
      order.rounding,
      order.status,
      order.email,
      JSON.stringify(order.lines),
      JSON.stringify(order.discountCodes),
      order.createdAt,
      order.customerExternalId,
      JSON.stringify(order.challengeSteps),
      order.pending ? 1 : 0,
      order.availableAt,
    );
}

/** Moves an order to its new refund state, only from the version it was read at. */
export function updateOrderReversal(
  db: D1Database,
  shopId: string,
  order: Order,
  next: { refundedAmount: number; pointsReversed: number; status: OrderStatus },
): D1PreparedStatement[] {
  return reversalUpdate(db, "orders", shopId, order, next);
}

/**
 * The refund state of a member's order (`orders.status`) or a guest's (`guest_orders.order_status`),
 * written only from the version it was read at.
 */
export function reversalUpdate(
  db: D1Database,
  table: "orders" | "guest_orders",
  shopId: string,
  order: { rowId: number; version: number },
  next: { refundedAmount: number; pointsReversed: number; status: OrderStatus },
): D1PreparedStatement[] {
  const statusColumn = table === "orders" ? "status" : "order_status";
  return [
    guard(db, `EXISTS (SELECT 1 FROM ${table} WHERE id = ? AND version = ?)`, order.rowId, order.version),
    db
      .prepare(
        `UPDATE ${table} SET refunded_amount = ?, points_reversed = ?, ${statusColumn} = ?, version = version + 1
         WHERE shop_id = ? AND id = ?`,
      )
      .bind(next.refundedAmount, next.pointsReversed, next.status, shopId, order.rowId),
  ];
}

export interface OrderRefund {
  refundId: string;
  kind: "refund" | "cancel";
  amount: number;
  applied: boolean;
}

/** The refunds and cancellation recorded for an order, applied or waiting for it. */
export function readRefunds(db: D1Database, shopId: string, orderExternalId: string): Read<OrderRefund[]> {
  return allRows(
    db
      .prepare(
        "SELECT refund_id, kind, amount, applied FROM order_refunds WHERE shop_id = ? AND order_external_id = ? ORDER BY created_at, refund_id",
      )
      .bind(shopId, orderExternalId),
    (r: { refund_id: string; kind: "refund" | "cancel"; amount: number; applied: number }) => ({
      refundId: r.refund_id,
      kind: r.kind,
      amount: r.amount,
      applied: r.applied === 1,
    }),
  );
}

/** Records a refund or cancellation; a second one with the same id fails the batch. */
export function insertRefund(
  db: D1Database,
  shopId: string,
  orderExternalId: string,
  refund: { refundId: string; kind: "refund" | "cancel"; amount: number; applied: boolean; createdAt: string },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO order_refunds (shop_id, order_external_id, refund_id, kind, amount, applied, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(shopId, orderExternalId, refund.refundId, refund.kind, refund.amount, refund.applied ? 1 : 0, refund.createdAt);
}

export function markRefundsApplied(db: D1Database, shopId: string, orderExternalId: string): D1PreparedStatement {
  return db
    .prepare("UPDATE order_refunds SET applied = 1 WHERE shop_id = ? AND order_external_id = ? AND applied = 0")
    .bind(shopId, orderExternalId);
}

/** What the member spent (eligible, net of refunds, in minor units) since each date. */
export function readSpendSince(db: D1Database, shopId: string, customerExternalId: string, since: string[]): Read<number[]> {
  return {
    statements: since.map((date) =>
      db
        .prepare(
          `SELECT COALESCE(SUM(o.eligible_amount - MIN(o.refunded_amount, o.eligible_amount)), 0) AS spent
           FROM orders o JOIN customers c ON c.id = o.customer_id
           WHERE c.shop_id = ? AND c.external_id = ? AND o.status != 'cancelled' AND o.created_at >= ?`,
        )
        .bind(shopId, customerExternalId, date),
    ),
    parse: (results) => results.map((result) => (result.results[0] as { spent: number } | undefined)?.spent ?? 0),
  };
}

export async function ordersOfCustomer(db: D1Database, shopId: string, customerRowId: number): Promise<Order[]> {
  const { results } = await db
    .prepare(
      `SELECT o.*, c.external_id AS customer_external_id FROM orders o JOIN customers c ON c.id = o.customer_id
       WHERE o.shop_id = ? AND o.customer_id = ? ORDER BY o.id`,
    )
    .bind(shopId, customerRowId)
    .all<OrderRow>();
  return results.map(toOrder);
}

/** Fails the batch if the order arrived meanwhile (a refund or cancel planned as "before its order"). */
export function orderStillAbsent(db: D1Database, shopId: string, orderExternalId: string): D1PreparedStatement {
  return guard(db, "NOT EXISTS (SELECT 1 FROM orders WHERE shop_id = ? AND external_id = ?)", shopId, orderExternalId);
}

/** Fails the batch if a refund or cancel for the order was recorded after `count` were read. */
export function refundsStillNumber(
  db: D1Database,
  shopId: string,
  orderExternalId: string,
  count: number,
): D1PreparedStatement {
  return guard(
    db,
    "(SELECT COUNT(*) FROM order_refunds WHERE shop_id = ? AND order_external_id = ?) = ?",
    shopId,
    orderExternalId,
    count,
  );
}

/** A member's points held by orders, per day they become available, earliest first. */
export interface PendingRelease {
  points: number;
  availableAt: string;
}

/**
 * The statement behind a member's pending points (`member` is the member's row id as SQL with
 * `params`): one row per day on which held points become available (at most pendingDays + 1 days).
 */
export function pendingReleasesStatement(db: D1Database, member: string, params: unknown[]) {
  return {
    statement: db
      .prepare(
        `SELECT SUM(points_awarded - points_reversed) AS points, MAX(available_at) AS available_at FROM orders
         WHERE customer_id = ${member} AND pending = 1 AND points_awarded > points_reversed
         GROUP BY substr(available_at, 1, 10) ORDER BY available_at LIMIT 100`,
      )
      .bind(...params),
    rows: (result: D1Result): PendingRelease[] =>
      (result.results as { points: number; available_at: string }[]).map((r) => ({ points: r.points, availableAt: r.available_at })),
  };
}

/** Pending points of several members at once (a page of the customer list), by member row id. */
export function readPendingByMember(db: D1Database, shopId: string, customerRowIds: number[]): Read<Map<number, number>> {
  return {
    statements: [
      db
        .prepare(
          `SELECT customer_id, SUM(points_awarded - points_reversed) AS points FROM orders
           WHERE customer_id IN (SELECT value FROM json_each(?2)) AND shop_id = ?1 AND pending = 1
           GROUP BY customer_id`,
        )
        .bind(shopId, JSON.stringify(customerRowIds)),
    ],
    parse: ([result]) =>
      new Map(((result?.results ?? []) as { customer_id: number; points: number }[]).map((r) => [r.customer_id, r.points])),
  };
}

/** Spend (eligible, net of refunds) since each date, for several members at once, by member row id. */
export function readSpendByMember(db: D1Database, shopId: string, customerRowIds: number[], since: string[]): Read<Map<number, number[]>> {
  return {
    statements: since.map((date) =>
      db
        .prepare(
          `SELECT customer_id, SUM(eligible_amount - MIN(refunded_amount, eligible_amount)) AS spent FROM orders
           WHERE customer_id IN (SELECT value FROM json_each(?2)) AND shop_id = ?1 AND status != 'cancelled' AND created_at >= ?3
           GROUP BY customer_id`,
        )
        .bind(shopId, JSON.stringify(customerRowIds), date),
    ),
    parse: (results) => {
      const spend = new Map<number, number[]>(customerRowIds.map((id) => [id, since.map(() => 0)]));
      results.forEach((result, i) => {
        for (const row of result.results as { customer_id: number; spent: number }[]) spend.get(row.customer_id)![i] = row.spent;
      });
      return spend;
    },
  };
}

/** Orders of a shop whose held points are due at `now`, earliest first, with their member. */
export function readDuePendingOrders(
  db: D1Database,
  shopId: string,
  now: string,
  limit: number,
): Read<{ orderId: string; customerId: string }[]> {
  return allRows(
    db
      .prepare(
        `SELECT o.external_id, c.external_id AS customer_external_id FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.shop_id = ? AND o.pending = 1 AND o.available_at <= ? ORDER BY o.available_at LIMIT ?`,
      )
      .bind(shopId, now, limit),
    (row: { external_id: string; customer_external_id: string }) => ({ orderId: row.external_id, customerId: row.customer_external_id }),
  );
}

/** The order's held points are released, only from the version they were read at. */
export function releaseOrder(db: D1Database, shopId: string, order: Order): D1PreparedStatement[] {
  return [
    guard(db, "EXISTS (SELECT 1 FROM orders WHERE id = ? AND version = ? AND pending = 1)", order.rowId, order.version),
    db.prepare("UPDATE orders SET pending = 0, version = version + 1 WHERE shop_id = ? AND id = ?").bind(shopId, order.rowId),
  ];
}

/** Points held by orders at the instant `end` (refunds counted as they stand now). */
export async function pendingPointsAt(db: D1Database, shopId: string, end: string): Promise<number> {
  const row = await db
    .prepare(
      `SELECT COALESCE(SUM(points_awarded - points_reversed), 0) AS points FROM orders
       WHERE shop_id = ?1 AND available_at IS NOT NULL AND created_at < ?2 AND (pending = 1 AND available_at <= ?2 OR available_at > ?2)
         AND status != 'cancelled'`,
    )
    .bind(shopId, end)
    .first<{ points: number }>();
  return row?.points ?? 0;
}
