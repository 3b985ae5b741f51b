/**
 * The holdout group (stable and of the configured share; its members earn and see nothing) and
 * win-back offers (granted by the daily run as of a chosen time, once per at-risk episode; by hand
 * with an Idempotency-Key; doubling order points while they run; reported by analytics).
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { holdoutBucket, inHoldout } from "../../worker/domain/holdout";
import worker from "../../worker/index";
import { call, customer, expectError, makeShop, orderPaid, setProgram, storefrontSession, type TestShop } from "./helpers";

const DAY = 86_400_000;
// Times relative to the real clock, so the storefront (which reads "now") sees offers as running.
const T0 = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 30 * DAY;
const at = (days: number) => new Date(T0 + days * DAY);

async function runDaily(now: Date) {
  const controller = createScheduledController({ scheduledTime: now.getTime(), cron: "17 3 * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, env, ctx);
  await waitOnExecutionContext(ctx);
}

const offersOf = async (s: TestShop) =>
  (
    await env.DB.prepare(
      "SELECT c.external_id, o.source, o.multiplier, o.starts_at, o.expires_at FROM offers o JOIN customers c ON c.id = o.customer_id WHERE o.shop_id = ? ORDER BY o.id",
    )
      .bind(s.id)
      .all<{ external_id: string; source: string; multiplier: number; starts_at: string; expires_at: string }>()
  ).results;

const order = (s: TestShop, id: string, customerId: string, subtotal: string, when: Date) =>
  orderPaid(s, { id, customerId, subtotal }, { occurredAt: when.toISOString() });

const state = async (s: TestShop, customerId: string) =>
  (await call("GET", "/v1/storefront/state", { token: await storefrontSession(s, customerId) })).body;

describe("holdout assignment", () => {
  it("is stable: the same shop and customer always land in the same bucket; another shop differs", () => {
    for (let i = 0; i < 200; i++) {
      expect(holdoutBucket("shop_a", `c${i}`)).toBe(holdoutBucket("shop_a", `c${i}`));
    }
    const sameInOther = Array.from({ length: 200 }, (_, i) => holdoutBucket("shop_a", `c${i}`) === holdoutBucket("shop_b", `c${i}`));
    expect(sameInOther.filter(Boolean).length).toBeLessThan(5);
  });

  it("holds out the configured share (within 1 point over 20,000 customers), nested as the share grows", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `customer-${i}`);
    for (const percent of [1, 5, 10, 20]) {
      const held = ids.filter((id) => inHoldout(percent, "shop_share", id)).length / ids.length;
      expect(Math.abs(held * 100 - percent)).toBeLessThan(1);
    }
    // Raising the share only adds customers: everyone held at 5% is held at 10%.
    expect(ids.filter((id) => inHoldout(5, "shop_share", id) && !inHoldout(10, "shop_share", id))).toEqual([]);
    expect(ids.some((id) => inHoldout(0, "shop_share", id))).toBe(false);
  });

  it("refuses a share over 20 or below 0 with 400, changing nothing", async () => {
    const shop = await makeShop();
    const program = (await call("GET", "/v1/program", { token: shop.secretKey })).body.program;
    expect(program.holdout).toEqual({ percent: 0 });
    expect(program.winBack).toEqual({ enabled: false, multiplier: 2, days: 14 });
    for (const percent of [20.5, 21, -1, 5.555]) {
      const res = await call("PUT", "/v1/program", { token: shop.secretKey, body: { program: { ...program, holdout: { percent } } } });
      expectError(res, 400, "invalid_request");
    }
    expect((await call("GET", "/v1/program", { token: shop.secretKey })).body.program.holdout).toEqual({ percent: 0 });
  });

  it("control members earn nothing and the storefront marks them; program members earn as usual", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.holdout = { percent: 20 };
      p.waysToEarn.signup = 50;
    });
    const names = Array.from({ length: 100 }, (_, i) => `m${i}`);
    const held = names.find((n) => inHoldout(20, shop.id, n))!;
    const member = names.find((n) => !inHoldout(20, shop.id, n))!;
    expect((await order(shop, "h-o1", held, "40.00", new Date())).body.points).toBe(0);
    expect((await order(shop, "p-o1", member, "40.00", new Date())).body.points).toBe(90);
    expect((await customer(shop, held)).balance).toBe(0);
    const heldState = await state(shop, held);
    expect(heldState.customer).toMatchObject({ holdout: true, offer: null, npsDue: false, balance: 0 });
    expect((await state(shop, member)).customer).toMatchObject({ holdout: false, balance: 90 });
    // The order is still recorded, for the comparison.
    const orders = await env.DB.prepare("SELECT COUNT(*) AS n FROM orders WHERE shop_id = ? AND external_id = 'h-o1'").bind(shop.id).first<{ n: number }>();
    expect(orders!.n).toBe(1);
  });
});

describe("win-back through the daily run", () => {
  it("grants a member at risk one offer per episode, doubles their orders while it runs, and reports it", async () => {
    const shop = await makeShop();
    const off = await makeShop();
    await setProgram(shop, (p) => {
      p.winBack = { enabled: true, multiplier: 2, days: 14 };
    });
    // Orders on day 0 and day 10: a 10-day cadence, at risk once more than 15 days have passed.
    for (const s of [shop, off]) {
      await order(s, "w-o1", "wanda", "10.00", at(0));
      await order(s, "w-o2", "wanda", "10.00", at(10));
    }
    await runDaily(at(20));
    expect(await offersOf(shop)).toEqual([]);
    await runDaily(at(26));
    const granted = await offersOf(shop);
    expect(granted).toEqual([
      { external_id: "wanda", source: "win_back", multiplier: 2, starts_at: at(26).toISOString(), expires_at: at(40).toISOString() },
    ]);
    // Off by default: the other shop's identical member gets nothing.
    expect(await offersOf(off)).toEqual([]);
    // The same episode: a second run grants nothing more.
    await runDaily(at(27));
    expect(await offersOf(shop)).toHaveLength(1);

    // The widget shows it while it runs (today is day 30).
    expect((await state(shop, "wanda")).customer.offer).toEqual({ multiplier: 2, expiresAt: at(40).toISOString() });

    // An order on day 28 earns double: 25 points x 2.
    expect((await order(shop, "w-o3", "wanda", "25.00", at(28))).body.points).toBe(50);
    expect((await order(off, "w-o3", "wanda", "25.00", at(28))).body.points).toBe(25);

    // A new episode once the member drifts again: cadence (28 - 0) / 2 = 14 days, at risk after 21.
    await runDaily(at(45));
    expect(await offersOf(shop)).toHaveLength(1);
    await runDaily(at(50));
    expect(await offersOf(shop)).toHaveLength(2);

    const from = at(0).toISOString().slice(0, 10);
    const to = at(30).toISOString().slice(0, 10);
    const analytics = await call("GET", `/v1/analytics?from=${from}&to=${to}`, { token: shop.secretKey });
    // One offer started in the window, its member ordered 25.00 while it ran.
    expect(analytics.body.winBack).toEqual({ offered: 1, converted: 1, revenue: "25.00" });
  });

  it("skips members of the holdout group", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.winBack = { enabled: true, multiplier: 3, days: 7 };
      p.holdout = { percent: 20 };
    });
    const names = Array.from({ length: 100 }, (_, i) => `h${i}`);
    const held = names.find((n) => inHoldout(20, shop.id, n))!;
    const member = names.find((n) => !inHoldout(20, shop.id, n))!;
    for (const id of [held, member]) {
      await order(shop, `${id}-1`, id, "10.00", at(0));
      await order(shop, `${id}-2`, id, "10.00", at(10));
    }
    await runDaily(at(26));
    expect((await offersOf(shop)).map((o) => o.external_id)).toEqual([member]);
  });
});

describe("POST /v1/customers/:externalId/offers", () => {
  it("grants an offer by hand (Idempotency-Key), refuses bad input with nothing stored", async () => {
    const shop = await makeShop();
    await order(shop, "g-o1", "gus", "10.00", new Date());
    const grant = (body: unknown, key: string | null = crypto.randomUUID(), id = "gus") =>
      call("POST", `/v1/customers/${id}/offers`, { token: shop.secretKey, body, headers: key ? { "idempotency-key": key } : {} });
    const key = crypto.randomUUID();
    const before = Date.now();
    const res = await grant({ multiplier: 1.5, days: 7, note: "sorry about the late parcel" }, key);
    expect(res.status).toBe(201);
    expect(res.body.offer.multiplier).toBe(1.5);
    const ends = Date.parse(res.body.offer.expiresAt);
    expect(ends).toBeGreaterThanOrEqual(before + 7 * DAY);
    expect(ends).toBeLessThan(Date.now() + 7 * DAY + 1000);
    const replay = await grant({ multiplier: 1.5, days: 7, note: "sorry about the late parcel" }, key);
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(res.body);
    expect(await offersOf(shop)).toHaveLength(1);

    expectError(await grant({ multiplier: 1.5, days: 7 }, null), 400, "invalid_request");
    expectError(await grant({ multiplier: 20, days: 7 }), 400, "invalid_request");
    expectError(await grant({ multiplier: 2, days: 0 }), 400, "invalid_request");
    expectError(await grant({ multiplier: 2, days: 7 }, crypto.randomUUID(), "nobody"), 404, "not_found");
    expectError(await grant({ multiplier: 2, days: 8 }, key), 422, "idempotency_mismatch");
    expect(await offersOf(shop)).toHaveLength(1);
    expect((await state(shop, "gus")).customer.offer).toEqual(res.body.offer);
    expect((await order(shop, "g-o2", "gus", "10.00", new Date())).body.points).toBe(15);
  });
});
