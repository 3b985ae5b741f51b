/**
 * The counters `npm run bench` reads to report contention's retries (worker/routes/bench.ts):
 * off unless the BENCH var is on, and counting every plan a stale read made the worker re-make.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, call, callWith, expectError, makeShop } from "./helpers";

const counters = async () => {
  const res = await callWith({ BENCH: "on" }, "GET", "/v1/bench/counters", { token: ADMIN });
  expect(res.status).toBe(200);
  return res.body.writes as { calls: number; attempts: number; exhausted: number };
};

/** D1 whose `n`-th batch is refused once as a concurrent writer's unique key would refuse it. */
function refusingBatch(n: number): D1Database {
  let batches = 0;
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          if (++batches === n) {
            return Promise.reject(new Error("D1_ERROR: UNIQUE constraint failed: orders.shop_id, orders.external_id"));
          }
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const order = (id: string) => ({
  id: `evt-${id}`,
  type: "order.paid",
  order: { id, customerId: "c1", currency: "EUR", subtotal: "10.00", lines: [] },
});

describe("bench counters", () => {
  it("are not there unless BENCH is on", async () => {
    expectError(await call("GET", "/v1/bench/counters", { token: ADMIN }), 404, "not_found");
    expectError(await callWith({ BENCH: "on" }, "GET", "/v1/bench/counters"), 401, "unauthorized");
  });

  it("count one plan per event, and one more for each write a stale read refused", async () => {
    const shop = await makeShop();
    const before = await counters();
    const first = await callWith({}, "POST", "/v1/events", { token: shop.secretKey, body: order("o1") });
    expect(first.body.status).toBe("processed");
    const calm = await counters();
    expect(calm.calls - before.calls).toBe(1);
    expect(calm.attempts - before.attempts).toBe(1);

    // The second batch is the write: refused once, then read and planned again.
    const second = await callWith({ DB: refusingBatch(2) }, "POST", "/v1/events", { token: shop.secretKey, body: order("o2") });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: "processed", points: 10, balance: 20 });
    const after = await counters();
    expect(after.calls - calm.calls).toBe(1);
    expect(after.attempts - calm.attempts).toBe(2);
    expect(after.exhausted).toBe(before.exhausted);
  });
});
