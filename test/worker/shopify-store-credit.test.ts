/**
 * `store_credit` rewards in a Shopify shop are Shopify store credit (issue 17): credited through
 * the Admin API when redeemed, taken back when the redemption is voided, and a discount code where
 * the store has no store credit. Shopify's side is the local fake.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ShopifyAdminFake } from "../fakes/shopify-admin";
import { call, customerDigest, expectError, snapshot } from "./helpers";
import { adminSessionToken, CLIENT_ID } from "./shopify-session";

const BUYER = "115310627314723954";
const settings = env as { SHOPIFY_API_KEY?: string };
let fake: ShopifyAdminFake;
function useFake(next: ShopifyAdminFake) {
  fake = next;
}
beforeEach(() => {
  settings.SHOPIFY_API_KEY = CLIENT_ID;
  useFake(new ShopifyAdminFake());
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
/** A store installed from the admin, a member with 300 points, and a $5 store credit reward. */
async function storeWithMember() {
  const domain = `laurel-credit-${++stores}.myshopify.com`;
  const token = await adminSessionToken(domain);
  const opened = await call("POST", "/v1/shopify/session", { token });
  expect(opened.status, JSON.stringify(opened.body)).toBe(200);
  const shop = { id: opened.body.shop.id as string, secretKey: token, publicKey: opened.body.shop.publicKey as string };
  await call("POST", "/v1/events", {
    token,
    body: { id: `o-${domain}`, type: "order.paid", order: { id: "1", customerId: BUYER, currency: "USD", subtotal: "300.00", lines: [] } },
  });
  const reward = await call("POST", "/v1/rewards", { token, body: { name: "$5 store credit", type: "store_credit", cost: 100, value: "5.00" } });
  expect(reward.status).toBe(201);
  return { domain, token, shop, rewardId: reward.body.reward.id as string };
}

/** The member redeems the reward in the storefront (a session signed with the shop's widget secret). */
async function redeem(store: Awaited<ReturnType<typeof storeWithMember>>) {
  const ts = Math.floor(Date.now() / 1000);
  const widgetSecret = (await env.DB.prepare("SELECT widget_secret FROM shops WHERE id = ?").bind(store.shop.id).first<{ widget_secret: string }>())!
    .widget_secret;
  const session = await call("POST", "/v1/storefront/sessions", {
    body: { shop: store.shop.publicKey, customer: { id: BUYER, ts, digest: await customerDigest(widgetSecret, BUYER, ts) } },
  });
  return call("POST", "/v1/storefront/redemptions", {
    token: session.body.token,
    body: { rewardId: store.rewardId },
    headers: { "idempotency-key": crypto.randomUUID() },
  });
}

const account = (currency = "USD") => fake.storeCredit.get(`gid://shopify/Customer/${BUYER}:${currency}`);
const balance = async (store: { token: string }) => (await call("GET", `/v1/customers/${BUYER}`, { token: store.token })).body.customer.balance;

describe("store credit rewards", () => {
  it("credit the reward's value as Shopify store credit, no code created", async () => {
    const store = await storeWithMember();
    const res = await redeem(store);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(account()).toMatchObject({ balance: 500 });
    expect(account()!.transactions).toHaveLength(1);
    expect(fake.discounts.size).toBe(0);
    const credit = fake.requests.find((r) => r.root === "storeCreditAccountCredit");
    expect(credit?.variables).toMatchObject({
      id: `gid://shopify/Customer/${BUYER}`,
      creditInput: { creditAmount: { amount: "5.00", currencyCode: "USD" }, notify: true },
    });
    const row = await env.DB.prepare("SELECT shopify_status, shopify_store_credit_tx FROM redemptions WHERE id = ?")
      .bind(res.body.redemption.id)
      .first<{ shopify_status: string; shopify_store_credit_tx: string }>();
    expect(row).toMatchObject({ shopify_status: "created", shopify_store_credit_tx: expect.stringMatching(/^gid:\/\/shopify\/StoreCreditAccountCreditTransaction\//) });
    expect(await balance(store)).toBe(200);
  });

  it("take the credit back when the redemption is voided, once", async () => {
    const store = await storeWithMember();
    const { redemption } = (await redeem(store)).body;
    const voided = await call("POST", `/v1/redemptions/${redemption.id}/void`, { token: store.token, body: { reason: "test" } });
    expect(voided.status, JSON.stringify(voided.body)).toBe(200);
    expect(account()).toMatchObject({ balance: 0 });
    expect(await balance(store)).toBe(300);
    const again = await call("POST", `/v1/redemptions/${redemption.id}/void`, { token: store.token, body: {} });
    expect(again.status).toBe(409);
    expect(fake.requests.filter((r) => r.root === "storeCreditAccountDebit")).toHaveLength(1);
  });

  it("refuse the void, changing nothing, when the customer already spent the credit", async () => {
    const store = await storeWithMember();
    const { redemption } = (await redeem(store)).body;
    account()!.balance = 0; // spent at checkout
    const before = await snapshot();
    const voided = await call("POST", `/v1/redemptions/${redemption.id}/void`, { token: store.token, body: {} });
    expectError(voided, 422, "rule_violation");
    expect(voided.body.error.message).toMatch(/could not be taken back/);
    expect(await snapshot()).toEqual(before);
    expect(await balance(store)).toBe(200);
    // The merchant may try again once it can be taken back.
    account()!.balance = 500;
    expect((await call("POST", `/v1/redemptions/${redemption.id}/void`, { token: store.token, body: {} })).status).toBe(200);
  });

  it("fall back to a discount code where the store has no store credit", async () => {
    useFake(new ShopifyAdminFake({ storeCreditScope: false }));
    const store = await storeWithMember();
    const res = await redeem(store);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(account()).toBeUndefined();
    expect(fake.discounts.get(res.body.redemption.code)?.input).toMatchObject({
      customerGets: { value: { discountAmount: { amount: "5.00" } } },
    });
    // Voiding a code takes back nothing at Shopify.
    expect((await call("POST", `/v1/redemptions/${res.body.redemption.id}/void`, { token: store.token, body: {} })).status).toBe(200);
    expect(fake.requests.filter((r) => r.root === "storeCreditAccountDebit")).toHaveLength(0);
  });

  it("never credit twice: a credit that may have run is not retried, and the redemption is voided with its points back", async () => {
    const store = await storeWithMember();
    fake.failNext({ kind: "http5xx", status: 503 });
    const res = await redeem(store);
    expectError(res, 502, "upstream_failed");
    expect(fake.requests.filter((r) => r.root === "storeCreditAccountCredit")).toHaveLength(1);
    expect(await balance(store)).toBe(300);
    expect(account()).toBeUndefined();
  });
});
