import { describe, expect, it } from "vitest";
import { call, makeReward, makeShop, postAdjustment, storefrontSession } from "./helpers";

describe("rate limits", () => {
  it("never refuses 120 session requests a minute from one address, then answers 429 with Retry-After", async () => {
    const shop = await makeShop();
    const headers = { "cf-connecting-ip": "203.0.113.7" };
    const open = () => call("POST", "/v1/storefront/sessions", { body: { shop: shop.publicKey }, headers });
    const first = await Promise.all(Array.from({ length: 120 }, open));
    expect(first.every((r) => r.status === 200)).toBe(true);
    let limited: Awaited<ReturnType<typeof open>> | undefined;
    // Windows are whole minutes: even across one boundary a 429 comes within 2 x 150 requests.
    for (let i = 0; i < 300 && !limited; i++) {
      const res = await open();
      if (res.status === 429) limited = res;
    }
    expect(limited, "no 429 within 420 requests").toBeDefined();
    expect(limited!.body.error.code).toBe("rate_limited");
    const retryAfter = Number(limited!.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another address is not affected.
    const other = await call("POST", "/v1/storefront/sessions", {
      body: { shop: shop.publicKey },
      headers: { "cf-connecting-ip": "198.51.100.9" },
    });
    expect(other.status).toBe(200);
  }, 60_000);

  it("limits storefront writes per session, and a limited write changes nothing", async () => {
    const shop = await makeShop();
    await storefrontSession(shop, "c-1");
    expect((await postAdjustment(shop, "c-1", { points: 100000, note: "" })).status).toBe(201);
    const reward = await makeReward(shop, { cost: 1 });
    const token = await storefrontSession(shop, "c-1");
    const redeem = () =>
      call("POST", "/v1/storefront/redemptions", {
        token,
        body: { rewardId: reward.id },
        headers: { "idempotency-key": crypto.randomUUID() },
      });
    const results: Awaited<ReturnType<typeof redeem>>[] = [];
    for (let i = 0; i < 320 && !results.some((r) => r.status === 429); i++) results.push(await redeem());
    for (let i = 0; i < 5; i++) results.push(await redeem());
    const ok = results.filter((r) => r.status === 201).length;
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toBeGreaterThanOrEqual(120);
    expect(limited.length).toBeGreaterThan(0);
    const customer = await call("GET", "/v1/customers/c-1", { token: shop.secretKey });
    expect(customer.body.customer.balance).toBe(100000 - ok);
  }, 60_000);
});

describe("referral claims under a flood", () => {
  it("answers an unknown code 404 however many claims one address sends", async () => {
    const shop = await makeShop();
    const headers = { "cf-connecting-ip": "203.0.113.99" };
    const claim = (code: string) =>
      call("POST", `/v1/storefront/referrals/${code}/claim`, { body: { shop: shop.publicKey, email: "x@example.com" }, headers });
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => claim(`NOPE${i}`)));
    expect(answers.every((r) => r.status === 404 && r.body.error.code === "not_found")).toBe(true);
  }, 60_000);
});
