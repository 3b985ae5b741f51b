import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  postAdjustment,
  assertLedgerInvariants,
  call,
  callWith,
  customer,
  customerDigest,
  faultyDb,
  makeReward,
  makeShop,
  orderPaid,
  setProgram,
  snapshot,
  storefrontSession,
} from "./helpers";

describe("storefront sessions", () => {
  it("opens guest sessions and customer sessions proven by the digest", async () => {
    const shop = await makeShop();
    const guest = await call("POST", "/v1/storefront/sessions", { body: { shop: shop.publicKey } });
    expect(guest.status).toBe(200);
    expect(guest.body.customer).toBeNull();
    expect(typeof guest.body.token).toBe("string");
    expect(Date.parse(guest.body.expiresAt)).toBeGreaterThan(Date.now());

    const ts = Math.floor(Date.now() / 1000);
    const digest = await customerDigest(shop.widgetSecret, "c-1", ts);
    const member = await call("POST", "/v1/storefront/sessions", {
      body: { shop: shop.publicKey, customer: { id: "c-1", ts, digest } },
    });
    expect(member.status).toBe(200);
    expect(member.body.customer).toEqual({ id: "c-1", balance: 0 });
    // A verified identity not seen before is now a member.
    expect((await customer(shop, "c-1")).balance).toBe(0);
  });

  it("gives signup points to a customer first seen through the widget, once", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 50;
    });
    await storefrontSession(shop, "new-1");
    await storefrontSession(shop, "new-1");
    expect((await customer(shop, "new-1")).balance).toBe(50);
  });

  it("refuses forged, expired, future and other-shop digests, and tampered tokens", async () => {
    const shop = await makeShop();
    const other = await makeShop();
    const now = Math.floor(Date.now() / 1000);
    const before = await snapshot();
    const attempts = [
      { id: "c-1", ts: now, digest: "0".repeat(64) },
      { id: "c-1", ts: now - 25 * 3600, digest: await customerDigest(shop.widgetSecret, "c-1", now - 25 * 3600) },
      { id: "c-1", ts: now + 3600, digest: await customerDigest(shop.widgetSecret, "c-1", now + 3600) },
      { id: "c-1", ts: now, digest: await customerDigest(other.widgetSecret, "c-1", now) },
      { id: "c-2", ts: now, digest: await customerDigest(shop.widgetSecret, "c-1", now) },
      { id: "c-1", ts: now, digest: "not-hex" },
    ];
    for (const identity of attempts) {
      const res = await call("POST", "/v1/storefront/sessions", { body: { shop: shop.publicKey, customer: identity } });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    }
    expect(await snapshot()).toEqual(before);

    const token = await storefrontSession(shop, "c-1");
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    claims.sub = "someone-else";
    const forgedPayload = btoa(JSON.stringify(claims)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    for (const bad of [`${header}.${forgedPayload}.${signature}`, `${token}x`, "garbage"]) {
      const res = await call("GET", "/v1/storefront/state", { token: bad });
      expect(res.status).toBe(401);
    }
    const unknownShop = await call("POST", "/v1/storefront/sessions", { body: { shop: "pk_nope" } });
    expect(unknownShop.status).toBe(404);
  });

  it("grants CORS only to the shop's own origins", async () => {
    const shop = await makeShop({ origins: ["https://shop.example"] });
    const allowed = await call("POST", "/v1/storefront/sessions", {
      body: { shop: shop.publicKey },
      headers: { origin: "https://shop.example" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    const refused = await call("POST", "/v1/storefront/sessions", {
      body: { shop: shop.publicKey },
      headers: { origin: "https://evil.example" },
    });
    expect(refused.status).toBe(200);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();

    const preflight = await call("OPTIONS", "/v1/storefront/state", {
      headers: { origin: "https://shop.example", "access-control-request-method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("idempotency-key");
    const badPreflight = await call("OPTIONS", "/v1/storefront/state", {
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(badPreflight.headers.get("access-control-allow-origin")).toBeNull();

    // Another shop's origin gets nothing from this shop's answers.
    await makeShop({ origins: ["https://other.example"] });
    const token = await storefrontSession(shop);
    const crossShop = await call("GET", "/v1/storefront/state", { token, headers: { origin: "https://other.example" } });
    expect(crossShop.status).toBe(200);
    expect(crossShop.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("storefront state", () => {
  it("returns program, member, rewards and activity in one answer", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.tiers = [
        { name: "Bronze", basis: "lifetime_points", threshold: 0, multiplier: 1, perks: "" },
        { name: "Silver", basis: "lifetime_points", threshold: 200, multiplier: 1.5, perks: "Free shipping" },
      ];
    });
    await makeReward(shop, { name: "Small", cost: 50 });
    await makeReward(shop, { name: "Big", cost: 500 });
    await orderPaid(shop, { id: "o-1", customerId: "c-1", subtotal: "120.00" });
    const token = await storefrontSession(shop, "c-1");
    const state = await call("GET", "/v1/storefront/state", { token });
    expect(state.status).toBe(200);
    const { program, customer: member, rewards, activity } = state.body;
    expect(program.currency).toBe("EUR");
    expect(program.tiers).toHaveLength(2);
    expect(member).toMatchObject({ id: "c-1", balance: 120, lifetimePoints: 120, tier: "Bronze" });
    expect(member.nextTier).toEqual({ name: "Silver", threshold: 200, basis: "lifetime_points" });
    expect(member.progress).toBeCloseTo(0.6);
    expect(member.remainingToNextTier).toBe(80);
    expect(member.referralCode).toMatch(/^[A-Z0-9]{8}$/);
    expect(member.referralLink).toBe(`https://shop.example/?ref=${member.referralCode}`);
    expect(rewards.map((r: { name: string; affordable: boolean }) => [r.name, r.affordable])).toEqual([
      ["Small", true],
      ["Big", false],
    ]);
    expect(activity[0]).toMatchObject({ delta: 120, kind: "order", reference: "o-1", balanceAfter: 120 });

    const guest = await call("GET", "/v1/storefront/state", { token: await storefrontSession(shop) });
    expect(guest.body.customer).toBeNull();
    expect(guest.body.rewards.every((r: { affordable: boolean }) => !r.affordable)).toBe(true);
  });

  it("answers a session with the state too when asked, so the widget paints from one request", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o-1", customerId: "c-1", subtotal: "30.00" });
    const ts = Math.floor(Date.now() / 1000);
    const digest = await customerDigest(shop.widgetSecret, "c-1", ts);
    const res = await call("POST", "/v1/storefront/sessions", {
      body: { shop: shop.publicKey, customer: { id: "c-1", ts, digest }, include: ["state"] },
    });
    expect(res.status).toBe(200);
    expect(res.body.customer).toEqual({ id: "c-1", balance: 30 });
    const separate = await call("GET", "/v1/storefront/state", { token: res.body.token });
    expect(res.body.state).toEqual(separate.body);
    const guest = await call("POST", "/v1/storefront/sessions", { body: { shop: shop.publicKey, include: ["state"] } });
    expect(guest.body.state.customer).toBeNull();
    const plain = await call("POST", "/v1/storefront/sessions", { body: { shop: shop.publicKey } });
    expect(plain.body.state).toBeUndefined();
    const bad = await call("POST", "/v1/storefront/sessions", { body: { shop: shop.publicKey, include: ["secrets"] } });
    expect(bad.status).toBe(400);
  });

  it("shows a program change at once (the KV copy is dropped on PUT)", async () => {
    const shop = await makeShop();
    const token = await storefrontSession(shop);
    expect((await call("GET", "/v1/storefront/state", { token })).body.program.branding.launcherLabel).toBe("Rewards");
    await setProgram(shop, (p) => {
      p.branding.launcherLabel = "Perks";
    });
    expect((await call("GET", "/v1/storefront/state", { token })).body.program.branding.launcherLabel).toBe("Perks");
  });
});

describe("redemptions", () => {
  async function memberWith(points: number) {
    const shop = await makeShop();
    await storefrontSession(shop, "c-1");
    if (points > 0) expect((await postAdjustment(shop, "c-1", { points, note: "test" })).status).toBe(201);
    const token = await storefrontSession(shop, "c-1");
    return { shop, token };
  }

  const redeem = (token: string, rewardId: string, key = crypto.randomUUID()) =>
    call("POST", "/v1/storefront/redemptions", { token, body: { rewardId }, headers: { "idempotency-key": key } });

  it("40 concurrent redemptions of 100 points against 500: exactly 5 succeed", async () => {
    const { shop, token } = await memberWith(500);
    const reward = await makeReward(shop, { cost: 100 });
    const results = await Promise.all(Array.from({ length: 40 }, () => redeem(token, reward.id)));
    const ok = results.filter((r) => r.status === 201);
    const short = results.filter((r) => r.status === 422);
    expect(ok).toHaveLength(5);
    expect(short).toHaveLength(35);
    for (const r of short) expect(r.body.error.code).toBe("insufficient_points");
    const codes = new Set(ok.map((r) => r.body.redemption.code));
    expect(codes.size).toBe(5);
    for (const code of codes) expect(code).toMatch(/^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/);
    expect((await customer(shop, "c-1")).balance).toBe(0);
    await assertLedgerInvariants(shop.id);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM redemptions WHERE shop_id = ?").bind(shop.id).first<{ n: number }>();
    expect(rows!.n).toBe(5);
  });

  it("replays the same key with the same code and debits once; another body is 422", async () => {
    const { shop, token } = await memberWith(300);
    const reward = await makeReward(shop, { cost: 100 });
    const other = await makeReward(shop, { cost: 100, name: "Other" });
    const first = await redeem(token, reward.id, "key-1");
    const again = await redeem(token, reward.id, "key-1");
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(first.body.balance).toBe(200);
    expect((await customer(shop, "c-1")).balance).toBe(200);
    const mismatch = await redeem(token, other.id, "key-1");
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.code).toBe("idempotency_mismatch");
    expect((await customer(shop, "c-1")).balance).toBe(200);
    const missingKey = await call("POST", "/v1/storefront/redemptions", { token, body: { rewardId: reward.id } });
    expect(missingKey.status).toBe(400);
    expect((await customer(shop, "c-1")).balance).toBe(200);
  });

  it("a retry of a redemption whose request died after its batch gets that code, never a second debit", async () => {
    const { shop, token } = await memberWith(300);
    const reward = await makeReward(shop, { cost: 100 });
    const committed = (sqls: string[][]) => sqls.some((batch) => batch.some((sql) => sql.includes("INSERT INTO redemptions")));
    const dying = faultyDb(env.DB, () => committed(dying.batches));
    const headers = { "idempotency-key": "key-died" };
    const first = await callWith({ DB: dying.db }, "POST", "/v1/storefront/redemptions", { token, body: { rewardId: reward.id }, headers });
    // Storing the answer failed, but the answer was known and is given.
    expect(first.status).toBe(201);
    expect(committed(dying.batches)).toBe(true);
    // The key stays claimed until its lock runs out; then a retry answers from the redemption.
    expect((await redeem(token, reward.id, "key-died")).status).toBe(409);
    await env.DB.prepare("UPDATE idempotency_keys SET locked_until = '2000-01-01T00:00:00.000Z' WHERE shop_id = ? AND key = ?")
      .bind(shop.id, "key-died")
      .run();
    const retry = await redeem(token, reward.id, "key-died");
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.body.balance).toBe(200);
    expect((await redeem(token, reward.id, "key-died")).body).toEqual(first.body);
    expect((await customer(shop, "c-1")).balance).toBe(200);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM redemptions WHERE shop_id = ?").bind(shop.id).first<{ n: number }>();
    expect(rows!.n).toBe(1);
    await assertLedgerInvariants(shop.id);
  });

  it("refuses guests, other shops' rewards and short balances without changing anything", async () => {
    const { shop, token } = await memberWith(50);
    const reward = await makeReward(shop, { cost: 100 });
    const otherShop = await makeShop();
    const foreign = await makeReward(otherShop, { cost: 10 });
    const before = await snapshot();
    expect((await redeem(token, foreign.id)).status).toBe(404);
    const short = await redeem(token, reward.id);
    expect(short.status).toBe(422);
    expect(short.body.error).toMatchObject({ code: "insufficient_points", details: { balance: 50, needed: 100 } });
    const guest = await redeem(await storefrontSession(shop), reward.id);
    expect(guest.status).toBe(403);
    expect((await redeem(token, "")).status).toBe(400);
    const after = await snapshot();
    // Refused requests store their answer under the key, and nothing else.
    expect({ ...after, idempotency_keys: 0 }).toEqual({ ...before, idempotency_keys: 0 });
  });

  it("voids a code (points back as redemption_reversal), uses a code once, looks codes up at checkout", async () => {
    const { shop, token } = await memberWith(300);
    const reward = await makeReward(shop, { cost: 100, minOrder: "20.00" });
    const a = (await redeem(token, reward.id)).body.redemption;
    const b = (await redeem(token, reward.id)).body.redemption;
    const voided = await call("POST", `/v1/redemptions/${a.id}/void`, { token: shop.secretKey, body: { reason: "customer asked" } });
    expect(voided.status).toBe(200);
    expect(voided.body.redemption).toMatchObject({ status: "void", voidReason: "customer asked" });
    expect((await customer(shop, "c-1")).balance).toBe(200);
    expect((await call("POST", `/v1/redemptions/${a.id}/void`, { token: shop.secretKey })).status).toBe(409);
    expect((await customer(shop, "c-1")).balance).toBe(200);

    const lookup = await call("GET", `/v1/codes/${b.code.toLowerCase()}`, { token: shop.secretKey });
    expect(lookup.body.redemption).toMatchObject({ status: "issued", type: "amount_off", value: "5.00", minOrder: "20.00" });
    const consumed = await call("POST", `/v1/codes/${b.code}/consume`, { token: shop.secretKey, body: { orderId: "o-9" } });
    expect(consumed.status).toBe(200);
    expect(consumed.body.redemption.status).toBe("used");
    expect((await call("POST", `/v1/codes/${b.code}/consume`, { token: shop.secretKey })).status).toBe(409);
    expect((await call("POST", `/v1/redemptions/${b.id}/void`, { token: shop.secretKey })).status).toBe(409);

    const otherShop = await makeShop();
    expect((await call("GET", `/v1/codes/${b.code}`, { token: otherShop.secretKey })).status).toBe(404);
    expect((await call("POST", `/v1/redemptions/${b.id}/use`, { token: otherShop.secretKey })).status).toBe(404);
    await assertLedgerInvariants(shop.id);
  });
});

describe("rewards API", () => {
  it("validates each type's value and isolates shops", async () => {
    const shop = await makeShop();
    const bad = [
      { name: "x", type: "amount_off", cost: 10 },
      { name: "x", type: "percent_off", cost: 10, value: "10" },
      { name: "x", type: "percent_off", cost: 10, value: 101 },
      { name: "x", type: "free_shipping", cost: 10, value: "1.00" },
      { name: "x", type: "amount_off", cost: 0, value: "1.00" },
      { name: "x", type: "amount_off", cost: 10, value: "1.001" },
      { name: "x", type: "bogus", cost: 10 },
    ];
    for (const body of bad) {
      const res = await call("POST", "/v1/rewards", { token: shop.secretKey, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    for (const body of [
      { name: "A", type: "amount_off", cost: 10, value: "5.00" },
      { name: "P", type: "percent_off", cost: 10, value: 15 },
      { name: "S", type: "free_shipping", cost: 10 },
      { name: "F", type: "free_product", cost: 10, product: "SKU-1" },
      { name: "C", type: "store_credit", cost: 10, value: "2.50" },
    ]) {
      expect((await call("POST", "/v1/rewards", { token: shop.secretKey, body })).status).toBe(201);
    }
    const list = await call("GET", "/v1/rewards", { token: shop.secretKey });
    expect(list.body.rewards).toHaveLength(5);
    const id = list.body.rewards.find((r: { name: string }) => r.name === "A").id;
    const patched = await call("PATCH", `/v1/rewards/${id}`, { token: shop.secretKey, body: { cost: 99, active: false } });
    expect(patched.body.reward).toMatchObject({ cost: 99, active: false });
    expect((await call("PATCH", `/v1/rewards/${id}`, { token: shop.secretKey, body: { type: "percent_off" } })).status).toBe(400);

    const other = await makeShop();
    expect((await call("GET", `/v1/rewards/${id}`, { token: other.secretKey })).status).toBe(404);
    expect((await call("PATCH", `/v1/rewards/${id}`, { token: other.secretKey, body: { cost: 1 } })).status).toBe(404);
    expect((await call("DELETE", `/v1/rewards/${id}`, { token: other.secretKey })).status).toBe(404);
    expect((await call("GET", "/v1/rewards", { token: other.secretKey })).body.rewards).toHaveLength(0);
    expect((await call("DELETE", `/v1/rewards/${id}`, { token: shop.secretKey })).status).toBe(200);
    expect((await call("GET", `/v1/rewards/${id}`, { token: shop.secretKey })).status).toBe(404);
  });
});
