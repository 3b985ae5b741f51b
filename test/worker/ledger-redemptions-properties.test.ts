import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ingestEvent } from "../../worker/services/events";
import { runScheduledWork } from "../../worker/services/scheduled";
import { shopById } from "../../worker/store/shops";
import {
  assertLedgerInvariants,
  call,
  customer,
  makeReward,
  makeShop,
  postAdjustment,
  setProgram,
  storefrontSession,
  type TestShop,
} from "./helpers";

/**
 * The ledger property test extended with redemptions (some of them concurrent), voided codes and
 * points expiry, against an independent model: a queue of earned lots that debits consume oldest
 * first and that expire whatever is left of them once their day has come.
 */

const DAY = 86_400_000;
const EXPIRY_DAYS = 30;
const COSTS = [50, 120, 300];

type Step =
  | { kind: "order"; day: number; euros: number }
  | { kind: "credit"; points: number }
  | { kind: "debit"; points: number }
  | { kind: "redeem"; reward: number; concurrent: number }
  | { kind: "void"; pick: number }
  | { kind: "expire"; day: number };

interface Lot {
  left: number;
  expiresAt: number | null;
}

/** The model: lots in earning order; a debit eats the oldest first; expiry takes what is left. */
class Model {
  lots: Lot[] = [];
  balance = 0;
  redemptions: { id: string; cost: number; voided: boolean }[] = [];

  credit(points: number, expiresAt: number | null) {
    if (points <= 0) return;
    this.lots.push({ left: points, expiresAt });
    this.balance += points;
  }

  debit(points: number) {
    let owed = points;
    for (const lot of this.lots) {
      const taken = Math.min(lot.left, owed);
      lot.left -= taken;
      owed -= taken;
    }
    if (owed !== 0) throw new Error("model overdraft");
    this.balance -= points;
  }

  expire(at: number) {
    let expired = 0;
    for (const lot of this.lots) {
      if (lot.expiresAt !== null && lot.expiresAt <= at && lot.left > 0) {
        expired += lot.left;
        lot.left = 0;
      }
    }
    this.balance -= expired;
  }
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("order" as const), day: fc.integer({ min: 0, max: 3 }), euros: fc.integer({ min: 1, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("credit" as const), points: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("debit" as const), points: fc.integer({ min: 1, max: 300 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("redeem" as const),
      reward: fc.integer({ min: 0, max: COSTS.length - 1 }),
      concurrent: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("void" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("expire" as const), day: fc.integer({ min: 1, max: 12 }) }) },
);

interface World {
  shop: TestShop;
  token: string;
  rewards: { id: string; cost: number }[];
  model: Model;
  /** The simulated calendar, in days after T0; it only moves forward. */
  today: number;
  orders: number;
}

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

async function apply(world: World, step: Step) {
  const { shop, model } = world;
  switch (step.kind) {
    case "order": {
      world.today += step.day;
      const now = new Date(T0 + world.today * DAY);
      const id = `o-${++world.orders}`;
      const result = await ingestEvent(
        env.DB,
        (await shopById(env.DB, shop.id))!,
        "events",
        { id: `e-${id}`, type: "order.paid", order: { id, customerId: "c-1", currency: "EUR", subtotal: `${step.euros}.00`, lines: [] } },
        now,
      );
      expect(result.status).toBe("processed");
      model.credit(step.euros, now.getTime() + EXPIRY_DAYS * DAY);
      return;
    }
    case "credit": {
      const res = await postAdjustment(shop, "c-1", { points: step.points, note: "" });
      expect(res.status).toBe(201);
      model.credit(step.points, null);
      return;
    }
    case "debit": {
      const res = await postAdjustment(shop, "c-1", { points: -step.points, note: "" });
      if (model.balance >= step.points) {
        expect(res.status).toBe(201);
        model.debit(step.points);
      } else {
        expect(res.status).toBe(422);
        expect(res.body.error.code).toBe("insufficient_points");
      }
      return;
    }
    case "redeem": {
      const reward = world.rewards[step.reward]!;
      const answers = await Promise.all(
        Array.from({ length: step.concurrent }, () =>
          call("POST", "/v1/storefront/redemptions", {
            token: world.token,
            body: { rewardId: reward.id },
            headers: { "idempotency-key": crypto.randomUUID() },
          }),
        ),
      );
      // Exactly as many succeed as the balance affords; the rest are refused and change nothing.
      const affordable = Math.min(step.concurrent, Math.floor(model.balance / reward.cost));
      const ok = answers.filter((a) => a.status === 201);
      expect(ok).toHaveLength(affordable);
      for (const a of answers) if (a.status !== 201) expect(a.body.error.code).toBe("insufficient_points");
      for (const a of ok) {
        model.debit(reward.cost);
        model.redemptions.push({ id: a.body.redemption.id, cost: reward.cost, voided: false });
      }
      return;
    }
    case "void": {
      const open = model.redemptions.filter((r) => !r.voided);
      if (open.length === 0) return;
      const target = open[step.pick % open.length]!;
      const res = await call("POST", `/v1/redemptions/${target.id}/void`, { token: shop.secretKey, body: {} });
      expect(res.status).toBe(200);
      target.voided = true;
      // The points come back as a new credit that does not expire.
      model.credit(target.cost, null);
      return;
    }
    case "expire": {
      world.today += step.day * 5;
      const at = T0 + world.today * DAY;
      await runScheduledWork(env, new Date(at));
      model.expire(at);
      return;
    }
  }
}

describe("ledger properties with redemptions and expiry", () => {
  it("keeps every invariant and the model's balance after every step", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 6, maxLength: 22 }), async (steps) => {
        const shop = await makeShop();
        await setProgram(shop, (p) => {
          p.expiry.days = EXPIRY_DAYS;
        });
        await storefrontSession(shop, "c-1");
        const rewards = [];
        for (const cost of COSTS) rewards.push(await makeReward(shop, { cost, name: `R${cost}` }));
        const world: World = { shop, token: await storefrontSession(shop, "c-1"), rewards, model: new Model(), today: 0, orders: 0 };
        for (const step of steps) {
          await apply(world, step);
          await assertLedgerInvariants(shop.id);
          expect((await customer(shop, "c-1")).balance, JSON.stringify(step)).toBe(world.model.balance);
        }
        const codes = await env.DB.prepare("SELECT COUNT(DISTINCT code) AS codes, COUNT(*) AS n FROM redemptions WHERE shop_id = ?")
          .bind(shop.id)
          .first<{ codes: number; n: number }>();
        expect(codes!.codes).toBe(codes!.n);
        expect(codes!.n).toBe(world.model.redemptions.length);
      }),
      { numRuns: 15, endOnFailure: true },
    );
  }, 240_000);
});
