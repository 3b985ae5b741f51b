/**
 * POST /v1/program/simulate: orders sent through the real event API under a program with tiers
 * (by lifetime points and by spend), a product-type multiplier, a boost, "round" rounding, a
 * minimum order, signup points, refunds (one before its order arrives), a cancellation and NPS
 * points that promote a member between two orders. The
 * current program replayed must give back exactly the points each order was awarded; proposals are
 * checked against figures computed by hand below.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, makeShop, orderPaid, sendEvent, setProgram, storefrontSession, type TestShop } from "./helpers";

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

let shop: TestShop;
let program: Record<string, any>;

const simulate = (body: unknown, token = shop.secretKey) => call("POST", "/v1/program/simulate", { token, body });

async function paid(id: string, customerId: string, day: number, subtotal: string, lines: unknown[] = []) {
  const res = await orderPaid(shop, { id, customerId, subtotal, lines }, { occurredAt: daysAgo(day) });
  expect(res.status).toBe(200);
  return res.body.points as number;
}

beforeAll(async () => {
  shop = await makeShop();
  program = await setProgram(shop, (p) => {
    p.earning.rounding = "round";
    p.earning.minOrder = "5.00";
    p.earning.productTypeMultipliers = { shoes: 2 };
    p.earning.boosts = [{ name: "Spring", multiplier: 2, startsAt: daysAgo(42), endsAt: daysAgo(38) }];
    p.waysToEarn.signup = 10;
    p.waysToEarn.nps = 20;
    p.tiers = [
      { name: "Silver", basis: "lifetime_points", threshold: 100, multiplier: 1.5, perks: "" },
      { name: "Gold", basis: "spend", threshold: 300, windowDays: 365, multiplier: 2, perks: "" },
    ];
    p.pointValue = "0.01";
  });

  // old: an order from 200 days ago (outside the window) processed now: 100 + signup 10 = 110 -> Silver.
  expect(await paid("old-1", "old", 200, "100.00")).toBe(110);
  // ann: 50 (+10 signup, lifetime 60).
  expect(await paid("ann-1", "ann", 60, "50.00")).toBe(60);
  // ann: shoes x2 -> 80, lifetime 140 -> Silver.
  expect(await paid("ann-2", "ann", 50, "40.00", [{ productType: "shoes", quantity: 1, price: "40.00" }])).toBe(80);
  // bob: 15.50 -> 15.5 rounds to 16 (+10 signup).
  expect(await paid("bob-1", "bob", 45, "15.50")).toBe(26);
  // ann: Silver 1.5 x boost 2 -> 30 x 3 = 90, lifetime 230, spend 120.
  expect(await paid("ann-3", "ann", 40, "30.00")).toBe(90);
  // bob: a refund of 5.00 arrives before its order; the order earns 20 and gives back 20 x 5/20 = 5 at once.
  expect((await sendEvent(shop, { type: "order.refunded", order: { id: "bob-2" }, refund: { id: "r1", amount: "5.00" } })).status).toBe(200);
  expect(await paid("bob-2", "bob", 35, "20.00")).toBe(15);
  // ann: Silver 200 x 1.5 = 300, lifetime 530, spend 320 >= 300 -> Gold.
  expect(await paid("ann-4", "ann", 30, "200.00")).toBe(300);
  // bob: 12, then cancelled.
  expect(await paid("bob-3", "bob", 25, "12.00")).toBe(12);
  expect((await sendEvent(shop, { type: "order.cancelled", order: { id: "bob-3" } })).status).toBe(200);
  // ann: Gold x2: 10.33 x 2 = 20.66 -> 21.
  expect(await paid("ann-5", "ann", 20, "10.33")).toBe(21);
  // ann: half of ann-4 refunded: 300 x 100/200 = 150 back.
  expect((await sendEvent(shop, { type: "order.refunded", order: { id: "ann-4" }, refund: { id: "r2", amount: "100.00" } })).status).toBe(200);
  // cy: 4.00 is under the minimum order: 0 points (+10 signup).
  expect(await paid("cy-1", "cy", 10, "4.00")).toBe(10);
  // old: Silver 10 x 1.5 = 15.
  expect(await paid("old-2", "old", 5, "10.00")).toBe(15);
  // dan: a member with no order (signup 10).
  expect((await sendEvent(shop, { type: "customer.created", customer: { id: "dan" } })).status).toBe(200);
  // eve: 80 (+10 signup, lifetime 90); her NPS answer's 20 points take her to 110 -> Silver at once;
  // so her next order earns at Silver: 10 x 1.5 = 15.
  expect(await paid("eve-1", "eve", 15, "80.00")).toBe(90);
  const answer = await call("POST", "/v1/storefront/nps", { token: await storefrontSession(shop, "eve"), body: { score: 9 } });
  expect(answer.status).toBe(201);
  expect(await paid("eve-2", "eve", 3, "10.00")).toBe(15);

  // Another shop's orders must not be replayed.
  const other = await makeShop();
  await orderPaid(other, { id: "x-1", customerId: "x", subtotal: "999.00" }, { occurredAt: daysAgo(3) });
});

describe("POST /v1/program/simulate", () => {
  it("replays the current program to exactly the points recorded for each order", async () => {
    const recorded = await env.DB.prepare(
      "SELECT COUNT(*) AS n, SUM(points_awarded) AS points FROM orders WHERE shop_id = ? AND created_at >= ?",
    )
      .bind(shop.id, daysAgo(90))
      .first<{ n: number; points: number }>();
    // ann 50 + 80 + 90 + 300 + 21, bob 16 + 20 + 12, cy 0, old-2 15, eve 80 + 15 = 699 (old-1 is outside the window).
    expect(recorded).toEqual({ n: 12, points: 699 });

    const res = await simulate({ program, days: 90 });
    expect(res.status).toBe(200);
    const s = res.body;
    expect(s.orders).toBe(12);
    expect(s.members).toBe(5);
    expect(s.recordedOrderPoints).toBe(699);
    expect(s.current.orderPoints).toBe(699);
    expect(s.current.ordersMatchingRecorded).toBe(12);
    // Claw-backs: ann-4 150, bob-2 5, bob-3 12.
    expect(s.current.pointsReversed).toBe(167);
    // Other points: signups of old, ann, bob, cy, dan, eve (60), old-1's 100 processed in the window, eve's NPS 20.
    expect(s.current.otherPoints).toBe(180);
    expect(s.current.pointsIssued).toBe(879);
    expect(s.current.netPoints).toBe(712);
    // Everything happened in the window, so what members hold now is exactly the net: 712 -> 7.12.
    expect(s.current.liabilityPoints).toBe(712);
    expect(s.current.liability).toBe("7.12");
    // Revenue: ann 50 + 40 + 30 + 200 + 10.33 - 100; bob 15.50 + 20 - 5 (bob-3 cancelled); cy 4; old 10;
    // eve 80 + 10 = 364.83.
    expect(s.current.revenue).toBe("364.83");
    expect(s.current.cost).toBe("7.12");
    // 712 / 36483 = 0.01952 -> 0.0195.
    expect(s.current.costShare).toBe(0.0195);
    // ann Gold, old and eve Silver; bob, cy and dan none.
    expect(s.current.tiers).toEqual([
      { tier: null, members: 3 },
      { tier: "Silver", members: 2 },
      { tier: "Gold", members: 1 },
    ]);
    // The same program proposed gives the same figures.
    expect(s.proposed).toEqual(s.current);
    expect(s.assumptions.length).toBeGreaterThan(0);
  });

  it("projects a doubled earning rate, tiers reached sooner", async () => {
    const proposed = structuredClone(program);
    proposed.earning.pointsPerUnit = 2;
    const res = await simulate({ program: proposed, days: 90 });
    expect(res.status).toBe(200);
    const s = res.body;
    // ann: 100 (lifetime 110 -> Silver at once), shoes 40 x 2 x 2 x 1.5 = 240, 30 x 2 x 1.5 x 2 = 180,
    //      200 x 2 x 1.5 = 600 (spend 320 -> Gold), 10.33 x 2 x 2 = 41.32 -> 41; refund 600 x 1/2 = 300.
    // bob: 31, 40 (refund 40 x 5/20 = 10), 24 (cancelled: 24). cy 0. old-2: 10 x 2 x 1.5 = 30.
    // eve: 160 (lifetime 170 -> Silver after it), 10 x 2 x 1.5 = 30.
    // orderPoints = 1161 + 95 + 0 + 30 + 190 = 1476; reversed = 300 + 10 + 24 = 334.
    expect(s.proposed.orderPoints).toBe(1476);
    expect(s.proposed.pointsReversed).toBe(334);
    expect(s.proposed.otherPoints).toBe(180);
    expect(s.proposed.pointsIssued).toBe(1656);
    expect(s.proposed.netPoints).toBe(1322);
    // Liability: today's 712 moved by 1322 - 712.
    expect(s.proposed.liabilityPoints).toBe(1322);
    expect(s.proposed.liability).toBe("13.22");
    expect(s.proposed.revenue).toBe("364.83");
    expect(s.proposed.cost).toBe("13.22");
    // 1322 / 36483 = 0.03624 -> 0.0362.
    expect(s.proposed.costShare).toBe(0.0362);
    expect(s.proposed.ordersMatchingRecorded).toBeLessThan(12);
    // Side by side with the current program.
    expect(s.current.orderPoints).toBe(699);
  });

  it("projects the tier distribution of other tiers, and another point value", async () => {
    const proposed = structuredClone(program);
    proposed.tiers = [{ name: "Bronze", basis: "lifetime_points", threshold: 20, multiplier: 1, perks: "" }];
    proposed.pointValue = "0.02";
    const res = await simulate({ program: proposed, days: 90 });
    expect(res.status).toBe(200);
    const s = res.body;
    // No multiplier beyond x1 now: ann 50 + 80 + 60 (boost) + 200 + 10 = 400, bob 16 + 20 + 12 = 48, cy 0,
    // old 10, eve 80 + 10 = 90.
    expect(s.proposed.orderPoints).toBe(548);
    // ann 200 x 100/200 = 100; bob 5 + 12.
    expect(s.proposed.pointsReversed).toBe(117);
    // net = 548 - 117 + 180 = 611, at 0.02 = 12.22.
    expect(s.proposed.netPoints).toBe(611);
    expect(s.proposed.cost).toBe("12.22");
    expect(s.proposed.liabilityPoints).toBe(611);
    // Lifetime >= 20: ann, bob (41), old, eve; cy and dan hold 10.
    expect(s.proposed.tiers).toEqual([
      { tier: null, members: 2 },
      { tier: "Bronze", members: 4 },
    ]);
  });

  it("replays only the last N days", async () => {
    const res = await simulate({ program, days: 22 });
    expect(res.status).toBe(200);
    // Orders of the last 22 days: ann-5 (21), cy-1 (0), old-2 (15), eve-1 (80), eve-2 (15).
    expect(res.body.orders).toBe(5);
    expect(res.body.recordedOrderPoints).toBe(131);
    expect(res.body.current.orderPoints).toBe(131);
    expect(res.body.current.ordersMatchingRecorded).toBe(5);
  });

  it("refuses bad input and strangers, changing nothing", async () => {
    const before = await env.DB.prepare("SELECT program FROM shops WHERE id = ?").bind(shop.id).first();
    expectError(await simulate({ days: 30 }), 400, "invalid_request");
    expectError(await simulate({ program, days: 0 }), 400, "invalid_request");
    expectError(await simulate({ program, days: 366 }), 400, "invalid_request");
    const bad = structuredClone(program);
    bad.earning.pointsPerUnit = -1;
    expectError(await simulate({ program: bad }), 400, "invalid_request");
    expectError(await call("POST", "/v1/program/simulate", { body: { program } }), 401, "unauthorized");
    expect(await env.DB.prepare("SELECT program FROM shops WHERE id = ?").bind(shop.id).first()).toEqual(before);
  });
});
