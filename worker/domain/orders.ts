/**
 * Orders: an incoming order's decimal strings as minor units (with per-field errors), its refund
 * status, and what refunds and cancellations take back.
 */
import type { OrderPaidEvent } from "../contract/events";
import { clawbackFor, type OrderAmounts, type OrderEarning } from "./earning";
import { parseMoney } from "./money";

export type FieldError = { path: string; message: string };

export function orderAmounts(
  order: OrderPaidEvent["order"],
  currency: string,
): { amounts: OrderAmounts; errors: [] } | { amounts: null; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const money = (text: string | undefined, path: string): number => {
    if (text === undefined) return 0;
    const minor = parseMoney(text, currency);
    if (minor === null) {
      errors.push({ path, message: `not an amount in ${currency} (at most the currency's decimal places)` });
      return 0;
    }
    return minor;
  };
  const amounts: OrderAmounts = {
    currency,
    subtotal: money(order.subtotal, "order.subtotal"),
    discount: money(order.discount, "order.discount"),
    shipping: money(order.shipping, "order.shipping"),
    tax: money(order.tax, "order.tax"),
    lines: order.lines.map((line, i) => ({
      productType: line.productType,
      quantity: line.quantity,
      price: money(line.price, `order.lines.${i}.price`),
    })),
  };
  if (amounts.discount > amounts.subtotal) {
    errors.push({ path: "order.discount", message: "the discount exceeds the subtotal" });
  }
  return errors.length ? { amounts: null, errors } : { amounts, errors: [] };
}

/** What the buyer paid for the order, in minor units. */
export function orderTotal(amounts: OrderAmounts): number {
  return amounts.subtotal - amounts.discount + amounts.shipping + amounts.tax;
}

export type RefundStatus = "paid" | "partially_refunded" | "refunded";

export function statusAfterRefunds(eligible: number, refunded: number): RefundStatus {
  if (refunded <= 0) return "paid";
  return refunded >= eligible ? "refunded" : "partially_refunded";
}

/** A refund or cancellation recorded for an order (it may have arrived before the order). */
export interface RecordedReversal {
  refundId: string;
  kind: "refund" | "cancel";
  amount: number;
}

export interface EarlyReversals {
  /** The refunded amount, summed. */
  refunded: number;
  /** Points clawed back in all. */
  reversed: number;
  cancelled: boolean;
  /** Each claw-back to write, as the refund or cancellation would have taken it on arrival. */
  clawbacks: { kind: "refund" | "cancel"; refundId: string; points: number }[];
}

/**
 * Refunds and a cancellation that arrived before their order, applied in arrival order as each
 * would have been: a refund claws back in proportion to what is refunded so far (never more than
 * the order earned), a cancellation takes whatever the order still holds, and refunds after a
 * cancellation add to the refunded amount only.
 */
export function reversalsBeforeOrder(earning: OrderEarning, pending: RecordedReversal[]): EarlyReversals {
  const result: EarlyReversals = { refunded: 0, reversed: 0, cancelled: false, clawbacks: [] };
  for (const reversal of pending) {
    if (reversal.kind === "refund") {
      result.refunded += reversal.amount;
      if (result.cancelled) continue;
      const refundedSoFar = Math.min(result.refunded, earning.eligible);
      const owed = clawbackFor(earning.points, earning.eligible, refundedSoFar, earning.rounding);
      if (owed > result.reversed) {
        result.clawbacks.push({ kind: "refund", refundId: reversal.refundId, points: owed - result.reversed });
        result.reversed = owed;
      }
    } else if (!result.cancelled) {
      result.cancelled = true;
      if (earning.points > result.reversed) {
        result.clawbacks.push({ kind: "cancel", refundId: reversal.refundId, points: earning.points - result.reversed });
      }
      result.reversed = earning.points;
    }
  }
  return result;
}

/** What a refund arriving after its order claws back, cumulatively (a cancelled order keeps what it reversed). */
export function clawbackAfterRefund(
  order: { pointsAwarded: number; pointsReversed: number; eligibleAmount: number; rounding: OrderEarning["rounding"]; cancelled: boolean },
  refundedInAll: number,
): number {
  if (order.cancelled) return order.pointsReversed;
  const owed = clawbackFor(order.pointsAwarded, order.eligibleAmount, Math.min(refundedInAll, order.eligibleAmount), order.rounding);
  return Math.max(order.pointsReversed, owed);
}

/**
 * Pending points (program.earning.pendingDays): when an order's points become available, or null
 * when they count at once (no holding period, or one that has already passed by `now`, as for an
 * order whose event arrives late).
 */
export function pointsHeldUntil(pendingDays: number, orderedAt: Date, now: Date): string | null {
  if (pendingDays <= 0) return null;
  const availableAt = orderedAt.getTime() + pendingDays * 86_400_000;
  return availableAt > now.getTime() ? new Date(availableAt).toISOString() : null;
}
