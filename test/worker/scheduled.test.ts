import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { pointsToExpire } from "../../worker/domain/expiry";
import { ingestEvent } from "../../worker/services/events";
import { runScheduledWork } from "../../worker/services/scheduled";
import { shopById } from "../../worker/store/shops";
import { assertLedgerInvariants, customer, ledgerOf, makeShop, postAdjustment, setProgram } from "./helpers";

const DAY = 86_400_000;
const T0 = new Date("2026-01-10T12:00:00.000Z");
const at = (days: number) => new Date(T0.getTime() + days * DAY);

async function order(shopId: string, id: string, customerId: string, subtotal: string, now: Date) {
  const shop = (await shopById(env.DB, shopId))!;
  return ingestEvent(
    env.DB,
    shop,
    "events",
    { id: `evt-${id}`, type: "order.paid", order: { id, customerId, currency: "EUR", subtotal, lines: [] } },
    now,
  );
}

/** Runs the real scheduled handler of worker/index.ts at a fixed time. */
async function runCron(now: Date) {
  const controller = createScheduledController({ scheduledTime: now.getTime(), cron: "17 3 * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("points expiry", () => {
  it("expires what is left of each credit oldest first (pure rule)", () => {
    const now = new Date("2026-03-01T00:00:00Z");
    const credit = (delta: number, expiresAt: string | null, createdAt = "2026-01-01T00:00:00Z") => ({
      delta,
      kind: "order",
      createdAt,
      expiresAt,
    });
    const debit = (delta: number, kind = "redemption", createdAt = "2026-01-15T00:00:00Z") => ({
      delta,
      kind,
      createdAt,
      expiresAt: null,
    });
    const lots = [credit(100, "2026-02-01T00:00:00Z"), credit(50, "2026-04-01T00:00:00Z"), credit(20, null)];
    expect(pointsToExpire(lots, now)).toBe(100);
    expect(pointsToExpire([...lots, debit(-30)], now)).toBe(70);
    expect(pointsToExpire([...lots, debit(-100)], now)).toBe(0);
    expect(pointsToExpire([...lots, debit(-160)], now)).toBe(0);
    // A non-expiring credit older than an expiring one is spent first; an earlier expiry entry took
    // only expired lots, so a later debit takes the non-expiring ones before the next expiry.
    const mixed = [
      credit(100, "2026-02-01T00:00:00Z"),
      credit(97, null),
      credit(181, "2026-02-20T00:00:00Z"),
      debit(-100, "expiry", "2026-02-02T00:00:00Z"),
      debit(-50, "redemption", "2026-02-03T00:00:00Z"),
    ];
    expect(pointsToExpire(mixed, new Date("2026-02-10T00:00:00Z"))).toBe(0);
    expect(pointsToExpire(mixed, now)).toBe(181);
  });

  it("writes expiry entries through the scheduled handler, once, oldest credits first", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.expiry.days = 30;
    });
    await order(shop.id, "o-1", "c-1", "100.00", T0); // 100 points, expire at day 30
    expect((await postAdjustment(shop, "c-1", { points: -30, note: "spent" })).status).toBe(201);
    await order(shop.id, "o-2", "c-1", "50.00", at(20)); // 50 points, expire at day 50

    await runCron(at(29));
    expect((await customer(shop, "c-1")).balance).toBe(120);

    await runCron(at(31));
    expect((await customer(shop, "c-1")).balance).toBe(50);
    await runCron(at(31)); // a second run the same day changes nothing
    await runScheduledWork(env, at(31.5));
    expect((await customer(shop, "c-1")).balance).toBe(50);

    await runCron(at(51));
    expect((await customer(shop, "c-1")).balance).toBe(0);
    const entries = await ledgerOf(shop, "c-1");
    expect(entries.filter((e) => e.kind === "expiry").map((e) => e.delta)).toEqual([-70, -50]);
    // Lifetime points (tiers) are not taken by expiry.
    expect((await customer(shop, "c-1")).lifetimePoints).toBe(120);
    await assertLedgerInvariants(shop.id);
  });

  it("expires nothing when expiry is off", async () => {
    const shop = await makeShop();
    await order(shop.id, "o-1", "c-1", "10.00", T0);
    await runCron(at(4000));
    expect((await customer(shop, "c-1")).balance).toBe(10);
  });
});

describe("birthday points", () => {
  it("pays once a year on the birthday, and Feb 29 birthdays on Feb 28 off leap years", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.birthday = 100;
    });
    const s = (await shopById(env.DB, shop.id))!;
    for (const [id, birthday] of [
      ["c-1", "1990-11-24"],
      ["c-2", "02-29"],
      ["c-3", "1985-06-01"],
    ]) {
      await ingestEvent(env.DB, s, "events", { id: `evt-${id}`, type: "customer.created", customer: { id: id!, birthday } }, T0);
    }
    await runCron(new Date("2026-11-24T03:17:00Z"));
    await runCron(new Date("2026-11-24T15:00:00Z"));
    expect((await customer(shop, "c-1")).balance).toBe(100);
    expect((await customer(shop, "c-3")).balance).toBe(0);
    await runCron(new Date("2027-11-24T03:17:00Z"));
    expect((await customer(shop, "c-1")).balance).toBe(200);

    await runCron(new Date("2027-02-28T03:17:00Z"));
    expect((await customer(shop, "c-2")).balance).toBe(100);
    await runCron(new Date("2028-02-28T03:17:00Z")); // leap year: wait for the 29th
    expect((await customer(shop, "c-2")).balance).toBe(100);
    await runCron(new Date("2028-02-29T03:17:00Z"));
    expect((await customer(shop, "c-2")).balance).toBe(200);
    await assertLedgerInvariants(shop.id);
  });
});

describe("tiers", () => {
  it("promotes at once, applies the tier multiplier, and downgrades only when the window ends", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.tiers = [
        { name: "Member", basis: "spend", threshold: 0, windowDays: 30, multiplier: 1, perks: "" },
        { name: "Gold", basis: "spend", threshold: 100, windowDays: 30, multiplier: 2, perks: "2x" },
      ];
    });
    await order(shop.id, "o-1", "c-1", "40.00", T0);
    expect((await customer(shop, "c-1")).tier).toBe("Member");
    await order(shop.id, "o-2", "c-1", "70.00", at(5)); // spend 110 within 30 days: Gold at once
    expect((await customer(shop, "c-1")).tier).toBe("Gold");
    // Gold earns double on the next order: 10 x 2.
    const third = await order(shop.id, "o-3", "c-1", "10.00", at(6));
    expect(third.points).toBe(20);

    await runCron(at(20)); // inside the window since Gold was reached: no downgrade
    expect((await customer(shop, "c-1")).tier).toBe("Gold");
    await runCron(at(36)); // window over, spend in the last 30 days is 0: back to Member
    expect((await customer(shop, "c-1")).tier).toBe("Member");
  });

  it("ranks lifetime-point tiers and shows progress", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.tiers = [
        { name: "Bronze", basis: "lifetime_points", threshold: 100, multiplier: 1, perks: "" },
        { name: "Silver", basis: "lifetime_points", threshold: 500, multiplier: 1.25, perks: "" },
      ];
    });
    await order(shop.id, "o-1", "c-1", "99.00", T0);
    expect((await customer(shop, "c-1")).tier).toBeNull();
    await order(shop.id, "o-2", "c-1", "1.00", T0);
    expect((await customer(shop, "c-1")).tier).toBe("Bronze");
    // Lifetime tiers do not lapse with time.
    await runCron(at(800));
    expect((await customer(shop, "c-1")).tier).toBe("Bronze");
  });
});

describe("tier promotion from other ways to earn", () => {
  it("promotes at once when review or custom points reach a lifetime tier", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.review = 60;
      p.waysToEarn.custom = { quiz: { points: 50 } };
      p.tiers = [{ name: "Bronze", basis: "lifetime_points", threshold: 100, multiplier: 1, perks: "" }];
    });
    const s = (await shopById(env.DB, shop.id))!;
    await ingestEvent(env.DB, s, "events", { id: "r-1", type: "review.created", customerId: "c-1" }, T0);
    expect((await customer(shop, "c-1")).tier).toBeNull();
    await ingestEvent(env.DB, s, "events", { id: "q-1", type: "custom", name: "quiz", customerId: "c-1" }, T0);
    expect((await customer(shop, "c-1")).tier).toBe("Bronze");
  });
});
