import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  isRunning,
  nextProgress,
  orderContribution,
  periodIndex,
  progressTakenBack,
  visibleProgress,
} from "../../worker/domain/challenges";
import { ingestEvent } from "../../worker/services/events";
import { shopById } from "../../worker/store/shops";
import {
  assertLedgerInvariants,
  call,
  customer,
  eventId,
  expectError,
  ledgerOf,
  makeShop,
  orderPaid,
  sendEvent,
  setProgram,
  storefrontSession,
  type TestShop,
} from "./helpers";

async function makeChallenge(shop: TestShop, challenge: Record<string, unknown>) {
  const res = await call("POST", "/v1/challenges", {
    token: shop.secretKey,
    body: { name: "Challenge", rewardPoints: 50, ...challenge },
  });
  if (res.status !== 201) throw new Error(`makeChallenge failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.challenge as { id: string; goal: number };
}

async function progressRow(challengeId: string, externalId: string) {
  return env.DB.prepare(
    `SELECT p.progress, p.last_period, p.completed_at FROM challenge_progress p JOIN customers c ON c.id = p.customer_id
     WHERE p.challenge_id = ? AND c.external_id = ?`,
  )
    .bind(challengeId, externalId)
    .first<{ progress: number; last_period: number | null; completed_at: string | null }>();
}

async function challengeEntries(shop: TestShop, externalId: string) {
  return (await ledgerOf(shop, externalId)).filter((e) => e.kind === "challenge");
}

let orderCounter = 0;
const nextOrderId = () => `ord_${++orderCounter}`;

describe("challenge rules (pure)", () => {
  const base = {
    id: "chl_x",
    name: "x",
    rewardPoints: 10,
    badge: null,
    productType: null,
    periodDays: null,
    startsAt: null,
    endsAt: null,
    active: true,
  };

  it("counts what each kind measures", () => {
    const order = {
      eligible: 4_999,
      lines: [
        { productType: "shoes", quantity: 2 },
        { productType: "hats", quantity: 1 },
        { quantity: 4 },
      ],
      orderedAt: new Date("2026-03-04T10:00:00Z"),
    };
    expect(orderContribution({ ...base, kind: "order_count", goal: 3 }, order)).toEqual({ amount: 1, period: null });
    expect(orderContribution({ ...base, kind: "spend", goal: 3 }, order)).toEqual({ amount: 4_999, period: null });
    expect(orderContribution({ ...base, kind: "product_type", goal: 3, productType: "shoes" }, order)).toEqual({
      amount: 2,
      period: null,
    });
    expect(orderContribution({ ...base, kind: "product_type", goal: 3, productType: "bags" }, order)).toBeNull();
    expect(orderContribution({ ...base, kind: "spend", goal: 3 }, { ...order, eligible: 0 })).toBeNull();
    expect(orderContribution({ ...base, kind: "review", goal: 3 }, order)).toBeNull();
  });

  it("numbers streak periods from the challenge's start, or from 1970 without one", () => {
    expect(periodIndex(new Date("1970-01-07T23:59:59Z"), 7, null)).toBe(0);
    expect(periodIndex(new Date("1970-01-08T00:00:00Z"), 7, null)).toBe(1);
    const start = "2026-03-02T00:00:00.000Z";
    expect(periodIndex(new Date("2026-03-02T00:00:00Z"), 7, start)).toBe(0);
    expect(periodIndex(new Date("2026-03-08T23:59:59Z"), 7, start)).toBe(0);
    expect(periodIndex(new Date("2026-03-09T00:00:00Z"), 7, start)).toBe(1);
    expect(periodIndex(new Date("2026-03-01T23:00:00Z"), 7, start)).toBe(-1);
  });

  it("grows a streak only in consecutive periods, restarts after a gap and ignores late orders", () => {
    const rule = { kind: "streak" as const, goal: 3 };
    let state = nextProgress(rule, null, { amount: 1, period: 10 });
    expect(state).toEqual({ progress: 1, lastPeriod: 10, completed: false });
    state = nextProgress(rule, state, { amount: 1, period: 10 });
    expect(state.progress).toBe(1);
    state = nextProgress(rule, state, { amount: 1, period: 11 });
    expect(state.progress).toBe(2);
    state = nextProgress(rule, state, { amount: 1, period: 9 });
    expect(state).toEqual({ progress: 2, lastPeriod: 11, completed: false });
    state = nextProgress(rule, state, { amount: 1, period: 13 });
    expect(state).toEqual({ progress: 1, lastPeriod: 13, completed: false });
    state = nextProgress(rule, state, { amount: 1, period: 14 });
    state = nextProgress(rule, state, { amount: 1, period: 15 });
    expect(state).toEqual({ progress: 3, lastPeriod: 15, completed: true });
    expect(nextProgress(rule, state, { amount: 1, period: 16 })).toBe(state);
  });

  it("shows a broken streak as 0 and caps progress at the goal", () => {
    const rule = { kind: "streak" as const, goal: 4, periodDays: 7, startsAt: null };
    const state = { progress: 2, lastPeriod: 100, completed: false };
    expect(visibleProgress(rule, state, new Date(100 * 7 * 86_400_000))).toBe(2);
    expect(visibleProgress(rule, state, new Date(101 * 7 * 86_400_000))).toBe(2);
    expect(visibleProgress(rule, state, new Date(102 * 7 * 86_400_000))).toBe(0);
    const spend = { kind: "spend" as const, goal: 1_000, periodDays: null, startsAt: null };
    expect(visibleProgress(spend, { progress: 5_000, lastPeriod: null, completed: false }, new Date())).toBe(1_000);
    expect(visibleProgress(spend, null, new Date())).toBe(0);
  });

  it("runs from its start (inclusive) to its end (exclusive), and only while active", () => {
    const rule = { active: true, startsAt: "2026-01-01T00:00:00.000Z", endsAt: "2026-02-01T00:00:00.000Z" };
    expect(isRunning(rule, new Date("2025-12-31T23:59:59Z"))).toBe(false);
    expect(isRunning(rule, new Date("2026-01-01T00:00:00Z"))).toBe(true);
    expect(isRunning(rule, new Date("2026-02-01T00:00:00Z"))).toBe(false);
    expect(isRunning({ ...rule, active: false }, new Date("2026-01-15T00:00:00Z"))).toBe(false);
    expect(isRunning({ active: true, startsAt: null, endsAt: null }, new Date(0))).toBe(true);
  });

  it("a refund takes back what the order still contributed, never more than it added", () => {
    const steps = [
      { challengeId: "count", kind: "order_count" as const, amount: 1 },
      { challengeId: "spend", kind: "spend" as const, amount: 2_000 },
      { challengeId: "tea", kind: "product_type" as const, amount: 2 },
    ];
    const paid = { eligible: 2_000, refunded: 0, cancelled: false };
    // 5.00 of 20.00 refunded: spend goes back 500; the order still counts, with its items.
    expect(progressTakenBack(steps, paid, { ...paid, refunded: 500 })).toEqual([{ challengeId: "spend", amount: 500 }]);
    // The rest refunded: everything it still contributed (1 order, 1,500 spend, 2 items).
    expect(progressTakenBack(steps, { ...paid, refunded: 500 }, { ...paid, refunded: 2_000 })).toEqual([
      { challengeId: "count", amount: 1 },
      { challengeId: "spend", amount: 1_500 },
      { challengeId: "tea", amount: 2 },
    ]);
    // Refunding more than the eligible amount takes back nothing more; a cancel after a full refund neither.
    expect(progressTakenBack(steps, { ...paid, refunded: 2_000 }, { ...paid, refunded: 2_500 })).toEqual([]);
    expect(progressTakenBack(steps, { ...paid, refunded: 2_000 }, { ...paid, refunded: 2_000, cancelled: true })).toEqual([]);
    // An order that arrived with 8.00 refunded added only 1,200 of spend: a later 3.00 refund takes back 300.
    const late = [{ challengeId: "spend", kind: "spend" as const, amount: 1_200 }];
    expect(progressTakenBack(late, { ...paid, refunded: 800 }, { ...paid, refunded: 1_100 })).toEqual([
      { challengeId: "spend", amount: 300 },
    ]);
    // A zero-eligible order counted once; cancelling it takes that back.
    const free = { eligible: 0, refunded: 0, cancelled: false };
    expect(progressTakenBack([steps[0]!], free, { ...free, cancelled: true })).toEqual([{ challengeId: "count", amount: 1 }]);
  });
});

describe("merchant challenge CRUD", () => {
  it("creates, lists, reads, changes and deletes challenges", async () => {
    const shop = await makeShop();
    const created = await call("POST", "/v1/challenges", {
      token: shop.secretKey,
      body: {
        name: "Weekly regular",
        kind: "streak",
        goal: 4,
        rewardPoints: 200,
        badge: "🔥",
        periodDays: 7,
        startsAt: "2026-03-02T01:00:00+01:00",
      },
    });
    expect(created.status).toBe(201);
    const challenge = created.body.challenge;
    expect(challenge.id).toMatch(/^chl_[0-9a-z]{16}$/);
    expect(challenge).toMatchObject({
      name: "Weekly regular",
      kind: "streak",
      goal: 4,
      rewardPoints: 200,
      badge: "🔥",
      productType: null,
      periodDays: 7,
      startsAt: "2026-03-02T00:00:00.000Z",
      endsAt: null,
      active: true,
      completions: 0,
    });

    const list = await call("GET", "/v1/challenges", { token: shop.secretKey });
    expect(list.status).toBe(200);
    expect(list.body.challenges.map((c: { id: string }) => c.id)).toEqual([challenge.id]);

    const read = await call("GET", `/v1/challenges/${challenge.id}`, { token: shop.secretKey });
    expect(read.status).toBe(200);
    expect(read.body.challenge).toEqual(challenge);

    const patched = await call("PATCH", `/v1/challenges/${challenge.id}`, {
      token: shop.secretKey,
      body: { name: "Every week", goal: 5, badge: null, endsAt: "2026-06-01T00:00:00Z" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.challenge).toMatchObject({
      id: challenge.id,
      name: "Every week",
      goal: 5,
      badge: null,
      periodDays: 7,
      endsAt: "2026-06-01T00:00:00.000Z",
    });

    const deleted = await call("DELETE", `/v1/challenges/${challenge.id}`, { token: shop.secretKey });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: true });
    expectError(await call("GET", `/v1/challenges/${challenge.id}`, { token: shop.secretKey }), 404, "not_found");
    expectError(await call("DELETE", `/v1/challenges/${challenge.id}`, { token: shop.secretKey }), 404, "not_found");
    expect((await call("GET", "/v1/challenges", { token: shop.secretKey })).body.challenges).toEqual([]);
  });

  it("validates challenges with details per field", async () => {
    const shop = await makeShop();
    const bad = async (body: Record<string, unknown>, path: string) => {
      const res = await call("POST", "/v1/challenges", { token: shop.secretKey, body });
      expectError(res, 400, "invalid_request");
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    };
    const ok = { name: "Buy", kind: "order_count", goal: 3, rewardPoints: 10 };
    await bad({ ...ok, kind: "dance" }, "kind");
    await bad({ ...ok, goal: 0 }, "goal");
    await bad({ ...ok, goal: 1.5 }, "goal");
    await bad({ ...ok, rewardPoints: -1 }, "rewardPoints");
    await bad({ ...ok, name: "" }, "name");
    await bad({ ...ok, kind: "product_type" }, "productType");
    await bad({ ...ok, productType: "shoes" }, "productType");
    await bad({ ...ok, kind: "streak" }, "periodDays");
    await bad({ ...ok, periodDays: 7 }, "periodDays");
    await bad({ ...ok, startsAt: "yesterday" }, "startsAt");
    await bad({ ...ok, startsAt: "2026-02-01T00:00:00Z", endsAt: "2026-01-01T00:00:00Z" }, "endsAt");
    const { goal: _goal, ...missing } = ok;
    await bad(missing, "goal");

    const challenge = await makeChallenge(shop, ok);
    const patch = async (body: Record<string, unknown>) =>
      call("PATCH", `/v1/challenges/${challenge.id}`, { token: shop.secretKey, body });
    expectError(await patch({ kind: "spend" }), 400, "invalid_request");
    expectError(await patch({ goal: -3 }), 400, "invalid_request");
    expectError(await patch({ productType: "shoes" }), 400, "invalid_request");
    expectError(await patch({ startsAt: "2026-02-01T00:00:00Z", endsAt: "2026-01-01T00:00:00Z" }), 400, "invalid_request");
    expect((await call("GET", `/v1/challenges/${challenge.id}`, { token: shop.secretKey })).body.challenge.goal).toBe(3);
    expectError(await call("GET", "/v1/challenges"), 401, "unauthorized");
  });

  it("never shows or changes another shop's challenge", async () => {
    const a = await makeShop();
    const b = await makeShop();
    const challenge = await makeChallenge(a, { kind: "order_count", goal: 1 });
    expectError(await call("GET", `/v1/challenges/${challenge.id}`, { token: b.secretKey }), 404, "not_found");
    expectError(
      await call("PATCH", `/v1/challenges/${challenge.id}`, { token: b.secretKey, body: { name: "mine" } }),
      404,
      "not_found",
    );
    expectError(await call("DELETE", `/v1/challenges/${challenge.id}`, { token: b.secretKey }), 404, "not_found");
    expect((await call("GET", "/v1/challenges", { token: b.secretKey })).body.challenges).toEqual([]);
    // B's orders never move A's challenge, even for a customer id both shops use.
    await orderPaid(b, { id: nextOrderId(), customerId: "shared", subtotal: "10.00" });
    expect(await progressRow(challenge.id, "shared")).toBeNull();
    const token = await storefrontSession(b, "shared");
    expectError(await call("POST", `/v1/storefront/actions/${challenge.id}`, { token }), 404, "not_found");
    expect((await call("GET", `/v1/challenges/${challenge.id}`, { token: a.secretKey })).body.challenge.name).toBe(
      "Challenge",
    );
  });
});

describe("progress from orders", () => {
  it("order_count completes once, with the points and the badge, in the order's own write", async () => {
    const shop = await makeShop();
    const challenge = await makeChallenge(shop, { kind: "order_count", goal: 2, rewardPoints: 50, badge: "🛍️" });
    const first = await orderPaid(shop, { id: nextOrderId(), customerId: "ann", subtotal: "10.00" });
    expect(first.body).toMatchObject({ points: 10, balance: 10 });
    expect(await progressRow(challenge.id, "ann")).toMatchObject({ progress: 1, completed_at: null });

    const second = await orderPaid(shop, { id: nextOrderId(), customerId: "ann", subtotal: "10.00" });
    expect(second.body).toMatchObject({ points: 60, balance: 70 });
    expect((await progressRow(challenge.id, "ann"))!.completed_at).not.toBeNull();

    const third = await orderPaid(shop, { id: nextOrderId(), customerId: "ann", subtotal: "10.00" });
    expect(third.body).toMatchObject({ points: 10, balance: 80 });
    const entries = await challengeEntries(shop, "ann");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ delta: 50, reference: challenge.id });

    const member = await call("GET", "/v1/customers/ann", { token: shop.secretKey });
    expect(member.body.customer.badges).toEqual([
      { challengeId: challenge.id, name: "Challenge", badge: "🛍️", earnedAt: expect.any(String) },
    ]);
    expect((await call("GET", `/v1/challenges/${challenge.id}`, { token: shop.secretKey })).body.challenge.completions).toBe(1);

    // The widget's state shows the progress and the badge.
    const token = await storefrontSession(shop, "ann");
    const state = await call("GET", "/v1/storefront/state", { token });
    expect(state.status).toBe(200);
    expect(state.body.challenges).toEqual([
      expect.objectContaining({ id: challenge.id, goal: 2, progress: 2, completed: true, badge: "🛍️", rewardPoints: 50 }),
    ]);
    expect(state.body.customer.badges).toEqual([expect.objectContaining({ challengeId: challenge.id, badge: "🛍️" })]);
    await assertLedgerInvariants(shop.id);
  });

  it("spend counts the eligible amount in minor units and completes once", async () => {
    const shop = await makeShop();
    const challenge = await makeChallenge(shop, { kind: "spend", goal: 10_000, rewardPoints: 100 });
    await orderPaid(shop, { id: nextOrderId(), customerId: "bo", subtotal: "60.00", discount: "5.00", shipping: "9.00" });
    expect((await progressRow(challenge.id, "bo"))!.progress).toBe(5_500);
    const res = await orderPaid(shop, { id: nextOrderId(), customerId: "bo", subtotal: "45.00" });
    expect(res.body.points).toBe(145);
    expect((await progressRow(challenge.id, "bo"))!.progress).toBe(10_000);
    await orderPaid(shop, { id: nextOrderId(), customerId: "bo", subtotal: "200.00" });
    expect(await challengeEntries(shop, "bo")).toHaveLength(1);
    const token = await storefrontSession(shop, "bo");
    const state = await call("GET", "/v1/storefront/state", { token });
    expect(state.body.challenges[0]).toMatchObject({ kind: "spend", goal: 10_000, progress: 10_000, completed: true });
  });

  it("product_type counts items of the type and completes once", async () => {
    const shop = await makeShop();
    const challenge = await makeChallenge(shop, { kind: "product_type", productType: "shoes", goal: 3, badge: "👟" });
    const line = (productType: string, quantity: number) => ({ productType, quantity, price: "10.00" });
    await orderPaid(shop, { id: nextOrderId(), customerId: "cy", subtotal: "30.00", lines: [line("shoes", 2), line("hats", 1)] });
    expect((await progressRow(challenge.id, "cy"))!.progress).toBe(2);
    await orderPaid(shop, { id: nextOrderId(), customerId: "cy", subtotal: "10.00", lines: [line("hats", 1)] });
    expect((await progressRow(challenge.id, "cy"))!.progress).toBe(2);
    await orderPaid(shop, { id: nextOrderId(), customerId: "cy", subtotal: "20.00", lines: [line("shoes", 2)] });
    expect((await progressRow(challenge.id, "cy"))!.completed_at).not.toBeNull();
    await orderPaid(shop, { id: nextOrderId(), customerId: "cy", subtotal: "20.00", lines: [line("shoes", 2)] });
    expect(await challengeEntries(shop, "cy")).toHaveLength(1);
    expect((await customer(shop, "cy")).balance).toBe(80 + 50);
  });

  it("an order cancelled or refunded in full before it arrives counts toward nothing", async () => {
    const shop = await makeShop();
    const challenge = await makeChallenge(shop, { kind: "order_count", goal: 1 });
    const cancelledId = nextOrderId();
    await sendEvent(shop, { type: "order.cancelled", order: { id: cancelledId } });
    await orderPaid(shop, { id: cancelledId, customerId: "dee", subtotal: "10.00" });
    const refundedId = nextOrderId();
    await sendEvent(shop, { type: "order.refunded", order: { id: refundedId }, refund: { id: "r1", amount: "10.00" } });
    await orderPaid(shop, { id: refundedId, customerId: "dee", subtotal: "10.00" });
    expect(await progressRow(challenge.id, "dee")).toBeNull();
  });

  it("respects startsAt, endsAt, active and deletion", async () => {
    const shop = await makeShop();
    const past = await makeChallenge(shop, { kind: "order_count", goal: 1, endsAt: "2020-01-01T00:00:00Z" });
    const future = await makeChallenge(shop, { kind: "order_count", goal: 1, startsAt: "2999-01-01T00:00:00Z" });
    const paused = await makeChallenge(shop, { kind: "order_count", goal: 1, active: false });
    const removed = await makeChallenge(shop, { kind: "order_count", goal: 1 });
    const windowed = await makeChallenge(shop, {
      kind: "order_count",
      goal: 1,
      startsAt: "2026-01-01T00:00:00Z",
      endsAt: "2026-02-01T00:00:00Z",
    });
    await call("DELETE", `/v1/challenges/${removed.id}`, { token: shop.secretKey });
    // Outside the window by the order's own time, then inside it.
    await orderPaid(shop, { id: nextOrderId(), customerId: "eve", subtotal: "10.00" }, { occurredAt: "2026-02-01T00:00:00Z" });
    for (const c of [past, future, paused, removed, windowed]) expect(await progressRow(c.id, "eve")).toBeNull();
    await orderPaid(shop, { id: nextOrderId(), customerId: "eve", subtotal: "10.00" }, { occurredAt: "2026-01-31T23:59:59Z" });
    expect((await progressRow(windowed.id, "eve"))!.completed_at).not.toBeNull();
    for (const c of [past, future, paused, removed]) expect(await progressRow(c.id, "eve")).toBeNull();
    expect(await challengeEntries(shop, "eve")).toHaveLength(1);
  });

  it("streaks count an order in each of N consecutive periods, over period boundaries, with a fixed clock", async () => {
    const testShop = await makeShop();
    const challenge = await makeChallenge(testShop, {
      kind: "streak",
      goal: 3,
      periodDays: 7,
      rewardPoints: 70,
      badge: "📅",
      startsAt: "2026-03-02T00:00:00Z",
    });
    const shop = (await shopById(env.DB, testShop.id))!;
    const order = (at: string) =>
      ingestEvent(
        env.DB,
        shop,
        "events",
        {
          id: eventId(),
          type: "order.paid",
          occurredAt: at,
          order: { id: nextOrderId(), customerId: "fay", currency: "EUR", subtotal: "10.00", lines: [] },
        },
        new Date(at),
      );
    const row = () => progressRow(challenge.id, "fay");

    await order("2026-03-01T23:59:59Z"); // before the start: does not count
    expect(await row()).toBeNull();
    await order("2026-03-02T00:00:00Z"); // period 0
    expect(await row()).toMatchObject({ progress: 1, last_period: 0 });
    await order("2026-03-08T23:59:59Z"); // still period 0
    expect(await row()).toMatchObject({ progress: 1, last_period: 0 });
    await order("2026-03-09T00:00:00Z"); // period 1, just over the boundary
    expect(await row()).toMatchObject({ progress: 2, last_period: 1 });
    await order("2026-03-23T12:00:00Z"); // period 3: period 2 was missed, the streak starts again
    expect(await row()).toMatchObject({ progress: 1, last_period: 3 });
    await order("2026-03-30T00:00:00Z"); // period 4
    expect(await row()).toMatchObject({ progress: 2, last_period: 4, completed_at: null });
    const done = await order("2026-04-12T23:59:59Z"); // period 5: three in a row
    expect(done.points).toBe(10 + 70);
    expect((await row())!.completed_at).not.toBeNull();
    await order("2026-04-13T00:00:00Z"); // period 6: complete, nothing more
    expect(await row()).toMatchObject({ progress: 3, last_period: 5 });
    expect(await challengeEntries(testShop, "fay")).toHaveLength(1);
    await assertLedgerInvariants(testShop.id);
  });

  it("a late order from an earlier period neither grows nor breaks a streak", async () => {
    const shop = await makeShop();
    const challenge = await makeChallenge(shop, { kind: "streak", goal: 5, periodDays: 1 });
    const at = (day: number) => ({ occurredAt: new Date(Date.UTC(2026, 0, day, 12)).toISOString() });
    await orderPaid(shop, { id: nextOrderId(), customerId: "gus", subtotal: "1.00" }, at(10));
    await orderPaid(shop, { id: nextOrderId(), customerId: "gus", subtotal: "1.00" }, at(11));
    await orderPaid(shop, { id: nextOrderId(), customerId: "gus", subtotal: "1.00" }, at(9));
    const row = await progressRow(challenge.id, "gus");
    expect(row!.progress).toBe(2);
    expect(row!.last_period).toBe(periodIndex(new Date(Date.UTC(2026, 0, 11, 12)), 1, null));
  });
});

describe("refunds and cancellations", () => {
  it("take back an order's progress from unfinished challenges; completed ones keep their reward", async () => {
    const shop = await makeShop();
    const count = await makeChallenge(shop, { kind: "order_count", goal: 3, rewardPoints: 50 });
    const spend = await makeChallenge(shop, { kind: "spend", goal: 100_000, rewardPoints: 50 });
    const tea = await makeChallenge(shop, { kind: "product_type", productType: "Tea", goal: 10, rewardPoints: 50 });
    const once = await makeChallenge(shop, { kind: "order_count", goal: 1, rewardPoints: 30, badge: "First" });
    const lines = [{ productType: "Tea", quantity: 2, price: "10.00" }];
    const a = nextOrderId();
    await orderPaid(shop, { id: a, customerId: "kai", subtotal: "20.00", lines });
    const b = nextOrderId();
    await orderPaid(shop, { id: b, customerId: "kai", subtotal: "10.00", lines: [{ productType: "Tea", quantity: 1, price: "10.00" }] });
    const progress = async () =>
      Object.fromEntries(
        await Promise.all(
          [count, spend, tea, once].map(async (c, i) => [["count", "spend", "tea", "once"][i], (await progressRow(c.id, "kai"))!.progress]),
        ),
      );
    expect(await progress()).toEqual({ count: 2, spend: 3_000, tea: 3, once: 1 });

    // A partial refund of A: spend goes back by 5.00; A still counts as an order with its items.
    await sendEvent(shop, { type: "order.refunded", order: { id: a }, refund: { id: "r1", amount: "5.00" } });
    expect(await progress()).toEqual({ count: 2, spend: 2_500, tea: 3, once: 1 });
    // The rest of A: it no longer counts at all.
    await sendEvent(shop, { type: "order.refunded", order: { id: a }, refund: { id: "r2", amount: "15.00" } });
    expect(await progress()).toEqual({ count: 1, spend: 1_000, tea: 1, once: 1 });
    // A redelivered refund changes nothing more.
    await sendEvent(shop, { type: "order.refunded", order: { id: a }, refund: { id: "r2", amount: "15.00" } });
    // B cancelled: nothing left; the completed one-order challenge keeps its reward and badge.
    await sendEvent(shop, { type: "order.cancelled", order: { id: b } });
    expect(await progress()).toEqual({ count: 0, spend: 0, tea: 0, once: 1 });
    expect((await progressRow(once.id, "kai"))!.completed_at).not.toBeNull();
    expect(await challengeEntries(shop, "kai")).toHaveLength(1);
    // A new order starts from there: three more orders complete "3 orders", not two.
    for (let i = 0; i < 2; i++) await orderPaid(shop, { id: nextOrderId(), customerId: "kai", subtotal: "1.00" });
    expect((await progressRow(count.id, "kai"))!.completed_at).toBeNull();
    await orderPaid(shop, { id: nextOrderId(), customerId: "kai", subtotal: "1.00" });
    expect((await progressRow(count.id, "kai"))!.completed_at).not.toBeNull();
    await assertLedgerInvariants(shop.id);
  });

  it("a refund that arrived before its order leaves that order's progress out", async () => {
    const shop = await makeShop();
    const count = await makeChallenge(shop, { kind: "order_count", goal: 5, rewardPoints: 50 });
    const spend = await makeChallenge(shop, { kind: "spend", goal: 100_000, rewardPoints: 50 });
    const id = nextOrderId();
    await sendEvent(shop, { type: "order.refunded", order: { id }, refund: { id: "early", amount: "4.00" } });
    await orderPaid(shop, { id, customerId: "lou", subtotal: "10.00" });
    expect((await progressRow(count.id, "lou"))!.progress).toBe(1);
    expect((await progressRow(spend.id, "lou"))!.progress).toBe(600);
    await sendEvent(shop, { type: "order.refunded", order: { id }, refund: { id: "later", amount: "6.00" } });
    expect((await progressRow(count.id, "lou"))!.progress).toBe(0);
    expect((await progressRow(spend.id, "lou"))!.progress).toBe(0);
  });
});

describe("what the widget shows", () => {
  it("a streak that missed a period shows as broken in the state; a live one shows its length", async () => {
    const shop = await makeShop();
    const challenge = await makeChallenge(shop, { kind: "streak", goal: 5, periodDays: 1, badge: "🔥" });
    const daysAgo = (n: number) => ({ occurredAt: new Date(Date.now() - n * 86_400_000).toISOString() });
    for (const n of [10, 9]) await orderPaid(shop, { id: nextOrderId(), customerId: "old", subtotal: "1.00" }, daysAgo(n));
    for (const n of [1, 0]) await orderPaid(shop, { id: nextOrderId(), customerId: "live", subtotal: "1.00" }, daysAgo(n));
    const shown = async (id: string) =>
      (await call("GET", "/v1/storefront/state", { token: await storefrontSession(shop, id) })).body.challenges[0];
    expect((await progressRow(challenge.id, "old"))!.progress).toBe(2);
    expect(await shown("old")).toMatchObject({ id: challenge.id, progress: 0, completed: false });
    expect(await shown("live")).toMatchObject({ id: challenge.id, progress: 2, completed: false });
    const guest = await call("GET", "/v1/storefront/state", { token: await storefrontSession(shop) });
    expect(guest.body.challenges).toEqual([expect.objectContaining({ id: challenge.id, progress: 0, completed: false })]);
  });
});

describe("concurrency", () => {
  it("concurrent orders at the goal pay the reward and the badge once", async () => {
    const shop = await makeShop();
    const challenge = await makeChallenge(shop, { kind: "order_count", goal: 3, rewardPoints: 500, badge: "🏆" });
    await orderPaid(shop, { id: nextOrderId(), customerId: "hal", subtotal: "1.00" });
    await orderPaid(shop, { id: nextOrderId(), customerId: "hal", subtotal: "1.00" });
    const results = await Promise.all(
      Array.from({ length: 6 }, () => orderPaid(shop, { id: nextOrderId(), customerId: "hal", subtotal: "1.00" })),
    );
    for (const r of results) expect(r.status).toBe(200);
    expect(await challengeEntries(shop, "hal")).toHaveLength(1);
    const badges = await env.DB.prepare("SELECT COUNT(*) AS n FROM badges WHERE challenge_id = ?").bind(challenge.id).first<{ n: number }>();
    expect(badges!.n).toBe(1);
    expect((await progressRow(challenge.id, "hal"))!.progress).toBe(3);
    expect((await customer(shop, "hal")).balance).toBe(8 + 500);
    await assertLedgerInvariants(shop.id);
  });

  it("a step planned on progress that another order changed before the write re-reads, and completes the challenge", async () => {
    const shop = await makeShop();
    const challenge = await makeChallenge(shop, { kind: "spend", goal: 1_000, rewardPoints: 25 });
    await orderPaid(shop, { id: nextOrderId(), customerId: "jo", subtotal: "1.00" });
    const loaded = (await shopById(env.DB, shop.id))!;
    // Between this order's read batch and its write batch, another order of 6.00 lands: read alone,
    // each sees 100 + 600 < 1,000; together they reach the goal.
    let interleaved = false;
    const racing = {
      prepare: (sql: string) => env.DB.prepare(sql),
      batch: async (statements: D1PreparedStatement[]) => {
        const results = await env.DB.batch(statements);
        if (!interleaved) {
          interleaved = true;
          expect((await orderPaid(shop, { id: nextOrderId(), customerId: "jo", subtotal: "6.00" })).status).toBe(200);
        }
        return results;
      },
    } as unknown as D1Database;
    const event = { id: eventId(), type: "order.paid", order: { id: nextOrderId(), customerId: "jo", currency: "EUR", subtotal: "6.00", lines: [] } };
    expect(await ingestEvent(racing, loaded, "events", event as never)).toMatchObject({ status: "processed" });
    expect(interleaved).toBe(true);
    const row = await progressRow(challenge.id, "jo");
    expect(row).toMatchObject({ progress: 1_300 });
    expect(row!.completed_at).not.toBeNull();
    expect(await challengeEntries(shop, "jo")).toHaveLength(1);
    expect((await customer(shop, "jo")).balance).toBe(1 + 6 + 6 + 25);
    await assertLedgerInvariants(shop.id);
  });

  it("concurrent first orders of a new member add up instead of overwriting each other", async () => {
    const shop = await makeShop();
    const challenge = await makeChallenge(shop, { kind: "spend", goal: 1_000, rewardPoints: 25 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => orderPaid(shop, { id: nextOrderId(), customerId: "ivy", subtotal: "2.00" })),
    );
    for (const r of results) expect(r.status).toBe(200);
    const row = await progressRow(challenge.id, "ivy");
    expect(row!.progress).toBe(1_000);
    expect(row!.completed_at).not.toBeNull();
    expect(await challengeEntries(shop, "ivy")).toHaveLength(1);
    expect((await customer(shop, "ivy")).balance).toBe(10 + 25);
  });
});

describe("reviews and social actions", () => {
  it("review challenges complete once from review events", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.review = 5;
    });
    const challenge = await makeChallenge(shop, { kind: "review", goal: 2, rewardPoints: 40, badge: "✍️" });
    const review = () => sendEvent(shop, { type: "review.created", customerId: "jo" });
    expect((await review()).body).toMatchObject({ points: 5, balance: 5 });
    expect((await review()).body).toMatchObject({ points: 45, balance: 50 });
    expect((await review()).body).toMatchObject({ points: 5, balance: 55 });
    expect(await challengeEntries(shop, "jo")).toHaveLength(1);
    expect((await customer(shop, "jo")).balance).toBe(55);
    expect((await progressRow(challenge.id, "jo"))!.completed_at).not.toBeNull();
  });

  it("a social action is self-reported once per member; guests are refused", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.social = 15;
    });
    const follow = await makeChallenge(shop, { name: "Follow us", kind: "social", goal: 1, rewardPoints: 20, badge: "📣" });
    const orders = await makeChallenge(shop, { kind: "order_count", goal: 1 });
    const ended = await makeChallenge(shop, { kind: "social", goal: 1, endsAt: "2020-01-01T00:00:00Z" });

    const guest = await storefrontSession(shop);
    expectError(await call("POST", `/v1/storefront/actions/${follow.id}`, { token: guest }), 401, "unauthorized");
    expectError(await call("POST", `/v1/storefront/actions/${follow.id}`), 401, "unauthorized");

    const token = await storefrontSession(shop, "kim");
    const first = await call("POST", `/v1/storefront/actions/${follow.id}`, { token });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      challenge: {
        id: follow.id,
        name: "Follow us",
        kind: "social",
        goal: 1,
        progress: 1,
        completed: true,
        badge: "📣",
        rewardPoints: 20,
        endsAt: null,
      },
      points: 35,
      balance: 35,
    });
    expectError(await call("POST", `/v1/storefront/actions/${follow.id}`, { token }), 409, "already_reported");
    expectError(await call("POST", `/v1/storefront/actions/${orders.id}`, { token }), 422, "not_self_reported");
    expectError(await call("POST", `/v1/storefront/actions/${ended.id}`, { token }), 422, "challenge_not_running");
    expectError(await call("POST", "/v1/storefront/actions/chl_unknown", { token }), 404, "not_found");

    // Concurrent double-taps from another member still count once.
    const other = await storefrontSession(shop, "lee");
    const taps = await Promise.all(
      Array.from({ length: 4 }, () => call("POST", `/v1/storefront/actions/${follow.id}`, { token: other })),
    );
    expect(taps.map((t) => t.status).sort()).toEqual([201, 409, 409, 409]);
    expect((await customer(shop, "lee")).balance).toBe(35);
    const ledger = await ledgerOf(shop, "kim");
    expect(ledger.map((e) => [e.kind, e.delta])).toEqual([
      ["challenge", 20],
      ["social", 15],
    ]);
    await assertLedgerInvariants(shop.id);
  });
});
