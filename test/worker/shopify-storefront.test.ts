/**
 * The Shopify surfaces around the storefront: the app proxy (signatures valid, tampered, stale),
 * connecting a shop (metafields through the Admin API fake), redemptions whose codes are created in
 * Shopify (and voided when Shopify refuses), and reconciliation of orders from the orders API.
 * The Admin API is the local fake: outbound requests to *.myshopify.com are routed to it.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SHOPIFY_API_VERSION } from "../../worker/adapters/shopify-admin";
import { signAdminQuery, signAppProxy, signShopifyWebhook } from "../../worker/auth/shopify";
import { parseShopifyJson } from "../../worker/domain/shopify";
import { ShopifyAdminFake } from "../fakes/shopify-admin";
import ordersPaidRaw from "../fixtures/shopify/orders-paid.json?raw";
import refundsCreateRaw from "../fixtures/shopify/refunds-create.json?raw";
import { runScheduledWork, SWEEP_CRON } from "../../worker/services/scheduled";
import worker from "../../worker/index";
import {
  assertLedgerInvariants,
  call,
  callWith,
  customer,
  expectError,
  faultyDb,
  makeShop,
  snapshot,
  storefrontSession,
  type TestShop,
} from "./helpers";

const SECRET = "test-shopify-secret";
const BUYER = "115310627314723954";
const ORDER_ID = "820982911946154508";

interface ShopifyShop extends TestShop {
  domain: string;
}

let shops = 0;
async function shopifyShop(): Promise<ShopifyShop> {
  const domain = `laurel-store-${++shops}.myshopify.com`;
  return { ...(await makeShop({ platform: "shopify", shopifyDomain: domain, currency: "USD" })), domain };
}

let fake: ShopifyAdminFake;
beforeEach(() => {
  fake = new ShopifyAdminFake();
  const passThrough = globalThis.fetch.bind(globalThis);
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    return new URL(request.url).hostname.endsWith(".myshopify.com") ? fake.fetch(request) : passThrough(request);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const connect = (shop: TestShop, body: Record<string, unknown>) =>
  call("POST", "/v1/shopify/connect", { token: shop.secretKey, body });

async function connected(): Promise<ShopifyShop> {
  const shop = await shopifyShop();
  const res = await connect(shop, { shopDomain: shop.domain, accessToken: fake.accessToken });
  if (res.status !== 200) throw new Error(`connect failed: ${res.status} ${JSON.stringify(res.body)}`);
  return shop;
}

async function paidOrder(shop: ShopifyShop, raw = ordersPaidRaw) {
  const res = await call("POST", "/shopify/webhooks", {
    raw,
    headers: {
      "x-shopify-topic": "orders/paid",
      "x-shopify-shop-domain": shop.domain,
      "x-shopify-event-id": crypto.randomUUID(),
      "x-shopify-hmac-sha256": await signShopifyWebhook(SECRET, raw),
    },
  });
  expect(res.status).toBe(200);
}

/** The query Shopify appends when it forwards https://{shop}/apps/laurel/... to us. */
async function proxyQuery(
  shop: { domain: string },
  customerId: string | null,
  options: { timestamp?: number; secret?: string; extra?: Record<string, string> } = {},
) {
  const params = new URLSearchParams({
    ...options.extra,
    shop: shop.domain,
    logged_in_customer_id: customerId ?? "",
    path_prefix: "/apps/laurel",
    timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
  });
  params.set("signature", await signAppProxy(options.secret ?? SECRET, params));
  return params;
}

describe("the app proxy", () => {
  it("serves the storefront state with logged_in_customer_id as the identity", async () => {
    const shop = await shopifyShop();
    const res = await call("GET", `/shopify/proxy/v1/storefront/state?${await proxyQuery(shop, "7270431457386")}`, {
      headers: { "x-forwarded-for": "203.0.113.7" },
    });
    expect(res.status).toBe(200);
    expect(res.body.customer).toMatchObject({ id: "7270431457386", balance: 0 });
    expect(res.body.program.currency).toBe("USD");
    // A customer seen for the first time became a member.
    expect(await customer(shop, "7270431457386")).toMatchObject({ balance: 0 });

    const guest = await call("GET", `/shopify/proxy/v1/storefront/state?${await proxyQuery(shop, null)}`);
    expect(guest.status).toBe(200);
    expect(guest.body.customer).toBeNull();
  });

  it("refuses a tampered, unsigned, wrongly keyed or stale query with 401 and no effect", async () => {
    const shop = await shopifyShop();
    const before = await snapshot();
    const tampered = await proxyQuery(shop, "111");
    tampered.set("logged_in_customer_id", "222");
    const extra = await proxyQuery(shop, "111");
    extra.append("logged_in_customer_id", "222");
    const unsigned = await proxyQuery(shop, "111");
    unsigned.delete("signature");
    const now = Math.floor(Date.now() / 1000);
    for (const query of [
      tampered,
      extra,
      unsigned,
      await proxyQuery(shop, "111", { secret: "another-secret" }),
      await proxyQuery(shop, "111", { timestamp: now - 600 }),
      await proxyQuery(shop, "111", { timestamp: now + 600 }),
    ]) {
      expectError(await call("GET", `/shopify/proxy/v1/storefront/state?${query}`), 401, "unauthorized");
      expectError(
        await call("POST", `/shopify/proxy/v1/storefront/sessions?${query}`, { body: { shop: shop.publicKey } }),
        401,
        "unauthorized",
      );
    }
    expect(await snapshot()).toEqual(before);
  });

  it("opens sessions for the proxy's customer, whatever the body claims", async () => {
    const shop = await shopifyShop();
    const res = await call("POST", `/shopify/proxy/v1/storefront/sessions?${await proxyQuery(shop, "42")}`, {
      body: { shop: "pk_someone_else", customer: { id: "999", ts: 1, digest: "00" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.customer).toEqual({ id: "42", balance: 0 });
    // The token is an ordinary storefront session for that customer.
    const state = await call("GET", "/v1/storefront/state", { token: res.body.token });
    expect(state.body.customer.id).toBe("42");
    expect(await customer(shop, "999")).toBeUndefined();
  });

  it("only forwards storefront routes, of shops it knows", async () => {
    const shop = await shopifyShop();
    expectError(await call("GET", `/shopify/proxy/v1/program?${await proxyQuery(shop, null)}`), 404, "not_found");
    expectError(await call("GET", `/shopify/proxy/v1/storefront/nope?${await proxyQuery(shop, null)}`), 404, "not_found");
    const stranger = await proxyQuery({ domain: "stranger.myshopify.com" }, "1");
    expectError(await call("GET", `/shopify/proxy/v1/storefront/state?${stranger}`), 404, "not_found");
  });
});

describe("connecting a shop", () => {
  it("writes the storefront metafields and stores the token sealed", async () => {
    const shop = await shopifyShop();
    const res = await connect(shop, { shopDomain: shop.domain.toUpperCase(), accessToken: fake.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.shopify).toMatchObject({ domain: shop.domain, metafields: ["public_key", "api_origin", "widget_secret"] });
    expect(Object.fromEntries([...fake.metafields].map(([key, m]) => [key, m.value]))).toEqual({
      "laurel.public_key": shop.publicKey,
      "laurel.api_origin": "http://laurel.test",
      "laurel.widget_secret": shop.widgetSecret,
    });
    expect(fake.requests.every((r) => r.url === `https://${shop.domain}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`)).toBe(true);
    const row = await env.DB.prepare("SELECT platform, shopify_access_token FROM shops WHERE id = ?")
      .bind(shop.id)
      .first<{ platform: string; shopify_access_token: string }>();
    expect(row!.platform).toBe("shopify");
    expect(row!.shopify_access_token).toMatch(/^v1\./);
    expect(row!.shopify_access_token).not.toContain(fake.accessToken);
  });

  it("changes nothing when Shopify refuses the token, and refuses bad domains", async () => {
    const shop = await shopifyShop();
    const refused = await connect(shop, { shopDomain: shop.domain, accessToken: "shpat_revoked" });
    expectError(refused, 502, "upstream_failed");
    const row = await env.DB.prepare("SELECT shopify_access_token FROM shops WHERE id = ?").bind(shop.id).first();
    expect(row).toEqual({ shopify_access_token: null });
    expectError(await connect(shop, { shopDomain: "evil.example.com", accessToken: "x" }), 400, "invalid_request");
    const other = await shopifyShop();
    expectError(await connect(shop, { shopDomain: other.domain, accessToken: fake.accessToken }), 409, "conflict");
    expectError(await call("POST", "/v1/shopify/connect", { body: { shopDomain: shop.domain, accessToken: "x" } }), 401, "unauthorized");
  });
});

describe("redemptions in a Shopify shop", () => {
  async function member(shop: ShopifyShop) {
    await paidOrder(shop); // 404 points for BUYER
    const reward = await call("POST", "/v1/rewards", {
      token: shop.secretKey,
      body: { name: "$5 off", type: "amount_off", cost: 100, value: "5.00", minOrder: "20.00" },
    });
    return { rewardId: reward.body.reward.id as string, token: await storefrontSession(shop, BUYER) };
  }

  const redeem = (token: string, rewardId: string, key = crypto.randomUUID()) =>
    call("POST", "/v1/storefront/redemptions", { token, body: { rewardId }, headers: { "idempotency-key": key } });

  it("creates the code in Shopify with discountCodeBasicCreate", async () => {
    const shop = await connected();
    const { rewardId, token } = await member(shop);
    const res = await redeem(token, rewardId);
    expect(res.status).toBe(201);
    expect(res.body.balance).toBe(304);
    const created = fake.discounts.get(res.body.redemption.code);
    expect(created?.kind).toBe("basic");
    expect(created?.input).toMatchObject({
      code: res.body.redemption.code,
      title: "Laurel reward: $5 off",
      usageLimit: 1,
      appliesOncePerCustomer: true,
      context: { all: "ALL" },
      minimumRequirement: { subtotal: { greaterThanOrEqualToSubtotal: "20.00" } },
      customerGets: { value: { discountAmount: { amount: "5.00", appliesOnEachItem: false } }, items: { all: true } },
    });
  });

  it("creates free shipping codes with discountCodeFreeShippingCreate", async () => {
    const shop = await connected();
    await paidOrder(shop);
    const reward = await call("POST", "/v1/rewards", {
      token: shop.secretKey,
      body: { name: "Free shipping", type: "free_shipping", cost: 50 },
    });
    const res = await redeem(await storefrontSession(shop, BUYER), reward.body.reward.id);
    expect(res.status).toBe(201);
    expect(fake.discounts.get(res.body.redemption.code)).toMatchObject({ kind: "free_shipping", input: { destination: { all: true } } });
  });

  it("voids the redemption and gives the points back when Shopify refuses", async () => {
    const shop = await connected();
    const { rewardId, token } = await member(shop);
    fake.failNext({ kind: "http401" });
    const key = crypto.randomUUID();
    const res = await redeem(token, rewardId, key);
    expectError(res, 502, "upstream_failed");
    expect((await customer(shop, BUYER)).balance).toBe(404);
    const { results } = await env.DB.prepare("SELECT status, void_reason FROM redemptions WHERE shop_id = ?")
      .bind(shop.id)
      .all<{ status: string; void_reason: string }>();
    expect(results).toEqual([{ status: "void", void_reason: expect.stringContaining("Shopify") }]);
    const kinds = await env.DB.prepare("SELECT kind, delta FROM ledger WHERE shop_id = ? ORDER BY id").bind(shop.id).all();
    expect(kinds.results).toEqual([
      { kind: "order", delta: 404 },
      { kind: "redemption", delta: -100 },
      { kind: "redemption_reversal", delta: 100 },
    ]);
    // The same key replays the answer; it does not redeem again.
    const replay = await redeem(token, rewardId, key);
    expect(replay.status).toBe(502);
    expect(fake.discounts.size).toBe(0);
  });

  it("voids the redemption of a Shopify shop that is not connected", async () => {
    const shop = await shopifyShop();
    const { rewardId, token } = await member(shop);
    expectError(await redeem(token, rewardId), 502, "upstream_failed");
    expect((await customer(shop, BUYER)).balance).toBe(404);
    expect(fake.requests).toHaveLength(0);
  });

  it("redeems through the app proxy as the logged-in customer", async () => {
    const shop = await connected();
    const { rewardId } = await member(shop);
    const res = await call("POST", `/shopify/proxy/v1/storefront/redemptions?${await proxyQuery(shop, BUYER)}`, {
      body: { rewardId },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(res.status).toBe(201);
    expect(res.body.balance).toBe(304);
    expect(fake.discounts.has(res.body.redemption.code)).toBe(true);
  });
});

describe("Shopify codes left pending by a crash between the debit and the Admin API", () => {
  async function member(shop: ShopifyShop) {
    await paidOrder(shop); // 404 points for BUYER
    const reward = await call("POST", "/v1/rewards", {
      token: shop.secretKey,
      body: { name: "$5 off", type: "amount_off", cost: 100, value: "5.00" },
    });
    return { rewardId: reward.body.reward.id as string, token: await storefrontSession(shop, BUYER) };
  }
  const redeem = (token: string, rewardId: string, key: string, db?: D1Database) =>
    (db ? (m: string, p: string, o: Parameters<typeof call>[2]) => callWith({ DB: db }, m, p, o) : call)(
      "POST",
      "/v1/storefront/redemptions",
      { token, body: { rewardId }, headers: { "idempotency-key": key } },
    );
  /** The database as a dying isolate sees it: every statement fails once `dead()` holds. */
  const dyingAfter = (dead: () => boolean) => faultyDb(env.DB, dead).db;
  const committed = (batches: string[][]) => batches.some((b) => b.some((sql) => sql.includes("INSERT INTO redemptions")));
  const redemptions = async (shop: ShopifyShop) =>
    (
      await env.DB.prepare("SELECT code, status, shopify_status, void_reason FROM redemptions WHERE shop_id = ?")
        .bind(shop.id)
        .all<{ code: string; status: string; shopify_status: string | null; void_reason: string | null }>()
    ).results;
  const kinds = async (shop: ShopifyShop) =>
    (await env.DB.prepare("SELECT kind, delta FROM ledger WHERE shop_id = ? ORDER BY id").bind(shop.id).all()).results;
  const unlock = (shop: ShopifyShop, key: string) =>
    env.DB.prepare("UPDATE idempotency_keys SET locked_until = '2000-01-01T00:00:00.000Z' WHERE shop_id = ? AND key = ?")
      .bind(shop.id, key)
      .run();
  const minutes = (n: number) => new Date(Date.now() + n * 60_000);
  /** The real scheduled handler, fired by the frequent cron. */
  async function sweepAt(now: Date) {
    const controller = createScheduledController({ scheduledTime: now.getTime(), cron: SWEEP_CRON });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
  }

  async function crashBeforeShopify() {
    const shop = await connected();
    const { rewardId, token } = await member(shop);
    const faults = faultyDb(env.DB, () => committed(faults.batches));
    expectError(await redeem(token, rewardId, "crash", faults.db), 500, "internal_error");
    expect(fake.discounts.size).toBe(0);
    expect(await redemptions(shop)).toEqual([expect.objectContaining({ status: "issued", shopify_status: "pending" })]);
    expect((await customer(shop, BUYER)).balance).toBe(304);
    return { shop, rewardId, token };
  }

  it("the sweep voids a code Shopify never got and gives the points back, once", async () => {
    const { shop, rewardId, token } = await crashBeforeShopify();
    await sweepAt(minutes(5)); // too young: its request might still be running
    expect(await redemptions(shop)).toEqual([expect.objectContaining({ status: "issued", shopify_status: "pending" })]);

    await sweepAt(minutes(11));
    expect(await redemptions(shop)).toEqual([
      expect.objectContaining({ status: "void", void_reason: expect.stringContaining("Shopify has no discount") }),
    ]);
    expect(fake.requests.filter((r) => r.root === "codeDiscountNodeByCode")).toHaveLength(1);
    expect((await customer(shop, BUYER)).balance).toBe(404);
    await sweepAt(minutes(16));
    await runScheduledWork(env, minutes(20));
    expect(await kinds(shop)).toEqual([
      { kind: "order", delta: 404 },
      { kind: "redemption", delta: -100 },
      { kind: "redemption_reversal", delta: 100 },
    ]);
    // The shopper's retry learns what became of the redemption.
    await unlock(shop, "crash");
    expectError(await redeem(token, rewardId, "crash"), 502, "upstream_failed");
    expect((await customer(shop, BUYER)).balance).toBe(404);
    await assertLedgerInvariants(shop.id);
  });

  it("the sweep confirms a code whose discount Shopify did create", async () => {
    const shop = await connected();
    const { rewardId, token } = await member(shop);
    const db = dyingAfter(() => fake.discounts.size > 0);
    expectError(await redeem(token, rewardId, "crash", db), 500, "internal_error");
    const [pending] = await redemptions(shop);
    expect(pending).toMatchObject({ status: "issued", shopify_status: "pending" });
    expect(fake.discounts.has(pending!.code)).toBe(true);

    await sweepAt(minutes(11));
    expect(await redemptions(shop)).toEqual([expect.objectContaining({ status: "issued", shopify_status: "created" })]);
    expect((await customer(shop, BUYER)).balance).toBe(304);
    await sweepAt(minutes(16));
    expect(await kinds(shop)).toEqual([
      { kind: "order", delta: 404 },
      { kind: "redemption", delta: -100 },
    ]);
    await unlock(shop, "crash");
    const retry = await redeem(token, rewardId, "crash");
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ redemption: { code: pending!.code }, balance: 304 });
    expect(fake.discounts.size).toBe(1);
  });

  it("a retry of the request finishes the Shopify step itself, and the sweep then has nothing to do", async () => {
    const { shop, rewardId, token } = await crashBeforeShopify();
    await unlock(shop, "crash");
    const retry = await redeem(token, rewardId, "crash");
    expect(retry.status).toBe(201);
    expect(retry.body.balance).toBe(304);
    expect(fake.discounts.has(retry.body.redemption.code)).toBe(true);
    expect(await redemptions(shop)).toEqual([expect.objectContaining({ status: "issued", shopify_status: "created" })]);
    expect((await redeem(token, rewardId, "crash")).body).toEqual(retry.body);
    await sweepAt(minutes(11));
    expect(await kinds(shop)).toEqual([
      { kind: "order", delta: 404 },
      { kind: "redemption", delta: -100 },
    ]);
    expect(fake.discounts.size).toBe(1);
  });

  it("keeps a code it cannot check for the next sweep, and voids it after a day", async () => {
    const { shop } = await crashBeforeShopify();
    fake.failNext({ kind: "http401" });
    await sweepAt(minutes(11));
    expect(await redemptions(shop)).toEqual([expect.objectContaining({ status: "issued", shopify_status: "pending" })]);
    fake.failNext({ kind: "http401" });
    await sweepAt(minutes(25 * 60));
    expect(await redemptions(shop)).toEqual([
      expect.objectContaining({ status: "void", void_reason: expect.stringContaining("could not be asked") }),
    ]);
    expect((await customer(shop, BUYER)).balance).toBe(404);
    await assertLedgerInvariants(shop.id);
  });

  it("confirms codes on the normal path, and leaves other shops' redemptions out of the sweep", async () => {
    const shop = await connected();
    const { rewardId, token } = await member(shop);
    expect((await redeem(token, rewardId, crypto.randomUUID())).status).toBe(201);
    expect(await redemptions(shop)).toEqual([expect.objectContaining({ status: "issued", shopify_status: "created" })]);
    const custom = await makeShop();
    await call("POST", "/v1/events", {
      token: custom.secretKey,
      body: { id: "e1", type: "order.paid", order: { id: "o1", customerId: "c1", currency: "EUR", subtotal: "200.00", lines: [] } },
    });
    const reward = await call("POST", "/v1/rewards", { token: custom.secretKey, body: { name: "€5", type: "amount_off", cost: 100, value: "5.00" } });
    const customToken = await storefrontSession(custom, "c1");
    expect((await redeem(customToken, reward.body.reward.id, crypto.randomUUID())).status).toBe(201);
    const row = await env.DB.prepare("SELECT status, shopify_status FROM redemptions WHERE shop_id = ?").bind(custom.id).first();
    expect(row).toEqual({ status: "issued", shopify_status: null });
    const requests = fake.requests.length;
    await sweepAt(minutes(11));
    expect(fake.requests.length).toBe(requests);
    expect(await env.DB.prepare("SELECT status FROM redemptions WHERE shop_id = ?").bind(custom.id).first()).toEqual({ status: "issued" });
  });
});

describe("reconciliation", () => {
  const order = (edit: (o: any) => void = () => {}) => {
    const o = parseShopifyJson(ordersPaidRaw) as { [key: string]: unknown };
    o.financial_status = "paid";
    o.cancelled_at = null;
    edit(o);
    return o;
  };
  const page = (orders: unknown[]) => JSON.stringify({ orders });
  const reconcile = (shop: TestShop, raw: string) => call("POST", "/v1/shopify/reconcile", { token: shop.secretKey, raw });

  it("credits missed orders once, with their refunds and cancellations, however often it runs", async () => {
    const shop = await shopifyShop();
    const refund = parseShopifyJson(refundsCreateRaw) as { refund_line_items: unknown[] };
    refund.refund_line_items = refund.refund_line_items.slice(0, 1);
    const body = page([
      order(),
      order((o) => {
        o.id = "820982911946154509";
        o.financial_status = "partially_refunded";
        o.refunds = [{ ...refund, order_id: "820982911946154509" }];
      }),
      order((o) => {
        o.id = "820982911946154510";
        o.cancelled_at = "2022-01-02T10:00:00-05:00";
        o.financial_status = "refunded";
      }),
      // A guest checkout with the email of a member is that member's order.
      order((o) => {
        o.id = "820982911946154511";
        o.customer = null;
      }),
      order((o) => {
        o.id = "820982911946154512";
        o.financial_status = "pending";
      }),
    ]);
    const first = await reconcile(shop, body);
    expect(first.status).toBe(200);
    expect(first.body.orders.map((o: { orderId: string; status: string; points: number }) => [o.orderId, o.status, o.points])).toEqual([
      [ORDER_ID, "credited", 404],
      ["820982911946154509", "credited", 404 - 89],
      ["820982911946154510", "credited", 0],
      ["820982911946154511", "credited", 404],
      ["820982911946154512", "skipped", 0],
    ]);
    expect(first.body).toMatchObject({ credited: 4, points: 404 + 315 + 404 });
    expect((await customer(shop, BUYER)).balance).toBe(1123);

    const again = await reconcile(shop, body);
    expect(again.body).toMatchObject({ credited: 0, points: 0 });
    expect(again.body.orders.slice(0, 4).map((o: { status: string }) => o.status)).toEqual([
      "already_credited",
      "already_credited",
      "already_credited",
      "already_credited",
    ]);
    // A late webhook for an order reconciled already is a duplicate too.
    await paidOrder(shop);
    expect((await customer(shop, BUYER)).balance).toBe(1123);
    const ids = await env.DB.prepare("SELECT external_id FROM orders WHERE shop_id = ? ORDER BY external_id").bind(shop.id).all();
    expect(ids.results.map((r) => r.external_id)).toEqual([
      ORDER_ID,
      "820982911946154509",
      "820982911946154510",
      "820982911946154511",
    ]);
  });

  it("credits nothing twice after the webhook did arrive", async () => {
    const shop = await shopifyShop();
    await paidOrder(shop);
    const res = await reconcile(shop, page([order()]));
    expect(res.body.orders[0]).toMatchObject({ orderId: ORDER_ID, status: "already_credited", points: 0 });
    expect((await customer(shop, BUYER)).balance).toBe(404);
  });

  it("takes exactly the orders API shape, from the merchant", async () => {
    const shop = await shopifyShop();
    expectError(await reconcile(shop, JSON.stringify([order()])), 400, "invalid_request");
    expectError(await reconcile(shop, "{nope"), 400, "invalid_request");
    expectError(await reconcile(shop, page(Array.from({ length: 251 }, () => ({ id: 1 })))), 400, "invalid_request");
    expectError(await call("POST", "/v1/shopify/reconcile", { raw: page([order()]) }), 401, "unauthorized");
  });
});

describe("installing from Shopify (OAuth authorization code grant)", () => {
  const settings = env as { SHOPIFY_API_KEY?: string };
  beforeEach(() => {
    settings.SHOPIFY_API_KEY = "test-client-id";
  });
  afterEach(() => {
    settings.SHOPIFY_API_KEY = undefined;
  });

  /** A query Shopify signed with the client secret (`hmac`), as it opens app and callback URLs. */
  async function signed(params: Record<string, string>, timestamp = Math.floor(Date.now() / 1000)) {
    const query = new URLSearchParams({ ...params, timestamp: String(timestamp) });
    query.set("hmac", await signAdminQuery(SECRET, query));
    return query;
  }
  const host = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvbGF1cmVs";

  /** A browser navigation: the redirect is the answer, not followed. */
  async function visit(path: string, cookie?: string) {
    const response = await exports.default.fetch(
      new Request(`http://laurel.test${path}`, { redirect: "manual", headers: cookie ? { cookie } : {} }),
    );
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  }

  async function start(shop: ShopifyShop) {
    const res = await visit(`/shopify/auth?${await signed({ shop: shop.domain, host })}`);
    expect(res.status, JSON.stringify(res.body)).toBe(302);
    const location = new URL(res.headers.get("location")!);
    const nonce = /laurel_shopify_state=([0-9a-f]{32});/.exec(res.headers.get("set-cookie") ?? "")?.[1];
    return { location, state: location.searchParams.get("state")!, nonce: nonce! };
  }

  it("sends the merchant to Shopify's consent screen, then connects the store with the token", async () => {
    const shop = await shopifyShop();
    const { location, state, nonce } = await start(shop);
    expect(`${location.origin}${location.pathname}`).toBe(`https://${shop.domain}/admin/oauth/authorize`);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: "test-client-id",
      scope: "read_orders,read_customers,write_discounts,write_app_proxy,read_store_credit_account_transactions,write_store_credit_account_transactions",
      redirect_uri: "http://laurel.test/shopify/auth/callback",
    });
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);

    fake.authorizationCodes.add("0907a61c0c8d55e99db179b68161bc00");
    const callback = await visit(
      `/shopify/auth/callback?${await signed({ code: "0907a61c0c8d55e99db179b68161bc00", host, shop: shop.domain, state })}`,
      `other=1; laurel_shopify_state=${nonce}`,
    );
    expect(callback.status).toBe(302);
    expect(callback.headers.get("location")).toBe(`https://${shop.domain}/admin/apps/test-client-id`);
    expect(fake.requests.map((r) => r.root)).toEqual(["oauth/access_token", "currentAppInstallation", "metafieldsSet"]);
    expect(fake.metafields.get("laurel.widget_secret")?.value).toBe(shop.widgetSecret);
    const row = await env.DB.prepare("SELECT shopify_access_token FROM shops WHERE id = ?").bind(shop.id).first<{ shopify_access_token: string }>();
    expect(row!.shopify_access_token).toMatch(/^v1\./);
  });

  it("refuses unsigned or stale starts, and callbacks from another browser, with another state or a used code", async () => {
    const shop = await shopifyShop();
    const forged = await signed({ shop: shop.domain, host });
    forged.set("shop", "victim.myshopify.com");
    expectError(await visit(`/shopify/auth?${forged}`), 401, "unauthorized");
    expectError(await visit(`/shopify/auth?${await signed({ shop: shop.domain }, Math.floor(Date.now() / 1000) - 600)}`), 401, "unauthorized");

    const { state, nonce } = await start(shop);
    fake.authorizationCodes.add("code-once");
    const query = await signed({ code: "code-once", shop: shop.domain, state });
    const before = await snapshot();
    expectError(await visit(`/shopify/auth/callback?${query}`), 401, "unauthorized");
    expectError(
      await visit(`/shopify/auth/callback?${query}`, "laurel_shopify_state=00000000000000000000000000000000"),
      401,
      "unauthorized",
    );
    const tampered = new URLSearchParams(query);
    tampered.set("code", "code-other");
    expectError(await visit(`/shopify/auth/callback?${tampered}`, `laurel_shopify_state=${nonce}`), 401, "unauthorized");
    expect(await snapshot()).toEqual(before);
    expect(fake.requests).toHaveLength(0);

    const cookie = `laurel_shopify_state=${nonce}`;
    expect((await visit(`/shopify/auth/callback?${query}`, cookie)).status).toBe(302);
    expectError(await visit(`/shopify/auth/callback?${query}`, cookie), 502, "upstream_failed");
  });

  it("installs a store Laurel does not know by itself: its shop from the Admin API, connected, nothing registered by hand", async () => {
    const stranger = { domain: "self-serve.myshopify.com" } as ShopifyShop;
    const { state, nonce } = await start(stranger);
    fake.authorizationCodes.add("self-serve-code");
    const query = await signed({ code: "self-serve-code", shop: stranger.domain, state });
    const res = await visit(`/shopify/auth/callback?${query}`, `laurel_shopify_state=${nonce}`);
    expect(res.status, JSON.stringify(res.body)).toBe(302);
    expect(fake.requests.map((r) => r.root)).toEqual(["oauth/access_token", "shop", "currentAppInstallation", "metafieldsSet"]);
    const row = await env.DB.prepare(
      "SELECT id, name, currency, origins, platform, public_key, shopify_token_kind FROM shops WHERE shopify_domain = ?",
    )
      .bind(stranger.domain)
      .first<{ id: string; name: string; currency: string; origins: string; platform: string; public_key: string; shopify_token_kind: string }>();
    expect(row).toMatchObject({ name: "Juniper & Oak", currency: "USD", platform: "shopify", shopify_token_kind: "expiring" });
    expect(JSON.parse(row!.origins)).toEqual(["https://self-serve.myshopify.com", "https://www.juniper-oak.example"]);
    expect(fake.metafields.get("laurel.public_key")?.value).toBe(row!.public_key);
    // Orders now earn there, as in any shop.
    const paid = await call("POST", "/shopify/webhooks", {
      raw: ordersPaidRaw,
      headers: {
        "x-shopify-topic": "orders/paid",
        "x-shopify-shop-domain": stranger.domain,
        "x-shopify-event-id": crypto.randomUUID(),
        "x-shopify-hmac-sha256": await signShopifyWebhook(SECRET, ordersPaidRaw),
      },
    });
    expect(paid.body.status).toBe("processed");
    // Installing again keeps the one shop.
    const again = await start(stranger);
    fake.authorizationCodes.add("self-serve-again");
    await visit(`/shopify/auth/callback?${await signed({ code: "self-serve-again", shop: stranger.domain, state: again.state })}`, `laurel_shopify_state=${again.nonce}`);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM shops WHERE shopify_domain = ?").bind(stranger.domain).first<{ n: number }>();
    expect(count!.n).toBe(1);
  });
});

describe("reward codes through Shopify: their end date and the order that uses them", () => {
  const redeem = (token: string, rewardId: string) =>
    call("POST", "/v1/storefront/redemptions", { token, body: { rewardId }, headers: { "idempotency-key": crypto.randomUUID() } });

  it("creates the discount ending when the code expires (the reward's validityDays)", async () => {
    const shop = await connected();
    await paidOrder(shop);
    const reward = await call("POST", "/v1/rewards", {
      token: shop.secretKey,
      body: { name: "$5 off", type: "amount_off", cost: 100, value: "5.00", validityDays: 30 },
    });
    const res = await redeem(await storefrontSession(shop, BUYER), reward.body.reward.id);
    expect(res.status).toBe(201);
    const listed = await call("GET", `/v1/customers/${BUYER}/redemptions`, { token: shop.secretKey });
    const expiresAt = listed.body.redemptions[0].expiresAt as string;
    expect(Date.parse(expiresAt) - Date.parse(listed.body.redemptions[0].createdAt)).toBe(30 * 86_400_000);
    expect(fake.discounts.get(res.body.redemption.code)?.input).toMatchObject({ code: res.body.redemption.code, endsAt: expiresAt });

    // Without validityDays the discount has no end.
    const forever = await call("POST", "/v1/rewards", {
      token: shop.secretKey,
      body: { name: "$1 off", type: "amount_off", cost: 10, value: "1.00" },
    });
    const open = await redeem(await storefrontSession(shop, BUYER), forever.body.reward.id);
    expect(fake.discounts.get(open.body.redemption.code)?.input).not.toHaveProperty("endsAt");
  });

  it("an orders/paid whose discount_codes carry the code (any case) marks it used by that order, once", async () => {
    const shop = await connected();
    await paidOrder(shop);
    const reward = await call("POST", "/v1/rewards", {
      token: shop.secretKey,
      body: { name: "$5 off", type: "amount_off", cost: 100, value: "5.00" },
    });
    const { code, id } = (await redeem(await storefrontSession(shop, BUYER), reward.body.reward.id)).body.redemption;
    const withCode = (orderId: string) => {
      const payload = parseShopifyJson(ordersPaidRaw) as any;
      payload.id = orderId;
      payload.discount_codes = [{ code: code.toLowerCase(), amount: "5.00", type: "fixed_amount" }];
      return JSON.stringify(payload);
    };
    await paidOrder(shop, withCode("5550001"));
    await paidOrder(shop, withCode("5550002"));
    const listed = await call("GET", `/v1/customers/${BUYER}/redemptions`, { token: shop.secretKey });
    expect(listed.body.redemptions.find((r: { id: string }) => r.id === id)).toMatchObject({
      status: "used",
      orderId: "5550001",
      usedAt: expect.any(String),
    });
    const used = await env.DB.prepare("SELECT COUNT(*) AS n FROM outbox WHERE shop_id = ? AND type = 'reward.used'").bind(shop.id).first();
    expect(used).toEqual({ n: 1 });
  });
});
