/**
 * POST /shopify/webhooks with Shopify's documented sample payloads: signed and tampered
 * deliveries of every topic, dedupe, refunds in and out of order, partial and full refunds,
 * cancellations, and the mandatory GDPR topics.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SHOPIFY_API_VERSION } from "../../worker/adapters/shopify-admin";
import { signShopifyWebhook } from "../../worker/auth/shopify";
import { parseShopifyJson } from "../../worker/domain/shopify";
import appUninstalledRaw from "../fixtures/shopify/app-uninstalled.json?raw";
import customersCreateRaw from "../fixtures/shopify/customers-create.json?raw";
import dataRequestRaw from "../fixtures/shopify/customers-data-request.json?raw";
import customersRedactRaw from "../fixtures/shopify/customers-redact.json?raw";
import ordersPaidRaw from "../fixtures/shopify/orders-paid.json?raw";
import refundsCreateRaw from "../fixtures/shopify/refunds-create.json?raw";
import shopRedactRaw from "../fixtures/shopify/shop-redact.json?raw";
import { assertLedgerInvariants, call, customer, expectError, makeShop, setProgram, snapshot, type TestShop } from "./helpers";

const SECRET = "test-shopify-secret"; // SHOPIFY_API_SECRET in vitest.config.ts
const ORDER_ID = "820982911946154508";
const BUYER = "115310627314723954";

interface ShopifyShop extends TestShop {
  domain: string;
}

let shops = 0;
async function shopifyShop(currency = "USD"): Promise<ShopifyShop> {
  const domain = `laurel-hooks-${++shops}.myshopify.com`;
  return { ...(await makeShop({ platform: "shopify", shopifyDomain: domain, currency })), domain };
}

/** The sample with the test shop's domain in place of the reference's `{shop}` placeholder. */
const forShop = (raw: string, shop: ShopifyShop) => raw.replaceAll("{shop}.myshopify.com", shop.domain);

let deliveries = 0;
async function deliver(
  shop: { domain: string },
  topic: string,
  body: string,
  options: { eventId?: string | null; webhookId?: string; secret?: string; signedBody?: string; hmac?: string | null } = {},
) {
  const headers: Record<string, string> = {
    "x-shopify-topic": topic,
    "x-shopify-shop-domain": shop.domain,
    "x-shopify-api-version": SHOPIFY_API_VERSION,
    "x-shopify-webhook-id": options.webhookId ?? crypto.randomUUID(),
    "x-shopify-triggered-at": new Date().toISOString(),
  };
  const eventId = options.eventId === undefined ? `evt-${++deliveries}` : options.eventId;
  if (eventId !== null) headers["x-shopify-event-id"] = eventId;
  const hmac =
    options.hmac === undefined ? await signShopifyWebhook(options.secret ?? SECRET, options.signedBody ?? body) : options.hmac;
  if (hmac !== null) headers["x-shopify-hmac-sha256"] = hmac;
  return call("POST", "/shopify/webhooks", { raw: body, headers });
}

type Json = any;
/** A sample edited and re-serialised (ids become strings; Shopify ids as strings parse the same). */
function edited(raw: string, edit: (payload: Json) => void): string {
  const payload = parseShopifyJson(raw) as Json;
  edit(payload);
  return JSON.stringify(payload);
}

const firstLineOnly = edited(refundsCreateRaw, (r) => {
  r.refund_line_items = r.refund_line_items.slice(0, 1); // Aviator sunglasses, 89.99
});
const remainingLines = edited(refundsCreateRaw, (r) => {
  r.id = "890088186047892320";
  r.refund_line_items = r.refund_line_items.slice(1); // 19.99 + 24.99 + 159.99 + 119.99 = 324.96
});

async function orderRow(shop: TestShop, id = ORDER_ID) {
  return env.DB.prepare(
    "SELECT eligible_amount, points_awarded, points_reversed, refunded_amount, status FROM orders WHERE shop_id = ? AND external_id = ?",
  )
    .bind(shop.id, id)
    .first();
}

describe("signatures", () => {
  const topics: [string, string][] = [
    ["orders/paid", ordersPaidRaw],
    ["orders/cancelled", ordersPaidRaw],
    ["refunds/create", refundsCreateRaw],
    ["customers/create", customersCreateRaw],
    ["customers/data_request", dataRequestRaw],
    ["customers/redact", customersRedactRaw],
    ["shop/redact", shopRedactRaw],
    ["app/uninstalled", appUninstalledRaw],
  ];

  it("refuses a tampered, unsigned or wrongly keyed delivery of every topic with 401 and no effect", async () => {
    const shop = await shopifyShop();
    // Something to lose: an order and a customer of this shop.
    expect((await deliver(shop, "orders/paid", ordersPaidRaw)).status).toBe(200);
    const before = await snapshot();
    for (const [topic, raw] of topics) {
      const body = forShop(raw, shop);
      const tampered = body.replace(/\d/, (digit) => (digit === "9" ? "8" : "9"));
      expect(tampered).not.toBe(body);
      expectError(await deliver(shop, topic, tampered, { signedBody: body }), 401, "unauthorized");
      expectError(await deliver(shop, topic, body, { hmac: null }), 401, "unauthorized");
      expectError(await deliver(shop, topic, body, { secret: "another-app-secret" }), 401, "unauthorized");
      expectError(await deliver(shop, topic, body, { hmac: "bm90IHRoZSBobWFj" }), 401, "unauthorized");
    }
    expect(await snapshot()).toEqual(before);
    expect((await customer(shop, BUYER)).balance).toBe(404);
  });

  it("accepts a signed delivery of every topic with 200", async () => {
    const shop = await shopifyShop();
    for (const [topic, raw] of topics) {
      const res = await deliver(shop, topic, forShop(raw, shop));
      expect(res.status, `${topic}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body.topic ?? topic).toBe(topic);
    }
  });

  it("requires the shop, topic and a delivery id, and JSON", async () => {
    const shop = await shopifyShop();
    expectError(await deliver({ domain: "not a domain" }, "orders/paid", ordersPaidRaw), 400, "invalid_request");
    expectError(await deliver(shop, "orders/paid", ordersPaidRaw, { eventId: null, webhookId: "" }), 400, "invalid_request");
    expectError(await deliver(shop, "orders/paid", "{not json"), 400, "invalid_request");
  });
});

describe("orders/paid", () => {
  it("credits the sample order: subtotal after discounts, shipping and tax excluded", async () => {
    const shop = await shopifyShop();
    const res = await deliver(shop, "orders/paid", ordersPaidRaw);
    expect(res.status).toBe(200);
    // subtotal_price 404.95 -> 1 point per whole dollar, rounded down.
    expect(res.body).toMatchObject({
      status: "processed",
      topic: "orders/paid",
      result: { customerId: BUYER, points: 404, balance: 404 },
    });
    expect(await orderRow(shop)).toMatchObject({ eligible_amount: 40495, points_awarded: 404, status: "paid" });
    expect((await customer(shop, BUYER)).balance).toBe(404);
  });

  it("answers a repeated delivery 200 duplicate and moves nothing", async () => {
    const shop = await shopifyShop();
    await deliver(shop, "orders/paid", ordersPaidRaw, { eventId: "evt-dup" });
    const again = await deliver(shop, "orders/paid", ordersPaidRaw, { eventId: "evt-dup" });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "duplicate" });
    // The same order under another event id (Shopify re-sent it) still earns once.
    const other = await deliver(shop, "orders/paid", ordersPaidRaw);
    expect(other.body).toMatchObject({ status: "duplicate" });
    // Without X-Shopify-Event-Id the webhook id dedupes.
    await deliver(shop, "customers/create", customersCreateRaw, { eventId: null, webhookId: "wh-1" });
    const byWebhookId = await deliver(shop, "customers/create", customersCreateRaw, { eventId: null, webhookId: "wh-1" });
    expect(byWebhookId.body).toMatchObject({ status: "duplicate" });
    expect((await customer(shop, BUYER)).balance).toBe(404);
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger WHERE shop_id = ?").bind(shop.id).first<{ n: number }>())!;
    expect(n).toBe(1);
  });

  it("scopes an event id shared by one merchant action to each topic", async () => {
    const shop = await shopifyShop();
    const order = await deliver(shop, "orders/paid", ordersPaidRaw, { eventId: "checkout-1" });
    const signup = await deliver(shop, "customers/create", customersCreateRaw, { eventId: "checkout-1" });
    expect([order.body.status, signup.body.status]).toEqual(["processed", "processed"]);
    expect(await customer(shop, "706405506930370084")).toMatchObject({ balance: 0 });
  });

  it("ignores guest checkouts without an email (guest-orders.test.ts: with one), and keeps an order in another currency out of the ledger", async () => {
    const shop = await shopifyShop();
    const guest = await deliver(shop, "orders/paid", edited(ordersPaidRaw, (o) => {
        o.customer = null;
        o.email = null;
        o.contact_email = null;
      }),
    );
    expect(guest.body).toMatchObject({ status: "ignored", reason: "guest_order" });

    const euroShop = await shopifyShop("EUR");
    const res = await deliver(euroShop, "orders/paid", ordersPaidRaw, { eventId: "usd-order" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "rejected", error: { code: "currency_mismatch" } });
    expect(await orderRow(euroShop)).toBeNull();
    const again = await deliver(euroShop, "orders/paid", ordersPaidRaw, { eventId: "usd-order" });
    expect(again.body.status).toBe("duplicate");
  });

  it("refuses negative amounts and ids that are not Shopify's: 200 rejected, nothing moved (issue 17)", async () => {
    const shop = await shopifyShop();
    const before = await snapshot();
    const hostile = [
      edited(ordersPaidRaw, (o) => {
        o.subtotal_price = "-40.00";
        o.subtotal_price_set.shop_money.amount = "-40.00";
      }),
      edited(ordersPaidRaw, (o) => {
        o.line_items[0].price_set.shop_money.amount = "-199.00";
      }),
      edited(ordersPaidRaw, (o) => {
        o.customer.id = "x\ud800y";
      }),
      edited(ordersPaidRaw, (o) => {
        o.id = "82098291194615\udc00";
      }),
    ];
    for (const body of hostile) {
      const res = await deliver(shop, "orders/paid", body);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: "rejected", error: { code: "invalid_payload" } });
    }
    const refund = await deliver(shop, "refunds/create", edited(refundsCreateRaw, (r) => {
        r.refund_line_items[0].subtotal_set.shop_money.amount = "-89.99";
      }),
    );
    expect(refund.body).toMatchObject({ status: "rejected", error: { code: "invalid_payload" } });
    const after = await snapshot();
    expect({ ...after, received_events: 0 }).toEqual({ ...before, received_events: 0 });
    expect(await orderRow(shop)).toBeNull();
  });

  it("answers 200 for a shop it does not know and for topics it does not handle", async () => {
    const unknown = await deliver({ domain: "never-connected.myshopify.com" }, "orders/paid", ordersPaidRaw);
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ status: "ignored", reason: "unknown_shop" });
    const shop = await shopifyShop();
    const other = await deliver(shop, "products/update", "{}");
    expect(other.body).toMatchObject({ status: "ignored", reason: "unsubscribed_topic" });
  });
});

describe("refunds and cancellations", () => {
  it("claws back a partial refund in proportion to the refunded line subtotals", async () => {
    const shop = await shopifyShop();
    await deliver(shop, "orders/paid", ordersPaidRaw);
    const res = await deliver(shop, "refunds/create", firstLineOnly);
    // 404 points x 89.99 / 404.95 = 89.78 -> 89 (the program rounds down).
    expect(res.body).toMatchObject({ status: "processed", result: { points: -89, balance: 315 } });
    expect(await orderRow(shop)).toMatchObject({ refunded_amount: 8999, points_reversed: 89, status: "partially_refunded" });

    // The rest of the lines: 89.99 + 324.96 = 414.95 refunded >= 404.95 eligible -> all 404 back.
    const rest = await deliver(shop, "refunds/create", remainingLines);
    expect(rest.body).toMatchObject({ status: "processed", result: { points: -315, balance: 0 } });
    expect(await orderRow(shop)).toMatchObject({ points_reversed: 404, status: "refunded" });
    await assertLedgerInvariants(shop.id);
  });

  it("takes everything back on a full refund, never more than the order earned", async () => {
    const shop = await shopifyShop();
    await deliver(shop, "orders/paid", ordersPaidRaw);
    const res = await deliver(shop, "refunds/create", refundsCreateRaw);
    expect(res.body).toMatchObject({ status: "processed", result: { points: -404, balance: 0 } });
    const duplicate = await deliver(shop, "refunds/create", refundsCreateRaw);
    expect(duplicate.body.status).toBe("duplicate");
    expect((await customer(shop, BUYER)).balance).toBe(0);
  });

  it("counts refunded shipping and tax only when the program includes them", async () => {
    const shop = await shopifyShop();
    await setProgram(shop, (p) => {
      p.earning.includeShipping = true;
    });
    const order = edited(ordersPaidRaw, (o) => {
      o.shipping_lines[0].discounted_price_set.shop_money.amount = "10.00";
    });
    // 404.95 + 10.00 shipping = 414.95 eligible -> 414 points.
    expect((await deliver(shop, "orders/paid", order)).body.result).toMatchObject({ points: 414 });
    const shippingOnly = edited(refundsCreateRaw, (r) => {
      r.refund_line_items = [];
      r.refund_shipping_lines = [
        {
          id: 1,
          subtotal_amount_set: { shop_money: { amount: "10.00", currency_code: "USD" } },
          tax_amount_set: { shop_money: { amount: "0.00", currency_code: "USD" } },
        },
      ];
    });
    // 414 x 10.00 / 414.95 = 9.97 -> 9.
    expect((await deliver(shop, "refunds/create", shippingOnly)).body.result).toMatchObject({ points: -9, balance: 405 });
  });

  it("ends in the same state when the refund arrives before its order", async () => {
    const inOrder = await shopifyShop();
    await deliver(inOrder, "orders/paid", ordersPaidRaw);
    await deliver(inOrder, "refunds/create", firstLineOnly);

    const early = await shopifyShop();
    const refundFirst = await deliver(early, "refunds/create", firstLineOnly);
    expect(refundFirst.status).toBe(200);
    expect(refundFirst.body.status).toBe("processed");
    await deliver(early, "orders/paid", ordersPaidRaw);

    for (const shop of [inOrder, early]) {
      expect((await customer(shop, BUYER)).balance).toBe(315);
      expect(await orderRow(shop)).toMatchObject({
        eligible_amount: 40495,
        points_awarded: 404,
        points_reversed: 89,
        refunded_amount: 8999,
        status: "partially_refunded",
      });
      await assertLedgerInvariants(shop.id);
    }
  });

  it("reverses what the order still holds on orders/cancelled, before or after the order", async () => {
    const shop = await shopifyShop();
    await deliver(shop, "orders/paid", ordersPaidRaw);
    await deliver(shop, "refunds/create", firstLineOnly);
    const res = await deliver(shop, "orders/cancelled", ordersPaidRaw);
    expect(res.body).toMatchObject({ status: "processed", result: { points: -315, balance: 0 } });
    expect(await orderRow(shop)).toMatchObject({ status: "cancelled", points_reversed: 404 });

    const early = await shopifyShop();
    await deliver(early, "orders/cancelled", ordersPaidRaw);
    await deliver(early, "orders/paid", ordersPaidRaw);
    expect((await customer(early, BUYER)).balance).toBe(0);
    expect(await orderRow(early)).toMatchObject({ status: "cancelled" });
  });
});

describe("customers/create", () => {
  it("makes the Shopify customer a member under the numeric id", async () => {
    const shop = await shopifyShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 50;
    });
    const res = await deliver(shop, "customers/create", customersCreateRaw);
    expect(res.body).toMatchObject({ status: "processed", result: { customerId: "706405506930370084", points: 50 } });
    expect(await customer(shop, "706405506930370084")).toMatchObject({ balance: 50 });
  });
});

describe("GDPR topics", () => {
  it("customers/data_request: exports what Laurel holds about the customer", async () => {
    const shop = await shopifyShop();
    const request = edited(forShop(dataRequestRaw, shop), (r) => {
      r.customer.id = BUYER;
      r.orders_requested = [ORDER_ID];
    });
    const unknown = await deliver(shop, "customers/data_request", request);
    expect(unknown.body).toMatchObject({ status: "ignored", reason: "unknown_customer", export: null });
    await deliver(shop, "orders/paid", ordersPaidRaw);
    const res = await deliver(shop, "customers/data_request", request);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("processed");
    expect(res.body.export.customer).toMatchObject({ id: BUYER, balance: 404 });
    expect(res.body.export.orders).toEqual([expect.objectContaining({ id: ORDER_ID, pointsAwarded: 404 })]);
    expect(res.body.export.ledger).toHaveLength(1);
  });

  it("customers/data_request is recorded for the store owner: GET /v1/data-requests, once per delivery, erased with the customer", async () => {
    const shop = await shopifyShop();
    const other = await shopifyShop();
    const request = edited(forShop(dataRequestRaw, shop), (r) => {
      r.customer.id = BUYER;
      r.orders_requested = [ORDER_ID];
    });
    const list = async (who: TestShop) => {
      const res = await call("GET", "/v1/data-requests", { token: who.secretKey });
      expect(res.status).toBe(200);
      return res.body.requests as { id: string; customerId: string; export: any; ordersRequested: string[]; requestedAt: string }[];
    };
    // A request for someone Laurel does not know is recorded too: the answer is "nothing held".
    const first = await deliver(shop, "customers/data_request", request, { eventId: "dr-1" });
    expect(first.body.dataRequestId).toMatch(/^dr_/);
    await deliver(shop, "orders/paid", ordersPaidRaw);
    const second = await deliver(shop, "customers/data_request", request, { eventId: "dr-2" });
    expect((await deliver(shop, "customers/data_request", request, { eventId: "dr-2" })).body.status).toBe("duplicate");

    const requests = await list(shop);
    expect(requests.map((r) => r.id)).toEqual([second.body.dataRequestId, first.body.dataRequestId]);
    expect(requests[0]).toMatchObject({ customerId: BUYER, ordersRequested: [ORDER_ID] });
    expect(requests[0]!.export.customer).toMatchObject({ id: BUYER, balance: 404 });
    expect(requests[0]!.export.orders).toEqual([expect.objectContaining({ id: ORDER_ID })]);
    expect(requests[1]!.export).toBeNull();
    expect(await list(other)).toEqual([]);
    expectError(await call("GET", "/v1/data-requests"), 401, "unauthorized");

    // The export is personal data: customers/redact takes it away with the rest.
    const redact = edited(forShop(customersRedactRaw, shop), (r) => {
      r.customer.id = BUYER;
    });
    await deliver(shop, "customers/redact", redact);
    expect(await list(shop)).toEqual([]);
  });

  it("customers/redact: personal data gone, amounts kept", async () => {
    const shop = await shopifyShop();
    await deliver(shop, "orders/paid", ordersPaidRaw);
    const redact = edited(forShop(customersRedactRaw, shop), (r) => {
      r.customer.id = BUYER;
      r.orders_to_redact = [ORDER_ID];
    });
    const res = await deliver(shop, "customers/redact", redact);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("processed");
    // The external id goes too (it is a Shopify customer id); the row, its balance and ledger stay.
    const { results: rows } = await env.DB.prepare("SELECT external_id, email, first_name, redacted_at, balance FROM customers WHERE shop_id = ?")
      .bind(shop.id)
      .all<{ external_id: string; email: string | null; first_name: string | null; redacted_at: string | null; balance: number }>();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ email: null, first_name: null, balance: 404 });
    expect(rows[0]!.external_id).not.toBe(BUYER);
    expect(rows[0]!.redacted_at).not.toBeNull();
    await assertLedgerInvariants(shop.id);
    const order = await env.DB.prepare("SELECT email, eligible_amount FROM orders WHERE shop_id = ?").bind(shop.id).first();
    expect(order).toMatchObject({ email: null, eligible_amount: 40495 });
    expect((await deliver(shop, "customers/redact", redact, { eventId: res.body.eventId.split(":").pop() })).body.status).toBe(
      "duplicate",
    );
  });

  it("shop/redact: every row of the shop is erased, other shops untouched", async () => {
    const shop = await shopifyShop();
    const neighbour = await shopifyShop();
    for (const s of [shop, neighbour]) {
      await setProgram(s, (p) => {
        p.waysToEarn.signup = 5;
      });
      await deliver(s, "customers/create", customersCreateRaw);
      await deliver(s, "orders/paid", ordersPaidRaw);
      await deliver(s, "refunds/create", firstLineOnly);
      await call("POST", "/v1/rewards", { token: s.secretKey, body: { name: "$5 off", type: "amount_off", cost: 10, value: "5.00" } });
    }
    const res = await deliver(shop, "shop/redact", forShop(shopRedactRaw, shop));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("processed");

    // Every table that carries a shop_id, whoever added it: nothing of the erased shop is left.
    const { results: all } = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
    ).all<{ name: string }>();
    const tables: { name: string }[] = [];
    for (const { name } of all) {
      const { results: columns } = await env.DB.prepare(`PRAGMA table_info("${name}")`).all<{ name: string }>();
      if (columns.some((column) => column.name === "shop_id")) tables.push({ name });
    }
    expect(tables.length).toBeGreaterThanOrEqual(10);
    for (const { name } of tables) {
      const left = await env.DB.prepare(`SELECT COUNT(*) AS n FROM "${name}" WHERE shop_id = ?`).bind(shop.id).first<{ n: number }>();
      expect(left!.n, `${name} still holds rows of the erased shop`).toBe(0);
    }
    expect(await env.DB.prepare("SELECT id FROM shops WHERE id = ?").bind(shop.id).first()).toBeNull();
    expectError(await call("GET", "/v1/program", { token: shop.secretKey }), 401, "unauthorized");

    expect((await customer(neighbour, BUYER)).balance).toBe(5 + 315);
    await assertLedgerInvariants(neighbour.id);
    // Shopify may deliver it again: nothing left, still 200.
    expect((await deliver(shop, "shop/redact", forShop(shopRedactRaw, shop))).body).toMatchObject({ status: "ignored" });
  });
});

describe("app/uninstalled", () => {
  it("forgets the Admin API token and keeps the program until shop/redact", async () => {
    const shop = await shopifyShop();
    await env.DB.prepare("UPDATE shops SET shopify_access_token = 'v1.x.y', shopify_connected_at = ? WHERE id = ?")
      .bind(new Date().toISOString(), shop.id)
      .run();
    await deliver(shop, "orders/paid", ordersPaidRaw);
    const res = await deliver(shop, "app/uninstalled", appUninstalledRaw);
    expect(res.body).toMatchObject({ status: "processed", topic: "app/uninstalled" });
    const row = await env.DB.prepare("SELECT shopify_access_token, shopify_uninstalled_at FROM shops WHERE id = ?")
      .bind(shop.id)
      .first<{ shopify_access_token: string | null; shopify_uninstalled_at: string | null }>();
    expect(row!.shopify_access_token).toBeNull();
    expect(row!.shopify_uninstalled_at).not.toBeNull();
    expect((await customer(shop, BUYER)).balance).toBe(404);
  });
});
