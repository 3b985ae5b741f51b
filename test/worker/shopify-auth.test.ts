/**
 * Shopify, current (issue 17): session tokens on the merchant routes, the OAuth
 * `hmac` in every form Shopify signs, and expiring offline tokens refreshed before they lapse,
 * under a lease so that concurrent requests never spend one refresh token twice. Shopify's side is
 * the local fake (test/fakes/shopify-admin.ts), which follows the token endpoint's documented
 * contract grant by grant.
 */
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { currentShopifyAccess, REFRESH_BEFORE_MS } from "../../worker/adapters/shopify-tokens";
import { adminQueryMessages, signAdminQuery } from "../../worker/auth/shopify";
import { hmacSha256, toHex } from "../../worker/crypto";
import { ShopifyAdminFake } from "../fakes/shopify-admin";
import { call, customer, expectError, makeShop, snapshot, storefrontSession, type TestShop } from "./helpers";
import { adminSessionToken, CLIENT_ID, customerSessionToken, SECRET } from "./shopify-session";

interface ShopifyShop extends TestShop {
  domain: string;
}

let shops = 0;
async function shopifyShop(): Promise<ShopifyShop> {
  const domain = `laurel-auth-${++shops}.myshopify.com`;
  return { ...(await makeShop({ platform: "shopify", shopifyDomain: domain, currency: "USD" })), domain };
}

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

/** A browser navigation: the redirect is the answer, not followed. */
async function visit(path: string, cookie?: string) {
  const response = await exports.default.fetch(
    new Request(`http://laurel.test${path}`, { redirect: "manual", headers: cookie ? { cookie } : {} }),
  );
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

async function signed(params: Record<string, string>) {
  const query = new URLSearchParams({ ...params, timestamp: String(Math.floor(Date.now() / 1000)) });
  query.set("hmac", await signAdminQuery(SECRET, query));
  return query;
}

/** The whole OAuth install against the fake: the shop ends up with an expiring offline token. */
async function installed(): Promise<ShopifyShop> {
  const shop = await shopifyShop();
  const start = await visit(`/shopify/auth?${await signed({ shop: shop.domain })}`);
  const state = new URL(start.headers.get("location")!).searchParams.get("state")!;
  const nonce = /laurel_shopify_state=([0-9a-f]{32});/.exec(start.headers.get("set-cookie") ?? "")![1];
  const code = `code-${crypto.randomUUID()}`;
  fake.authorizationCodes.add(code);
  const callback = await visit(`/shopify/auth/callback?${await signed({ code, shop: shop.domain, state })}`, `laurel_shopify_state=${nonce}`);
  expect(callback.status, JSON.stringify(callback.body)).toBe(302);
  return shop;
}

async function tokenRow(shop: TestShop) {
  return env.DB.prepare(
    `SELECT shopify_access_token AS token, shopify_token_kind AS kind, shopify_token_expires_at AS expiresAt,
       shopify_refresh_token AS refresh, shopify_token_version AS version, shopify_token_error AS error
     FROM shops WHERE id = ?`,
  )
    .bind(shop.id)
    .first<{ token: string | null; kind: string; expiresAt: string | null; refresh: string | null; version: number; error: string | null }>();
}

/** Moves the stored token's expiry, as time passing would. */
async function expiresIn(shop: TestShop, ms: number) {
  await env.DB.prepare("UPDATE shops SET shopify_token_expires_at = ? WHERE id = ?")
    .bind(new Date(Date.now() + ms).toISOString(), shop.id)
    .run();
}

describe("session tokens on the merchant routes", () => {
  it("act as the shop the token's dest names, on every merchant route", async () => {
    const shop = await shopifyShop();
    const token = await adminSessionToken(shop.domain);
    const program = await call("GET", "/v1/program", { token });
    expect(program.status).toBe(200);
    const connection = await call("GET", "/v1/shopify/connection", { token });
    expect(connection.body.shop).toMatchObject({ id: shop.id, shopifyDomain: shop.domain });
    expect(connection.body.shopify).toMatchObject({ status: "not_connected", message: expect.stringContaining("Install") });
    expect((await call("GET", "/v1/analytics", { token })).status).toBe(200);
    expect((await call("GET", "/v1/customers", { token })).status).toBe(200);
    // Within the 5 s leeway on both ends.
    const now = Math.floor(Date.now() / 1000);
    expect((await call("GET", "/v1/program", { token: await adminSessionToken(shop.domain, { exp: now - 3 }) })).status).toBe(200);
    expect((await call("GET", "/v1/program", { token: await adminSessionToken(shop.domain, { nbf: now + 3 }) })).status).toBe(200);
  });

  it("refuse expired, early, foreign, forged and customers' tokens with 401, changing nothing", async () => {
    const shop = await shopifyShop();
    const other = await shopifyShop();
    const now = Math.floor(Date.now() / 1000);
    const bad = {
      expired: await adminSessionToken(shop.domain, { exp: now - 10 }),
      "not yet valid": await adminSessionToken(shop.domain, { nbf: now + 30 }),
      "another app": await adminSessionToken(shop.domain, { aud: "another-client-id" }),
      "another secret": await adminSessionToken(shop.domain, {}, { secret: "another-app-secret" }),
      "a shop Laurel does not know": await adminSessionToken("stranger.myshopify.com"),
      "iss of another shop": await adminSessionToken(shop.domain, { iss: `https://${other.domain}/admin` }),
      "dest not a myshopify domain": await adminSessionToken(shop.domain, { dest: "https://evil.example" }),
      "alg none": (await adminSessionToken(shop.domain, {}, { header: { alg: "none", typ: "JWT" } })).replace(/\.[^.]+$/, "."),
      HS512: await adminSessionToken(shop.domain, {}, { header: { alg: "HS512", typ: "JWT" } }),
      "no exp": await adminSessionToken(shop.domain, { exp: undefined }),
      "a customer's token": await customerSessionToken(shop.domain, "115310627314723954"),
      "a signed-out visitor's token": await customerSessionToken(shop.domain, null),
      "not a JWT": "a.b",
    };
    const before = await snapshot();
    for (const [why, token] of Object.entries(bad)) {
      const put = await call("POST", "/v1/customers/c-1/adjustments", {
        token,
        body: { points: 100, note: why },
        headers: { "idempotency-key": crypto.randomUUID() },
      });
      expectError(put, 401, "unauthorized");
      expect(put.body.error.message, why).toMatch(/reload the app/);
      expectError(await call("GET", "/v1/program", { token }), 401, "unauthorized");
    }
    expect(await snapshot()).toEqual(before);
  });

  it("reach nothing of another shop: a token for shop B acts as B", async () => {
    const a = await shopifyShop();
    const b = await shopifyShop();
    await call("POST", "/v1/events", { token: a.secretKey, body: { id: "e-a", type: "customer.created", customer: { id: "only-a" } } });
    const asB = await adminSessionToken(b.domain);
    expectError(await call("GET", "/v1/customers/only-a", { token: asB }), 404, "not_found");
    const adjust = await call("POST", "/v1/customers/only-a/adjustments", {
      token: asB,
      body: { points: 5, note: "" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(adjust.status).not.toBe(201);
    expect((await customer(a, "only-a")).balance).toBe(0);
    expect((await call("GET", "/v1/shopify/connection", { token: asB })).body.shop.id).toBe(b.id);
  });

  it("are refused when the app has no client id configured", async () => {
    const shop = await shopifyShop();
    const token = await adminSessionToken(shop.domain);
    settings.SHOPIFY_API_KEY = undefined;
    expectError(await call("GET", "/v1/program", { token }), 401, "unauthorized");
  });
});

describe("the embedded app", () => {
  it("serves the console framed by the admin only, with the api key meta tag and App Bridge first in the head", async () => {
    const shop = await shopifyShop();
    const res = await exports.default.fetch(
      new Request(`http://laurel.test/shopify/app?${await signed({ shop: shop.domain, host: "YWRtaW4", embedded: "1" })}`),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe(`frame-ancestors https://${shop.domain} https://admin.shopify.com;`);
    expect(res.headers.get("x-frame-options")).toBeNull();
    const html = await res.text();
    expect(html).toMatch(
      new RegExp(`<head><meta name="shopify-api-key" content="${CLIENT_ID}" /><script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>`),
    );
    expect(html).toContain('<div id="app">');
    expectError(await visit(`/shopify/app?shop=${shop.domain}&embedded=1`), 401, "unauthorized");
    // Everything else keeps refusing to be framed.
    expect((await exports.default.fetch(new Request("http://laurel.test/v1/openapi.json"))).headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });

  it("POST /v1/shopify/session connects the store by token exchange once, then answers as it stands", async () => {
    const shop = await shopifyShop();
    const open = async () => call("POST", "/v1/shopify/session", { token: await adminSessionToken(shop.domain) });
    const first = await open();
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ shop: { id: shop.id }, shopify: { status: "connected", domain: shop.domain } });
    expect(fake.grants).toEqual([{ grant: "urn:ietf:params:oauth:grant-type:token-exchange", status: 200 }]);
    expect(fake.metafields.get("laurel.widget_secret")?.value).toBe(shop.widgetSecret);
    expect(await tokenRow(shop)).toMatchObject({ kind: "expiring", error: null });
    expect((await open()).status).toBe(200);
    expect(fake.grants).toHaveLength(1);
  });

  it("a managed install: the first open of a store Laurel does not know creates its shop and connects it", async () => {
    const domain = "managed-install.myshopify.com";
    const opened = await call("POST", "/v1/shopify/session", { token: await adminSessionToken(domain) });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    expect(opened.body.shop).toMatchObject({ name: "Juniper & Oak", currency: "USD", platform: "shopify", shopifyDomain: domain });
    expect(opened.body.shop.origins).toEqual([`https://${domain}`, "https://www.juniper-oak.example"]);
    expect(opened.body.shopify.status).toBe("connected");
    expect(fake.grants).toEqual([{ grant: "urn:ietf:params:oauth:grant-type:token-exchange", status: 200 }]);
    // From now on its session tokens open every merchant route.
    expect((await call("GET", "/v1/program", { token: await adminSessionToken(domain) })).status).toBe(200);
    expect((await call("POST", "/v1/shopify/session", { token: await adminSessionToken(domain) })).body.shop.id).toBe(opened.body.shop.id);
  });

  it("refuses what is not an admin session token of this app (401), and says so when Shopify refuses (502)", async () => {
    const shop = await shopifyShop();
    const before = await snapshot();
    expectError(await call("POST", "/v1/shopify/session", { token: shop.secretKey }), 401, "unauthorized");
    expectError(await call("POST", "/v1/shopify/session", { token: await customerSessionToken(shop.domain, "1") }), 401, "unauthorized");
    expectError(
      await call("POST", "/v1/shopify/session", { token: await adminSessionToken(shop.domain, {}, { secret: "another" }) }),
      401,
      "unauthorized",
    );
    // Shopify refuses the exchange (the fake checks the session token's expiry on its own clock).
    const refusing = new ShopifyAdminFake({ now: () => Date.now() + 3600_000 });
    fake = refusing;
    const refused = await call("POST", "/v1/shopify/session", { token: await adminSessionToken(shop.domain) });
    expectError(refused, 502, "upstream_failed");
    expect(refused.body.error.message).toMatch(/Install the app again from the Shopify admin/);
    expect(await snapshot()).toEqual(before);
    expect((await tokenRow(shop))!.token).toBeNull();
  });
});

describe("customer accounts (the customer account UI extension)", () => {
  const BUYER = "115310627314723954";
  const get = (path: string, token?: string) => call("GET", `/shopify/customer-account${path}`, token ? { token } : {});

  it("serve the signed-in customer's loyalty state and order points, with CORS for the extension's origin", async () => {
    const shop = await shopifyShop();
    await call("POST", "/v1/events", {
      token: shop.secretKey,
      body: { id: "o-ca", type: "order.paid", order: { id: "820982911946154508", customerId: BUYER, currency: "USD", subtotal: "404.00", lines: [] } },
    });
    const token = await customerSessionToken(shop.domain, BUYER);
    const state = await get("/state", token);
    expect(state.status, JSON.stringify(state.body)).toBe(200);
    expect(state.body.customer).toMatchObject({ id: BUYER, balance: 404 });
    expect(state.headers.get("access-control-allow-origin")).toBe("*");
    expect((await get("/orders/820982911946154508", token)).body).toEqual({ order: { id: "820982911946154508", points: 404, status: "paid" } });
    expect((await get("/orders/1", token)).body).toEqual({ order: null });
    // Another customer's order is not this customer's to see.
    const other = await customerSessionToken(shop.domain, "42");
    expect((await get("/orders/820982911946154508", other)).body).toEqual({ order: null });
    expect((await get("/state", other)).body.customer).toMatchObject({ id: "42", balance: 0 });
    const preflight = await exports.default.fetch(
      new Request("http://laurel.test/shopify/customer-account/state", {
        method: "OPTIONS",
        headers: { origin: "https://extensions.shopifycdn.com", "access-control-request-headers": "authorization" },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("Authorization");
  });

  it("refuse a signed-out visitor, an admin's token, another app's and an unknown store's with 401, changing nothing", async () => {
    const shop = await shopifyShop();
    const before = await snapshot();
    for (const token of [
      undefined,
      await customerSessionToken(shop.domain, null),
      await adminSessionToken(shop.domain),
      await customerSessionToken(shop.domain, BUYER, { aud: "another-app" }),
      await customerSessionToken("stranger.myshopify.com", BUYER),
      await customerSessionToken(shop.domain, BUYER, { exp: Math.floor(Date.now() / 1000) - 60 }),
    ]) {
      const res = await get("/state", token);
      expectError(res, 401, "unauthorized");
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    }
    expectError(await get("/orders/not-a-number", await customerSessionToken(shop.domain, BUYER)), 400, "invalid_request");
    expect(await snapshot()).toEqual(before);
  });
});

describe("the OAuth hmac", () => {
  /** Signs `message` as one of the forms Shopify has used; the app verifies whichever it is. */
  async function signedAs(form: number, params: Record<string, string>) {
    const query = new URLSearchParams({ ...params, timestamp: String(Math.floor(Date.now() / 1000)) });
    const messages = adminQueryMessages(query);
    query.set("hmac", toHex(await hmacSha256(SECRET, messages[Math.min(form, messages.length - 1)]!)));
    return query;
  }

  it("accepts the raw, encodeURIComponent and URLSearchParams forms, with spaces and !'()~ in values", async () => {
    const shop = await shopifyShop();
    const params = { shop: shop.domain, host: "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvbGF1cmVs", locale: "en (GB) it's ~fine! a+b", embedded: "1" };
    const messages = adminQueryMessages(new URLSearchParams(params));
    expect(messages).toHaveLength(4);
    expect(messages[2]).toContain("locale=en+%28GB%29+it%27s+%7Efine%21+a%2Bb");
    expect(messages[3]).toContain("locale=en%20%28GB%29%20it%27s%20%7Efine%21%20a%2Bb");
    for (const form of [0, 1, 2, 3]) {
      const res = await visit(`/shopify/auth?${await signedAs(form, params)}`);
      expect(res.status, `form ${form}: ${JSON.stringify(res.body)}`).toBe(302);
    }
    const tampered = await signedAs(2, params);
    tampered.set("locale", "en (US) it's ~fine! a+b");
    expectError(await visit(`/shopify/auth?${tampered}`), 401, "unauthorized");
  });
});

describe("expiring offline tokens", () => {
  it("the install asks for an expiring token and keeps its refresh token sealed", async () => {
    const shop = await installed();
    expect(fake.grants).toEqual([{ grant: "authorization_code", status: 200 }]);
    const row = await tokenRow(shop);
    expect(row).toMatchObject({ kind: "expiring", error: null });
    expect(row!.token).toMatch(/^v1\./);
    expect(row!.refresh).toMatch(/^v1\./);
    expect(row!.refresh).not.toContain("shprt_");
    const lapses = Date.parse(row!.expiresAt!) - Date.now();
    expect(lapses).toBeGreaterThan(3500_000);
    expect(lapses).toBeLessThanOrEqual(3600_000);
    const status = await call("GET", "/v1/shopify/connection", { token: shop.secretKey });
    expect(status.body.shopify).toMatchObject({ status: "connected", domain: shop.domain, tokenExpiresAt: row!.expiresAt });
  });

  it("is used as it is while more than five minutes are left, and refreshed before it lapses", async () => {
    const shop = await installed();
    const first = await currentShopifyAccess(env, shop.id);
    expect(first?.accessToken).toMatch(/^shpat_fake_expiring_/);
    expect(fake.grants).toHaveLength(1);

    await expiresIn(shop, REFRESH_BEFORE_MS - 60_000);
    const version = (await tokenRow(shop))!.version;
    const refreshed = await currentShopifyAccess(env, shop.id);
    expect(fake.grants.at(-1)).toEqual({ grant: "refresh_token", status: 200 });
    expect(refreshed?.accessToken).not.toBe(first?.accessToken);
    const row = await tokenRow(shop);
    expect(row!.version).toBe(version + 1);
    expect(Date.parse(row!.expiresAt!) - Date.now()).toBeGreaterThan(3500_000);
    // The new token works at the Admin API; the next call needs no refresh.
    expect((await currentShopifyAccess(env, shop.id))?.accessToken).toBe(refreshed?.accessToken);
    expect(fake.grants).toHaveLength(2);
  });

  it("refreshes once however many requests need it at the same moment", async () => {
    const shop = await installed();
    await expiresIn(shop, 30_000);
    const results = await Promise.all(Array.from({ length: 6 }, () => currentShopifyAccess(env, shop.id)));
    expect(fake.grants.filter((g) => g.grant === "refresh_token")).toEqual([{ grant: "refresh_token", status: 200 }]);
    expect(new Set(results.map((r) => r?.accessToken)).size).toBe(1);
    expect(results[0]?.accessToken).toMatch(/^shpat_fake_expiring_/);
  });

  it("a redemption refreshes the lapsed token first and creates the code with the new one", async () => {
    const shop = await installed();
    await call("POST", "/v1/events", {
      token: shop.secretKey,
      body: { id: "o1", type: "order.paid", order: { id: "1", customerId: "7", currency: "USD", subtotal: "300.00", lines: [] } },
    });
    const reward = await call("POST", "/v1/rewards", { token: shop.secretKey, body: { name: "$5", type: "amount_off", cost: 100, value: "5.00" } });
    fake.expireAccessTokens();
    await expiresIn(shop, -1000);
    const res = await call("POST", "/v1/storefront/redemptions", {
      token: await storefrontSession(shop, "7"),
      body: { rewardId: reward.body.reward.id },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(fake.grants.map((g) => g.grant)).toEqual(["authorization_code", "refresh_token"]);
    const created = fake.requests.find((r) => r.root === "discountCodeBasicCreate");
    expect(created?.status).toBe(200);
    expect(fake.discounts.has(res.body.redemption.code)).toBe(true);
  });

  it("a refresh Shopify refuses voids the redemption, points back, and the console says to open the app again", async () => {
    const shop = await installed();
    await call("POST", "/v1/events", {
      token: shop.secretKey,
      body: { id: "o1", type: "order.paid", order: { id: "1", customerId: "7", currency: "USD", subtotal: "300.00", lines: [] } },
    });
    const reward = await call("POST", "/v1/rewards", { token: shop.secretKey, body: { name: "$5", type: "amount_off", cost: 100, value: "5.00" } });
    fake.revokeAll();
    await expiresIn(shop, 60_000);
    const res = await call("POST", "/v1/storefront/redemptions", {
      token: await storefrontSession(shop, "7"),
      body: { rewardId: reward.body.reward.id },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expectError(res, 502, "upstream_failed");
    expect((await customer(shop, "7")).balance).toBe(300);
    expect(fake.grants.at(-1)).toEqual({ grant: "refresh_token", status: 400 });
    const row = await tokenRow(shop);
    expect(row).toMatchObject({ token: null, refresh: null });
    expect(row!.error).toMatch(/Shopify refused/);
    const status = await call("GET", "/v1/shopify/connection", { token: shop.secretKey });
    expect(status.body.shopify).toMatchObject({ status: "reconnect_required", message: expect.stringMatching(/Open Laurel from your Shopify admin/) });
    // Nothing asks Shopify again until the merchant reconnects.
    expect(await currentShopifyAccess(env, shop.id)).toBeNull();
    expect(fake.grants.filter((g) => g.grant === "refresh_token")).toHaveLength(1);
  });

  it("a refresh Shopify cannot answer keeps the token for the next try", async () => {
    const shop = await installed();
    await expiresIn(shop, 60_000);
    const current = await currentShopifyAccess(env, shop.id, { fetch: async () => new Response("Bad Gateway", { status: 502 }) });
    expect(current?.accessToken).toMatch(/^shpat_fake_expiring_/);
    expect((await tokenRow(shop))!.error).toBeNull();
    const later = await currentShopifyAccess(env, shop.id);
    expect(later?.accessToken).not.toBe(current?.accessToken);
  });

  it("exchanges a non-expiring token stored before (legacy) for an expiring one; a custom app's token stays as it is", async () => {
    const legacy = await shopifyShop();
    const code = "legacy-code";
    fake.authorizationCodes.add(code);
    const old = await fake.fetch(
      new Request(`https://${legacy.domain}/admin/oauth/access_token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ client_id: CLIENT_ID, client_secret: SECRET, code, expiring: "0" }),
      }),
    );
    const oldToken = ((await old.json()) as { access_token: string }).access_token;
    const connect = await call("POST", "/v1/shopify/connect", { token: legacy.secretKey, body: { shopDomain: legacy.domain, accessToken: oldToken } });
    expect(connect.status).toBe(200);
    await env.DB.prepare("UPDATE shops SET shopify_token_kind = 'legacy' WHERE id = ?").bind(legacy.id).run();
    const migrated = await currentShopifyAccess(env, legacy.id);
    expect(fake.grants.at(-1)).toEqual({ grant: "urn:ietf:params:oauth:grant-type:token-exchange", status: 200 });
    expect(migrated?.accessToken).toMatch(/^shpat_fake_expiring_/);
    expect(await tokenRow(legacy)).toMatchObject({ kind: "expiring", error: null });

    const custom = await shopifyShop();
    await call("POST", "/v1/shopify/connect", { token: custom.secretKey, body: { shopDomain: custom.domain, accessToken: fake.accessToken } });
    expect(await tokenRow(custom)).toMatchObject({ kind: "manual", expiresAt: null, refresh: null });
    await env.DB.prepare("UPDATE shops SET shopify_token_kind = 'legacy' WHERE id = ?").bind(custom.id).run();
    const grants = fake.grants.length;
    expect((await currentShopifyAccess(env, custom.id))?.accessToken).toBe(fake.accessToken);
    expect(fake.grants.length).toBe(grants + 1); // tried once, refused: a custom app's token is kept
    expect(await tokenRow(custom)).toMatchObject({ kind: "manual" });
    expect((await currentShopifyAccess(env, custom.id))?.accessToken).toBe(fake.accessToken);
    expect(fake.grants.length).toBe(grants + 1);
  });

  it("the fake keeps a replaced refresh token working until its replacement is used", async () => {
    const shop = await installed();
    const row = await tokenRow(shop);
    const { openAccessToken } = await import("../../worker/auth/shopify");
    const refresh = (await openAccessToken(SECRET, row!.refresh!))!;
    const grant = (token: string) =>
      fake.fetch(
        new Request(`https://${shop.domain}/admin/oauth/access_token`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ client_id: CLIENT_ID, client_secret: SECRET, grant_type: "refresh_token", refresh_token: token }),
        }),
      );
    const lost = await grant(refresh); // an answer that never arrived
    expect(lost.status).toBe(200);
    const retried = (await (await grant(refresh)).json()) as { access_token: string; expires_in: number; refresh_token_expires_in: number };
    expect(retried).toMatchObject({ expires_in: 3600, refresh_token_expires_in: 2_592_000 });
    const graphql = (token: string) =>
      fake.fetch(
        new Request(`https://${shop.domain}/admin/api/2026-10/graphql.json`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": token },
          body: JSON.stringify({ query: "query { currentAppInstallation { id } }", variables: {} }),
        }),
      );
    const used = await graphql(retried.access_token);
    expect(used.status).toBe(200);
    expect(used.headers.get("X-Shopify-API-Version")).toBe("2026-10");
    expect((await grant(refresh)).status).toBe(400);
    // A version past Shopify's support window is answered by the oldest supported one.
    const stale = await fake.fetch(
      new Request(`https://${shop.domain}/admin/api/2025-10/graphql.json`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": retried.access_token },
        body: JSON.stringify({ query: "query { currentAppInstallation { id } }", variables: {} }),
      }),
    );
    expect(stale.headers.get("X-Shopify-API-Version")).toBe("2026-01");
  });
});
