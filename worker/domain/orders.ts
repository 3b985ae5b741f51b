/** Turning an incoming order's decimal strings into minor units, with per-field errors. */
import type { OrderPaidEvent } from "../contract/events";
import type { OrderAmounts } from "./earning";
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

export type RefundStatus = "paid" | "partially_refunded" | "refunded";

export function statusAfterRefunds(eligible: number, refunded: number): RefundStatus {
  if (refunded <= 0) return "paid";
  return refunded >= eligible ? "refunded" : "partially_refunded";
}
