/**
 * Reconciliation on a schedule (issue 17): the daily run pulls the orders updated since the last
 * run through the Admin API (GraphQL `orders`, from the local fake) and applies what webhooks
 * missed, idempotent by order and refund id; each run is kept for the console.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { signShopifyWebhook } from "../../worker/auth/shopify";
import { runScheduledWork } from "../../worker/services/scheduled";
import { ShopifyAdminFake } from "../fakes/shopify-admin";
import { assertLedgerInvariants, call, customer, expectError, makeShop } from "./helpers";
import { adminSessionToken, CLIENT_ID, SECRET } from "./shopify-session";

const settings = env as { SHOPIFY_API_KEY?: string };
let fake: ShopifyAdminFake;
beforeEach(() => {
  settings.SHOPIFY_API_KEY = CLIENT_ID;
  fake = new ShopifyAdminFake();
  const passThrough = globalThis.fetch.bind(globalThis);
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    return new URL(request.url).hostname.endsWith(".myshopify.com") ? fake.fetch(request) : passThrough(request);
  });
});
afterEach(() => {
  settings.SHOPIFY_API_KEY = undefined;
  vi.restoreAllMocks();
});

let stores = 0;
/** A store installed from the admin (managed install): its shop, connected with an expiring token. */
async function installedStore() {
  const domain = `laurel-reconcile-${++stores}.myshopify.com`;
  const opened = await call("POST", "/v1/shopify/session", { token: await adminSessionToken(domain) });
  expect(opened.status, JSON.stringify(opened.body)).toBe(200);
  return { domain, id: opened.body.shop.id as string, token: () => adminSessionToken(domain) };
}

const money = (amount: string) => ({ shopMoney: { amount } });
const NOW = new Date();
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();

/** An Order node as the GraphQL Admin API returns it for Laurel's selection. */
function gqlOrder(o: {
  id: string;
  customer: string | null;
  email?: string;
  subtotal: string;
  status?: string;
  updatedAt?: string;
  cancelledAt?: string | null;
  refunds?: { id: string; subtotal: string }[];
}) {
  return {
    legacyResourceId: o.id,
    email: o.email ?? "ada@example.com",
    createdAt: hoursAgo(6),
    processedAt: hoursAgo(6),
    cancelledAt: o.cancelledAt ?? null,
    displayFinancialStatus: o.status ?? "PAID",
    taxesIncluded: false,
    currencyCode: "USD",
    subtotalPriceSet: money(o.subtotal),
    totalTaxSet: money("0.00"),
    totalShippingPriceSet: money("5.00"),
    shippingLines: { nodes: [{ discountedPriceSet: money("5.00"), taxLines: [] }] },
    lineItems: {
      nodes: [{ quantity: 1, sku: "SKU-1", product: { productType: "Shirts" }, originalUnitPriceSet: money(o.subtotal), taxLines: [] }],
    },
    discountCodes: [],
    customer: o.customer ? { legacyResourceId: o.customer, email: "ada@example.com" } : null,
    refunds: (o.refunds ?? []).map((r) => ({
      legacyResourceId: r.id,
      createdAt: hoursAgo(2),
      refundLineItems: { nodes: [{ subtotalSet: money(r.subtotal), totalTaxSet: money("0.00") }] },
      refundShippingLines: { nodes: [] },
    })),
    updatedAt: o.updatedAt ?? hoursAgo(1),
  };
}

async function webhook(domain: string, topic: string, payload: unknown) {
  const raw = JSON.stringify(payload);
  return call("POST", "/shopify/webhooks", {
    raw,
    headers: {
      "x-shopify-topic": topic,
      "x-shopify-shop-domain": domain,
      "x-shopify-event-id": crypto.randomUUID(),
      "x-shopify-hmac-sha256": await signShopifyWebhook(SECRET, raw),
    },
  });
}

describe("the daily reconciliation", () => {
  it("credits what webhooks missed, with refunds and cancellations, once however often it runs", async () => {
    const store = await installedStore();
    // Order 1's webhook did arrive; orders 2 to 4 never did.
    const delivered = await webhook(store.domain, "orders/paid", {
      id: 1001,
      currency: "USD",
      financial_status: "paid",
      subtotal_price: "100.00",
      customer: { id: 7001, email: "ada@example.com" },
      line_items: [],
    });
    expect(delivered.body.status).toBe("processed");
    fake.orders.push(
      gqlOrder({ id: "1001", customer: "7001", subtotal: "100.00" }),
      gqlOrder({ id: "1002", customer: "7001", subtotal: "200.00", status: "PARTIALLY_REFUNDED", refunds: [{ id: "5002", subtotal: "50.00" }] }),
      gqlOrder({ id: "1003", customer: "7002", subtotal: "80.00", cancelledAt: hoursAgo(1) }),
      gqlOrder({ id: "1004", customer: null, email: "guest@example.com", subtotal: "60.00" }),
      gqlOrder({ id: "1005", customer: "7003", subtotal: "70.00", status: "PENDING" }),
      gqlOrder({ id: "1006", customer: "7004", subtotal: "90.00", updatedAt: hoursAgo(72) }),
    );

    const report = await runScheduledWork(env, NOW);
    expect(report.ordersReconciled).toBe(2);
    const token = await store.token();
    const balance = async (id: string) => (await call("GET", `/v1/customers/${id}`, { token })).body.customer?.balance ?? null;
    expect(await balance("7001")).toBe(100 + 150); // 1001 by webhook, 1002 less its refund
    expect(await balance("7002")).toBe(0); // credited, then cancelled
    expect(await balance("7003")).toBeNull(); // not paid
    expect(await balance("7004")).toBeNull(); // outside the window
    // A guest checkout: its points are held for its email (guest-orders.test.ts).
    expect(await env.DB.prepare("SELECT status, points_awarded FROM guest_orders WHERE external_id = '1004'").first()).toEqual({
      status: "held",
      points_awarded: 60,
    });

    const runs = await call("GET", "/v1/shopify/reconciliations", { token });
    expect(runs.status).toBe(200);
    expect(runs.body.runs).toHaveLength(1);
    expect(runs.body.runs[0]).toMatchObject({ orders: 5, credited: 2, points: 200 - 50, skipped: 1, error: null });
    expect(Date.parse(runs.body.runs[0].since)).toBeCloseTo(NOW.getTime() - 24 * 3_600_000, -3);

    // The next run starts where this one ended (with a little overlap) and moves nothing twice.
    const again = await call("POST", "/v1/shopify/reconciliations", { token });
    expect(again.status).toBe(200);
    expect(again.body.run).toMatchObject({ credited: 0, points: 0, error: null });
    expect(await balance("7001")).toBe(250);
    expect(Date.parse(again.body.run.since)).toBe(NOW.getTime() - 10 * 60_000);
    await assertLedgerInvariants(store.id);
  });

  it("reads every page of a busy day", async () => {
    const store = await installedStore();
    for (let i = 0; i < 120; i++) fake.orders.push(gqlOrder({ id: String(2000 + i), customer: String(8000 + (i % 7)), subtotal: "10.00" }));
    const run = (await call("POST", "/v1/shopify/reconciliations", { token: await store.token() })).body.run;
    expect(run).toMatchObject({ orders: 120, credited: 120, points: 1200 });
    expect(fake.requests.filter((r) => r.root === "orders")).toHaveLength(3);
  });

  it("keeps a run that could not read the store, saying what to do, and leaves other shops alone", async () => {
    const store = await installedStore();
    fake.revokeAll();
    await env.DB.prepare("UPDATE shops SET shopify_token_expires_at = ? WHERE id = ?").bind(hoursAgo(1), store.id).run();
    const token = await store.token();
    const run = (await call("POST", "/v1/shopify/reconciliations", { token })).body.run;
    expect(run.error).toMatch(/Open Laurel from your Shopify admin/);
    expect(run.until).toBeNull();
    const other = await makeShop();
    expectError(await call("POST", "/v1/shopify/reconciliations", { token: other.secretKey }), 422, "rule_violation");
    expectError(await call("GET", "/v1/shopify/reconciliations"), 401, "unauthorized");
    expect((await customer(other, "7001")) ?? null).toBeNull();
  });
});
