/**
 * Review of the worker against its invariants and HTTP contract, from outside: the contract's
 * paths, payloads and
 * status codes; bad input that must never be a 500; tenant isolation, secrets and CORS; and the
 * ledger invariants under the idempotency races that the other suites do not reach.
 */
import { env, exports } from "cloudflare:workers";
import type { Context } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../worker/app-env";
import { signAppProxy, signShopifyWebhook } from "../../worker/auth/shopify";
import { insufficientPoints } from "../../worker/http/errors";
import { sha256Hex } from "../../worker/crypto";
import { idempotent } from "../../worker/http/idempotency";
import { claimKey } from "../../worker/store/idempotency";
import { ingestEvent } from "../../worker/services/events";
import { expirePoints, runScheduledWork } from "../../worker/services/scheduled";
import { shopById } from "../../worker/store/shops";
import {
  ADMIN,
  assertLedgerInvariants,
  call,
  customer,
  expectError,
  makeReward,
  makeShop,
  orderPaid,
  postAdjustment,
  sendEvent,
  setProgram,
  signedEvent,
  snapshot,
  storefrontSession,
  type TestShop,
} from "./helpers";

const SHOPIFY_SECRET = "test-shopify-secret"; // SHOPIFY_API_SECRET in vitest.config.ts

let stores = 0;
async function shopifyShop(): Promise<TestShop & { domain: string }> {
  const domain = `review-store-${++stores}.myshopify.com`;
  return { ...(await makeShop({ platform: "shopify", shopifyDomain: domain, currency: "USD" })), domain };
}

function deliver(domain: string, topic: string, raw: string, hmac: string, eventId = crypto.randomUUID()) {
  return call("POST", "/shopify/webhooks", {
    raw,
    headers: {
      "x-shopify-topic": topic,
      "x-shopify-shop-domain": domain,
      "x-shopify-event-id": eventId,
      "x-shopify-hmac-sha256": hmac,
    },
  });
}

/** A Shopify orders API / orders/paid payload with the fields the mapping reads. */
function shopifyOrder(id: number, customerId: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    email: `buyer${customerId}@example.com`,
    currency: "USD",
    financial_status: "paid",
    subtotal_price: "50.00",
    line_items: [{ quantity: 1, price: "50.00" }],
    customer: { id: customerId },
    ...extra,
  };
}

const LEDGER_ENTRY_KEYS = ["balanceAfter", "createdAt", "delta", "expiresAt", "id", "kind", "reference"];

describe("contract conformance", () => {
  it("POST /v1/shops: 201 with the shop and its secrets once, in the documented forms; 401 without the operator", async () => {
    const res = await call("POST", "/v1/shops", {
      token: ADMIN,
      body: { name: "Review shop", currency: "EUR", origins: ["https://review.example"] },
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["secretKey", "shop", "webhookSecret", "widgetSecret"]);
    expect(res.body.shop).toMatchObject({ id: expect.any(String), publicKey: expect.stringMatching(/^pk_/) });
    expect(res.body.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(res.body.webhookSecret.slice(6))).toHaveLength(32);
    // The shop object never carries a secret.
    const shopText = JSON.stringify(res.body.shop);
    for (const secret of [res.body.secretKey, res.body.webhookSecret, res.body.widgetSecret]) {
      expect(shopText).not.toContain(secret);
    }
    expectError(await call("POST", "/v1/shops", { body: { name: "x", currency: "EUR" } }), 401, "unauthorized");
    expectError(await call("POST", "/v1/shops", { token: "nope", body: { name: "x", currency: "EUR" } }), 401, "unauthorized");
  });

  it("/v1/events: processed then duplicate, unknown type 400, ledger entries and the customer in the documented shape", async () => {
    const shop = await makeShop();
    const event = { id: "review-evt-1", type: "order.paid", order: { id: "R-1", customerId: "c-1", currency: "EUR", subtotal: "20.00", lines: [] } };
    const first = await call("POST", "/v1/events", { token: shop.secretKey, body: event });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: "processed", points: 20, balance: 20 });
    const again = await call("POST", "/v1/events", { token: shop.secretKey, body: event });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("duplicate");
    // The same order under another event id moves nothing either.
    const sameOrder = await call("POST", "/v1/events", { token: shop.secretKey, body: { ...event, id: "review-evt-2" } });
    expect(sameOrder.body).toMatchObject({ status: "duplicate", points: 0 });

    const before = await snapshot();
    expectError(await sendEvent(shop, { type: "order.shipped", order: { id: "R-1" } }), 400, "invalid_request");
    expect(await snapshot()).toEqual(before);

    const member = (await call("GET", "/v1/customers/c-1", { token: shop.secretKey })).body.customer;
    expect(member).toMatchObject({ id: "c-1", balance: 20, lifetimePoints: 20, tier: null, referralCode: expect.any(String) });
    const ledger = await call("GET", "/v1/customers/c-1/ledger", { token: shop.secretKey });
    expect(ledger.status).toBe(200);
    expect(ledger.body.nextCursor).toBeNull();
    expect(ledger.body.entries).toHaveLength(1);
    for (const key of LEDGER_ENTRY_KEYS) expect(ledger.body.entries[0]).toHaveProperty(key);
    expect(ledger.body.entries[0]).toMatchObject({ delta: 20, kind: "order", reference: "R-1", balanceAfter: 20, expiresAt: null });

    // The storefront's activity shows entries in the same shape.
    const token = await storefrontSession(shop, "c-1");
    const state = await call("GET", "/v1/storefront/state", { token });
    for (const key of LEDGER_ENTRY_KEYS) expect(state.body.activity[0]).toHaveProperty(key);
  });

  it("an id of another shop is 404: customers, their ledger, adjustments, exports, erasure, rewards, redemptions", async () => {
    const a = await makeShop();
    const b = await makeShop();
    await orderPaid(a, { id: "A-1", customerId: "shared-id", subtotal: "100.00" });
    const reward = await makeReward(a, { cost: 10 });
    const token = await storefrontSession(a, "shared-id");
    const redeemed = await call("POST", "/v1/storefront/redemptions", {
      token,
      body: { rewardId: reward.id },
      headers: { "idempotency-key": "r-1" },
    });
    expect(redeemed.status).toBe(201);
    const before = await snapshot();
    expectError(await call("GET", "/v1/customers/shared-id", { token: b.secretKey }), 404, "not_found");
    expectError(await call("GET", "/v1/customers/shared-id/ledger", { token: b.secretKey }), 404, "not_found");
    expectError(await call("GET", "/v1/customers/shared-id/export", { token: b.secretKey }), 404, "not_found");
    expectError(await call("DELETE", "/v1/customers/shared-id", { token: b.secretKey }), 404, "not_found");
    expectError(await postAdjustment(b, "shared-id", { points: -5, note: "" }), 404, "not_found");
    expectError(await call("GET", `/v1/rewards/${reward.id}`, { token: b.secretKey }), 404, "not_found");
    expectError(await call("POST", `/v1/redemptions/${redeemed.body.redemption.id}/void`, { token: b.secretKey }), 404, "not_found");
    expectError(await call("GET", `/v1/codes/${redeemed.body.redemption.code}`, { token: b.secretKey }), 404, "not_found");
    // A storefront session of shop B cannot redeem shop A's reward.
    const other = await storefrontSession(b, "shared-id");
    expectError(
      await call("POST", "/v1/storefront/redemptions", { token: other, body: { rewardId: reward.id }, headers: { "idempotency-key": "r-2" } }),
      404,
      "not_found",
    );
    const after = await snapshot();
    // Shop B's session created B's own member (with balance 0, announced in the outbox), and the
    // refused redemption stored its answer.
    const created = { customers: 0, idempotency_keys: 0, outbox: 0 };
    expect({ ...after, ...created }).toEqual({ ...before, ...created });
    expect(after.outbox! - before.outbox!).toBe(1);
    expect((await customer(a, "shared-id")).balance).toBe(90);
    expect((await customer(b, "shared-id")).balance).toBe(0);
  });

  it("adjustments (I): no key is 400, a debit the balance cannot cover is 422 insufficient_points, both change nothing", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "A-1", customerId: "c-1", subtotal: "10.00" });
    const before = await snapshot();
    expectError(await postAdjustment(shop, "c-1", { points: 5, note: "" }, null), 400, "invalid_request");
    expect(await snapshot()).toEqual(before);
    const refused = await postAdjustment(shop, "c-1", { points: -11, note: "" }, "debit-1");
    expectError(refused, 422, "insufficient_points");
    expect({ ...(await snapshot()), idempotency_keys: 0 }).toEqual({ ...before, idempotency_keys: 0 });
    // The same key and body replay the stored refusal; another body is a mismatch.
    const replay = await postAdjustment(shop, "c-1", { points: -11, note: "" }, "debit-1");
    expect(replay.status).toBe(422);
    expect(replay.body).toEqual(refused.body);
    expectError(await postAdjustment(shop, "c-1", { points: -1, note: "" }, "debit-1"), 422, "idempotency_mismatch");
    expect((await customer(shop, "c-1")).balance).toBe(10);
  });

  it("a verified identity not seen before becomes a member with balance 0; a guest's customer is null", async () => {
    const shop = await makeShop();
    const ts = Math.floor(Date.now() / 1000);
    const { customerDigest } = await import("./helpers");
    const session = await call("POST", "/v1/storefront/sessions", {
      body: { shop: shop.publicKey, customer: { id: "new-shopper", ts, digest: await customerDigest(shop.widgetSecret, "new-shopper", ts) } },
    });
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ token: expect.any(String), expiresAt: expect.any(String), customer: { id: "new-shopper", balance: 0 } });
    expect(await customer(shop, "new-shopper")).toMatchObject({ balance: 0, lifetimePoints: 0 });
    const guest = await call("POST", "/v1/storefront/sessions", { body: { shop: shop.publicKey } });
    expect(guest.body.customer).toBeNull();
    const state = await call("GET", "/v1/storefront/state", { token: guest.body.token });
    expect(state.status).toBe(200);
    expect(state.body.customer).toBeNull();
    expect(Object.keys(state.body).sort()).toEqual(["activity", "challenges", "customer", "program", "redemptions", "rewards"]);
  });

  it("Shopify: webhooks 200 for accepted and duplicate deliveries, 401 and no effect for a bad HMAC; the proxy's customer is the numeric id", async () => {
    const shop = await shopifyShop();
    const raw = JSON.stringify(shopifyOrder(5001, 7001));
    const hmac = await signShopifyWebhook(SHOPIFY_SECRET, raw);
    const before = await snapshot();
    expectError(await deliver(shop.domain, "orders/paid", raw, await signShopifyWebhook("wrong", raw)), 401, "unauthorized");
    expectError(await deliver(shop.domain, "orders/paid", `${raw} `, hmac), 401, "unauthorized");
    expect(await snapshot()).toEqual(before);
    const accepted = await deliver(shop.domain, "orders/paid", raw, hmac, "delivery-1");
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe("processed");
    const duplicate = await deliver(shop.domain, "orders/paid", raw, hmac, "delivery-1");
    expect(duplicate.status).toBe(200);
    expect(duplicate.body.status).toBe("duplicate");
    expect((await customer(shop, "7001")).balance).toBe(50);

    const params = new URLSearchParams({
      shop: shop.domain,
      logged_in_customer_id: "7002",
      path_prefix: "/apps/laurel",
      timestamp: String(Math.floor(Date.now() / 1000)),
    });
    params.set("signature", await signAppProxy(SHOPIFY_SECRET, params));
    const state = await call("GET", `/shopify/proxy/v1/storefront/state?${params}`);
    expect(state.status).toBe(200);
    expect(state.body.customer).toMatchObject({ id: "7002", balance: 0 });
  });

  it("serves /laurel.js, /console/, /v1/openapi.json and /docs; /demo/ only with DEMO on", async () => {
    const script = await env.ASSETS.fetch(new Request("http://laurel.test/laurel.js"));
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect((await script.text()).length).toBeGreaterThan(100);
    const consolePage = await env.ASSETS.fetch(new Request("http://laurel.test/console/"));
    expect(consolePage.status).toBe(200);
    expect(consolePage.headers.get("content-type")).toMatch(/html/);
    await consolePage.text();
    expect((await call("GET", "/v1/openapi.json")).status).toBe(200);
    expect((await call("GET", "/docs")).status).toBe(200);

    const demoOn = await exports.default.fetch(new Request("http://laurel.test/demo/"));
    expect(demoOn.status).toBe(200);
    expect(demoOn.headers.get("content-type")).toMatch(/html/);
    await demoOn.text();
    const { app } = await import("../../worker/app");
    for (const path of ["/demo/", "/demo/api/session"]) {
      const off = await app.fetch(new Request(`http://laurel.test${path}`), { ...env, DEMO: "off" });
      expect(off.status, path).toBe(404);
      expect((await off.json()) as unknown).toMatchObject({ error: { code: "not_found" } });
    }
  });
});

describe("bad input never yields a 500", () => {
  it("product types named like Object.prototype members earn at the base rate; configured ones still apply", async () => {
    const shop = await makeShop();
    const names = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"];
    for (const [i, productType] of names.entries()) {
      const res = await orderPaid(shop, {
        id: `P-${i}`,
        customerId: "c-1",
        subtotal: "10.00",
        lines: [{ productType, quantity: 1, price: "10.00" }],
      });
      expect(res.status, productType).toBe(200);
      expect(res.body.points, productType).toBe(10);
    }
    // A merchant may configure a type with such a name: its own multiplier applies.
    await setProgram(shop, (p) => {
      p.earning.productTypeMultipliers = { constructor: 3 };
    });
    const res = await orderPaid(shop, {
      id: "P-own",
      customerId: "c-1",
      subtotal: "10.00",
      lines: [{ productType: "constructor", quantity: 1, price: "10.00" }],
    });
    expect(res.status).toBe(200);
    expect(res.body.points).toBe(30);
    expect(await assertLedgerInvariants(shop.id)).toBe(1);
  });

  it("customer ids with odd characters round-trip; malformed percent-encoding in a path is a 404, not a 500", async () => {
    const shop = await makeShop();
    // ("." and ".." cannot be addressed in a URL path at all: URL parsing removes such segments.)
    const ids = ["a/b", "100%", "ü ñ 😀", "a+b", "?x=1#y", "...", "x".repeat(255)];
    for (const [i, id] of ids.entries()) {
      const res = await orderPaid(shop, { id: `O-${i}`, customerId: id, subtotal: "1.00" });
      expect(res.status, id).toBe(200);
      const read = await call("GET", `/v1/customers/${encodeURIComponent(id)}`, { token: shop.secretKey });
      expect(read.status, id).toBe(200);
      expect(read.body.customer.id).toBe(id);
    }
    for (const path of ["/v1/customers/%E0%A4%A", "/v1/customers/%", "/v1/customers/%ZZ/ledger", "/v1/rewards/%C0%AF", "/v1/challenges/%FF"]) {
      const res = await call("GET", path, { token: shop.secretKey });
      expect(res.status, path).toBeLessThan(500);
      expect(res.body.error.code, path).toBeTypeOf("string");
    }
  });

  it("Shopify: an order whose email the event contract refuses still earns; reconciliation skips what it cannot take, never 500", async () => {
    const shop = await shopifyShop();
    // Shopify accepts addresses our contract's stricter email rule does not; the order must not be lost.
    const raw = JSON.stringify(shopifyOrder(6001, 8001, { email: "buyer@mail.c", customer: { id: 8001, email: "x@y" } }));
    const res = await deliver(shop.domain, "orders/paid", raw, await signShopifyWebhook(SHOPIFY_SECRET, raw));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("processed");
    expect((await customer(shop, "8001")).balance).toBe(50);

    const reconciled = await call("POST", "/v1/shopify/reconcile", {
      token: shop.secretKey,
      body: {
        orders: [
          shopifyOrder(6002, 8002, { email: "another@mail.c" }),
          // Refunds beyond the contract's amounts: skipped with a reason.
          shopifyOrder(6003, 8003, {
            refunds: [
              {
                id: 9003,
                order_id: 6003,
                refund_line_items: Array.from({ length: 20 }, () => ({ subtotal: "9999999999999.99" })),
              },
            ],
          }),
        ],
      },
    });
    expect(reconciled.status).toBe(200);
    expect(reconciled.body.orders[0]).toMatchObject({ orderId: "6002", status: "credited", points: 50 });
    expect(reconciled.body.orders[1]).toMatchObject({ orderId: "6003", status: "skipped" });
    expect(reconciled.body.orders[1].reason).toContain("refund.amount");
    expect(await assertLedgerInvariants(shop.id)).toBe(3);
  });
});

describe("security", () => {
  it("every documented operation but the public ones is 401 without credentials, and with the other surface's", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o-1", customerId: "c-1", subtotal: "10.00" });
    const token = await storefrontSession(shop, "c-1");
    const doc = (await call("GET", "/v1/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
    const publicOperations = new Set([
      "post /v1/storefront/sessions",
      "get /v1/storefront/referrals/{code}",
      "post /v1/storefront/referrals/{code}/claim",
      "post /v1/console/sessions",
    ]);
    const before = await snapshot();
    const failures: string[] = [];
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) {
        if (publicOperations.has(`${method} ${path}`)) continue;
        const url = path.replace(/\{[^}]+\}/g, "c-1");
        const wrong = path.startsWith("/v1/storefront/") ? shop.secretKey : path === "/v1/shops" ? shop.secretKey : token;
        for (const credential of [undefined, wrong]) {
          const res = await call(method.toUpperCase(), url, { token: credential, headers: { "idempotency-key": crypto.randomUUID() } });
          checked++;
          if (res.status !== 401 || res.body?.error?.code !== "unauthorized") {
            failures.push(`${method} ${path} (${credential ? "wrong credential" : "none"}) -> ${res.status}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(50);
    expect(await snapshot()).toEqual(before);
  });

  it("a storefront token is no merchant credential, and a secret key does not stand in for a webhook signature", async () => {
    const shop = await makeShop();
    const token = await storefrontSession(shop, "c-1");
    expectError(await call("GET", "/v1/customers", { token }), 401, "unauthorized");
    expectError(await call("GET", "/v1/program", { token }), 401, "unauthorized");
    const before = await snapshot();
    const unsigned = await call("POST", `/v1/events?shop=${shop.publicKey}`, {
      token: shop.secretKey,
      body: { id: "e-1", type: "custom", name: "x", customerId: "c-2" },
    });
    expectError(unsigned, 401, "unauthorized");
    // Signed with another shop's webhook secret.
    const other = await makeShop();
    const forged = await signedEvent(shop, { id: "e-2", type: "custom", name: "x", customerId: "c-2" }, { secret: other.webhookSecret });
    expectError(forged, 401, "unauthorized");
    expect({ ...(await snapshot()), shops: 0 }).toEqual({ ...before, shops: 0 });
  });

  it("CORS grants go only to the shop's own origins, never to another shop's", async () => {
    const a = await makeShop({ origins: ["https://a-shop.example"] });
    await makeShop({ origins: ["https://b-shop.example"] });
    const token = await storefrontSession(a, "c-1");
    const own = await call("GET", "/v1/storefront/state", { token, headers: { origin: "https://a-shop.example" } });
    expect(own.headers.get("access-control-allow-origin")).toBe("https://a-shop.example");
    const foreign = await call("GET", "/v1/storefront/state", { token, headers: { origin: "https://b-shop.example" } });
    expect(foreign.status).toBe(200);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    const session = await call("POST", "/v1/storefront/sessions", {
      body: { shop: a.publicKey },
      headers: { origin: "https://b-shop.example" },
    });
    expect(session.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await call("OPTIONS", "/v1/storefront/state", { headers: { origin: "https://evil.example" } });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    // The merchant API is never open to browsers of other origins.
    const merchant = await call("GET", "/v1/customers", { token: a.secretKey, headers: { origin: "https://a-shop.example" } });
    expect(merchant.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("origins are kept as browsers send them, so a merchant's spelling does not break CORS", async () => {
    const created = await call("POST", "/v1/shops", {
      token: ADMIN,
      body: { name: "Spelling", currency: "EUR", origins: ["https://Spelling.Example:443", "http://localhost:5173"] },
    });
    expect(created.status).toBe(201);
    expect(created.body.shop.origins).toEqual(["https://spelling.example", "http://localhost:5173"]);
    const shop = { ...created.body, id: created.body.shop.id, publicKey: created.body.shop.publicKey } as TestShop;
    const token = await storefrontSession(shop);
    const res = await call("GET", "/v1/storefront/state", { token, headers: { origin: "https://spelling.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://spelling.example");
    const preflight = await call("OPTIONS", "/v1/storefront/sessions", { headers: { origin: "https://spelling.example" } });
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://spelling.example");
    expectError(
      await call("POST", "/v1/shops", { token: ADMIN, body: { name: "Bad", currency: "EUR", origins: ["https://[::1"] } }),
      400,
      "invalid_request",
    );
  });

  it("secrets are never returned after creation and never kept in KV", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "S-1", customerId: "c-1", subtotal: "5.00" });
    await makeReward(shop, { cost: 1 });
    const token = await storefrontSession(shop, "c-1");
    const console = await call("POST", "/v1/console/sessions", { body: { secretKey: shop.secretKey } });
    expect(console.status).toBe(200);
    const reads = [
      await call("GET", "/v1/program", { token: shop.secretKey }),
      await call("GET", "/v1/customers", { token: shop.secretKey }),
      await call("GET", "/v1/customers/c-1", { token: shop.secretKey }),
      await call("GET", "/v1/customers/c-1/export", { token: shop.secretKey }),
      await call("GET", "/v1/rewards", { token: shop.secretKey }),
      await call("GET", "/v1/storefront/state", { token }),
      console,
    ];
    const secrets = [shop.secretKey, shop.webhookSecret, shop.widgetSecret];
    const plainSecrets = secrets.map((s) => s.replace(/^(sk|whsec|wsec)_/, ""));
    for (const res of reads) {
      const text = JSON.stringify(res.body);
      for (const secret of plainSecrets) expect(text).not.toContain(secret);
    }
    const { keys } = await env.KV.list();
    expect(keys.length).toBeGreaterThan(0);
    for (const { name } of keys) {
      const value = (await env.KV.get(name)) ?? "";
      for (const secret of plainSecrets) expect(value, name).not.toContain(secret);
    }
  });
});

describe("invariants", () => {
  it("a refusal never overwrites the claim of a concurrent request with the same key: the write that landed is the answer", async () => {
    const shop = await makeShop();
    const key = "raced-key";
    const request = new Request("http://laurel.test/v1/customers/c-1/adjustments", {
      method: "POST",
      headers: { "idempotency-key": key },
    });
    const context = {
      req: { header: (name: string) => request.headers.get(name) ?? undefined, method: request.method, url: request.url },
      var: { shop: { id: shop.id } },
      env: { DB: env.DB },
    } as unknown as Context<AppEnv>;
    let calls = 0;
    const landed = { entry: { delta: -5 }, balance: 5 };
    const body = { points: -5, note: "" };
    const requestHash = await sha256Hex(`POST /v1/customers/c-1/adjustments ${JSON.stringify(body)}`);
    const response = await idempotent(
      context,
      "adjustment",
      body,
      async () => {
        calls++;
        // While this request planned from a stale read, a concurrent one with the same key and body
        // committed its claim (and its debit) ...
        const at = new Date().toISOString();
        await claimKey(env.DB, { shopId: shop.id, scope: "adjustment", key, requestHash, reference: "adjustment:other", at, lockedUntil: "2999-01-01T00:00:00.000Z" }).run();
        setTimeout(() => {
          env.DB.prepare("UPDATE idempotency_keys SET status = 201, response = ? WHERE shop_id = ? AND key = ?")
            .bind(JSON.stringify(landed), shop.id, key)
            .run();
        }, 100);
        // ... and this one found the balance short.
        throw insufficientPoints(0, 5);
      },
      async () => {
        throw new Error("this request committed nothing: there is nothing of its own to recover");
      },
    );
    expect(calls).toBe(1);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual(landed);
    const stored = await env.DB.prepare("SELECT status FROM idempotency_keys WHERE shop_id = ? AND key = ?")
      .bind(shop.id, key)
      .first<{ status: number }>();
    expect(stored?.status).toBe(201);
  });

  it("a mixed concurrent workload across two shops keeps every balance equal to its ledger and never below zero", async () => {
    const a = await makeShop();
    const b = await makeShop();
    for (const shop of [a, b]) {
      await orderPaid(shop, { id: "seed", customerId: "c-1", subtotal: "100.00" });
    }
    const reward = await makeReward(a, { cost: 30 });
    const token = await storefrontSession(a, "c-1");
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) {
      work.push(
        call("POST", "/v1/storefront/redemptions", { token, body: { rewardId: reward.id }, headers: { "idempotency-key": `r-${i}` } }),
        postAdjustment(a, "c-1", { points: -20, note: "" }),
        postAdjustment(b, "c-1", { points: -20, note: "" }),
        sendEvent(a, { type: "order.refunded", order: { id: "seed" }, refund: { id: `rf-${i}`, amount: "20.00" } }),
        orderPaid(b, { id: `b-${i}`, customerId: "c-1", subtotal: "7.00" }),
      );
    }
    const results = (await Promise.all(work)) as { status: number }[];
    expect(results.every((r) => r.status < 500)).toBe(true);
    expect(await assertLedgerInvariants(a.id)).toBe(1);
    expect(await assertLedgerInvariants(b.id)).toBe(1);
    // Shop A's six refunds of 20.00 took the order's 100 points back in full, exactly once.
    const order = await env.DB.prepare("SELECT points_reversed, status FROM orders WHERE shop_id = ? AND external_id = 'seed'")
      .bind(a.id)
      .first();
    expect(order).toEqual({ points_reversed: 100, status: "refunded" });
    // Shop B was never touched by shop A's refunds.
    const ledgerB = await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger WHERE shop_id = ? AND kind = 'refund'").bind(b.id).first();
    expect(ledgerB).toEqual({ n: 0 });
  });

  it("expiry never takes more than FIFO leaves when a debit lands between its read and its write", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.expiry.days = 30;
    });
    const loaded = (await shopById(env.DB, shop.id))!;
    const t0 = new Date("2026-01-10T12:00:00.000Z");
    await ingestEvent(env.DB, loaded, "events", { id: "e-old", type: "order.paid", order: { id: "old", customerId: "c-1", currency: "EUR", subtotal: "100.00", lines: [] } }, t0);
    const later = new Date(t0.getTime() + 20 * 86_400_000);
    await ingestEvent(env.DB, loaded, "events", { id: "e-new", type: "order.paid", order: { id: "new", customerId: "c-1", currency: "EUR", subtotal: "50.00", lines: [] } }, later);
    // A 30-point debit lands right after the expiry read the member's ledger: FIFO says it
    // consumed 30 of the 100 old points, so 70 expire and the 50 new ones stay.
    let injected = false;
    // The debit lands right after the first read of the member's ledger (the batch that reads it).
    const sqlOf = new WeakMap<object, string>();
    const racingDb = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            return new Proxy(statement, {
              get(stmt, key) {
                if (key !== "bind") return Reflect.get(stmt, key).bind?.(stmt) ?? Reflect.get(stmt, key);
                return (...args: unknown[]) => {
                  const bound = stmt.bind(...args);
                  sqlOf.set(bound, sql);
                  return bound;
                };
              },
            });
          };
        }
        if (prop === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            const results = await target.batch(statements);
            const readsLedger = statements.some((s) => /FROM ledger/.test(sqlOf.get(s) ?? "") && /ORDER BY id/.test(sqlOf.get(s) ?? ""));
            if (readsLedger && !injected) {
              injected = true;
              await postAdjustment(shop, "c-1", { points: -30, note: "redeemed at the counter" });
            }
            return results;
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await expirePoints(racingDb, loaded, new Date(t0.getTime() + 31 * 86_400_000));
    expect(injected).toBe(true);
    expect((await customer(shop, "c-1")).balance).toBe(50);
    expect(await assertLedgerInvariants(shop.id)).toBe(1);
  });

  it("scheduled credits and expiries keep no trace of an erased member's id", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.expiry.days = 10;
      p.waysToEarn.birthday = 25;
    });
    const loaded = (await shopById(env.DB, shop.id))!;
    const id = "erase-me@example.com";
    const t0 = new Date("2026-03-01T06:00:00.000Z");
    await ingestEvent(env.DB, loaded, "events", { id: "e-c", type: "customer.created", customer: { id, birthday: "1990-03-01" } }, t0);
    await ingestEvent(env.DB, loaded, "events", { id: "e-o", type: "order.paid", order: { id: "o-1", customerId: id, currency: "EUR", subtotal: "30.00", lines: [] } }, t0);
    await runScheduledWork(env, t0);
    await runScheduledWork(env, new Date(t0.getTime() + 11 * 86_400_000));
    const kinds = await env.DB.prepare("SELECT kind FROM ledger WHERE shop_id = ? ORDER BY id").bind(shop.id).all<{ kind: string }>();
    expect(kinds.results.map((r) => r.kind)).toEqual(["order", "birthday", "expiry"]);
    expect((await call("DELETE", `/v1/customers/${encodeURIComponent(id)}`, { token: shop.secretKey })).status).toBe(200);
    const rows = await env.DB.prepare("SELECT * FROM ledger WHERE shop_id = ?").bind(shop.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(id);
  });
});
