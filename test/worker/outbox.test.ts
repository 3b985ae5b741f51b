/**
 * The outbox: every point-moving use case records its domain events in the same batch as its
 * change (services/pipeline.ts, 0014_outbox.sql), and a refused change records none.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expirePoints, runScheduledWork } from "../../worker/services/scheduled";
import { shopById } from "../../worker/store/shops";
import { ingestEvent } from "../../worker/services/events";
import {
  assertLedgerInvariants,
  assertOutboxMatchesLedger,
  call,
  customer,
  expectError,
  makeReward,
  makeShop,
  orderPaid,
  outboxMark,
  outboxOf,
  postAdjustment,
  sendEvent,
  setProgram,
  snapshot,
  storefrontSession,
  type TestShop,
} from "./helpers";

/** The events (type and data) a step adds to the shop's outbox. */
async function eventsOf(shop: TestShop, step: () => Promise<unknown>) {
  const mark = await outboxMark();
  await step();
  return (await outboxOf(shop.id, mark)).map((e) => ({ type: e.type, ...e.data }));
}

const refund = (shop: TestShop, orderId: string, refundId: string, amount: string) =>
  sendEvent(shop, { type: "order.refunded", order: { id: orderId }, refund: { id: refundId, amount } });

function redeem(token: string, rewardId: string) {
  return call("POST", "/v1/storefront/redemptions", { token, body: { rewardId }, headers: { "idempotency-key": crypto.randomUUID() } });
}

describe("each use case announces what it committed", () => {
  it("an order by a new member: member.created, the signup credit, the order credit, the tier it reached", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 20;
      p.tiers = [{ name: "Gold", basis: "lifetime_points", threshold: 50, multiplier: 1, perks: "" }];
    });
    const events = await eventsOf(shop, () =>
      orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "40.00", email: "c1@example.com" }),
    );
    expect(events).toEqual([
      { type: "member.created", customerId: "c1", email: "c1@example.com" },
      { type: "points.earned", customerId: "c1", points: 20, kind: "signup", reference: null, balance: 20 },
      { type: "points.earned", customerId: "c1", points: 40, kind: "order", reference: "o1", balance: 60 },
      { type: "tier.changed", customerId: "c1", from: null, to: "Gold" },
    ]);
    const ids = (await outboxOf(shop.id)).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-f]{32}$/);
  });

  it("a refund and a cancellation: points.spent with what they really took (a clamp reports less, an empty one nothing)", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" });
    expect(await eventsOf(shop, () => refund(shop, "o1", "r1", "30.00"))).toEqual([
      { type: "points.spent", customerId: "c1", points: 30, kind: "refund", reference: "o1", balance: 70 },
    ]);
    // The member spends 60 of the 70 left; the cancellation can take only 10 of the 70 it owes.
    await postAdjustment(shop, "c1", { points: -60, note: "spent in store" });
    expect(await eventsOf(shop, () => sendEvent(shop, { type: "order.cancelled", order: { id: "o1" } }))).toEqual([
      { type: "points.spent", customerId: "c1", points: 10, kind: "cancel", reference: "o1", balance: 0 },
    ]);
    // A second order cancelled with the balance at zero moves nothing and reports nothing.
    await orderPaid(shop, { id: "o2", customerId: "c1", subtotal: "5.00" });
    await postAdjustment(shop, "c1", { points: -5, note: "spent" });
    expect(await eventsOf(shop, () => sendEvent(shop, { type: "order.cancelled", order: { id: "o2" } }))).toEqual([]);
    expect(await assertOutboxMatchesLedger(shop.id)).toBe(6);
  });

  it("adjustments both ways", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    expect(await eventsOf(shop, () => postAdjustment(shop, "c1", { points: 15, note: "goodwill" }))).toEqual([
      { type: "points.earned", customerId: "c1", points: 15, kind: "adjustment", reference: null, balance: 25 },
    ]);
    expect(await eventsOf(shop, () => postAdjustment(shop, "c1", { points: -5, note: "correction" }))).toEqual([
      { type: "points.spent", customerId: "c1", points: 5, kind: "adjustment", reference: null, balance: 20 },
    ]);
  });

  it("a redemption, its use, and a void giving the points back", async () => {
    const shop = await makeShop();
    const reward = await makeReward(shop, { name: "€5 off", cost: 100 });
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "250.00" });
    const token = await storefrontSession(shop, "c1");
    let code = "";
    let id = "";
    const redeemed = await eventsOf(shop, async () => {
      const res = await redeem(token, reward.id);
      expect(res.status).toBe(201);
      ({ code, id } = res.body.redemption);
    });
    expect(redeemed).toEqual([
      { type: "points.spent", customerId: "c1", points: 100, kind: "redemption", reference: id, balance: 150 },
      {
        type: "reward.redeemed",
        customerId: "c1",
        redemption: expect.objectContaining({ id, code, rewardId: reward.id, rewardName: "€5 off", points: 100, status: "issued" }),
      },
    ]);
    const used = await eventsOf(shop, () => call("POST", `/v1/codes/${code}/consume`, { token: shop.secretKey }));
    expect(used).toEqual([
      { type: "reward.used", customerId: "c1", redemption: expect.objectContaining({ id, code, status: "used" }) },
    ]);
    const second = await redeem(token, reward.id);
    const voided = await eventsOf(shop, () =>
      call("POST", `/v1/redemptions/${second.body.redemption.id}/void`, { token: shop.secretKey, body: { reason: "changed mind" } }),
    );
    expect(voided).toEqual([
      {
        type: "points.earned",
        customerId: "c1",
        points: 100,
        kind: "redemption_reversal",
        reference: second.body.redemption.id,
        balance: 150,
      },
    ]);
  });

  it("a social action: the challenge's completion with what it paid, and the social credit", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.social = 5;
    });
    const res = await call("POST", "/v1/challenges", {
      token: shop.secretKey,
      body: { name: "Follow us", kind: "social", goal: 1, rewardPoints: 15, badge: "📣" },
    });
    const challengeId = res.body.challenge.id as string;
    const token = await storefrontSession(shop, "c1");
    const events = await eventsOf(shop, () => call("POST", `/v1/storefront/actions/${challengeId}`, { token }));
    expect(events).toEqual([
      { type: "points.earned", customerId: "c1", points: 15, kind: "challenge", reference: challengeId, balance: 15 },
      { type: "challenge.completed", customerId: "c1", challengeId, points: 15, badge: "📣" },
      { type: "points.earned", customerId: "c1", points: 5, kind: "social", reference: challengeId, balance: 20 },
    ]);
  });

  it("an NPS answer and a review, each with the challenge it completes", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.nps = 10;
      p.waysToEarn.review = 25;
    });
    const review = await call("POST", "/v1/challenges", {
      token: shop.secretKey,
      body: { name: "Reviewer", kind: "review", goal: 1, rewardPoints: 30 },
    });
    const token = await storefrontSession(shop, "c1");
    expect(await eventsOf(shop, () => call("POST", "/v1/storefront/nps", { token, body: { score: 9 } }))).toEqual([
      { type: "points.earned", customerId: "c1", points: 10, kind: "nps", reference: null, balance: 10 },
      { type: "feedback.received", customerId: "c1", kind: "nps", score: 9, comment: null },
    ]);
    expect(await eventsOf(shop, () => sendEvent(shop, { type: "review.created", customerId: "c1" }))).toEqual([
      { type: "points.earned", customerId: "c1", points: 25, kind: "review", reference: "review", balance: 35 },
      { type: "points.earned", customerId: "c1", points: 30, kind: "challenge", reference: review.body.challenge.id, balance: 65 },
      { type: "challenge.completed", customerId: "c1", challengeId: review.body.challenge.id, points: 30, badge: null },
    ]);
  });

  it("a challenge completed by orders, once, though two orders race to it", async () => {
    const shop = await makeShop();
    const res = await call("POST", "/v1/challenges", {
      token: shop.secretKey,
      body: { name: "Two orders", kind: "order_count", goal: 2, rewardPoints: 50 },
    });
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    await Promise.all([
      orderPaid(shop, { id: "o2", customerId: "c1", subtotal: "10.00" }),
      orderPaid(shop, { id: "o3", customerId: "c1", subtotal: "10.00" }),
    ]);
    const completions = (await outboxOf(shop.id)).filter((e) => e.type === "challenge.completed");
    expect(completions.map((e) => e.data)).toEqual([
      { customerId: "c1", challengeId: res.body.challenge.id, points: 50, badge: null },
    ]);
    expect(await assertOutboxMatchesLedger(shop.id)).toBe(4);
  });

  it("a signup with a referral code, the referee's first order, and the referrer's reward", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 10;
      p.referral = { referrerPoints: 200, refereeOffer: { type: "amount_off", value: "10.00" } };
    });
    await sendEvent(shop, { type: "customer.created", customer: { id: "ann", email: "ann@example.com" } });
    const code = (await customer(shop, "ann")).referralCode;
    const signup = await eventsOf(shop, () =>
      sendEvent(shop, { type: "customer.created", customer: { id: "bo", email: "bo@example.com", referralCode: code } }),
    );
    expect(signup).toEqual([
      { type: "member.created", customerId: "bo", email: "bo@example.com" },
      { type: "points.earned", customerId: "bo", points: 10, kind: "signup", reference: null, balance: 10 },
    ]);
    const order = await eventsOf(shop, () => orderPaid(shop, { id: "o1", customerId: "bo", subtotal: "30.00", email: "bo@example.com" }));
    const referral = (await call("GET", "/v1/referrals", { token: shop.secretKey })).body.referrals[0];
    expect(order).toEqual([
      { type: "points.earned", customerId: "bo", points: 30, kind: "order", reference: "o1", balance: 40 },
      { type: "points.earned", customerId: "ann", points: 200, kind: "referral", reference: referral.id, balance: 210 },
      { type: "referral.completed", referrerId: "ann", refereeId: "bo", points: 200 },
    ]);
    // A full refund reverses the referral: the referrer's points go back as points.spent.
    const reversed = await eventsOf(shop, () => refund(shop, "o1", "r1", "30.00"));
    expect(reversed).toEqual([
      { type: "points.spent", customerId: "bo", points: 30, kind: "refund", reference: "o1", balance: 10 },
      { type: "points.spent", customerId: "ann", points: 200, kind: "referral", reference: referral.id, balance: 10 },
    ]);
  });

  it("the daily run: birthday points and expiry", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.birthday = 25;
      p.expiry.days = 30;
    });
    const loaded = (await shopById(env.DB, shop.id))!;
    const t0 = new Date("2026-03-01T06:00:00.000Z");
    await ingestEvent(env.DB, loaded, "events", { id: "e1", type: "customer.created", customer: { id: "c1", birthday: "1990-03-01" } }, t0);
    await ingestEvent(env.DB, loaded, "events", { id: "e2", type: "order.paid", order: { id: "o1", customerId: "c1", currency: "EUR", subtotal: "40.00", lines: [] } }, t0);
    const birthday = await eventsOf(shop, () => runScheduledWork(env, t0));
    expect(birthday).toEqual([{ type: "points.earned", customerId: "c1", points: 25, kind: "birthday", reference: "2026", balance: 65 }]);
    const expiry = await eventsOf(shop, () => expirePoints(env.DB, loaded, new Date(t0.getTime() + 31 * 86_400_000)));
    expect(expiry).toEqual([{ type: "points.spent", customerId: "c1", points: 65, kind: "expiry", reference: null, balance: 0 }]);
    const [spent] = await outboxOf(shop.id, (await outboxMark()) - 1);
    expect(spent!.occurred_at).toBe(new Date(t0.getTime() + 31 * 86_400_000).toISOString());
  });
});

describe("a refused or repeated change announces nothing", () => {
  it("an adjustment or a redemption the balance cannot cover, a duplicate event, a bad event", async () => {
    const shop = await makeShop();
    const reward = await makeReward(shop, { cost: 100 });
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "50.00" });
    const token = await storefrontSession(shop, "c1");
    const before = await snapshot();
    expectError(await postAdjustment(shop, "c1", { points: -51, note: "too much" }), 422, "insufficient_points");
    expectError(await redeem(token, reward.id), 422, "insufficient_points");
    const duplicate = await sendEvent(shop, { type: "order.paid", order: { id: "o1", customerId: "c1", currency: "EUR", subtotal: "50.00", lines: [] } });
    expect(duplicate.body.status).toBe("duplicate");
    expectError(await orderPaid(shop, { id: "o2", customerId: "c1", subtotal: "5.00", currency: "USD" }), 422, "currency_mismatch");
    const after = await snapshot();
    // The duplicate's event id is recorded (received_events) and its Idempotency-Key refusals
    // are stored; nothing else changes, the outbox least of all.
    expect({ ...after, received_events: before.received_events, idempotency_keys: before.idempotency_keys }).toEqual(before);
    expect(await assertOutboxMatchesLedger(shop.id)).toBe(1);
    expect(await assertLedgerInvariants(shop.id)).toBe(1);
  });

  it("an erased member's events keep no email and carry the erased id", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "erase-me", subtotal: "10.00", email: "erase@example.com" });
    expect((await call("DELETE", "/v1/customers/erase-me", { token: shop.secretKey })).status).toBe(200);
    const text = JSON.stringify(await outboxOf(shop.id));
    expect(text).not.toContain("erase@example.com");
    expect(text).not.toContain('"erase-me"');
    const [created] = await outboxOf(shop.id);
    expect(created!.data).toEqual({ customerId: expect.stringMatching(/^redacted_/), email: null });
  });
});
