/**
 * Event ingestion (the earning rules, POST /v1/events). Every figure below is worked out
 * by hand in the comment next to it; the program is changed between orders to show that each
 * order earns (and later refunds) by the rules in force when it earned.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signStandardWebhook } from "../../worker/auth/standard-webhooks";
import type { LoyaltyEvent } from "../../worker/contract/events";
import { ingestEvent } from "../../worker/services/events";
import { shopById } from "../../worker/store/shops";
import {
  assertLedgerInvariants,
  call,
  customer,
  expectError,
  ledgerOf,
  makeShop,
  orderPaid,
  postAdjustment,
  sendEvent,
  setProgram,
  signedEvent,
  snapshot,
  type TestShop,
} from "./helpers";

const refund = (shop: TestShop, orderId: string, refundId: string, amount: string) =>
  sendEvent(shop, { type: "order.refunded", order: { id: orderId }, refund: { id: refundId, amount } });
const cancel = (shop: TestShop, orderId: string) => sendEvent(shop, { type: "order.cancelled", order: { id: orderId } });

async function orderRow(shopId: string, externalId: string) {
  return env.DB.prepare(
    "SELECT eligible_amount, points_awarded, points_reversed, refunded_amount, rounding, status FROM orders WHERE shop_id = ? AND external_id = ?",
  )
    .bind(shopId, externalId)
    .first<{
      eligible_amount: number;
      points_awarded: number;
      points_reversed: number;
      refunded_amount: number;
      rounding: string;
      status: string;
    }>();
}

describe("earning on orders", { timeout: 30_000 }, () => {
  it("earns on the eligible amount: subtotal minus discount, shipping and tax only when configured", async () => {
    const shop = await makeShop();
    const amounts = { subtotal: "100.00", discount: "15.50", shipping: "9.99", tax: "19.00" };

    // Defaults: 100.00 - 15.50 = 84.50 eligible -> floor(84.5) = 84 points.
    let res = await orderPaid(shop, { id: "e1", customerId: "c1", ...amounts });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "processed", customerId: "c1", points: 84, balance: 84 });
    expect(await orderRow(shop.id, "e1")).toMatchObject({ eligible_amount: 8450, points_awarded: 84 });

    // With shipping: 84.50 + 9.99 = 94.49 -> 94.
    await setProgram(shop, (p) => {
      p.earning.includeShipping = true;
    });
    res = await orderPaid(shop, { id: "e2", customerId: "c1", ...amounts });
    expect(res.body).toMatchObject({ points: 94, balance: 84 + 94 });

    // With shipping and tax: 94.49 + 19.00 = 113.49 -> 113.
    await setProgram(shop, (p) => {
      p.earning.includeTax = true;
    });
    res = await orderPaid(shop, { id: "e3", customerId: "c1", ...amounts });
    expect(res.body).toMatchObject({ points: 113, balance: 84 + 94 + 113 });

    // Tax only: 84.50 + 19.00 = 103.50 -> 103.
    await setProgram(shop, (p) => {
      p.earning.includeShipping = false;
    });
    res = await orderPaid(shop, { id: "e4", customerId: "c1", ...amounts });
    expect(res.body).toMatchObject({ points: 103, balance: 84 + 94 + 113 + 103 });

    // A discount equal to the subtotal leaves nothing to earn on: 0 points, no ledger entry.
    res = await orderPaid(shop, { id: "e5", customerId: "c1", subtotal: "20.00", discount: "20.00" });
    expect(res.body).toMatchObject({ status: "processed", points: 0, balance: 394 });
    const entries = await ledgerOf(shop, "c1");
    expect(entries.map((e) => [e.kind, e.reference, e.delta, e.balanceAfter])).toEqual([
      ["order", "e1", 84, 84],
      ["order", "e2", 94, 178],
      ["order", "e3", 113, 291],
      ["order", "e4", 103, 394],
    ]);
    await assertLedgerInvariants(shop.id);
  });

  it("rounds by the program's mode: floor, round (half up) and ceil", async () => {
    const shop = await makeShop();
    // 1.5 points per unit on 10.33 = 15.495 points; on 10.00 = 15 exactly; on 10.34 = 15.51.
    const cases: [string, string, number][] = [
      ["floor", "10.33", 15],
      ["floor", "10.34", 15],
      ["round", "10.33", 15], // 15.495 -> 15
      ["round", "10.34", 16], // 15.51 -> 16
      ["ceil", "10.33", 16],
      ["ceil", "10.00", 15], // exact: no rounding up
    ];
    let balance = 0;
    let n = 0;
    for (const [rounding, subtotal, points] of cases) {
      await setProgram(shop, (p) => {
        p.earning.pointsPerUnit = 1.5;
        p.earning.rounding = rounding;
      });
      const res = await orderPaid(shop, { id: `r${++n}`, customerId: "c1", subtotal });
      balance += points;
      expect(res.body, `${rounding} ${subtotal}`).toMatchObject({ points, balance });
      expect((await orderRow(shop.id, `r${n}`))!.rounding).toBe(rounding);
    }
    // Half exactly: 1 point per unit on 10.50 = 10.5 -> round gives 11 (half up), floor 10.
    await setProgram(shop, (p) => {
      p.earning.pointsPerUnit = 1;
      p.earning.rounding = "round";
    });
    expect((await orderPaid(shop, { id: "half", customerId: "c2", subtotal: "10.50" })).body.points).toBe(11);
  });

  it("applies the minimum order to the eligible amount", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.earning.minOrder = "20.00";
    });
    // 19.99 < 20.00 -> nothing; the order is still recorded (it earns once, never later).
    let res = await orderPaid(shop, { id: "m1", customerId: "c1", subtotal: "19.99" });
    expect(res.body).toMatchObject({ status: "processed", points: 0, balance: 0 });
    expect(await orderRow(shop.id, "m1")).toMatchObject({ eligible_amount: 1999, points_awarded: 0 });
    // 25.00 - 5.01 = 19.99 eligible -> still under the minimum.
    res = await orderPaid(shop, { id: "m2", customerId: "c1", subtotal: "25.00", discount: "5.01" });
    expect(res.body).toMatchObject({ points: 0, balance: 0 });
    // Exactly 20.00 -> 20 points.
    res = await orderPaid(shop, { id: "m3", customerId: "c1", subtotal: "20.00" });
    expect(res.body).toMatchObject({ points: 20, balance: 20 });
    // The same order again under a new event id does not earn now that it would qualify.
    res = await orderPaid(shop, { id: "m1", customerId: "c1", subtotal: "99.00" });
    expect(res.body).toMatchObject({ status: "duplicate", points: 0, balance: 20 });
  });

  it("weights product-type multipliers by each line's share", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.earning.productTypeMultipliers = { book: 2, gift: 0.5 };
    });
    const lines = [
      { productType: "book", quantity: 2, price: "20.00" }, // 40.00 x 2
      { productType: "gift", quantity: 1, price: "40.00" }, // 40.00 x 0.5
      { productType: "other", sku: "X1", quantity: 1, price: "20.00" }, // 20.00 x 1 (no multiplier)
    ];
    // Weighted multiplier = (80 + 20 + 20) / 100 = 1.2; 100.00 eligible -> 120 points.
    let res = await orderPaid(shop, { id: "p1", customerId: "c1", subtotal: "100.00", lines });
    expect(res.body).toMatchObject({ points: 120, balance: 120 });
    // Same lines with a 10.00 discount: 90.00 x 1.2 = 108.
    res = await orderPaid(shop, { id: "p2", customerId: "c1", subtotal: "100.00", discount: "10.00", lines });
    expect(res.body).toMatchObject({ points: 108, balance: 228 });
    // Books only, 0.75 points per unit: 33.33 x 2 x 0.75 = 49.995 -> floor 49.
    await setProgram(shop, (p) => {
      p.earning.pointsPerUnit = 0.75;
    });
    res = await orderPaid(shop, {
      id: "p3",
      customerId: "c1",
      subtotal: "33.33",
      lines: [{ productType: "book", quantity: 1, price: "33.33" }],
    });
    expect(res.body).toMatchObject({ points: 49, balance: 277 });
  });

  it("uses the currency's own minor units (JPY has none, KWD three)", async () => {
    const yen = await makeShop({ currency: "JPY" });
    await setProgram(yen, (p) => {
      p.earning.pointsPerUnit = 0.01; // one point per 100 yen
    });
    // 12,345 yen x 0.01 = 123.45 -> 123 (treating yen as cents would give 1).
    let res = await orderPaid(yen, { id: "j1", customerId: "c1", subtotal: "12345", currency: "JPY" });
    expect(res.body).toMatchObject({ points: 123, balance: 123 });
    expect(await orderRow(yen.id, "j1")).toMatchObject({ eligible_amount: 12345 });
    // Yen have no fraction: "1234.5" is not an amount in JPY.
    const before = await snapshot();
    res = await orderPaid(yen, { id: "j2", customerId: "c1", subtotal: "1234.5", currency: "JPY" });
    expectError(res, 400, "invalid_request");
    // An order in another currency than the shop's is refused, not converted.
    res = await orderPaid(yen, { id: "j3", customerId: "c1", subtotal: "10.00", currency: "EUR" });
    expect(res.status).toBe(422);
    expect(await snapshot()).toEqual(before);

    const dinar = await makeShop({ currency: "KWD" });
    await setProgram(dinar, (p) => {
      p.earning.pointsPerUnit = 10;
    });
    // 1.234 KWD x 10 = 12.34 -> 12.
    res = await orderPaid(dinar, { id: "k1", customerId: "c1", subtotal: "1.234", currency: "KWD" });
    expect(res.body).toMatchObject({ points: 12 });
    expect(await orderRow(dinar.id, "k1")).toMatchObject({ eligible_amount: 1234 });
  });

  it("stacks running boosts, judged at the order's own time", async () => {
    const shop = await makeShop();
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const hour = 3_600_000;
    await setProgram(shop, (p) => {
      p.earning.boosts = [
        { name: "Double days", multiplier: 2, startsAt: iso(now - hour), endsAt: iso(now + hour) },
        { name: "Launch", multiplier: 1.5, startsAt: iso(now - 10 * hour), endsAt: iso(now + hour) },
        { name: "Last week", multiplier: 3, startsAt: iso(now - 200 * hour), endsAt: iso(now - 100 * hour) },
      ];
    });
    // Now: 2 x 1.5 = 3; 30.00 -> 90 points. The ended boost does not count.
    let res = await orderPaid(shop, { id: "b1", customerId: "c1", subtotal: "30.00" });
    expect(res.body).toMatchObject({ points: 90, balance: 90 });
    // Placed 5 hours ago (delivered late): only "Launch" ran then -> 30 x 1.5 = 45.
    res = await orderPaid(shop, { id: "b2", customerId: "c1", subtotal: "30.00" }, { occurredAt: iso(now - 5 * hour) });
    expect(res.body).toMatchObject({ points: 45, balance: 135 });
    // Placed 150 hours ago: only "Last week" ran -> 30 x 3 = 90.
    res = await orderPaid(shop, { id: "b3", customerId: "c1", subtotal: "30.00" }, { occurredAt: iso(now - 150 * hour) });
    expect(res.body).toMatchObject({ points: 90, balance: 225 });
  });

  it("applies the tier multiplier to order earning only", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 10;
      p.tiers = [{ name: "Gold", basis: "lifetime_points", threshold: 100, multiplier: 2, perks: "" }];
    });
    // New member: 10 signup + 95 for the order = 105 lifetime -> Gold. The multiplier applies from
    // the next order on (the tier is reached by this one).
    let res = await orderPaid(shop, { id: "t1", customerId: "c1", subtotal: "95.00" });
    expect(res.body).toMatchObject({ points: 105, balance: 105 });
    expect((await customer(shop, "c1")).tier).toBe("Gold");
    // Gold: 20.00 x 1 x 2 = 40.
    res = await orderPaid(shop, { id: "t2", customerId: "c1", subtotal: "20.00" });
    expect(res.body).toMatchObject({ points: 40, balance: 145 });
  });
});

describe("refunds and cancellations", { timeout: 30_000 }, () => {
  it("claws back proportionally, cumulatively, by the rounding the order earned with", async () => {
    const shop = await makeShop();
    // Earned under floor: 10.00 -> 10 points, eligible 1000.
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    // Refund 2.50: 10 x 250 / 1000 = 2.5 -> floor 2 (ceil would take 3).
    let res = await refund(shop, "o1", "r1", "2.50");
    expect(res.body).toMatchObject({ status: "processed", customerId: "c1", points: -2, balance: 8 });

    // The merchant switches to ceil: the order keeps its own rule.
    await setProgram(shop, (p) => {
      p.earning.rounding = "ceil";
    });
    // Cumulative 5.00: 10 x 500 / 1000 = 5 -> 5 in total, so 3 more (per refund it would be 2 again).
    res = await refund(shop, "o1", "r2", "2.50");
    expect(res.body).toMatchObject({ points: -3, balance: 5 });
    // Cumulative 6.25: 6.25 -> floor 6, so 1 more (ceil would make it 7, i.e. 2 more).
    res = await refund(shop, "o1", "r3", "1.25");
    expect(res.body).toMatchObject({ points: -1, balance: 4 });
    expect(await orderRow(shop.id, "o1")).toMatchObject({
      rounding: "floor",
      refunded_amount: 625,
      points_reversed: 6,
      status: "partially_refunded",
    });
    // The same refund id again (new event id) changes nothing.
    res = await refund(shop, "o1", "r3", "1.25");
    expect(res.body).toMatchObject({ status: "duplicate", points: 0 });
    // Refunding more than the rest takes exactly what the order still holds: 10 - 6 = 4.
    res = await refund(shop, "o1", "r4", "50.00");
    expect(res.body).toMatchObject({ points: -4, balance: 0 });
    expect(await orderRow(shop.id, "o1")).toMatchObject({ points_reversed: 10, status: "refunded" });

    // A new order earns by the new rule: 10.01 -> ceil 11.
    res = await orderPaid(shop, { id: "o2", customerId: "c1", subtotal: "10.01" });
    expect(res.body).toMatchObject({ points: 11, balance: 11 });
    // ... and refunds by it: 11 x 100 / 1001 = 1.0989 -> ceil 2.
    res = await refund(shop, "o2", "r1", "1.00");
    expect(res.body).toMatchObject({ points: -2, balance: 9 });

    const kinds = (await ledgerOf(shop, "c1")).map((e) => [e.kind, e.reference, e.delta]);
    expect(kinds).toEqual([
      ["order", "o1", 10],
      ["refund", "o1", -2],
      ["refund", "o1", -3],
      ["refund", "o1", -1],
      ["refund", "o1", -4],
      ["order", "o2", 11],
      ["refund", "o2", -2],
    ]);
    await assertLedgerInvariants(shop.id);
  });

  it("refunds on the same basis as earning (weighted lines, shipping when included)", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.earning.productTypeMultipliers = { book: 3 };
      p.earning.includeShipping = true;
    });
    // Eligible 40.00 + 10.00 shipping = 50.00; all lines are books (x3) -> 150 points.
    await orderPaid(shop, {
      id: "o1",
      customerId: "c1",
      subtotal: "40.00",
      shipping: "10.00",
      lines: [{ productType: "book", quantity: 4, price: "10.00" }],
    });
    expect((await customer(shop, "c1")).balance).toBe(150);
    // Refund 12.50 of 50.00 eligible: 150 x 1250 / 5000 = 37.5 -> floor 37.
    const res = await refund(shop, "o1", "r1", "12.50");
    expect(res.body).toMatchObject({ points: -37, balance: 113 });
  });

  it("a cancellation reverses whatever the order still holds, once", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "50.00" }); // 50
    await orderPaid(shop, { id: "o2", customerId: "c1", subtotal: "7.00" }); // 7
    await refund(shop, "o1", "r1", "10.00"); // 50 x 10 / 50 = 10
    let res = await cancel(shop, "o1");
    // 50 - 10 already taken = 40.
    expect(res.body).toMatchObject({ status: "processed", points: -40, balance: 7 });
    expect(await orderRow(shop.id, "o1")).toMatchObject({ status: "cancelled", points_reversed: 50 });
    res = await cancel(shop, "o1");
    expect(res.body).toMatchObject({ status: "duplicate", points: 0, balance: 7 });
    // A refund after the cancellation is recorded but has nothing left to take.
    res = await refund(shop, "o1", "r2", "10.00");
    expect(res.status).toBe(200);
    expect(res.body.points).toBe(0);
    expect((await customer(shop, "c1")).balance).toBe(7);
    expect(await orderRow(shop.id, "o1")).toMatchObject({ status: "cancelled", points_reversed: 50, refunded_amount: 2000 });
    // A cancellation of an order that earned nothing moves nothing.
    await orderPaid(shop, { id: "o3", customerId: "c1", subtotal: "0.50" });
    res = await cancel(shop, "o3");
    expect(res.body).toMatchObject({ points: 0, balance: 7 });
    await assertLedgerInvariants(shop.id);
  });

  it("keeps refunds and a cancellation that arrive before their order, and applies them when it does", async () => {
    const shop = await makeShop();
    // Refund first: 30.00 of a 100.00 order -> 100 x 30 / 100 = 30 taken when the order lands.
    let res = await refund(shop, "o1", "r1", "30.00");
    expect(res.body).toMatchObject({ status: "processed", customerId: null, points: 0 });
    res = await refund(shop, "o1", "r1", "30.00");
    expect(res.body.status).toBe("duplicate");
    res = await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" });
    expect(res.body).toMatchObject({ status: "processed", points: 70, balance: 70 });
    expect(await orderRow(shop.id, "o1")).toMatchObject({ points_awarded: 100, points_reversed: 30, refunded_amount: 3000 });

    // Cancellation first: the order earns and is reversed in the same step; net 0.
    res = await cancel(shop, "o2");
    expect(res.body).toMatchObject({ status: "processed", points: 0 });
    res = await orderPaid(shop, { id: "o2", customerId: "c1", subtotal: "40.00" });
    expect(res.body).toMatchObject({ points: 0, balance: 70 });
    expect(await orderRow(shop.id, "o2")).toMatchObject({ status: "cancelled", points_awarded: 40, points_reversed: 40 });
    expect((await ledgerOf(shop, "c1")).map((e) => [e.kind, e.reference, e.delta])).toEqual([
      ["order", "o1", 100],
      ["refund", "o1", -30],
      ["order", "o2", 40],
      ["cancel", "o2", -40],
    ]);
    // A cancellation with an id that a refund also used is still a cancellation.
    await orderPaid(shop, { id: "o3", customerId: "c1", subtotal: "10.00" });
    res = await refund(shop, "o3", "cancel", "5.00"); // 10 x 5 / 10 = 5
    expect(res.body).toMatchObject({ status: "processed", points: -5, balance: 75 });
    res = await cancel(shop, "o3");
    expect(res.body).toMatchObject({ status: "processed", points: -5, balance: 70 });
    await assertLedgerInvariants(shop.id);
  });

  it("a claw-back the balance cannot cover takes it to zero and records the shortfall", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "20.00" }); // 20
    expect((await postAdjustment(shop, "c1", { points: -15, note: "spent in store" })).status).toBe(201); // 5 left
    let res = await refund(shop, "o1", "r1", "20.00");
    // Owes 20, takes the 5 there are, 15 short.
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "processed", balance: 0 });
    let entries = await ledgerOf(shop, "c1");
    expect(entries.at(-1)).toMatchObject({ kind: "refund", reference: "o1", delta: -5, shortfall: 15, balanceAfter: 0 });

    await orderPaid(shop, { id: "o2", customerId: "c1", subtotal: "10.00" }); // 10
    await postAdjustment(shop, "c1", { points: -10 });
    res = await cancel(shop, "o2");
    expect(res.body).toMatchObject({ status: "processed", balance: 0 });
    entries = await ledgerOf(shop, "c1");
    // Nothing to take: the entry is still written, with the whole 10 as shortfall.
    expect(entries.at(-1)).toMatchObject({ kind: "cancel", reference: "o2", delta: 0, shortfall: 10, balanceAfter: 0 });
    expect(entries.filter((e) => e.shortfall > 0).map((e) => e.shortfall)).toEqual([15, 10]);
    await assertLedgerInvariants(shop.id);
  });

  it("reports the points a clamped claw-back actually moved", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "20.00" }); // 20
    await postAdjustment(shop, "c1", { points: -15 }); // 5 left
    const res = await refund(shop, "o1", "r1", "20.00");
    // EventResult.points is "points this event moved": the 5 taken, not the 20 owed.
    expect(res.body).toMatchObject({ points: -5, balance: 0 });
  });
});

describe("other ways to earn", { timeout: 30_000 }, () => {
  it("signup points once per member, on first sight from any event", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 25;
    });
    let res = await sendEvent(shop, {
      type: "customer.created",
      customer: { id: "c1", email: "ada@example.com", firstName: "Ada", birthday: "1990-12-10" },
    });
    expect(res.body).toMatchObject({ status: "processed", customerId: "c1", points: 25, balance: 25 });
    expect(await customer(shop, "c1")).toMatchObject({ email: "ada@example.com", firstName: "Ada", birthday: "1990-12-10" });
    // A second customer.created (new event id) updates the profile but pays no second signup.
    res = await sendEvent(shop, { type: "customer.created", customer: { id: "c1", firstName: "Ada L." } });
    expect(res.body).toMatchObject({ status: "processed", points: 0, balance: 25 });
    expect((await customer(shop, "c1")).firstName).toBe("Ada L.");
    // First seen through an order: signup + order points in one step (25 + 12).
    res = await orderPaid(shop, { id: "o1", customerId: "c2", subtotal: "12.00" });
    expect(res.body).toMatchObject({ points: 37, balance: 37 });
    expect((await ledgerOf(shop, "c2")).map((e) => e.kind)).toEqual(["signup", "order"]);
    // With signup off, a new member starts at 0.
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 0;
    });
    res = await sendEvent(shop, { type: "customer.created", customer: { id: "c3" } });
    expect(res.body).toMatchObject({ points: 0, balance: 0 });
  });

  it("reviews pay as configured, within the daily limit", async () => {
    const shop = await makeShop();
    // Off by default: the member is created, nothing is paid.
    let res = await sendEvent(shop, { type: "review.created", customerId: "c1" });
    expect(res.body).toMatchObject({ status: "processed", customerId: "c1", points: 0, balance: 0 });
    await setProgram(shop, (p) => {
      p.waysToEarn.review = 10;
      p.waysToEarn.reviewLimitPerDay = 2;
    });
    const paid: number[] = [];
    for (let i = 0; i < 3; i++) paid.push((await sendEvent(shop, { type: "review.created", customerId: "c1" })).body.points);
    expect(paid).toEqual([10, 10, 0]);
    expect((await customer(shop, "c1")).balance).toBe(20);
    // Another member has their own limit.
    res = await sendEvent(shop, { type: "review.created", customerId: "c2" });
    expect(res.body).toMatchObject({ points: 10, balance: 10 });
  });

  it("custom events pay by name, each with its own limit per period", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.custom = { newsletter: { points: 5, limit: 1, periodDays: 365 }, quiz: { points: 3 } };
    });
    const send = (name: string) => sendEvent(shop, { type: "custom", name, customerId: "c1" });
    expect((await send("newsletter")).body).toMatchObject({ points: 5, balance: 5 });
    expect((await send("newsletter")).body).toMatchObject({ status: "processed", points: 0, balance: 5 });
    // Unlimited: 3 x 3 = 9.
    for (let i = 0; i < 3; i++) await send("quiz");
    expect((await customer(shop, "c1")).balance).toBe(14);
    // A name the program does not know earns nothing.
    expect((await send("unknown-thing")).body).toMatchObject({ status: "processed", points: 0, balance: 14 });
    const entries = await ledgerOf(shop, "c1");
    expect(entries.map((e) => [e.kind, e.reference, e.delta])).toEqual([
      ["custom", "newsletter", 5],
      ["custom", "quiz", 3],
      ["custom", "quiz", 3],
      ["custom", "quiz", 3],
    ]);
  });

  it("an event id counts once, whatever it carries the second time", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.review = 4;
    });
    const first = await sendEvent(shop, { id: "evt-fixed", type: "review.created", customerId: "c1" });
    expect(first.body).toMatchObject({ status: "processed", points: 4 });
    const again = await sendEvent(shop, { id: "evt-fixed", type: "review.created", customerId: "c1" });
    expect(again.body).toMatchObject({ status: "duplicate", points: 0 });
    const other = await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "50.00" }, { id: "evt-fixed" });
    expect(other.body).toMatchObject({ status: "duplicate", points: 0 });
    expect((await customer(shop, "c1")).balance).toBe(4);
    // Event ids are per shop: another shop may use the same one.
    const shop2 = await makeShop();
    const elsewhere = await orderPaid(shop2, { id: "o1", customerId: "c1", subtotal: "50.00" }, { id: "evt-fixed" });
    expect(elsewhere.body).toMatchObject({ status: "processed", points: 50 });
  });
});

describe("Standard Webhooks delivery (POST /v1/events?shop=<publicKey>)", { timeout: 30_000 }, () => {
  const order = (id: string) => ({
    id: `evt-${id}`,
    type: "order.paid",
    order: { id, customerId: "c1", currency: "EUR", subtotal: "10.00", lines: [] },
  });

  /** Sends `body` with headers built by hand, so each part can be broken on purpose. */
  async function deliver(
    shop: TestShop,
    body: string,
    headers: { id?: string; timestamp?: string; signature?: string },
  ) {
    const h: Record<string, string> = {};
    if (headers.id !== undefined) h["webhook-id"] = headers.id;
    if (headers.timestamp !== undefined) h["webhook-timestamp"] = headers.timestamp;
    if (headers.signature !== undefined) h["webhook-signature"] = headers.signature;
    return call("POST", `/v1/events?shop=${shop.publicKey}`, { raw: body, headers: h });
  }

  async function valid(shop: TestShop, body: string, timestamp = Math.floor(Date.now() / 1000), secret = shop.webhookSecret) {
    const id = `msg_${crypto.randomUUID()}`;
    return { id, timestamp: String(timestamp), signature: await signStandardWebhook(secret, id, timestamp, body) };
  }

  it("accepts a valid signature and processes the event once", async () => {
    const shop = await makeShop();
    let res = await signedEvent(shop, order("w1"));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "processed", points: 10, balance: 10 });
    // Several signatures (key rotation): one valid entry is enough.
    const body = JSON.stringify(order("w2"));
    const headers = await valid(shop, body);
    res = await deliver(shop, body, { ...headers, signature: `v1,AAAA ${headers.signature} v2,zzz` });
    expect(res.body).toMatchObject({ status: "processed", balance: 20 });
    // A redelivery of the same message is a duplicate.
    res = await deliver(shop, body, headers);
    expect(res.body).toMatchObject({ status: "duplicate", points: 0 });
    expect((await customer(shop, "c1")).balance).toBe(20);
    // Within the 5-minute tolerance, either way.
    res = await signedEvent(shop, order("w3"), { timestamp: Math.floor(Date.now() / 1000) - 240 });
    expect(res.status).toBe(200);
    res = await signedEvent(shop, order("w4"), { timestamp: Math.floor(Date.now() / 1000) + 240 });
    expect(res.status).toBe(200);
    expect((await customer(shop, "c1")).balance).toBe(40);
  });

  it("refuses every broken or missing part with 401 and changes nothing", async () => {
    const shop = await makeShop();
    const other = await makeShop();
    await signedEvent(shop, order("seed")); // so the shop has a customer and a ledger
    const body = JSON.stringify(order("bad"));
    // Timestamps are taken when each case runs (a slow machine must not bring them back in range).
    const now = () => Math.floor(Date.now() / 1000);
    const good = await valid(shop, body);
    const flip = (s: string) => {
      const i = s.length - 5;
      return s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    };
    const cases: [string, () => Promise<{ status: number; body: unknown }>][] = [
      ["tampered body", () => deliver(shop, body.replace('"10.00"', '"1000.00"'), good)],
      ["tampered signature", () => deliver(shop, body, { ...good, signature: flip(good.signature) })],
      ["signature not base64", () => deliver(shop, body, { ...good, signature: "v1,!!!not-base64!!!" })],
      ["wrong version tag", () => deliver(shop, body, { ...good, signature: good.signature.replace("v1,", "v1a,") })],
      ["tampered id", () => deliver(shop, body, { ...good, id: `${good.id}x` })],
      ["tampered timestamp", async () => deliver(shop, body, { ...good, timestamp: String(Number(good.timestamp) - 1) })],
      ["stale timestamp (over 5 minutes)", async () => deliver(shop, body, await valid(shop, body, now() - 302))],
      ["future timestamp (over 5 minutes)", async () => deliver(shop, body, await valid(shop, body, now() + 310))],
      ["timestamp in milliseconds", async () => deliver(shop, body, await valid(shop, body, Date.now()))],
      ["another shop's secret", async () => deliver(shop, body, await valid(shop, body, now(), other.webhookSecret))],
      ["missing webhook-id", () => deliver(shop, body, { timestamp: good.timestamp, signature: good.signature })],
      ["missing webhook-timestamp", () => deliver(shop, body, { id: good.id, signature: good.signature })],
      ["missing webhook-signature", () => deliver(shop, body, { id: good.id, timestamp: good.timestamp })],
      ["no headers at all", () => deliver(shop, body, {})],
      [
        "unknown shop key",
        () => call("POST", "/v1/events?shop=pk_doesnotexist", { raw: body, headers: { "webhook-id": good.id, "webhook-timestamp": good.timestamp, "webhook-signature": good.signature } }),
      ],
      [
        "signed for the other shop, sent to it with this shop's signature",
        () => deliver(other, body, good),
      ],
      [
        "secret key instead of a signature on ?shop=",
        () => call("POST", `/v1/events?shop=${shop.publicKey}`, { raw: body, token: shop.secretKey }),
      ],
    ];
    const before = await snapshot();
    for (const [name, attempt] of cases) {
      const res = await attempt();
      try {
        expectError(res, 401, "unauthorized");
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
      expect(await snapshot(), name).toEqual(before);
    }
    // The untouched message still goes through afterwards.
    const res = await deliver(shop, body, good);
    expect(res.body).toMatchObject({ status: "processed", balance: 20 });
  });

  it('refuses "." and ".." as customer ids (no URL path could reach them), from events and sessions', async () => {
    const shop = await makeShop();
    const before = await snapshot();
    for (const id of [".", ".."]) {
      expectError(await sendEvent(shop, { type: "customer.created", customer: { id } }), 400, "invalid_request");
      expectError(await orderPaid(shop, { id: `o-${id}`, customerId: id, subtotal: "10.00" }), 400, "invalid_request");
      const session = await call("POST", "/v1/storefront/sessions", {
        body: { shop: shop.publicKey, customer: { id, ts: Math.floor(Date.now() / 1000), digest: "00" } },
      });
      expectError(session, 400, "invalid_request");
    }
    expect(await snapshot()).toEqual(before);
    // Dots elsewhere in an id are fine, and such a member is readable by its path.
    expect((await sendEvent(shop, { type: "customer.created", customer: { id: "a.b" } })).status).toBe(200);
    expect((await call("GET", "/v1/customers/a.b", { token: shop.secretKey })).status).toBe(200);
  });

  it("an unknown type is 400, signed or not, and changes nothing", async () => {
    const shop = await makeShop();
    const before = await snapshot();
    const event = { id: "evt-unknown", type: "order.exploded", order: { id: "x" } };
    expectError(await signedEvent(shop, event), 400, "invalid_request");
    expectError(await sendEvent(shop, event), 400, "invalid_request");
    expectError(await sendEvent(shop, { type: undefined, customerId: "c1" }), 400, "invalid_request");
    expect(await snapshot()).toEqual(before);
    // The refused event id was not burnt: the same id with a valid type goes through.
    const res = await sendEvent(shop, { id: "evt-unknown", type: "customer.created", customer: { id: "c1" } });
    expect(res.body.status).toBe("processed");
  });
});

/**
 * D1 round trips of one call, counted on a wrapper of the binding: each query run alone
 * (first/all/run/raw) and each batch is one trip to the database.
 */
function countingDb(db: D1Database) {
  const trips: string[] = [];
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, key) {
        if (key === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (key === "first" || key === "all" || key === "run" || key === "raw") {
          return (...args: never[]) => {
            trips.push(String(key));
            return (target[key] as (...a: never[]) => unknown).apply(target, args);
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    real.set(proxy, statement);
    return proxy;
  };
  const counted = {
    prepare: (sql: string) => wrap(db.prepare(sql)),
    batch: (statements: D1PreparedStatement[]) => {
      trips.push(`batch(${statements.length})`);
      return db.batch(statements.map((s) => real.get(s) ?? s));
    },
  } as unknown as D1Database;
  return { db: counted, trips };
}

describe("round trips", () => {
  it("a paid order is one read batch and one write batch, whatever the program has to check", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.tiers = [{ name: "Big spender", basis: "spend", threshold: 1000, windowDays: 365, multiplier: 2, perks: "" }];
      p.referral = { referrerPoints: 100, refereeOffer: { type: "amount_off", value: "5.00" } };
    });
    await call("POST", "/v1/challenges", {
      token: shop.secretKey,
      body: { name: "Three orders", kind: "order_count", goal: 3, rewardPoints: 50 },
    });
    await sendEvent(shop, { type: "customer.created", customer: { id: "rt-ann", email: "ann@example.com" } });
    const loaded = await shopById(env.DB, shop.id);
    const event = (id: string) =>
      ({
        id: `evt-${id}`,
        type: "order.paid",
        order: { id, customerId: "rt-ann", currency: "EUR", subtotal: "20.00", lines: [] },
      }) as unknown as LoyaltyEvent;

    const member = countingDb(env.DB);
    expect(await ingestEvent(member.db, loaded!, "events", event("rt-1"))).toMatchObject({ status: "processed", points: 20 });
    // Reads: event id, order, member, refunds, challenges, referrals (also by the member's own
    // address), spend for the tier; then the write.
    expect(member.trips).toEqual([expect.stringMatching(/^batch/), expect.stringMatching(/^batch/)]);

    const newcomer = countingDb(env.DB);
    const first = { ...event("rt-2"), order: { id: "rt-2", customerId: "rt-new", currency: "EUR", subtotal: "5.00", lines: [] } };
    expect(await ingestEvent(newcomer.db, loaded!, "events", first as LoyaltyEvent)).toMatchObject({ status: "processed" });
    expect(newcomer.trips).toHaveLength(2);

    const again = countingDb(env.DB);
    expect(await ingestEvent(again.db, loaded!, "events", event("rt-1"))).toMatchObject({ status: "duplicate" });
    expect(again.trips).toHaveLength(1);
    await assertLedgerInvariants(shop.id);
  });
});
