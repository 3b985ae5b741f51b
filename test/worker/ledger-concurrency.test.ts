/**
 * Exactly-once under concurrent delivery (the invariants hold under any interleaving of
 * requests). Every request of a burst is started before any is awaited.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  assertLedgerInvariants,
  call,
  customer,
  ledgerOf,
  makeShop,
  orderPaid,
  postAdjustment,
  sendEvent,
  setProgram,
  type TestShop,
} from "./helpers";

const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;

function burst<T>(n: number, make: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => make(i)));
}

async function kinds(shop: TestShop, id: string) {
  return (await ledgerOf(shop, id)).map((e) => [e.kind, e.delta]);
}

// Bursts retry on contention: generous timeouts for slow, shared machines.
describe("concurrent deliveries", { timeout: 60_000 }, () => {
  it("one order delivered 20 times at once (same event id) earns once", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 5;
    });
    const event = {
      id: "evt-same",
      type: "order.paid",
      order: { id: "o1", customerId: "c1", currency: "EUR", subtotal: "42.00", lines: [] },
    };
    const results = await burst(20, () => call("POST", "/v1/events", { token: shop.secretKey, body: event }));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const processed = results.filter((r) => r.body.status === "processed");
    expect(processed).toHaveLength(1);
    expect(processed[0]!.body).toMatchObject({ points: 47, balance: 47 });
    expect(results.filter((r) => r.body.status === "duplicate").every((r) => r.body.points === 0)).toBe(true);
    expect(await kinds(shop, "c1")).toEqual([
      ["signup", 5],
      ["order", 42],
    ]);
    expect(await count("SELECT COUNT(*) AS n FROM customers WHERE shop_id = ?", shop.id)).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM orders WHERE shop_id = ?", shop.id)).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM received_events WHERE shop_id = ?", shop.id)).toBe(1);
    await assertLedgerInvariants(shop.id);
  });

  it("20 different event ids for the same order at once earn once", async () => {
    const shop = await makeShop();
    const results = await burst(20, (i) =>
      orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "42.00" }, { id: `evt-${i}` }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.filter((r) => r.body.status === "processed")).toHaveLength(1);
    expect(results.filter((r) => r.body.status === "duplicate")).toHaveLength(19);
    expect(await kinds(shop, "c1")).toEqual([["order", 42]]);
    expect((await customer(shop, "c1")).balance).toBe(42);
    await assertLedgerInvariants(shop.id);
  });

  it("new customers created by 20 concurrent orders each appear once", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 3;
    });
    // Ten orders for each of two brand-new customers, all at once.
    const results = await burst(20, (i) =>
      orderPaid(shop, { id: `o${i}`, customerId: `c${i % 2}`, subtotal: "10.00" }),
    );
    expect(results.map((r) => [r.status, r.body.status])).toEqual(Array(20).fill([200, "processed"]));
    expect(await count("SELECT COUNT(*) AS n FROM customers WHERE shop_id = ?", shop.id)).toBe(2);
    for (const id of ["c0", "c1"]) {
      // 3 signup once + 10 orders x 10.
      expect((await customer(shop, id)).balance).toBe(103);
      expect((await kinds(shop, id)).filter(([k]) => k === "signup")).toHaveLength(1);
    }
    await assertLedgerInvariants(shop.id);
  });

  it("identical refund deliveries at once claw back once", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" });
    // 20 deliveries of refund r1 (40.00 -> 40 points), half with the same event id, half with new ones.
    const results = await burst(20, (i) =>
      sendEvent(shop, {
        id: i % 2 ? "evt-r1" : `evt-r1-${i}`,
        type: "order.refunded",
        order: { id: "o1" },
        refund: { id: "r1", amount: "40.00" },
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.filter((r) => r.body.status === "processed")).toHaveLength(1);
    expect((await customer(shop, "c1")).balance).toBe(60);
    expect(await kinds(shop, "c1")).toEqual([
      ["order", 100],
      ["refund", -40],
    ]);
    const order = await env.DB.prepare("SELECT refunded_amount, points_reversed FROM orders WHERE shop_id = ? AND external_id = 'o1'")
      .bind(shop.id)
      .first();
    expect(order).toEqual({ refunded_amount: 4000, points_reversed: 40 });
    await assertLedgerInvariants(shop.id);
  });

  it("different refunds and a cancellation of one order at once: each counts once, the total is exact", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" });
    await orderPaid(shop, { id: "o2", customerId: "c1", subtotal: "100.00" });
    // o1: ten distinct refunds of 7.00 each, twice over -> 70.00 refunded -> 70 points.
    // o2: five refunds of 10.00 and a cancellation, all at once -> everything (100) reversed.
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        sendEvent(shop, { type: "order.refunded", order: { id: "o1" }, refund: { id: `r${i % 10}`, amount: "7.00" } }),
      ),
      ...Array.from({ length: 5 }, (_, i) =>
        sendEvent(shop, { type: "order.refunded", order: { id: "o2" }, refund: { id: `r${i}`, amount: "10.00" } }),
      ),
      sendEvent(shop, { type: "order.cancelled", order: { id: "o2" } }),
      sendEvent(shop, { type: "order.cancelled", order: { id: "o2" } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(Array(27).fill(200));
    const rows = (
      await env.DB.prepare(
        "SELECT external_id, refunded_amount, points_reversed, status FROM orders WHERE shop_id = ? ORDER BY external_id",
      )
        .bind(shop.id)
        .all()
    ).results;
    expect(rows).toEqual([
      { external_id: "o1", refunded_amount: 7000, points_reversed: 70, status: "partially_refunded" },
      { external_id: "o2", refunded_amount: 5000, points_reversed: 100, status: "cancelled" },
    ]);
    expect((await customer(shop, "c1")).balance).toBe(30);
    const entries = await ledgerOf(shop, "c1");
    expect(entries.filter((e) => e.reference === "o1" && e.kind === "refund")).toHaveLength(10);
    expect(entries.filter((e) => e.reference === "o2" && e.kind === "cancel").length).toBeLessThanOrEqual(1);
    expect(entries.reduce((sum, e) => sum + (e.reference === "o2" ? e.delta : 0), 0)).toBe(0);
    await assertLedgerInvariants(shop.id);
  });
});

describe("concurrent adjustments", { timeout: 60_000 }, () => {
  it("30 debits of 10 against 100: exactly 10 succeed and the balance never goes below zero", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" });
    const results = await burst(30, () => postAdjustment(shop, "c1", { points: -10 }));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(10).fill(201), ...Array(20).fill(422)]);
    for (const r of results.filter((x) => x.status === 422)) expect(r.body.error.code).toBe("insufficient_points");
    // Each success saw a distinct balance on the way down: 90, 80, ..., 0.
    const after = results.filter((r) => r.status === 201).map((r) => r.body.entry.balanceAfter);
    expect(after.sort((x: number, y: number) => y - x)).toEqual([90, 80, 70, 60, 50, 40, 30, 20, 10, 0]);
    expect((await customer(shop, "c1")).balance).toBe(0);
    expect((await ledgerOf(shop, "c1")).filter((e) => e.kind === "adjustment")).toHaveLength(10);
    await assertLedgerInvariants(shop.id);
  });

  it("credits and debits interleaved at once land exactly", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "50.00" });
    // 10 credits of +7 and 10 debits of -5 against 50: every debit is covered whatever the order
    // (50 >= 10 x 5), so all 20 succeed: 50 + 70 - 50 = 70.
    const results = await burst(20, (i) => postAdjustment(shop, "c1", { points: i % 2 ? 7 : -5 }));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect((await customer(shop, "c1")).balance).toBe(70);
    await assertLedgerInvariants(shop.id);
  });

  it("debits racing a claw-back: nothing goes below zero and the shortfall accounts for the rest", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "60.00" }); // 60
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => postAdjustment(shop, "c1", { points: -10 })),
      sendEvent(shop, { type: "order.refunded", order: { id: "o1" }, refund: { id: "r1", amount: "30.00" } }), // owes 30
    ]);
    const debited = results.slice(0, 6).filter((r) => r.status === 201).length * 10;
    expect(results[6]!.status).toBe(200);
    const entries = await ledgerOf(shop, "c1");
    const refund = entries.find((e) => e.kind === "refund")!;
    // The refund owed 30: what it took plus its shortfall.
    expect(-refund.delta + refund.shortfall).toBe(30);
    expect((await customer(shop, "c1")).balance).toBe(60 - debited + refund.delta);
    expect((await customer(shop, "c1")).balance).toBeGreaterThanOrEqual(0);
    await assertLedgerInvariants(shop.id);
  });

  it("the same Idempotency-Key sent 20 times at once: one effect, every response identical", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" });
    const results = await burst(20, () => postAdjustment(shop, "c1", { points: -30, note: "once" }, "same-key"));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    for (const r of results) expect(r.body).toEqual(results[0]!.body);
    expect(results[0]!.body).toMatchObject({ balance: 70, entry: { delta: -30, balanceAfter: 70 } });
    expect((await customer(shop, "c1")).balance).toBe(70);
    expect((await ledgerOf(shop, "c1")).filter((e) => e.kind === "adjustment")).toHaveLength(1);

    // The same key for a refusal: every response the same 422, nothing moved.
    const refused = await burst(10, () => postAdjustment(shop, "c1", { points: -500 }, "refused-key"));
    expect(refused.map((r) => r.status)).toEqual(Array(10).fill(422));
    for (const r of refused) expect(r.body).toEqual(refused[0]!.body);
    expect(refused[0]!.body.error.code).toBe("insufficient_points");

    // Same key, different bodies at once: exactly one wins, the rest are mismatches.
    const mixed = await burst(10, (i) => postAdjustment(shop, "c1", { points: -(i + 1) }, "mixed-key"));
    const won = mixed.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    for (const r of mixed.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe("idempotency_mismatch");
    }
    expect((await customer(shop, "c1")).balance).toBe(70 + won[0]!.body.entry.delta);
    await assertLedgerInvariants(shop.id);
  });
});

describe("an order and its refund or cancellation racing each other", () => {
  it("ends as if they had come in order, whichever lands first", async () => {
    const shop = await makeShop();
    const rounds = 12;
    await Promise.all(
      Array.from({ length: rounds }, (_, i) =>
        Promise.all([
          orderPaid(shop, { id: `race-${i}`, customerId: "c-race", subtotal: "100.00" }),
          i % 2 === 0
            ? sendEvent(shop, { type: "order.refunded", order: { id: `race-${i}` }, refund: { id: `r-${i}`, amount: "100.00" } })
            : sendEvent(shop, { type: "order.cancelled", order: { id: `race-${i}` } }),
        ]),
      ),
    );
    // Every order earned 100 and gave all of it back, however the pair interleaved.
    expect((await customer(shop, "c-race")).balance).toBe(0);
    const { results } = await env.DB.prepare("SELECT status, points_awarded, points_reversed FROM orders WHERE shop_id = ?")
      .bind(shop.id)
      .all<{ status: string; points_awarded: number; points_reversed: number }>();
    expect(results).toHaveLength(rounds);
    for (const order of results) {
      expect(["refunded", "cancelled"]).toContain(order.status);
      expect(order.points_reversed).toBe(order.points_awarded);
    }
    const pending = await env.DB.prepare("SELECT COUNT(*) AS n FROM order_refunds WHERE shop_id = ? AND applied = 0")
      .bind(shop.id)
      .first<{ n: number }>();
    expect(pending!.n).toBe(0);
    await assertLedgerInvariants(shop.id);
  });
});
