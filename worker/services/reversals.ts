/**
 * Refunds and cancellations: what an order earned goes back in proportion to what is
 * refunded (cumulative, by the order's own rounding, never more than it earned), a cancellation
 * takes whatever the order still holds, and both take back the order's unfinished challenge
 * progress and the referral it completed. One that arrives before its order is kept and applied
 * when the order does (events.ts).
 */
import type { OrderCancelledEvent, OrderRefundedEvent } from "../contract/events";
import { parseMoney } from "../domain/money";
import { clawbackAfterRefund, statusAfterRefunds } from "../domain/orders";
import { badRequest } from "../http/errors";
import { type ReadValue, together } from "../store/batch";
import { appendClawback } from "../store/ledger";
import { insertRefund, orderStillAbsent, readOrder, readRefunds, updateOrderReversal } from "../store/orders";
import type { Shop } from "../store/shops";
import { planChallengeTakeBack } from "./challenges";
import type { EventOutcome, EventWrite } from "./events";
import { nothingToDo, type Plan, planOf } from "./pipeline";
import { planReferralReversal } from "./referrals";

export function orderRefunded(db: D1Database, shop: Shop, event: OrderRefundedEvent, now: Date) {
  const amount = parseMoney(event.refund.amount, shop.currency);
  if (amount === null) {
    throw badRequest("The refund amount is not valid.", [{ path: "refund.amount", message: `not an amount in ${shop.currency}` }]);
  }
  const orderId = event.order.id;
  const refundId = event.refund.id;
  const read = together([readRefunds(db, shop.id, orderId), readOrder(db, shop.id, orderId)] as const);
  return {
    read,
    plan: ([known, order]): Plan<EventOutcome> => {
      if (known.some((r) => r.kind === "refund" && r.refundId === refundId)) {
        return nothingToDo({ customerId: null, duplicate: true });
      }
      const at = now.toISOString();
      if (!order) {
        // The order has not arrived yet: keep the refund; it applies when the order does.
        return planOf<EventOutcome>(
          { customerId: null },
          {
            statements: [
              orderStillAbsent(db, shop.id, orderId),
              insertRefund(db, shop.id, orderId, { refundId, kind: "refund", amount, applied: false, createdAt: at }),
            ],
          },
        );
      }
      const cancelled = order.status === "cancelled";
      const refunded = order.refundedAmount + amount;
      const owed = clawbackAfterRefund({ ...order, cancelled }, refunded);
      const customerId = order.customerExternalId;
      const statements = [
        insertRefund(db, shop.id, orderId, { refundId, kind: "refund", amount, applied: true, createdAt: at }),
        ...updateOrderReversal(db, shop.id, order, {
          refundedAmount: refunded,
          pointsReversed: owed,
          status: cancelled ? "cancelled" : statusAfterRefunds(order.eligibleAmount, refunded),
        }),
      ];
      // Points still held (pending) were never in the balance: the refund only lowers what is held.
      if (owed > order.pointsReversed && customerId && !order.pending) {
        statements.push(
          appendClawback(db, {
            shopId: shop.id,
            customerExternalId: customerId,
            kind: "refund",
            reference: orderId,
            key: `refund:${orderId}:${refundId}`,
            createdAt: at,
            points: owed - order.pointsReversed,
          }),
        );
      }
      statements.push(...planChallengeTakeBack(db, shop, order, { refunded, cancelled }, now));
      if (statusAfterRefunds(order.eligibleAmount, refunded) === "refunded") {
        statements.push(...planReferralReversal(db, shop, orderId, now));
      }
      return planOf<EventOutcome>({ customerId }, { statements, member: customerId });
    },
  } satisfies EventWrite<ReadValue<typeof read>>;
}

export function orderCancelled(db: D1Database, shop: Shop, event: OrderCancelledEvent, now: Date) {
  const orderId = event.order.id;
  const read = together([readOrder(db, shop.id, orderId), readRefunds(db, shop.id, orderId)] as const);
  return {
    read,
    plan: ([order, known]): Plan<EventOutcome> => {
      if (known.some((r) => r.kind === "cancel") || order?.status === "cancelled") {
        const customerId = order?.customerExternalId ?? null;
        return nothingToDo({ customerId, duplicate: true }, customerId);
      }
      const at = now.toISOString();
      // Refund ids are never empty (the schema says min 1), so "" cannot collide with a real refund's id.
      const cancellation = { refundId: "", kind: "cancel" as const, amount: 0, createdAt: at };
      if (!order) {
        return planOf<EventOutcome>(
          { customerId: null },
          { statements: [orderStillAbsent(db, shop.id, orderId), insertRefund(db, shop.id, orderId, { ...cancellation, applied: false })] },
        );
      }
      const delta = order.pointsAwarded - order.pointsReversed;
      const customerId = order.customerExternalId;
      const statements = [
        insertRefund(db, shop.id, orderId, { ...cancellation, applied: true }),
        ...updateOrderReversal(db, shop.id, order, {
          refundedAmount: order.refundedAmount,
          pointsReversed: order.pointsAwarded,
          status: "cancelled",
        }),
      ];
      if (delta > 0 && customerId && !order.pending) {
        statements.push(
          appendClawback(db, {
            shopId: shop.id,
            customerExternalId: customerId,
            kind: "cancel",
            reference: orderId,
            key: `cancel:${orderId}`,
            createdAt: at,
            points: delta,
          }),
        );
      }
      statements.push(...planChallengeTakeBack(db, shop, order, { refunded: order.refundedAmount, cancelled: true }, now));
      statements.push(...planReferralReversal(db, shop, orderId, now));
      return planOf<EventOutcome>({ customerId }, { statements, member: customerId });
    },
  } satisfies EventWrite<ReadValue<typeof read>>;
}
