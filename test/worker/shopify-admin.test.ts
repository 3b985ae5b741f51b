/**
 * The Shopify discount adapter against the local Admin API fake: the documented mutations,
 * userErrors, HTTP 429 and THROTTLED throttling, transient failures and the metafield setup.
 */
import { describe, expect, it } from "vitest";
import {
  SHOPIFY_API_VERSION,
  adminGraphql,
  adminOrigin,
  retryAfterMs,
  ShopifyAdminError,
  throttleWaitMs,
  writeStorefrontMetafields,
} from "../../worker/adapters/shopify-admin";
import { type DiscountReward, discountMutationFor, shopifyDiscountIssuer } from "../../worker/adapters/shopify-discounts";
import { ShopifyAdminFake } from "../fakes/shopify-admin";
import basicCreateDoc from "../fixtures/shopify/admin-discount-code-basic-create.json";
import freeShippingDoc from "../fixtures/shopify/admin-discount-code-free-shipping-create.json";
import throttledDoc from "../fixtures/shopify/admin-throttled.json";
import takenDoc from "../fixtures/shopify/admin-user-error-taken.json";

type Json = any;

const ORIGIN = "https://shopify-admin.test";
const env = { SHOPIFY_ADMIN_ORIGIN: ORIGIN };
const shop = { shopifyDomain: "laurel-demo.myshopify.com", accessToken: "shpat_fake_token" };

/** A fake on a virtual clock that the adapter's sleep advances, so throttling is deterministic. */
function setup(options: { restoreRate?: number; maxAttempts?: number } = {}) {
  const clock = { now: 0 };
  const sleeps: number[] = [];
  const fake = new ShopifyAdminFake({ now: () => clock.now, restoreRate: options.restoreRate ?? 100 });
  const client = {
    fetch: fake.fetch,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock.now += ms;
    },
    random: () => 1,
    maxAttempts: options.maxAttempts ?? 5,
    now: () => new Date("2026-03-01T10:00:00Z"),
  };
  return { fake, sleeps, clock, issuer: shopifyDiscountIssuer(env, client), client };
}

async function post(fake: ShopifyAdminFake, query: string, variables: unknown, token = "shpat_fake_token") {
  const response = await fake.fetch(
    new Request(`${ORIGIN}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": token },
      body: JSON.stringify({ query, variables }),
    }),
  );
  return { status: response.status, body: (await response.json()) as Json };
}

const amountOff: DiscountReward = { name: "$5 off", type: "amount_off", value: "5.00" };

describe("the fake answers in Shopify's documented shapes", () => {
  it("runs the documented discountCodeBasicCreate example", async () => {
    const { fake } = setup();
    const { status, body } = await post(
      fake,
      "mutation CreateDiscountCode($basicCodeDiscount: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) { codeDiscountNode { id } userErrors { field message } } }",
      basicCreateDoc.variables,
    );
    expect(status).toBe(200);
    const payload = body.data.discountCodeBasicCreate as { codeDiscountNode: { id: string }; userErrors: unknown[] };
    expect(payload.userErrors).toEqual(basicCreateDoc.response.discountCodeBasicCreate.userErrors);
    expect(payload.codeDiscountNode.id).toMatch(/^gid:\/\/shopify\/DiscountCodeNode\/\d+$/);
    expect(Object.keys(body.extensions.cost)).toEqual(Object.keys(throttledDoc.extensions.cost));
  });

  it("runs the documented discountCodeFreeShippingCreate example, then refuses its code again", async () => {
    const { fake } = setup();
    const query =
      "mutation discountCodeFreeShippingCreate($freeShippingCodeDiscount: DiscountCodeFreeShippingInput!) { discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) { codeDiscountNode { id } userErrors { field code message } } }";
    const first = await post(fake, query, freeShippingDoc.variables);
    expect((first.body.data.discountCodeFreeShippingCreate as { userErrors: unknown[] }).userErrors).toEqual([]);
    const again = await post(fake, query, {
      freeShippingCodeDiscount: { ...freeShippingDoc.variables.freeShippingCodeDiscount, code: "freeshipping" },
    });
    expect(again.body.data.discountCodeFreeShippingCreate).toEqual({
      codeDiscountNode: null,
      userErrors: [{ ...takenDoc.data.discountCodeBasicCreate.userErrors[0], field: ["freeShippingCodeDiscount", "code"] }],
    });
  });

  it("answers a drained bucket with the documented THROTTLED body, and a bad token with 401", async () => {
    const { fake } = setup();
    fake.drainBucket(3);
    const throttled = await post(fake, "mutation M($c: String!) { codeDiscountNodeByCode(code: $c) { id } }", { c: "X" });
    expect(throttled.status).toBe(200);
    expect(throttled.body.errors).toEqual(throttledDoc.errors);
    expect(throttled.body.extensions).toEqual({
      cost: { requestedQueryCost: 10, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 3, restoreRate: 100 } },
    });
    const unauthorized = await post(fake, "query { currentAppInstallation { id } }", {}, "wrong");
    expect(unauthorized).toEqual({
      status: 401,
      body: { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" },
    });
  });

  it("validates inputs with userErrors", async () => {
    const { fake } = setup();
    const { body } = await post(
      fake,
      "mutation M($basicCodeDiscount: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) { codeDiscountNode { id } userErrors { field code message } } }",
      { basicCodeDiscount: { code: "", customerGets: { value: { percentage: 1.5 }, items: { all: true } } } },
    );
    const payload = body.data.discountCodeBasicCreate as { codeDiscountNode: null; userErrors: { field: string[]; code: string }[] };
    expect(payload.codeDiscountNode).toBeNull();
    expect(payload.userErrors.map((e) => [e.field.join("."), e.code])).toEqual([
      ["basicCodeDiscount.code", "BLANK"],
      ["basicCodeDiscount.title", "BLANK"],
      ["basicCodeDiscount.startsAt", "BLANK"],
      ["basicCodeDiscount.context", "BLANK"],
      ["basicCodeDiscount.customerGets.value.percentage", "VALUE_OUTSIDE_RANGE"],
    ]);
  });
});

describe("discount inputs", () => {
  const now = new Date("2026-03-01T10:00:00Z");

  it("builds a single-use code open to all buyers, per reward type", () => {
    const amount = discountMutationFor("7KQM-X3PA", { ...amountOff, minOrder: "30.00" }, now);
    expect(amount.root).toBe("discountCodeBasicCreate");
    expect(amount.variables).toEqual({
      basicCodeDiscount: {
        title: "Laurel reward: $5 off",
        code: "7KQM-X3PA",
        startsAt: "2026-03-01T10:00:00.000Z",
        context: { all: "ALL" },
        usageLimit: 1,
        appliesOncePerCustomer: true,
        minimumRequirement: { subtotal: { greaterThanOrEqualToSubtotal: "30.00" } },
        customerGets: { value: { discountAmount: { amount: "5.00", appliesOnEachItem: false } }, items: { all: true } },
      },
    });
    const percent = discountMutationFor("C", { name: "15%", type: "percent_off", value: 15 }, now);
    expect(percent.root === "discountCodeBasicCreate" && percent.variables.basicCodeDiscount.customerGets).toEqual({
      value: { percentage: 0.15 },
      items: { all: true },
    });
    const shipping = discountMutationFor("C", { name: "Free shipping", type: "free_shipping" }, now);
    expect(shipping.root).toBe("discountCodeFreeShippingCreate");
    expect(shipping.root === "discountCodeFreeShippingCreate" && shipping.variables.freeShippingCodeDiscount.destination).toEqual({
      all: true,
    });
    const product = discountMutationFor("C", { name: "Mug", type: "free_product", value: "632910392" }, now);
    expect(product.root === "discountCodeBasicCreate" && product.variables.basicCodeDiscount.customerGets).toEqual({
      value: { percentage: 1 },
      items: { products: { productsToAdd: ["gid://shopify/Product/632910392"] } },
    });
    const credit = discountMutationFor("C", { name: "Credit", type: "store_credit", value: "10" }, now);
    expect(credit.root === "discountCodeBasicCreate" && credit.variables.basicCodeDiscount.customerGets).toMatchObject({
      value: { discountAmount: { amount: "10" } },
    });
  });

  it("refuses rewards Shopify cannot express, before any request", async () => {
    const { issuer, fake } = setup();
    for (const reward of [
      { name: "x", type: "percent_off", value: 0 },
      { name: "x", type: "percent_off", value: 101 },
      { name: "x", type: "amount_off" },
      { name: "x", type: "free_product", value: "mug" },
      { name: "x", type: "amount_off", value: "5", minOrder: "ten" },
    ] as DiscountReward[]) {
      await expect(issuer.createCode(shop, { code: "C", reward })).rejects.toMatchObject({ kind: "unsupported" });
    }
    expect(fake.requests).toHaveLength(0);
  });
});

describe("the Shopify discount issuer", () => {
  it("creates the code in the shop with the access token, at the endpoint of SHOPIFY_API_VERSION", async () => {
    const { issuer, fake } = setup();
    const issued = await issuer.createCode(shop, { code: "7KQM-X3PA-RT9C", reward: amountOff });
    expect(issued).toEqual({ code: "7KQM-X3PA-RT9C", discountId: fake.discounts.get("7KQM-X3PA-RT9C")!.id });
    expect(fake.requests[0]).toMatchObject({
      url: `${ORIGIN}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`,
      token: "shpat_fake_token",
      root: "discountCodeBasicCreate",
    });
    const free = await issuer.createCode(shop, { code: "FREE-SHIP-0001", reward: { name: "Ship", type: "free_shipping" } });
    expect(fake.discounts.get("FREE-SHIP-0001")).toMatchObject({ id: free.discountId, kind: "free_shipping" });
  });

  it("defaults to the shop's own domain when no origin is configured", () => {
    expect(adminOrigin({}, "laurel-demo.myshopify.com")).toBe("https://laurel-demo.myshopify.com");
    expect(adminOrigin({ SHOPIFY_ADMIN_ORIGIN: "http://127.0.0.1:9999/" }, "x")).toBe("http://127.0.0.1:9999");
  });

  it("surfaces userErrors as a typed failure, without retrying them", async () => {
    const { issuer, fake } = setup();
    await issuer.createCode(shop, { code: "DUPE-CODE-0001", reward: amountOff });
    const failure = await issuer.createCode(shop, { code: "dupe-code-0001", reward: amountOff }).catch((e) => e);
    expect(failure).toBeInstanceOf(ShopifyAdminError);
    expect(failure).toMatchObject({
      kind: "user_errors",
      message: "Code must be unique. Please try a different code.",
      details: { userErrors: [{ field: ["basicCodeDiscount", "code"], code: "TAKEN" }], attempts: 1 },
    });
    expect(fake.requests).toHaveLength(2);
  });

  it("waits out HTTP 429 for the Retry-After Shopify sends", async () => {
    const { issuer, fake, sleeps } = setup();
    fake.failNext({ kind: "http429", retryAfter: "2.0" });
    await issuer.createCode(shop, { code: "RETRY-AFTER-01", reward: amountOff });
    expect(sleeps).toEqual([2000]);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it("waits out a THROTTLED answer for as long as the bucket needs to refill", async () => {
    const { issuer, fake, sleeps } = setup({ restoreRate: 50 });
    fake.drainBucket(2);
    await issuer.createCode(shop, { code: "BUCKET-WAIT-01", reward: amountOff });
    // 10 points requested, 2 available, 50 restored per second: 160 ms.
    expect(sleeps).toEqual([160]);
    expect(fake.requests.map((r) => r.throttled)).toEqual([true, false]);
    expect(fake.discounts.has("BUCKET-WAIT-01")).toBe(true);
  });

  it("gives up after a bounded number of attempts when throttling persists", async () => {
    const { issuer, fake, sleeps } = setup({ maxAttempts: 4 });
    fake.failNext({ kind: "throttled" }, { kind: "http429", retryAfter: "1" }, { kind: "throttled" }, { kind: "throttled" });
    const failure = await issuer.createCode(shop, { code: "NEVER-MADE-001", reward: amountOff }).catch((e) => e);
    expect(failure).toMatchObject({ kind: "throttled", details: { attempts: 4 } });
    expect(fake.requests).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    expect(fake.discounts.size).toBe(0);
  });

  it("caps the total wait, whatever Retry-After asks", async () => {
    const { fake, sleeps } = setup();
    fake.failNext({ kind: "http429", retryAfter: "3600" }, { kind: "http429", retryAfter: "3600" });
    const issuer = shopifyDiscountIssuer(env, {
      fetch: fake.fetch,
      sleep: async (ms) => void sleeps.push(ms),
      maxDelayMs: 5000,
      maxTotalDelayMs: 8000,
    });
    await expect(issuer.createCode(shop, { code: "LONG-WAIT-0001", reward: amountOff })).rejects.toMatchObject({ kind: "throttled" });
    expect(sleeps).toEqual([5000]);
  });

  it("retries network errors and 5xx with backoff", async () => {
    const { issuer, fake, sleeps } = setup();
    fake.failNext({ kind: "network" }, { kind: "http5xx", status: 503 });
    await issuer.createCode(shop, { code: "FLAKY-NET-0001", reward: amountOff });
    expect(sleeps).toEqual([250, 500]);
    expect(fake.discounts.has("FLAKY-NET-0001")).toBe(true);
  });

  it("recognises its own code after a 5xx that did create it", async () => {
    const { issuer, fake } = setup();
    fake.failNext({ kind: "http5xx", status: 502, executed: true });
    const issued = await issuer.createCode(shop, { code: "GHOST-CODE-001", reward: amountOff });
    expect(issued.discountId).toBe(fake.discounts.get("GHOST-CODE-001")!.id);
    expect(fake.requests.map((r) => r.root)).toEqual(["discountCodeBasicCreate", "discountCodeBasicCreate", "codeDiscountNodeByCode"]);
    expect(fake.discounts.size).toBe(1);
  });

  it("does not retry a refused token", async () => {
    const { issuer, fake } = setup();
    const failure = await issuer
      .createCode({ ...shop, accessToken: "shpat_revoked" }, { code: "NO-TOKEN-0001", reward: amountOff })
      .catch((e) => e);
    expect(failure).toMatchObject({ kind: "http", details: { status: 401, attempts: 1 } });
    expect(fake.requests).toHaveLength(1);
  });

  it("reports GraphQL errors that are not throttling", async () => {
    const { fake, client } = setup();
    await expect(
      adminGraphql({ origin: ORIGIN, accessToken: shop.accessToken }, "query { shop { name } }", {}, client),
    ).rejects.toMatchObject({ kind: "graphql" });
    expect(fake.requests).toHaveLength(1);
  });
});

describe("throttle arithmetic", () => {
  it("reads the wait from the cost extension and Retry-After", () => {
    expect(throttleWaitMs(throttledDoc)).toBe(1720);
    expect(throttleWaitMs({})).toBeNull();
    expect(retryAfterMs("2.0")).toBe(2000);
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:10 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(10_000);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs("soon")).toBeNull();
  });
});

describe("storefront metafields", () => {
  it("writes the app-owned laurel.* metafields on the app installation", async () => {
    const { fake, client } = setup();
    await writeStorefrontMetafields(
      { origin: ORIGIN, accessToken: shop.accessToken },
      { public_key: "pk_test", api_origin: "https://loyalty.example", widget_secret: "wsec_123" },
      client,
    );
    expect(Object.fromEntries([...fake.metafields].map(([k, v]) => [k, [v.type, v.value]]))).toEqual({
      "laurel.public_key": ["single_line_text_field", "pk_test"],
      "laurel.api_origin": ["single_line_text_field", "https://loyalty.example"],
      "laurel.widget_secret": ["single_line_text_field", "wsec_123"],
    });
    expect(fake.requests.map((r) => r.root)).toEqual(["currentAppInstallation", "metafieldsSet"]);
  });
});
