/**
 * The pure Shopify pieces: webhook and app proxy signatures (against Shopify's documented
 * vectors) and the mapping of Shopify's sample payloads to loyalty events.
 */
import { describe, expect, it } from "vitest";
import { hmacSha256, toBase64 } from "../../worker/crypto";
import {
  appProxySignedMessage,
  signAppProxy,
  signShopifyWebhook,
  verifyAppProxy,
  verifyShopifyWebhook,
} from "../../worker/auth/shopify";
import { LoyaltyEvent } from "../../worker/contract/events";
import {
  customerCreatedFromShopify,
  gdprCustomerRequest,
  orderCancelledFromShopify,
  orderPaidFromShopify,
  orderRefundedFromShopify,
  parseShopifyJson,
  reconcileShopifyOrder,
  shopRedactDomain,
} from "../../worker/domain/shopify";
import customersCreateRaw from "../fixtures/shopify/customers-create.json?raw";
import dataRequestRaw from "../fixtures/shopify/customers-data-request.json?raw";
import customersRedactRaw from "../fixtures/shopify/customers-redact.json?raw";
import ordersPaidRaw from "../fixtures/shopify/orders-paid.json?raw";
import refundsCreateRaw from "../fixtures/shopify/refunds-create.json?raw";
import shopRedactRaw from "../fixtures/shopify/shop-redact.json?raw";

const encoder = new TextEncoder();
const noTaxNoShipping = { currency: "USD", includeTax: false, includeShipping: false };

type Json = any;
const clone = (raw: string): Json => parseShopifyJson(raw);

describe("webhook HMAC (X-Shopify-Hmac-Sha256)", () => {
  const secret = "test-shopify-secret";
  const body = encoder.encode(ordersPaidRaw);

  it("accepts the base64 HMAC-SHA256 of the raw body and nothing else", async () => {
    const header = toBase64(await hmacSha256(secret, body));
    expect(await signShopifyWebhook(secret, body)).toBe(header);
    expect(await verifyShopifyWebhook(secret, body, header)).toBe(true);
    expect(await verifyShopifyWebhook(secret, body, ` ${header} `)).toBe(true);
  });

  it("refuses a tampered body, another secret, hex, a missing or garbled header", async () => {
    const header = await signShopifyWebhook(secret, body);
    const tampered = encoder.encode(ordersPaidRaw.replace('"404.95"', '"904.95"'));
    expect(await verifyShopifyWebhook(secret, tampered, header)).toBe(false);
    expect(await verifyShopifyWebhook("another-secret", body, header)).toBe(false);
    const hex = [...(await hmacSha256(secret, body))].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(await verifyShopifyWebhook(secret, body, hex)).toBe(false);
    expect(await verifyShopifyWebhook(secret, body, null)).toBe(false);
    expect(await verifyShopifyWebhook(secret, body, "not base64 !")).toBe(false);
    expect(await verifyShopifyWebhook(secret, body, toBase64(new Uint8Array(31)))).toBe(false);
    expect(await verifyShopifyWebhook("", body, header)).toBe(false);
  });

  it("is computed over bytes: re-serialising the JSON breaks it", async () => {
    const header = await signShopifyWebhook(secret, body);
    const reserialised = encoder.encode(JSON.stringify(JSON.parse(ordersPaidRaw)));
    expect(await verifyShopifyWebhook(secret, reserialised, header)).toBe(false);
  });
});

describe("app proxy signature", () => {
  // The worked examples of shopify.dev "Authenticate app proxies": shared secret "hush", shop
  // "shop-name.myshopify.com", timestamp 1317327555; logged in, logged out, and the older form
  // without logged_in_customer_id.
  const DOC_NOW = 1317327555;
  const LOGGED_IN =
    "extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555&signature=4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb";
  const LOGGED_OUT =
    "extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555&signature=e072b6d7e6622d85912a5214b860d3100dc1e73d9bc29f43796ac8c9ff8093cb";
  const LEGACY =
    "extra=1&extra=2&shop=shop-name.myshopify.com&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555&signature=a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3";

  it("builds the documented message: sorted key=value, repeated values joined with commas", () => {
    expect(appProxySignedMessage(new URLSearchParams(LOGGED_IN))).toBe(
      "extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviewsshop=shop-name.myshopify.comtimestamp=1317327555",
    );
  });

  it("verifies Shopify's documented signatures", async () => {
    expect(await verifyAppProxy("hush", new URLSearchParams(LOGGED_IN), DOC_NOW)).toEqual({
      shop: "shop-name.myshopify.com",
      loggedInCustomerId: "1",
      pathPrefix: "/apps/awesome_reviews",
      timestamp: DOC_NOW,
    });
    expect((await verifyAppProxy("hush", new URLSearchParams(LOGGED_OUT), DOC_NOW))?.loggedInCustomerId).toBeNull();
    expect((await verifyAppProxy("hush", new URLSearchParams(LEGACY), DOC_NOW))?.shop).toBe("shop-name.myshopify.com");
  });

  it("refuses a tampered query, another secret, a stale or future timestamp", async () => {
    const tampered = new URLSearchParams(LOGGED_IN);
    tampered.set("logged_in_customer_id", "2");
    expect(await verifyAppProxy("hush", tampered, DOC_NOW)).toBeNull();
    const extra = new URLSearchParams(LOGGED_IN);
    extra.append("extra", "3");
    expect(await verifyAppProxy("hush", extra, DOC_NOW)).toBeNull();
    expect(await verifyAppProxy("other", new URLSearchParams(LOGGED_IN), DOC_NOW)).toBeNull();
    expect(await verifyAppProxy("hush", new URLSearchParams(LOGGED_IN), DOC_NOW + 91)).toBeNull();
    expect(await verifyAppProxy("hush", new URLSearchParams(LOGGED_IN), DOC_NOW - 91)).toBeNull();
    expect(await verifyAppProxy("hush", new URLSearchParams(LOGGED_IN), DOC_NOW + 90)).not.toBeNull();
  });

  it("refuses a missing, malformed or repeated signature and repeated identity parameters", async () => {
    const unsigned = new URLSearchParams(LOGGED_IN);
    unsigned.delete("signature");
    expect(await verifyAppProxy("hush", unsigned, DOC_NOW)).toBeNull();
    const twice = new URLSearchParams(LOGGED_IN);
    twice.append("signature", twice.get("signature")!);
    expect(await verifyAppProxy("hush", twice, DOC_NOW)).toBeNull();
    const upper = new URLSearchParams(LOGGED_IN);
    upper.set("signature", "zz");
    expect(await verifyAppProxy("hush", upper, DOC_NOW)).toBeNull();

    const params = new URLSearchParams("shop=a.myshopify.com&logged_in_customer_id=7&timestamp=1317327555");
    params.append("logged_in_customer_id", "8");
    expect(appProxySignedMessage(params)).toBeNull();
    await expect(signAppProxy("hush", params)).rejects.toThrow(RangeError);
  });

  it("signs what it verifies", async () => {
    const params = new URLSearchParams({ shop: "laurel-demo.myshopify.com", logged_in_customer_id: "7", path_prefix: "/apps/laurel", timestamp: "1700000000" });
    params.set("signature", await signAppProxy("s3cret", params));
    expect((await verifyAppProxy("s3cret", params, 1700000000))?.loggedInCustomerId).toBe("7");
  });
});

describe("parseShopifyJson", () => {
  it("keeps 64-bit ids exact and leaves other numbers alone", () => {
    const parsed = parseShopifyJson('{"id": 820982911946154508, "n": -12, "f": 89.99, "s": "a \\" 9007199254740993", "big": [9007199254740993]}') as Json;
    expect(parsed).toEqual({ id: "820982911946154508", n: -12, f: 89.99, s: 'a " 9007199254740993', big: ["9007199254740993"] });
    expect(parseShopifyJson("{not json")).toBeUndefined();
  });
});

describe("orders/paid -> order.paid", () => {
  it("maps Shopify's sample: subtotal after discounts, shipping and tax apart, exact ids", () => {
    const mapped = orderPaidFromShopify(clone(ordersPaidRaw), "evt-1");
    expect(mapped.ok).toBe(true);
    if (!mapped.ok) return;
    expect(mapped.event).toEqual({
      id: "evt-1",
      type: "order.paid",
      occurredAt: "2021-12-31T19:00:00-05:00",
      order: {
        id: "820982911946154508",
        customerId: "115310627314723954",
        email: "jon@example.com",
        currency: "USD",
        subtotal: "404.95",
        shipping: "0.00",
        tax: "0.00",
        lines: [
          { sku: "SKU2006-001", quantity: 1, price: "89.99" },
          { sku: "LENS-PROTECT-2YR", quantity: 1, price: "19.99" },
          { sku: "CASE-LEATHER-PREM", quantity: 1, price: "24.99" },
          { sku: "SKU2006-020", quantity: 1, price: "159.99" },
          { sku: "SKU2006-035", quantity: 1, price: "119.99" },
        ],
      },
    });
    // What we produce is a valid event of our own contract.
    expect(LoyaltyEvent.safeParse(mapped.event).success).toBe(true);
  });

  it("takes discount codes, product types, tax-inclusive prices and older numeric amounts", () => {
    const order = clone(ordersPaidRaw);
    order.discount_codes = [{ code: "LAUREL-7KQM-X3PA", amount: "20.00", type: "fixed_amount" }];
    order.line_items[0].product_type = "Sunglasses";
    order.line_items[0].quantity = 2;
    order.line_items[1].quantity = 0; // removed by an edit
    order.taxes_included = true;
    order.line_items[0].tax_lines = [{ price: "15.00", price_set: { shop_money: { amount: "15.00" } } }];
    order.total_tax_set = null;
    order.total_tax = 16.5; // numeric, as older API versions send
    order.subtotal_price_set = null;
    order.subtotal_price = 404.95;
    order.shipping_lines[0].discounted_price_set.shop_money.amount = "10.00";
    order.shipping_lines[0].tax_lines = [{ price: "1.50" }];
    const mapped = orderPaidFromShopify(order, "evt-2");
    if (!mapped.ok) throw new Error(JSON.stringify(mapped));
    expect(mapped.event.order.subtotal).toBe("389.95");
    expect(mapped.event.order.tax).toBe("16.50");
    expect(mapped.event.order.shipping).toBe("8.50");
    expect(mapped.event.order.discountCodes).toEqual(["LAUREL-7KQM-X3PA"]);
    expect(mapped.event.order.lines[0]).toEqual({ productType: "Sunglasses", sku: "SKU2006-001", quantity: 2, price: "89.99" });
    expect(mapped.event.order.lines).toHaveLength(4);
    expect(LoyaltyEvent.safeParse(mapped.event).success).toBe(true);
  });

  it("falls back to current_subtotal_price, and to total_shipping_price_set without shipping lines", () => {
    const order = clone(ordersPaidRaw);
    delete order.subtotal_price;
    delete order.subtotal_price_set;
    order.shipping_lines = [];
    const mapped = orderPaidFromShopify(order, "evt-3");
    if (!mapped.ok) throw new Error("not mapped");
    expect(mapped.event.order.subtotal).toBe("414.95");
    expect(mapped.event.order.shipping).toBe("10.00");
  });

  it("maps a guest order to its email (no customer), skips one without an email, and refuses malformed ones with reasons", () => {
    const guest = clone(ordersPaidRaw);
    guest.customer = null;
    const held = orderPaidFromShopify(guest, "e");
    if (!held.ok) throw new Error(JSON.stringify(held));
    expect(held.event.order.customerId).toBeUndefined();
    expect(held.event.order.email).toBe("jon@example.com");
    guest.email = null;
    guest.contact_email = null;
    expect(orderPaidFromShopify(guest, "e")).toEqual({ ok: false, reason: "guest_order" });
    const bad = clone(ordersPaidRaw);
    bad.currency = "usd";
    const result = orderPaidFromShopify(bad, "e");
    expect(result.ok).toBe(false);
    if (!result.ok && result.reason === "invalid_payload") expect(result.issues[0]).toMatch(/^currency/);
    const unpriced = clone(ordersPaidRaw);
    unpriced.subtotal_price_set = null;
    unpriced.subtotal_price = null;
    unpriced.current_subtotal_price_set = null;
    unpriced.current_subtotal_price = null;
    expect(orderPaidFromShopify(unpriced, "e").ok).toBe(false);
    expect(orderPaidFromShopify("nope", "e").ok).toBe(false);
    const decimals = clone(ordersPaidRaw);
    decimals.currency = "JPY";
    decimals.subtotal_price_set = { shop_money: { amount: "404.95" } };
    expect(orderPaidFromShopify(decimals, "e").ok).toBe(false);
  });
});

describe("refunds/create -> order.refunded", () => {
  it("sums the refunded line subtotals of Shopify's sample, not its transactions", () => {
    const mapped = orderRefundedFromShopify(clone(refundsCreateRaw), "evt-r", noTaxNoShipping);
    if (!mapped.ok) throw new Error("not mapped");
    expect(mapped.event).toEqual({
      id: "evt-r",
      type: "order.refunded",
      occurredAt: "2021-12-31T19:00:00-05:00",
      order: { id: "820982911946154508" },
      refund: { id: "890088186047892319", amount: "414.95" },
    });
    expect(LoyaltyEvent.safeParse(mapped.event).success).toBe(true);
  });

  it("adds tax and shipping refunds only as the program includes them", () => {
    const refund = clone(refundsCreateRaw);
    refund.refund_line_items = refund.refund_line_items.slice(0, 1);
    refund.refund_line_items[0].total_tax_set.shop_money.amount = "7.20";
    refund.refund_shipping_lines = [
      {
        id: 1,
        subtotal_amount_set: { shop_money: { amount: "10.00", currency_code: "USD" } },
        tax_amount_set: { shop_money: { amount: "0.80", currency_code: "USD" } },
      },
    ];
    const amount = (includeTax: boolean, includeShipping: boolean) => {
      const mapped = orderRefundedFromShopify(refund, "e", { currency: "USD", includeTax, includeShipping });
      return mapped.ok ? mapped.event.refund.amount : null;
    };
    expect(amount(false, false)).toBe("89.99");
    expect(amount(true, false)).toBe("97.19");
    expect(amount(false, true)).toBe("99.99");
    expect(amount(true, true)).toBe("107.99");
  });

  it("reads pre-2024-10 shipping refunds from order adjustments, and numeric subtotals", () => {
    const refund = clone(refundsCreateRaw);
    refund.refund_line_items = [{ subtotal: 19.99, total_tax: 0 }];
    refund.order_adjustments = [
      { kind: "shipping_refund", amount: "-5.00", tax_amount: "-0.40" },
      { kind: "refund_discrepancy", amount: "-3.00", tax_amount: "0.00" },
    ];
    const mapped = orderRefundedFromShopify(refund, "e", { currency: "USD", includeTax: true, includeShipping: true });
    expect(mapped.ok && mapped.event.refund.amount).toBe("25.39");
  });

  it("takes a tax-inclusive shop's line taxes out of the subtotals", () => {
    const refund = clone(refundsCreateRaw);
    refund.refund_line_items = [{ subtotal: "120.00", total_tax: "20.00" }];
    const mapped = orderRefundedFromShopify(refund, "e", { ...noTaxNoShipping, taxesIncluded: true });
    expect(mapped.ok && mapped.event.refund.amount).toBe("100.00");
  });
});

describe("other topics", () => {
  it("orders/cancelled -> order.cancelled with the exact order id", () => {
    const mapped = orderCancelledFromShopify(clone(ordersPaidRaw), "evt-c");
    expect(mapped).toEqual({
      ok: true,
      event: { id: "evt-c", type: "order.cancelled", occurredAt: "2021-12-31T19:00:00-05:00", order: { id: "820982911946154508" } },
    });
  });

  it("customers/create -> customer.created with the numeric id as a decimal string", () => {
    const mapped = customerCreatedFromShopify(clone(customersCreateRaw), "evt-u");
    expect(mapped).toEqual({
      ok: true,
      event: {
        id: "evt-u",
        type: "customer.created",
        occurredAt: "2021-12-31T19:00:00-05:00",
        customer: { id: "706405506930370084", email: "bob@biller.com", firstName: "Bob" },
      },
    });
    if (mapped.ok) expect(LoyaltyEvent.safeParse(mapped.event).success).toBe(true);
  });

  it("reads the GDPR payloads", () => {
    expect(gdprCustomerRequest(clone(dataRequestRaw))).toEqual({
      shopDomain: "{shop}.myshopify.com",
      customerId: "191167",
      email: "john@example.com",
      orderIds: ["299938", "280263", "220458"],
    });
    expect(gdprCustomerRequest(clone(customersRedactRaw))?.orderIds).toEqual(["299938", "280263", "220458"]);
    expect(shopRedactDomain(clone(shopRedactRaw))).toBe("{shop}.myshopify.com");
    expect(gdprCustomerRequest({ shop_domain: "x" })).toBeNull();
    expect(shopRedactDomain({})).toBeNull();
  });
});

describe("reconciliation", () => {
  it("replays an orders API order as paid, its refunds, then its cancellation", () => {
    const order = clone(ordersPaidRaw);
    order.financial_status = "partially_refunded";
    order.refunds = [clone(refundsCreateRaw)];
    order.refunds[0].refund_line_items = order.refunds[0].refund_line_items.slice(0, 1);
    const result = reconcileShopifyOrder(order, { includeTax: false, includeShipping: false });
    if (!result.ok) throw new Error(JSON.stringify(result));
    expect(result.events.map((e) => [e.type, e.id])).toEqual([
      ["order.paid", "shopify:reconcile:order:820982911946154508"],
      ["order.refunded", "shopify:reconcile:refund:890088186047892319"],
      ["order.cancelled", "shopify:reconcile:cancel:820982911946154508"],
    ]);
    const refund = result.events[1]!;
    expect(refund.type === "order.refunded" && refund.refund.amount).toBe("89.99");
    for (const event of result.events) expect(LoyaltyEvent.safeParse(event).success).toBe(true);
  });

  it("leaves out orders that were never paid", () => {
    const order = clone(ordersPaidRaw);
    order.financial_status = "pending";
    expect(reconcileShopifyOrder(order, { includeTax: false, includeShipping: false }).ok).toBe(false);
  });
});
