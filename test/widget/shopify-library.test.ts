// @vitest-environment node
/**
 * Laurel against Shopify's own API library (@shopify/shopify-api), in Node (issue 17):
 * session tokens the library signs (its `getJwt` test helper, the App Bridge payload) pass
 * Laurel's verifier and the tokens Laurel's tests sign pass the library's; the library accepts the
 * OAuth `hmac` Laurel signs; and the library's own token grants (refresh, token exchange, the
 * migration to expiring tokens) work against the local fake of Shopify's token endpoint that the
 * workerd tests use, so the fake speaks the contract the library expects.
 */
import "@shopify/shopify-api/adapters/node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ApiVersion, RequestedTokenType, shopifyApi } from "@shopify/shopify-api";
import { setAbstractFetchFunc } from "@shopify/shopify-api/runtime";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { describe, expect, it } from "vitest";
import { SHOPIFY_API_VERSION } from "../../worker/adapters/shopify-admin";
import { signAdminQuery, verifyAdminQuery } from "../../worker/auth/shopify";
import { verifyShopifySessionToken } from "../../worker/auth/shopify-session";
import { ShopifyAdminFake } from "../fakes/shopify-admin";
import { adminSessionToken, CLIENT_ID, SECRET } from "../worker/shopify-session";

const STORE = "laurel-library";
const SHOP = `${STORE}.myshopify.com`; // getJwt names the store as Shopify does: STORE.myshopify.com
const shopify = shopifyApi({
  apiKey: CLIENT_ID,
  apiSecretKey: SECRET,
  scopes: ["read_orders", "read_customers", "write_discounts", "write_app_proxy", "read_store_credit_account_transactions", "write_store_credit_account_transactions"],
  hostName: "laurel.example.com",
  apiVersion: SHOPIFY_API_VERSION as ApiVersion,
  isEmbeddedApp: true,
  logger: { level: 0 },
});
const app = { apiKey: CLIENT_ID, apiSecret: SECRET };

describe("session tokens", () => {
  it("Laurel accepts what Shopify's library signs, and refuses it expired, early or for another app", async () => {
    const { token } = await getJwt(STORE, CLIENT_ID, SECRET);
    expect(await verifyShopifySessionToken(token, app)).toMatchObject({ shopDomain: SHOP, kind: "admin" });
    const now = Date.now() / 1000;
    for (const overrides of [{ exp: now - 10 }, { nbf: now + 30 }, { aud: "another-app" }, { dest: "https://other.myshopify.com" }]) {
      expect(await verifyShopifySessionToken((await getJwt(STORE, CLIENT_ID, SECRET, overrides)).token, app)).toBeNull();
    }
    expect(await verifyShopifySessionToken((await getJwt(STORE, CLIENT_ID, "another-secret")).token, app)).toBeNull();
  });

  it("the library accepts the tokens Laurel's workerd tests sign", async () => {
    const payload = await shopify.session.decodeSessionToken(await adminSessionToken(SHOP));
    expect(payload).toMatchObject({ dest: `https://${SHOP}`, iss: `https://${SHOP}/admin`, aud: CLIENT_ID });
  });
});

describe("the OAuth hmac", () => {
  it("the library validates what Laurel signs, and Laurel what it signs, spaces and !'()~ included", async () => {
    const query = new URLSearchParams({
      code: "some code goes here",
      host: "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvbGF1cmVs",
      shop: SHOP,
      state: "it's (a) ~nonce!",
      timestamp: String(Math.floor(Date.now() / 1000)),
    });
    query.set("hmac", await signAdminQuery(SECRET, query));
    expect(await shopify.utils.validateHmac(Object.fromEntries(query))).toBe(true);
    expect(await verifyAdminQuery(SECRET, query)).toBe(true);
    query.set("state", "it's (b) ~nonce!");
    expect(await shopify.utils.validateHmac(Object.fromEntries(query))).toBe(false);
    expect(await verifyAdminQuery(SECRET, query)).toBe(false);
  });
});

describe("the fake token endpoint, driven by Shopify's library", () => {
  const fake = new ShopifyAdminFake();
  setAbstractFetchFunc((input: RequestInfo | URL, init?: RequestInit) => fake.fetch(new Request(input, init)));

  it("refreshes an expiring offline token and rotates the refresh token", async () => {
    const code = "library-code";
    fake.authorizationCodes.add(code);
    const issued = await fake.fetch(
      new Request(`https://${SHOP}/admin/oauth/access_token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ client_id: CLIENT_ID, client_secret: SECRET, code, expiring: "1" }),
      }),
    );
    const first = (await issued.json()) as { refresh_token: string; access_token: string };
    const { session } = await shopify.auth.refreshToken({ shop: SHOP, refreshToken: first.refresh_token });
    expect(session.accessToken).toMatch(/^shpat_fake_expiring_/);
    expect(session.accessToken).not.toBe(first.access_token);
    expect(session.refreshToken).toMatch(/^shprt_fake_/);
    expect(session.expires!.getTime() - Date.now()).toBeGreaterThan(3500_000);
    expect(session.refreshTokenExpires!.getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    await expect(shopify.auth.refreshToken({ shop: SHOP, refreshToken: "shprt_unknown" })).rejects.toThrow();
  });

  it("exchanges an App Bridge session token for an expiring offline token", async () => {
    const { token } = await getJwt(STORE, CLIENT_ID, SECRET);
    const { session } = await shopify.auth.tokenExchange({
      shop: SHOP,
      sessionToken: token,
      requestedTokenType: RequestedTokenType.OfflineAccessToken,
      expiring: true,
    });
    expect(session).toMatchObject({ isOnline: false, shop: SHOP });
    expect(session.refreshToken).toMatch(/^shprt_fake_/);
  });

  it("migrates a non-expiring offline token to an expiring one", async () => {
    const code = "library-legacy";
    fake.authorizationCodes.add(code);
    const legacy = (await (
      await fake.fetch(
        new Request(`https://${SHOP}/admin/oauth/access_token`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ client_id: CLIENT_ID, client_secret: SECRET, code }),
        }),
      )
    ).json()) as { access_token: string; expires_in?: number };
    expect(legacy.expires_in).toBeUndefined();
    const { session } = await shopify.auth.migrateToExpiringToken({ shop: SHOP, nonExpiringOfflineAccessToken: legacy.access_token });
    expect(session.expires).toBeDefined();
    expect(session.refreshToken).toMatch(/^shprt_fake_/);
  });
});

it("one Admin API version: the library knows it, and the example app config and the guide name no other", () => {
  expect(Object.values(ApiVersion)).toContain(SHOPIFY_API_VERSION);
  const root = join(__dirname, "../..");
  const config = readFileSync(join(root, "widget/shopify/shopify.app.toml.example"), "utf8");
  expect(/^api_version = "([\d-]+)"$/m.exec(config)?.[1]).toBe(SHOPIFY_API_VERSION);
  const versions = new Set(readFileSync(join(root, "docs/shopify.md"), "utf8").match(/\b20\d\d-(?:01|04|07|10)\b/g));
  expect([...versions]).toEqual([SHOPIFY_API_VERSION]);
});
