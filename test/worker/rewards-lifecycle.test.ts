/**
 * Rewards that are remembered, used and expire; pending points; tiers that follow the program;
 * through the real routes, the real scheduled handler (as of a given time) and the
 * real D1 triggers of the outbox.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { progressToNextTier } from "../../worker/domain/tiers";
import worker from "../../worker/index";
import { ingestEvent } from "../../worker/services/events";
import { markRedemptionUsed, voidRedemption } from "../../worker/services/rewards";
import { expireRewardCodes } from "../../worker/services/scheduled";
import { applyProgramTiers } from "../../worker/services/tiers";
import { shopById } from "../../worker/store/shops";
import {
  assertLedgerInvariants,
  assertOutboxMatchesLedger,
  call,
  customer,
  expectError,
  ledgerOf,
  makeReward,
  makeShop,
  orderPaid,
  outboxOf,
  sendEvent,
  setProgram,
  snapshot,
  storefrontSession,
  type TestShop,
} from "./helpers";

const DAY = 86_400_000;
const DAILY_CRON = "17 3 * * *";

/** Runs the real scheduled handler of worker/index.ts as of `now` (its scheduledTime). */
async function runDaily(now: Date) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: now.getTime(), cron: DAILY_CRON }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const inDays = (days: number, from = Date.now()) => new Date(from + days * DAY);

function redeem(token: string, rewardId: string, key = crypto.randomUUID()) {
  return call("POST", "/v1/storefront/redemptions", { token, body: { rewardId }, headers: { "idempotency-key": key } });
}

async function state(token: string) {
  const res = await call("GET", "/v1/storefront/state", { token });
  expect(res.status).toBe(200);
  return res.body;
}

/** A member with `points` from an order, signed in to the storefront. */
async function member(shop: TestShop, id: string, subtotal = "500.00") {
  expect((await orderPaid(shop, { id: `seed-${id}`, customerId: id, subtotal })).status).toBe(200);
  return storefrontSession(shop, id);
}

async function redemptionRow(id: string) {
  return env.DB.prepare("SELECT status, used_at, order_id, expires_at FROM redemptions WHERE id = ?")
    .bind(id)
    .first<{ status: string; used_at: string | null; order_id: string | null; expires_at: string | null }>();
}

describe("redemptions are remembered", () => {
  it("lists the member's codes in the state after a new session, issued ones first, newest first", async () => {
    const shop = await makeShop();
    const reward = await makeReward(shop, { name: "€5 off", cost: 10 });
    const token = await member(shop, "ada");
    const codes: { id: string; code: string }[] = [];
    for (let i = 0; i < 14; i++) {
      const res = await redeem(token, reward.id);
      expect(res.status).toBe(201);
      codes.push(res.body.redemption);
    }
    // The two oldest are used and voided; the other twelve stay issued.
    expect((await call("POST", `/v1/codes/${codes[0]!.code}/consume`, { token: shop.secretKey, body: { orderId: "o-9" } })).status).toBe(200);
    expect((await call("POST", `/v1/redemptions/${codes[1]!.id}/void`, { token: shop.secretKey })).status).toBe(200);

    // "Closes the tab, comes back": a brand-new session reads the same codes.
    const again = await state(await storefrontSession(shop, "ada"));
    const listed = again.redemptions as any[];
    expect(listed.map((r) => r.id)).toEqual([...codes.slice(2).reverse().map((c) => c.id), codes[1]!.id, codes[0]!.id]);
    expect(listed[0]).toEqual({
      id: codes[13]!.id,
      code: codes[13]!.code,
      rewardId: reward.id,
      rewardName: "€5 off",
      points: 10,
      status: "issued",
      createdAt: expect.any(String),
      expiresAt: null,
      usedAt: null,
      orderId: null,
      type: "amount_off",
      value: "5.00",
    });
    expect(listed.at(-1)).toMatchObject({ status: "used", orderId: "o-9", usedAt: expect.any(String) });
    expect(listed.at(-2)).toMatchObject({ status: "void" });

    // At most 10 codes that are no longer usable are listed, every usable one is.
    for (const code of codes.slice(2)) {
      expect((await call("POST", `/v1/redemptions/${code.id}/void`, { token: shop.secretKey })).status).toBe(200);
    }
    const fresh = (await redeem(token, reward.id)).body.redemption;
    const after = (await state(token)).redemptions as any[];
    expect(after).toHaveLength(11);
    expect(after[0]).toMatchObject({ id: fresh.id, status: "issued" });
    expect(after.slice(1).every((r) => r.status !== "issued")).toBe(true);

    // A guest has none; another shop's session for the same id sees none of these.
    expect((await state(await storefrontSession(shop))).redemptions).toEqual([]);
    const other = await makeShop();
    expect((await state(await storefrontSession(other, "ada"))).redemptions).toEqual([]);
  });

  it("GET /v1/customers/:id/redemptions lists them newest first for the merchant; another shop's id is 404", async () => {
    const shop = await makeShop();
    const reward = await makeReward(shop, { cost: 10, validityDays: 30 });
    const token = await member(shop, "ben");
    const first = (await redeem(token, reward.id)).body.redemption;
    const second = (await redeem(token, reward.id)).body.redemption;
    const res = await call("GET", "/v1/customers/ben/redemptions", { token: shop.secretKey });
    expect(res.status).toBe(200);
    expect(res.body.redemptions.map((r: any) => r.id)).toEqual([second.id, first.id]);
    expect(res.body.redemptions[0]).toMatchObject({
      id: second.id,
      code: second.code,
      rewardId: reward.id,
      rewardName: "€5 off",
      points: 10,
      status: "issued",
      usedAt: null,
      orderId: null,
    });
    const expiresAt = Date.parse(res.body.redemptions[0].expiresAt);
    const createdAt = Date.parse(res.body.redemptions[0].createdAt);
    expect(expiresAt - createdAt).toBe(30 * DAY);

    const other = await makeShop();
    expectError(await call("GET", "/v1/customers/ben/redemptions", { token: other.secretKey }), 404, "not_found");
    expectError(await call("GET", "/v1/customers/nobody/redemptions", { token: shop.secretKey }), 404, "not_found");
    expectError(await call("GET", "/v1/customers/ben/redemptions?limit=0", { token: shop.secretKey }), 400, "invalid_request");
  });
});

describe("codes used by orders", () => {
  it("an order.paid carrying the code (any case) marks it used by that order, once, in the order's batch", async () => {
    const shop = await makeShop();
    const reward = await makeReward(shop, { cost: 10 });
    const token = await member(shop, "cy");
    const { id, code } = (await redeem(token, reward.id)).body.redemption;
    const before = (await outboxOf(shop.id)).length;

    const paid = await orderPaid(shop, { id: "o-1", customerId: "cy", subtotal: "40.00", discount: "5.00", discountCodes: [` ${code.toLowerCase()} `] });
    expect(paid.status).toBe(200);
    expect(paid.body.points).toBe(35); // earns on what is paid
    expect(await redemptionRow(id)).toMatchObject({ status: "used", order_id: "o-1", used_at: expect.any(String) });

    // Another order with the same code leaves it used by the first.
    expect((await orderPaid(shop, { id: "o-2", customerId: "zed", subtotal: "40.00", discountCodes: [code] })).status).toBe(200);
    expect(await redemptionRow(id)).toMatchObject({ status: "used", order_id: "o-1" });

    const used = (await outboxOf(shop.id)).slice(before).filter((e) => e.type === "reward.used");
    expect(used).toHaveLength(1);
    expect(used[0]!.data).toEqual({
      customerId: "cy",
      redemption: {
        id,
        code,
        rewardId: reward.id,
        rewardName: "€5 off",
        points: 10,
        status: "used",
        createdAt: expect.any(String),
        expiresAt: null,
        usedAt: expect.any(String),
        orderId: "o-1",
      },
    });
    // The shopper's list shows it used, with the order.
    expect((await state(token)).redemptions[0]).toMatchObject({ id, status: "used", orderId: "o-1" });
  });

  it("a code consumed at checkout with the order id stays with that order when the order event comes", async () => {
    const shop = await makeShop();
    const reward = await makeReward(shop, { cost: 10 });
    const token = await member(shop, "dee");
    const { id, code } = (await redeem(token, reward.id)).body.redemption;
    const lookedUp = await call("GET", `/v1/codes/${code.toLowerCase()}`, { token: shop.secretKey });
    expect(lookedUp.body.redemption).toMatchObject({ id, status: "issued", value: "5.00", expiresAt: null });
    const consumed = await call("POST", `/v1/codes/${code}/consume`, { token: shop.secretKey, body: { orderId: "o-7" } });
    expect(consumed.body.redemption).toMatchObject({ status: "used", orderId: "o-7" });
    const again = await call("POST", `/v1/codes/${code}/consume`, { token: shop.secretKey, body: { orderId: "o-8" } });
    expectError(again, 409, "redemption_not_issued");
    expect(again.body.error.message).toMatch(/already been used/);
    expect((await orderPaid(shop, { id: "o-7", customerId: "dee", subtotal: "20.00", discountCodes: [code] })).status).toBe(200);
    expect(await redemptionRow(id)).toMatchObject({ status: "used", order_id: "o-7" });
    expect((await outboxOf(shop.id)).filter((e) => e.type === "reward.used")).toHaveLength(1);
    expectError(await call("POST", `/v1/codes/${code}/consume`, { token: shop.secretKey, body: { orderId: "" } }), 400, "invalid_request");
  });
});

describe("code expiry", () => {
  it("refuses a negative, fractional or non-number validityDays and changes nothing", async () => {
    const shop = await makeShop();
    const before = await snapshot();
    for (const validityDays of [-1, 0, 1.5, "30", 3651]) {
      const res = await call("POST", "/v1/rewards", {
        token: shop.secretKey,
        body: { name: "x", type: "amount_off", cost: 10, value: "1.00", validityDays },
      });
      expectError(res, 400, "invalid_request");
      expect(JSON.stringify(res.body.error.details)).toContain("validityDays");
    }
    const reward = await makeReward(shop, { validityDays: 7 });
    expectError(await call("PATCH", `/v1/rewards/${reward.id}`, { token: shop.secretKey, body: { validityDays: -3 } }), 400, "invalid_request");
    expect((await call("GET", `/v1/rewards/${reward.id}`, { token: shop.secretKey })).body.reward.validityDays).toBe(7);
    const cleared = await call("PATCH", `/v1/rewards/${reward.id}`, { token: shop.secretKey, body: { validityDays: null } });
    expect(cleared.body.reward.validityDays).toBeNull();
    expect((await snapshot()).customers).toBe(before.customers);
  });

  it("a code runs out validityDays after issue: checkout sees it expired, the daily run marks it, points stay spent", async () => {
    const shop = await makeShop();
    const reward = await makeReward(shop, { cost: 100, validityDays: 3 });
    const token = await member(shop, "eve");
    const res = await redeem(token, reward.id);
    const { id, code } = res.body.redemption;
    const row = await redemptionRow(id);
    const issued = (await outboxOf(shop.id)).find((e) => e.type === "reward.redeemed")!;
    expect(issued.data.redemption).toMatchObject({ id, expiresAt: row!.expires_at, usedAt: null, orderId: null });
    const expiresAt = Date.parse(row!.expires_at!);
    expect((await state(token)).redemptions[0]).toMatchObject({ id, status: "issued", expiresAt: row!.expires_at });

    // Past its end date, a checkout asking about it (or consuming it) learns it has expired,
    // even before the daily run.
    const s = (await shopById(env.DB, shop.id))!;
    await expect(markRedemptionUsed(env.DB, s, id, new Date(expiresAt + 1))).rejects.toMatchObject({
      code: "redemption_not_issued",
      details: { status: "expired" },
    });
    // An order placed after the end date does not use it.
    await ingestEvent(
      env.DB,
      s,
      "events",
      { id: "late", type: "order.paid", occurredAt: new Date(expiresAt + 60_000).toISOString(), order: { id: "o-late", customerId: "eve", currency: "EUR", subtotal: "10.00", lines: [], discountCodes: [code] } },
      new Date(expiresAt + 120_000),
    );
    expect((await redemptionRow(id))!.status).toBe("issued");

    await runDaily(new Date(expiresAt - 60_000));
    expect((await redemptionRow(id))!.status).toBe("issued");
    const balance = (await customer(shop, "eve")).balance;
    await runDaily(new Date(expiresAt + 60_000));
    expect((await redemptionRow(id))!.status).toBe("expired");
    expect((await customer(shop, "eve")).balance).toBe(balance);
    const lookedUp = await call("GET", `/v1/codes/${code}`, { token: shop.secretKey });
    expect(lookedUp.body.redemption).toMatchObject({ status: "expired", expiresAt: row!.expires_at });
    expectError(await call("POST", `/v1/codes/${code}/consume`, { token: shop.secretKey }), 409, "redemption_not_issued");
    expectError(await call("POST", `/v1/redemptions/${id}/void`, { token: shop.secretKey }), 409, "redemption_not_issued");
    expect((await state(token)).redemptions[0]).toMatchObject({ id, status: "expired" });
    await assertLedgerInvariants(shop.id);
  });

  it("an order using a code races the code's expiry and a manual void: exactly one outcome wins", async () => {
    // The three writers as the order event, the daily run and the void route call them.
    const shop = await makeShop();
    const reward = await makeReward(shop, { cost: 100, validityDays: 1 });
    const s = (await shopById(env.DB, shop.id))!;
    const outcomes: string[] = [];
    for (let round = 0; round < 9; round++) {
      const id = `racer-${round}`;
      const token = await member(shop, id, "300.00");
      const redeemed = (await redeem(token, reward.id)).body.redemption;
      const expiresAt = Date.parse((await redemptionRow(redeemed.id))!.expires_at!);
      const balanceBefore = (await customer(shop, id)).balance;
      const order = {
        id: `race-${round}`,
        type: "order.paid" as const,
        occurredAt: new Date(expiresAt - 3_600_000).toISOString(),
        order: { id: `o-race-${round}`, customerId: id, currency: "EUR", subtotal: "10.00", lines: [], discountCodes: [redeemed.code] },
      };
      const racers = [
        () => ingestEvent(env.DB, s, "events", order, new Date(expiresAt - 1_800_000)),
        () => expireRewardCodes(env.DB, s, new Date(expiresAt + 60_000)),
        () => voidRedemption(env.DB, s, redeemed.id, "by hand", new Date()).then(
          () => ({ status: 200 }),
          (err) => ({ status: err.status as number }),
        ),
      ];
      // Each round another racer gets a head start (the others wait a few ms), so each can win.
      const first = round % 3;
      const results = await Promise.all(
        racers.map(async (race, i) => {
          if (i !== first) await new Promise((resolve) => setTimeout(resolve, round < 3 ? 2 : 0));
          return race();
        }),
      );
      const voidAnswer = results[2] as { status: number };
      const row = (await redemptionRow(redeemed.id))!;
      outcomes.push(row.status);
      expect(["used", "void", "expired"]).toContain(row.status);
      const entries = await ledgerOf(shop, id);
      const reversals = entries.filter((e) => e.kind === "redemption_reversal" && e.reference === redeemed.id);
      const used = (await outboxOf(shop.id)).filter((e) => e.type === "reward.used" && e.data.redemption.id === redeemed.id);
      expect(reversals).toHaveLength(row.status === "void" ? 1 : 0);
      expect(used).toHaveLength(row.status === "used" ? 1 : 0);
      expect(voidAnswer.status).toBe(row.status === "void" ? 200 : 409);
      expect(row.order_id).toBe(row.status === "used" ? `o-race-${round}` : null);
      // The order earned its 10 points whatever happened to the code; only a void gave 100 back.
      expect((await customer(shop, id)).balance).toBe(balanceBefore + 10 + (row.status === "void" ? 100 : 0));
    }
    // Which one won is the machine's business; that exactly one did is the test's.
    expect(outcomes).toHaveLength(9);
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);
  });
});

describe("pending points", () => {
  async function pendingShop(days = 14) {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.earning.pendingDays = days;
      p.tiers = [{ name: "Oak", basis: "lifetime_points", threshold: 150, multiplier: 1, perks: "" }];
    });
    return { shop, s: (await shopById(env.DB, shop.id))! };
  }

  /** An order placed at `at` whose event arrives at `now` (by default at once). */
  const paid = (s: Awaited<ReturnType<typeof pendingShop>>["s"], id: string, customerId: string, subtotal: string, at: Date, now = at) =>
    ingestEvent(
      env.DB,
      s,
      "events",
      { id: `evt-${id}`, type: "order.paid", occurredAt: at.toISOString(), order: { id, customerId, currency: "EUR", subtotal, lines: [] } },
      now,
    );

  it("refuses a negative, fractional or too long pendingDays and changes nothing", async () => {
    const shop = await makeShop();
    const current = (await call("GET", "/v1/program", { token: shop.secretKey })).body;
    for (const pendingDays of [-1, 2.5, 91, "7"]) {
      const body = { program: { ...current.program, earning: { ...current.program.earning, pendingDays } } };
      const res = await call("PUT", "/v1/program", { token: shop.secretKey, body });
      expectError(res, 400, "invalid_request");
      expect(JSON.stringify(res.body.error.details)).toContain("pendingDays");
    }
    expect((await call("GET", "/v1/program", { token: shop.secretKey })).body.program.earning.pendingDays).toBe(0);
  });

  it("holds an order's points outside the balance until the daily run makes them available, as the order's entry", async () => {
    const { shop, s } = await pendingShop(14);
    const t0 = new Date(Date.now() - 2 * DAY);
    const result = await paid(s, "p-1", "fay", "120.00", t0);
    expect(result).toMatchObject({ status: "processed", points: 0, balance: 0, pendingPoints: 120 });
    await paid(s, "p-2", "fay", "80.00", inDays(1, t0.getTime()));

    const view = await customer(shop, "fay");
    expect(view).toMatchObject({ balance: 0, lifetimePoints: 0, pendingPoints: 200, tier: null });
    expect(view.pendingReleases).toEqual([
      { points: 120, availableAt: inDays(14, t0.getTime()).toISOString() },
      { points: 80, availableAt: inDays(15, t0.getTime()).toISOString() },
    ]);
    const list = await call("GET", "/v1/customers?q=fay", { token: shop.secretKey });
    expect(list.body.customers[0]).toMatchObject({ id: "fay", pendingPoints: 200 });
    const shopper = (await state(await storefrontSession(shop, "fay"))).customer;
    expect(shopper).toMatchObject({ balance: 0, pendingPoints: 200 });
    expect(shopper.pendingReleases[0]).toEqual({ points: 120, availableAt: inDays(14, t0.getTime()).toISOString() });
    // Pending points are no balance: they cannot be redeemed.
    const reward = await makeReward(shop, { cost: 50 });
    expectError(await redeem(await storefrontSession(shop, "fay"), reward.id), 422, "insufficient_points");
    expect(await ledgerOf(shop, "fay")).toEqual([]);

    // A refund in the window lowers what is held (half of p-2: 40 points) and moves no balance.
    await ingestEvent(env.DB, s, "events", { id: "r-1", type: "order.refunded", order: { id: "p-2" }, refund: { id: "rf-1", amount: "40.00" } }, inDays(3, t0.getTime()));
    expect(await customer(shop, "fay")).toMatchObject({ balance: 0, pendingPoints: 160 });
    expect(await ledgerOf(shop, "fay")).toEqual([]);

    // The day before: nothing yet. On the day: p-1's 120 points, as the order's own entry.
    await runDaily(inDays(13.9, t0.getTime()));
    expect(await customer(shop, "fay")).toMatchObject({ balance: 0, pendingPoints: 160 });
    await runDaily(inDays(14.1, t0.getTime()));
    await runDaily(inDays(14.2, t0.getTime())); // a second run changes nothing
    expect(await customer(shop, "fay")).toMatchObject({ balance: 120, lifetimePoints: 120, pendingPoints: 40, tier: null });
    const entries = await ledgerOf(shop, "fay");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: "order", reference: "p-1", delta: 120, balanceAfter: 120 });
    await runDaily(inDays(15.1, t0.getTime()));
    // p-2's 40 count for lifetime points and the tier from now on (Oak at 150).
    expect(await customer(shop, "fay")).toMatchObject({ balance: 160, lifetimePoints: 160, pendingPoints: 0, tier: "Oak" });
    expect(await ledgerOf(shop, "fay")).toHaveLength(2);
    // A refund after release claws back from the balance as usual (the rest of p-2: 40 points).
    await ingestEvent(env.DB, s, "events", { id: "r-2", type: "order.refunded", order: { id: "p-2" }, refund: { id: "rf-2", amount: "40.00" } }, inDays(16, t0.getTime()));
    expect(await customer(shop, "fay")).toMatchObject({ balance: 120, pendingPoints: 0 });
    const earned = (await outboxOf(shop.id)).filter((e) => e.type === "points.earned");
    expect(earned.map((e) => [e.data.kind, e.data.reference, e.data.points])).toEqual([
      ["order", "p-1", 120],
      ["order", "p-2", 40],
    ]);
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);
  });

  it("a cancellation in the window leaves nothing to release; an order arriving after its window earns at once", async () => {
    const { shop, s } = await pendingShop(7);
    const t0 = new Date(Date.now() - DAY);
    await paid(s, "c-1", "gus", "50.00", t0);
    await ingestEvent(env.DB, s, "events", { id: "x-1", type: "order.cancelled", order: { id: "c-1" } }, t0);
    expect(await customer(shop, "gus")).toMatchObject({ balance: 0, pendingPoints: 0 });
    await runDaily(inDays(8, t0.getTime()));
    expect(await customer(shop, "gus")).toMatchObject({ balance: 0, pendingPoints: 0 });
    expect(await ledgerOf(shop, "gus")).toEqual([]);
    // An order whose event arrives after its holding period earns at once.
    const old = await paid(s, "old-1", "gus", "30.00", new Date(Date.now() - 10 * DAY), new Date());
    expect(old).toMatchObject({ points: 30, balance: 30 });
    expect(old.pendingPoints).toBeUndefined();
    // Through the HTTP API the same: an order now is pending.
    const res = await orderPaid(shop, { id: "h-1", customerId: "gus", subtotal: "25.00" });
    expect(res.body).toMatchObject({ points: 0, balance: 30, pendingPoints: 25 });
  });

  it("shows pending liability beside outstanding liability in analytics", async () => {
    const { shop } = await pendingShop(30);
    await setProgram(shop, (p) => {
      p.pointValue = "0.05";
    });
    const fresh = (await shopById(env.DB, shop.id))!;
    await paid(fresh, "a-1", "hal", "100.00", new Date(Date.now() - DAY));
    await paid(fresh, "a-2", "ida", "60.00", new Date(Date.now() - 2 * DAY));
    const res = await call("GET", "/v1/analytics", { token: shop.secretKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ pendingPoints: 160, pendingLiability: "8.00", liabilityPoints: 0, liability: "0.00" });
  });

  it("a refund racing the release: balance, ledger and pending points agree whichever lands first", async () => {
    const { shop, s } = await pendingShop(5);
    for (let round = 0; round < 4; round++) {
      const id = `race-${round}`;
      const t0 = new Date(Date.now() - 6 * DAY);
      await paid(s, `o-${id}`, id, "100.00", t0);
      await Promise.all([
        runDaily(new Date()),
        ingestEvent(env.DB, s, "events", { id: `rf-${id}`, type: "order.refunded", order: { id: `o-${id}` }, refund: { id: `rf-${id}`, amount: "30.00" } }, new Date()),
      ]);
      // 100 earned, 30 refunded: 70 stay with the member however the two interleaved.
      expect(await customer(shop, id)).toMatchObject({ balance: 70, pendingPoints: 0 });
    }
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);
  });
});

describe("tiers follow the program", () => {
  it("a tier added under a member's lifetime points shows at once; storing it announces tier.changed", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.tiers = [
        { name: "Sapling", basis: "lifetime_points", threshold: 0, multiplier: 1, perks: "" },
        { name: "Oak", basis: "lifetime_points", threshold: 1000, multiplier: 1, perks: "" },
      ];
    });
    const token = await member(shop, "ivy", "1774.00");
    expect((await customer(shop, "ivy")).tier).toBe("Oak");
    const mark = (await outboxOf(shop.id)).length;

    // The merchant adds Redwood at 1,700: the member, at 1,774, is in Redwood at the next read.
    await setProgram(shop, (p) => {
      p.tiers.push({ name: "Redwood", basis: "lifetime_points", threshold: 1700, multiplier: 2, perks: "" });
    });
    expect((await customer(shop, "ivy")).tier).toBe("Redwood");
    const shopper = (await state(token)).customer;
    expect(shopper).toMatchObject({ tier: "Redwood", nextTier: null, progress: 1, remainingToNextTier: null });
    const list = await call("GET", "/v1/customers?q=ivy", { token: shop.secretKey });
    expect(list.body.customers[0].tier).toBe("Redwood");

    // The stored tier follows (the route runs this after answering; here it runs to the end).
    await applyProgramTiers(env.DB, (await shopById(env.DB, shop.id))!, new Date());
    const stored = await env.DB.prepare("SELECT tier FROM customers WHERE shop_id = ? AND external_id = 'ivy'").bind(shop.id).first();
    expect(stored).toEqual({ tier: "Redwood" });
    const changed = (await outboxOf(shop.id)).slice(mark).filter((e) => e.type === "tier.changed");
    expect(changed.map((e) => e.data)).toEqual([{ customerId: "ivy", from: "Oak", to: "Redwood" }]);

    // Redwood's multiplier applies to the next order.
    expect((await orderPaid(shop, { id: "o-next", customerId: "ivy", subtotal: "10.00" })).body.points).toBe(20);
  });

  it("a raised threshold keeps the member's tier until the window ends; the bar is never full with points to go", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.tiers = [
        { name: "Sapling", basis: "lifetime_points", threshold: 0, multiplier: 1, perks: "" },
        { name: "Oak", basis: "spend", threshold: 100, windowDays: 30, multiplier: 1, perks: "" },
        { name: "Redwood", basis: "lifetime_points", threshold: 1700, multiplier: 1, perks: "" },
      ];
    });
    const token = await member(shop, "jo", "1699.00");
    expect((await customer(shop, "jo")).tier).toBe("Oak");
    const shopper = (await state(token)).customer;
    expect(shopper).toMatchObject({ tier: "Oak", nextTier: { name: "Redwood" }, remainingToNextTier: 1 });
    expect(shopper.progress).toBeLessThan(1);
    expect(shopper.progress).toBe(0.99);

    // Oak now needs 5,000 of spend: jo keeps Oak (a lower tier only at the window's end).
    await setProgram(shop, (p) => {
      p.tiers[1].threshold = 5000;
    });
    expect((await customer(shop, "jo")).tier).toBe("Oak");
    await applyProgramTiers(env.DB, (await shopById(env.DB, shop.id))!, new Date());
    expect((await customer(shop, "jo")).tier).toBe("Oak");
    await runDaily(inDays(31));
    expect((await customer(shop, "jo")).tier).toBe("Sapling");
  });

  it("progress is below 1 whenever anything remains, and 1 with nothing to go (pure rule)", () => {
    const tiers = [
      { name: "A", basis: "lifetime_points" as const, threshold: 0, multiplier: 1, perks: "" },
      { name: "B", basis: "lifetime_points" as const, threshold: 1700, multiplier: 1, perks: "" },
    ];
    const at = (points: number) => progressToNextTier(tiers, "A", { lifetimePoints: points, spendByWindow: {} });
    expect(at(1699)).toMatchObject({ progress: 0.99, remaining: 1 });
    expect(at(850)).toMatchObject({ progress: 0.5, remaining: 850 });
    expect(at(1774)).toMatchObject({ progress: 1, remaining: 0 });
    for (let points = 0; points < 1700; points += 37) expect(at(points).progress).toBeLessThan(1);
  });
});

describe("the scheduled handler's now", () => {
  it("takes now from scheduledTime: a run as of the past changes nothing that is due later", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.earning.pendingDays = 10;
    });
    await sendEvent(shop, { type: "order.paid", order: { id: "n-1", customerId: "kit", currency: "EUR", subtotal: "10.00", lines: [] } });
    await runDaily(new Date()); // as of now: still pending
    expect(await customer(shop, "kit")).toMatchObject({ balance: 0, pendingPoints: 10 });
    await runDaily(inDays(11)); // as of eleven days on: available
    expect(await customer(shop, "kit")).toMatchObject({ balance: 10, pendingPoints: 0 });
    expect((await ledgerOf(shop, "kit"))[0]!.createdAt.slice(0, 10)).toBe(inDays(11).toISOString().slice(0, 10));
  });
});
