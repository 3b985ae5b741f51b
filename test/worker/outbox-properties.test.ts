/**
 * Property test of the write pipeline and its outbox: random rounds of point-moving writes of
 * every use case, each round's writes sent concurrently (so they interleave and race, and some
 * re-plan on fresh reads), then checked against D1 itself: the ledger invariants (balance = sum of
 * deltas, each balance_after the running sum, never below zero), and the outbox matching what
 * committed one to one: a points event for each entry that moved points and none for anything
 * else, one member.created per member, one reward.redeemed per redemption, one reward.used per
 * used code, one challenge.completed per completion, one referral.completed per completed
 * referral, and each member's tier the `to` of their last tier.changed.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runScheduledWork } from "../../worker/services/scheduled";
import {
  assertLedgerInvariants,
  assertOutboxMatchesLedger,
  call,
  customer,
  makeReward,
  makeShop,
  outboxOf,
  postAdjustment,
  sendEvent,
  setProgram,
  storefrontSession,
  type TestShop,
} from "./helpers";

const MEMBERS = ["m0", "m1", "m2"];

type Write =
  | { kind: "order"; member: number; order: number; amount: number }
  | { kind: "refund"; order: number; refund: number; amount: number }
  | { kind: "cancel"; order: number }
  | { kind: "adjust"; member: number; points: number }
  | { kind: "redeem"; member: number }
  | { kind: "void"; pick: number }
  | { kind: "use"; pick: number }
  | { kind: "social"; member: number }
  | { kind: "nps"; member: number }
  | { kind: "review"; member: number }
  | { kind: "signup"; member: number; referred: boolean }
  | { kind: "daily"; days: number }
  | { kind: "redeliver"; pick: number };

const member = fc.integer({ min: 0, max: MEMBERS.length - 1 });
const write: fc.Arbitrary<Write> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("order" as const), member, order: fc.integer({ min: 0, max: 7 }), amount: fc.integer({ min: 1, max: 20_000 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("refund" as const), order: fc.integer({ min: 0, max: 7 }), refund: fc.integer({ min: 0, max: 2 }), amount: fc.integer({ min: 1, max: 15_000 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("cancel" as const), order: fc.integer({ min: 0, max: 7 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("adjust" as const), member, points: fc.integer({ min: -150, max: 150 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("redeem" as const), member }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("void" as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("use" as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("social" as const), member }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("nps" as const), member }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("review" as const), member }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("signup" as const), member, referred: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("daily" as const), days: fc.integer({ min: 0, max: 40 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("redeliver" as const), pick: fc.nat() }), weight: 1 },
);

interface World {
  shop: TestShop;
  rewardId: string;
  socialId: string;
  tokens: Map<string, string>;
  redemptions: string[];
  sent: Record<string, unknown>[];
  referrerCode: string;
  clock: number;
}

const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, "0")}`;

async function setUp(): Promise<World> {
  const shop = await makeShop();
  await setProgram(shop, (p) => {
    p.waysToEarn = { ...p.waysToEarn, signup: 10, birthday: 20, review: 15, nps: 5, social: 5 };
    p.referral = { referrerPoints: 50, refereeOffer: { type: "amount_off", value: "5.00" } };
    p.expiry.days = 30;
    p.tiers = [
      { name: "Silver", basis: "lifetime_points", threshold: 100, multiplier: 1, perks: "" },
      { name: "Gold", basis: "lifetime_points", threshold: 300, multiplier: 2, perks: "" },
    ];
  });
  const reward = await makeReward(shop, { cost: 60 });
  const social = await call("POST", "/v1/challenges", {
    token: shop.secretKey,
    body: { name: "Follow", kind: "social", goal: 1, rewardPoints: 10, badge: "F" },
  });
  for (const [name, kind, goal] of [["Three orders", "order_count", 3], ["Reviewer", "review", 2], ["Ambassador", "referrals", 1]] as const) {
    await call("POST", "/v1/challenges", { token: shop.secretKey, body: { name, kind, goal, rewardPoints: 25 } });
  }
  await sendEvent(shop, { type: "customer.created", customer: { id: "referrer", email: "ref@example.com", birthday: "1990-01-01" } });
  const referrerCode = (await customer(shop, "referrer")).referralCode as string;
  return { shop, rewardId: reward.id, socialId: social.body.challenge.id, tokens: new Map(), redemptions: [], sent: [], referrerCode, clock: 0 };
}

async function tokenOf(world: World, id: string) {
  let token = world.tokens.get(id);
  if (!token) {
    token = await storefrontSession(world.shop, id);
    world.tokens.set(id, token);
  }
  return token;
}

async function send(world: World, event: Record<string, unknown>) {
  const full = { id: `e${world.sent.length}_${crypto.randomUUID()}`, ...event };
  world.sent.push(full);
  return call("POST", "/v1/events", { token: world.shop.secretKey, body: full });
}

async function perform(world: World, step: Write): Promise<number> {
  const { shop } = world;
  switch (step.kind) {
    case "order":
      return (await send(world, {
        type: "order.paid",
        order: { id: `o${step.order}`, customerId: MEMBERS[step.member], currency: "EUR", subtotal: cents(step.amount), lines: [], email: `${MEMBERS[step.member]}@example.com` },
      })).status;
    case "refund":
      return (await send(world, { type: "order.refunded", order: { id: `o${step.order}` }, refund: { id: `r${step.refund}`, amount: cents(step.amount) } })).status;
    case "cancel":
      return (await send(world, { type: "order.cancelled", order: { id: `o${step.order}` } })).status;
    case "adjust":
      return (await postAdjustment(shop, MEMBERS[step.member]!, { points: step.points, note: "property" })).status;
    case "redeem": {
      const res = await call("POST", "/v1/storefront/redemptions", {
        token: await tokenOf(world, MEMBERS[step.member]!),
        body: { rewardId: world.rewardId },
        headers: { "idempotency-key": crypto.randomUUID() },
      });
      if (res.status === 201) world.redemptions.push(res.body.redemption.id);
      return res.status;
    }
    case "void":
    case "use": {
      const id = world.redemptions[step.pick % Math.max(1, world.redemptions.length)];
      if (!id) return 404;
      return (await call("POST", `/v1/redemptions/${id}/${step.kind}`, { token: shop.secretKey, body: {} })).status;
    }
    case "social":
      return (await call("POST", `/v1/storefront/actions/${world.socialId}`, { token: await tokenOf(world, MEMBERS[step.member]!) })).status;
    case "nps":
      return (await call("POST", "/v1/storefront/nps", { token: await tokenOf(world, MEMBERS[step.member]!), body: { score: 9 } })).status;
    case "review":
      return (await send(world, { type: "review.created", customerId: MEMBERS[step.member] })).status;
    case "signup": {
      const id = MEMBERS[step.member]!;
      return (await send(world, {
        type: "customer.created",
        customer: { id, email: `${id}@example.com`, ...(step.referred ? { referralCode: world.referrerCode } : {}) },
      })).status;
    }
    case "daily":
      world.clock += step.days;
      await runScheduledWork(env, new Date(Date.now() + world.clock * 86_400_000));
      return 200;
    case "redeliver": {
      const event = world.sent[step.pick % Math.max(1, world.sent.length)];
      if (!event) return 200;
      return (await call("POST", "/v1/events", { token: shop.secretKey, body: event })).status;
    }
  }
}

/** Each committed row change has exactly its event, nothing more. */
async function assertOutboxMatches(shopId: string) {
  await assertLedgerInvariants(shopId);
  await assertOutboxMatchesLedger(shopId);
  const events = await outboxOf(shopId);
  const count = (type: string) => events.filter((e) => e.type === type).length;
  const n = async (sql: string) => (await env.DB.prepare(sql).bind(shopId).first<{ n: number }>())!.n;
  expect(count("member.created")).toBe(await n("SELECT COUNT(*) AS n FROM customers WHERE shop_id = ?"));
  expect(count("reward.redeemed")).toBe(await n("SELECT COUNT(*) AS n FROM redemptions WHERE shop_id = ?"));
  expect(count("reward.used")).toBe(await n("SELECT COUNT(*) AS n FROM redemptions WHERE shop_id = ? AND status = 'used'"));
  expect(count("challenge.completed")).toBe(await n("SELECT COUNT(*) AS n FROM challenge_progress WHERE shop_id = ? AND completed_at IS NOT NULL"));
  expect(count("referral.completed")).toBe(
    await n("SELECT COUNT(*) AS n FROM referrals WHERE shop_id = ? AND status IN ('completed', 'reversed')"),
  );
  const { results: members } = await env.DB.prepare("SELECT id, tier FROM customers WHERE shop_id = ?")
    .bind(shopId)
    .all<{ id: number; tier: string | null }>();
  for (const m of members) {
    const changes = events.filter((e) => e.type === "tier.changed" && e.customer_id === m.id);
    expect(changes.length ? changes[changes.length - 1]!.data.to : null).toBe(m.tier);
    // Each change starts where the previous one ended.
    changes.forEach((change, i) => {
      expect(change.data.from).toBe(i === 0 ? null : changes[i - 1]!.data.to);
    });
  }
}

describe("the outbox under interleaved writes", () => {
  it("matches the committed changes one to one, whatever the interleaving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(write, { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 8 }), async (rounds) => {
        const world = await setUp();
        for (const round of rounds) {
          const statuses = await Promise.all(round.map((step) => perform(world, step)));
          // Refusals are the contract's 4xx, never a 500.
          for (const status of statuses) expect(status).toBeLessThan(500);
          await assertOutboxMatches(world.shop.id);
        }
      }),
      { numRuns: 15 },
    );
    // Hundreds of requests: generous on a shared 2-core machine (nothing here is timed).
  }, 300_000);
});
