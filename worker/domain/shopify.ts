/**
 * Shopify payloads (webhook topics and the REST orders API, the shapes in Shopify's webhook
 * reference) mapped to our loyalty events. Pure: no I/O, no clock.
 *
 * Money comes from the `*_set.shop_money` amounts (exact decimal strings in the shop's currency)
 * when present, else the plain field, which older payloads send as a JSON number.
 */
import { z } from "zod";
import type {
  CustomerCreatedEvent,
  OrderCancelledEvent,
  OrderPaidEvent,
  OrderRefundedEvent,
} from "../contract/events";
import { currencyExponent, formatMoney, isCurrencyCode, parseMoney } from "./money";

/**
 * JSON.parse that keeps integers beyond 2^53 exact by reading them as strings: Shopify ids are
 * 64-bit (the webhook reference's samples use ids such as 820982911946154508), and a float would
 * silently round them. Returns undefined for text that is not JSON.
 */
export function parseShopifyJson(text: string): unknown {
  let out = "";
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      continue;
    }
    if (ch === "-" || (ch >= "0" && ch <= "9")) {
      let end = i + 1;
      while (end < text.length && /[0-9.eE+-]/.test(text[end]!)) end++;
      const token = text.slice(i, end);
      if (/^-?\d{16,}$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(last, i)}"${token}"`;
        last = end;
      }
      i = end - 1;
    }
  }
  try {
    return JSON.parse(out + text.slice(last));
  } catch {
    return undefined;
  }
}

/** A Shopify numeric id as a decimal string: 64-bit ids arrive as strings from parseShopifyJson. */
const ShopifyId = z
  .union([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative().refine(Number.isSafeInteger)])
  .transform((id) => String(id));

const Amount = z.union([z.string().max(40), z.number().finite()]);
const MoneySet = z.object({ shop_money: z.object({ amount: Amount }).nullish() }).nullish();
const TaxLine = z.object({ price: Amount.nullish(), price_set: MoneySet });
const Text = z.string().nullish();

const LineItem = z.object({
  quantity: z.number().int(),
  price: Amount.nullish(),
  price_set: MoneySet,
  sku: Text,
  product_type: Text,
  tax_lines: z.array(TaxLine).nullish(),
});

const ShippingLine = z.object({
  price: Amount.nullish(),
  price_set: MoneySet,
  discounted_price: Amount.nullish(),
  discounted_price_set: MoneySet,
  tax_lines: z.array(TaxLine).nullish(),
});

const RefundPayload = z.object({
  id: ShopifyId,
  order_id: ShopifyId,
  created_at: Text,
  processed_at: Text,
  refund_line_items: z
    .array(
      z.object({
        subtotal: Amount.nullish(),
        subtotal_set: MoneySet,
        total_tax: Amount.nullish(),
        total_tax_set: MoneySet,
      }),
    )
    .nullish(),
  refund_shipping_lines: z
    .array(z.object({ subtotal_amount_set: MoneySet, tax_amount_set: MoneySet }))
    .nullish(),
  order_adjustments: z
    .array(
      z.object({
        kind: Text,
        amount: Amount.nullish(),
        amount_set: MoneySet,
        tax_amount: Amount.nullish(),
        tax_amount_set: MoneySet,
      }),
    )
    .nullish(),
});

const OrderPayload = z.object({
  id: ShopifyId,
  email: Text,
  contact_email: Text,
  currency: z.string().regex(/^[A-Z]{3}$/),
  created_at: Text,
  processed_at: Text,
  cancelled_at: Text,
  financial_status: Text,
  taxes_included: z.boolean().nullish(),
  subtotal_price: Amount.nullish(),
  subtotal_price_set: MoneySet,
  current_subtotal_price: Amount.nullish(),
  current_subtotal_price_set: MoneySet,
  total_tax: Amount.nullish(),
  total_tax_set: MoneySet,
  total_shipping_price_set: MoneySet,
  shipping_lines: z.array(ShippingLine).nullish(),
  line_items: z.array(LineItem).nullish(),
  discount_codes: z.array(z.object({ code: z.string() })).nullish(),
  customer: z.object({ id: ShopifyId, email: Text }).nullish(),
  refunds: z.array(RefundPayload).nullish(),
});

const CustomerPayload = z.object({
  id: ShopifyId,
  email: Text,
  first_name: Text,
  created_at: Text,
});

const GdprCustomerPayload = z.object({
  shop_domain: z.string().min(1),
  customer: z.object({ id: ShopifyId, email: Text }),
  orders_requested: z.array(ShopifyId).nullish(),
  orders_to_redact: z.array(ShopifyId).nullish(),
});

const ShopRedactPayload = z.object({ shop_domain: z.string().min(1) });

type ShopifyRefund = z.infer<typeof RefundPayload>;

/** A mapping either yields an event or says why there is none (the route still answers 200). */
export type Mapped<E> =
  | { ok: true; event: E }
  | { ok: false; reason: "invalid_payload"; issues: string[] }
  | { ok: false; reason: "guest_order" };

function invalid(error: z.ZodError | string): { ok: false; reason: "invalid_payload"; issues: string[] } {
  const issues =
    typeof error === "string"
      ? [error]
      : error.issues.slice(0, 10).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  return { ok: false, reason: "invalid_payload", issues };
}

/**
 * Shopify sends what was paid, taxed and refunded as positive amounts; a negative one (a hostile
 * or broken payload: a "-40.00" subtotal must not earn 40 points) refuses the whole payload.
 */
class NegativeAmount extends Error {}

function amountText(set: z.infer<typeof MoneySet>, plain: z.infer<typeof Amount> | null | undefined, currency: string) {
  const raw = set?.shop_money?.amount ?? plain;
  if (raw === null || raw === undefined) return null;
  return typeof raw === "number" ? raw.toFixed(currencyExponent(currency)) : raw.trim();
}

/** Minor units of an amount given as a set and/or a plain field (null when absent or not money). */
function minorOf(
  set: z.infer<typeof MoneySet>,
  plain: z.infer<typeof Amount> | null | undefined,
  currency: string,
): number | null {
  const text = amountText(set, plain, currency);
  if (text === null) return null;
  if (text.startsWith("-") && /[1-9]/.test(text)) throw new NegativeAmount(`an amount is negative (${text.slice(0, 20)})`);
  return parseMoney(text.replace(/^-/, ""), currency);
}

/**
 * Refund order adjustments (`shipping_refund`, before API version 2024-10) are the one amount
 * Shopify documents as negative: the money going back. They count by size.
 */
function adjustmentMinorOf(
  set: z.infer<typeof MoneySet>,
  plain: z.infer<typeof Amount> | null | undefined,
  currency: string,
): number | null {
  const text = amountText(set, plain, currency);
  return text === null ? null : parseMoney(text.replace(/^-/, ""), currency);
}

/** Runs a mapping, turning a negative amount anywhere in the payload into an invalid payload. */
function refusingNegatives<T>(map: () => T): T | ReturnType<typeof invalid> {
  try {
    return map();
  } catch (err) {
    if (err instanceof NegativeAmount) return invalid(err.message);
    throw err;
  }
}

function sum(values: (number | null)[]): number {
  return values.reduce<number>((total, value) => total + (value ?? 0), 0);
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** The event contract's own email rule (contract/events.ts): an address it would refuse is left out, not the order. */
const Email = z.email().max(320);

function timestamp(...candidates: (string | null | undefined)[]): string | undefined {
  return candidates.find((t): t is string => typeof t === "string" && ISO_WITH_OFFSET.test(t));
}

function email(...candidates: (string | null | undefined)[]): string | undefined {
  return candidates.find((e): e is string => typeof e === "string" && Email.safeParse(e).success);
}

/**
 * orders/paid (and an order from the orders API) -> `order.paid`. The earning basis is
 * `subtotal_price`: line items after discounts, before shipping, duties, taxes and tips. It is the
 * amount as paid, not `current_subtotal_price`, because refunds arrive on their own as refunds/create
 * and would otherwise be taken off twice. In a tax-inclusive shop the line items' taxes are taken
 * out of it, so that tax counts only when the program includes it. Shipping is what the customer
 * paid for it after shipping discounts; tax is the order's total tax.
 */
export function orderPaidFromShopify(payload: unknown, eventId: string): Mapped<OrderPaidEvent> {
  return refusingNegatives(() => mapOrderPaid(payload, eventId));
}

function mapOrderPaid(payload: unknown, eventId: string): Mapped<OrderPaidEvent> {
  const parsed = OrderPayload.safeParse(payload);
  if (!parsed.success) return invalid(parsed.error);
  const order = parsed.data;
  if (!order.customer) return { ok: false, reason: "guest_order" };
  const currency = order.currency;
  if (!isCurrencyCode(currency)) return invalid(`currency: ${currency} is not an ISO 4217 currency`);

  let subtotal =
    minorOf(order.subtotal_price_set, order.subtotal_price, currency) ??
    minorOf(order.current_subtotal_price_set, order.current_subtotal_price, currency);
  if (subtotal === null) return invalid("subtotal_price: missing or not an amount");

  const lineItems = order.line_items ?? [];
  const lineTax = sum(lineItems.flatMap((line) => (line.tax_lines ?? []).map((t) => minorOf(t.price_set, t.price, currency))));
  if (order.taxes_included) subtotal = Math.max(0, subtotal - lineTax);

  const shippingLines = order.shipping_lines ?? [];
  let shipping: number;
  if (shippingLines.length > 0) {
    shipping = sum(
      shippingLines.map(
        (line) =>
          minorOf(line.discounted_price_set, line.discounted_price, currency) ??
          minorOf(line.price_set, line.price, currency),
      ),
    );
    if (order.taxes_included) {
      const shippingTax = sum(
        shippingLines.flatMap((line) => (line.tax_lines ?? []).map((t) => minorOf(t.price_set, t.price, currency))),
      );
      shipping = Math.max(0, shipping - shippingTax);
    }
  } else {
    shipping = minorOf(order.total_shipping_price_set, null, currency) ?? 0;
  }
  const tax = minorOf(order.total_tax_set, order.total_tax, currency) ?? lineTax;

  const lines: OrderPaidEvent["order"]["lines"] = [];
  for (const line of lineItems) {
    const price = minorOf(line.price_set, line.price, currency);
    if (line.quantity < 1 || price === null || lines.length >= 500) continue;
    lines.push({
      ...(line.product_type ? { productType: line.product_type.slice(0, 100) } : {}),
      ...(line.sku && line.sku.length <= 100 ? { sku: line.sku } : {}),
      quantity: Math.min(line.quantity, 100_000),
      price: formatMoney(price, currency),
    });
  }
  const discountCodes = (order.discount_codes ?? [])
    .map((d) => d.code.trim())
    .filter((code) => code.length > 0 && code.length <= 64)
    .slice(0, 50);
  const occurredAt = timestamp(order.processed_at, order.created_at);
  const orderEmail = email(order.email, order.contact_email, order.customer.email);

  return {
    ok: true,
    event: {
      id: eventId,
      type: "order.paid",
      ...(occurredAt ? { occurredAt } : {}),
      order: {
        id: order.id,
        customerId: order.customer.id,
        ...(orderEmail ? { email: orderEmail } : {}),
        currency,
        subtotal: formatMoney(subtotal, currency),
        shipping: formatMoney(shipping, currency),
        tax: formatMoney(tax, currency),
        lines,
        ...(discountCodes.length ? { discountCodes } : {}),
      },
    },
  };
}

/** What of a refund counts toward the earning basis: the program's earning settings. */
export interface RefundBasis {
  /** The shop's currency (refund payloads do not name the order's currency at the top level). */
  currency: string;
  includeTax: boolean;
  includeShipping: boolean;
  /** A tax-inclusive shop: line subtotals then carry their tax, which is taken out. */
  taxesIncluded?: boolean;
}

/** The refunded part of the earning basis, in minor units, from a refund payload. */
function refundedAmount(refund: ShopifyRefund, basis: RefundBasis): number {
  const { currency } = basis;
  const items = refund.refund_line_items ?? [];
  let lines = sum(items.map((item) => minorOf(item.subtotal_set, item.subtotal, currency)));
  const lineTax = sum(items.map((item) => minorOf(item.total_tax_set, item.total_tax, currency)));
  if (basis.taxesIncluded) lines = Math.max(0, lines - lineTax);

  // Since API version 2024-10 shipping refunds are `refund_shipping_lines`; before, they were order
  // adjustments of kind `shipping_refund` (with a negative amount).
  let shipping = 0;
  let shippingTax = 0;
  const shippingLines = refund.refund_shipping_lines ?? [];
  if (shippingLines.length > 0) {
    shipping = sum(shippingLines.map((line) => minorOf(line.subtotal_amount_set, null, currency)));
    shippingTax = sum(shippingLines.map((line) => minorOf(line.tax_amount_set, null, currency)));
  } else {
    for (const adjustment of refund.order_adjustments ?? []) {
      if (adjustment.kind !== "shipping_refund") continue;
      shipping += adjustmentMinorOf(adjustment.amount_set, adjustment.amount, currency) ?? 0;
      shippingTax += adjustmentMinorOf(adjustment.tax_amount_set, adjustment.tax_amount, currency) ?? 0;
    }
  }
  return (
    lines +
    (basis.includeTax ? lineTax : 0) +
    (basis.includeShipping ? shipping : 0) +
    (basis.includeTax && basis.includeShipping ? shippingTax : 0)
  );
}

/**
 * refunds/create -> `order.refunded`. The amount is the refunded line subtotals (plus their tax
 * when the program includes tax, plus refunded shipping when it includes shipping), never the
 * transactions' amounts: those also move money the loyalty basis never counted.
 */
export function orderRefundedFromShopify(
  payload: unknown,
  eventId: string,
  basis: RefundBasis,
): Mapped<OrderRefundedEvent> {
  return refusingNegatives(() => mapOrderRefunded(payload, eventId, basis));
}

function mapOrderRefunded(payload: unknown, eventId: string, basis: RefundBasis): Mapped<OrderRefundedEvent> {
  const parsed = RefundPayload.safeParse(payload);
  if (!parsed.success) return invalid(parsed.error);
  const refund = parsed.data;
  const occurredAt = timestamp(refund.processed_at, refund.created_at);
  return {
    ok: true,
    event: {
      id: eventId,
      type: "order.refunded",
      ...(occurredAt ? { occurredAt } : {}),
      order: { id: refund.order_id },
      refund: { id: refund.id, amount: formatMoney(refundedAmount(refund, basis), basis.currency) },
    },
  };
}

/** orders/cancelled -> `order.cancelled`. */
export function orderCancelledFromShopify(payload: unknown, eventId: string): Mapped<OrderCancelledEvent> {
  const parsed = z.object({ id: ShopifyId, cancelled_at: Text }).safeParse(payload);
  if (!parsed.success) return invalid(parsed.error);
  const occurredAt = timestamp(parsed.data.cancelled_at);
  return {
    ok: true,
    event: {
      id: eventId,
      type: "order.cancelled",
      ...(occurredAt ? { occurredAt } : {}),
      order: { id: parsed.data.id },
    },
  };
}

/** customers/create -> `customer.created` with the numeric Shopify id as the external id. */
export function customerCreatedFromShopify(payload: unknown, eventId: string): Mapped<CustomerCreatedEvent> {
  const parsed = CustomerPayload.safeParse(payload);
  if (!parsed.success) return invalid(parsed.error);
  const customer = parsed.data;
  const customerEmail = email(customer.email);
  const firstName = customer.first_name?.trim().slice(0, 100);
  const occurredAt = timestamp(customer.created_at);
  return {
    ok: true,
    event: {
      id: eventId,
      type: "customer.created",
      ...(occurredAt ? { occurredAt } : {}),
      customer: {
        id: customer.id,
        ...(customerEmail ? { email: customerEmail } : {}),
        ...(firstName ? { firstName } : {}),
      },
    },
  };
}

/** customers/data_request and customers/redact: whose data, and which orders Shopify names. */
export interface GdprCustomerRequest {
  shopDomain: string;
  customerId: string;
  orderIds: string[];
}

export function gdprCustomerRequest(payload: unknown): GdprCustomerRequest | null {
  const parsed = GdprCustomerPayload.safeParse(payload);
  if (!parsed.success) return null;
  return {
    shopDomain: parsed.data.shop_domain,
    customerId: parsed.data.customer.id,
    orderIds: parsed.data.orders_requested ?? parsed.data.orders_to_redact ?? [],
  };
}

/** shop/redact: the shop whose data is to be erased. */
export function shopRedactDomain(payload: unknown): string | null {
  const parsed = ShopRedactPayload.safeParse(payload);
  return parsed.success ? parsed.data.shop_domain : null;
}

/** A loyalty event derived from an order of the orders API, in the order it must be applied. */
export type ReconciledEvent = OrderPaidEvent | OrderRefundedEvent | OrderCancelledEvent;

/** Financial statuses of an order that was paid at some point. */
const PAID_STATUSES = new Set(["paid", "partially_refunded", "refunded"]);

/**
 * An order from Shopify's orders API (`GET /orders.json`), turned into the events its webhooks
 * would have delivered: `order.paid`, then each refund, then the cancellation. Event ids are
 * derived from Shopify's own ids, and the ledger keys on order and refund ids, so reconciling
 * the same order again, or an order whose webhooks did arrive, moves no points twice.
 */
export function reconcileShopifyOrder(payload: unknown, basis: Omit<RefundBasis, "currency">): ReconciledOrder {
  return refusingNegatives(() => mapReconciledOrder(payload, basis));
}

type ReconciledOrder = { ok: true; orderId: string; events: ReconciledEvent[] } | Exclude<Mapped<never>, { ok: true }>;

function mapReconciledOrder(payload: unknown, basis: Omit<RefundBasis, "currency">): ReconciledOrder {
  const parsed = OrderPayload.safeParse(payload);
  if (!parsed.success) return invalid(parsed.error);
  const order = parsed.data;
  if (!order.customer) return { ok: false, reason: "guest_order" };
  if (!order.financial_status || !PAID_STATUSES.has(order.financial_status)) {
    return invalid(`financial_status: ${order.financial_status ?? "missing"} is not a paid order`);
  }
  const paid = orderPaidFromShopify(payload, `shopify:reconcile:order:${order.id}`);
  if (!paid.ok) return paid;
  const events: ReconciledEvent[] = [paid.event];
  const refundBasis: RefundBasis = { ...basis, currency: order.currency, taxesIncluded: order.taxes_included ?? false };
  for (const refund of order.refunds ?? []) {
    const occurredAt = timestamp(refund.processed_at, refund.created_at);
    events.push({
      id: `shopify:reconcile:refund:${refund.id}`,
      type: "order.refunded",
      ...(occurredAt ? { occurredAt } : {}),
      order: { id: order.id },
      refund: { id: refund.id, amount: formatMoney(refundedAmount(refund, refundBasis), order.currency) },
    });
  }
  if (order.cancelled_at) {
    const cancelledAt = timestamp(order.cancelled_at);
    events.push({
      id: `shopify:reconcile:cancel:${order.id}`,
      type: "order.cancelled",
      ...(cancelledAt ? { occurredAt: cancelledAt } : {}),
      order: { id: order.id },
    });
  }
  return { ok: true, orderId: order.id, events };
}

const GqlMoney = z.object({ shopMoney: z.object({ amount: z.string().max(40) }) }).nullish();
const GqlTaxLines = z.array(z.object({ priceSet: GqlMoney })).nullish();
const nodesOf = <T extends z.ZodType>(item: T) => z.object({ nodes: z.array(item) }).nullish();

const GqlOrder = z.object({
  legacyResourceId: ShopifyId,
  email: Text,
  createdAt: Text,
  processedAt: Text,
  cancelledAt: Text,
  displayFinancialStatus: Text,
  taxesIncluded: z.boolean().nullish(),
  currencyCode: z.string(),
  subtotalPriceSet: GqlMoney,
  totalTaxSet: GqlMoney,
  totalShippingPriceSet: GqlMoney,
  shippingLines: nodesOf(z.object({ discountedPriceSet: GqlMoney, taxLines: GqlTaxLines })),
  lineItems: nodesOf(
    z.object({
      quantity: z.number().int(),
      sku: Text,
      product: z.object({ productType: Text }).nullish(),
      originalUnitPriceSet: GqlMoney,
      taxLines: GqlTaxLines,
    }),
  ),
  discountCodes: z.array(z.string()).nullish(),
  customer: z.object({ legacyResourceId: ShopifyId, email: Text }).nullish(),
  refunds: z
    .array(
      z.object({
        legacyResourceId: ShopifyId,
        createdAt: Text,
        refundLineItems: nodesOf(z.object({ subtotalSet: GqlMoney, totalTaxSet: GqlMoney })),
        refundShippingLines: nodesOf(z.object({ subtotalAmountSet: GqlMoney, taxAmountSet: GqlMoney })),
      }),
    )
    .nullish(),
});

type GqlMoneyValue = z.infer<typeof GqlMoney>;
const restMoney = (set: GqlMoneyValue) => (set ? { shop_money: { amount: set.shopMoney.amount } } : null);
const restTaxLines = (lines: z.infer<typeof GqlTaxLines>) => (lines ?? []).map((t) => ({ price_set: restMoney(t.priceSet) }));

/**
 * An order of the GraphQL Admin API (`orders`, as `ordersUpdatedSince` selects it) in the shape of
 * the REST orders API and the order webhooks, which `reconcileShopifyOrder` maps: the same fields,
 * renamed (legacyResourceId -> id, PAID -> paid, xSet.shopMoney -> x_set.shop_money). Anything
 * else comes back as it is, for the mapping to refuse.
 */
export function orderFromGraphql(node: unknown): unknown {
  const parsed = GqlOrder.safeParse(node);
  if (!parsed.success) return node;
  const order = parsed.data;
  return {
    id: order.legacyResourceId,
    email: order.email ?? null,
    currency: order.currencyCode,
    created_at: order.createdAt ?? null,
    processed_at: order.processedAt ?? null,
    cancelled_at: order.cancelledAt ?? null,
    financial_status: order.displayFinancialStatus?.toLowerCase() ?? null,
    taxes_included: order.taxesIncluded ?? false,
    subtotal_price_set: restMoney(order.subtotalPriceSet),
    total_tax_set: restMoney(order.totalTaxSet),
    total_shipping_price_set: restMoney(order.totalShippingPriceSet),
    shipping_lines: (order.shippingLines?.nodes ?? []).map((line) => ({
      discounted_price_set: restMoney(line.discountedPriceSet),
      tax_lines: restTaxLines(line.taxLines),
    })),
    line_items: (order.lineItems?.nodes ?? []).map((line) => ({
      quantity: line.quantity,
      sku: line.sku ?? null,
      product_type: line.product?.productType ?? null,
      price_set: restMoney(line.originalUnitPriceSet),
      tax_lines: restTaxLines(line.taxLines),
    })),
    discount_codes: (order.discountCodes ?? []).map((code) => ({ code })),
    customer: order.customer ? { id: order.customer.legacyResourceId, email: order.customer.email ?? null } : null,
    refunds: (order.refunds ?? []).map((refund) => ({
      id: refund.legacyResourceId,
      order_id: order.legacyResourceId,
      created_at: refund.createdAt ?? null,
      refund_line_items: (refund.refundLineItems?.nodes ?? []).map((item) => ({
        subtotal_set: restMoney(item.subtotalSet),
        total_tax_set: restMoney(item.totalTaxSet),
      })),
      refund_shipping_lines: (refund.refundShippingLines?.nodes ?? []).map((line) => ({
        subtotal_amount_set: restMoney(line.subtotalAmountSet),
        tax_amount_set: restMoney(line.taxAmountSet),
      })),
    })),
  };
}
