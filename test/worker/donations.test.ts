/**
 * Points for good: donation rewards (a cause and a value), redeemed without a code, reported per
 * cause by GET /v1/donations, exported as CSV and counted by analytics.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, customer, expectError, makeShop, orderPaid, snapshot, storefrontSession, type TestShop } from "./helpers";

let shop: TestShop;
const redeem = (token: string, rewardId: string) =>
  call("POST", "/v1/storefront/redemptions", { token, body: { rewardId }, headers: { "idempotency-key": crypto.randomUUID() } });
const createReward = (body: unknown) => call("POST", "/v1/rewards", { token: shop.secretKey, body });

beforeAll(async () => {
  shop = await makeShop();
});

describe("donation rewards", () => {
  it("refuses a donation without a cause or value, and a cause on another type, with nothing stored", async () => {
    const before = await snapshot();
    const rewards = await env.DB.prepare("SELECT COUNT(*) AS n FROM rewards").first<{ n: number }>();
    expectError(await createReward({ name: "Trees", type: "donation", cost: 100, value: "1.00" }), 400, "invalid_request");
    expectError(await createReward({ name: "Trees", type: "donation", cost: 100, cause: "  ", value: "1.00" }), 400, "invalid_request");
    expectError(await createReward({ name: "Trees", type: "donation", cost: 100, cause: "One Tree Planted" }), 400, "invalid_request");
    expectError(await createReward({ name: "€5", type: "amount_off", cost: 100, value: "5.00", cause: "x" }), 400, "invalid_request");
    expect(await snapshot()).toEqual(before);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM rewards").first<{ n: number }>())!.n).toBe(rewards!.n);
  });

  it("redeems without a code, debits the cost, and reports per cause, in analytics and as CSV", async () => {
    const trees = await createReward({ name: "Plant a tree", type: "donation", cost: 100, value: "1.50", cause: "One Tree Planted" });
    expect(trees.status).toBe(201);
    expect(trees.body.reward).toMatchObject({ type: "donation", cause: "One Tree Planted", value: "1.50" });
    const food = await createReward({ name: "A meal", type: "donation", cost: 50, value: "0.75", cause: "Food bank" });
    await orderPaid(shop, { id: "d-o1", customerId: "dora", subtotal: "400.00" });
    const token = await storefrontSession(shop, "dora");

    const state = await call("GET", "/v1/storefront/state", { token });
    expect(state.body.rewards.find((r: { id: string }) => r.id === trees.body.reward.id)).toMatchObject({ type: "donation", cause: "One Tree Planted" });

    const first = await redeem(token, trees.body.reward.id);
    expect(first.status).toBe(201);
    expect(first.body.redemption.code).toBeNull();
    expect(first.body.balance).toBe(300);
    await redeem(token, trees.body.reward.id);
    await redeem(token, food.body.reward.id);
    expect((await customer(shop, "dora")).balance).toBe(150);
    const row = await env.DB.prepare("SELECT status, code, cause, used_at FROM redemptions WHERE id = ?").bind(first.body.redemption.id).first();
    expect(row).toMatchObject({ status: "used", code: null, cause: "One Tree Planted" });
    // Redeemed donations show among the member's redemptions, used, without a code.
    const after = await call("GET", "/v1/storefront/state", { token });
    expect(after.body.redemptions.filter((r: { code: string | null; status: string }) => r.code === null && r.status === "used")).toHaveLength(3);

    const today = new Date().toISOString().slice(0, 10);
    const report = await call("GET", `/v1/donations?from=${today}&to=${today}`, { token: shop.secretKey });
    expect(report.status).toBe(200);
    // Trees: 2 x 100 points, 2 x 1.50; food bank: 1 x 50 points, 0.75.
    expect(report.body.causes).toEqual([
      { cause: "One Tree Planted", count: 2, points: 200, value: "3.00" },
      { cause: "Food bank", count: 1, points: 50, value: "0.75" },
    ]);
    expect((await call("GET", "/v1/donations", { token: shop.secretKey })).body.causes).toHaveLength(2);
    expect((await call("GET", "/v1/donations?from=2020-01-01&to=2020-01-31", { token: shop.secretKey })).body.causes).toEqual([]);
    expectError(await call("GET", "/v1/donations?from=2026-02-30", { token: shop.secretKey }), 400, "invalid_request");
    expectError(await call("GET", "/v1/donations"), 401, "unauthorized");

    const analytics = await call("GET", `/v1/analytics?from=${today}&to=${today}`, { token: shop.secretKey });
    expect(analytics.body.donations).toEqual({ count: 3, value: "3.75" });

    const csv = await call("GET", `/v1/donations/export.csv?from=${today}&to=${today}`, { token: shop.secretKey });
    const lines = (csv.body as string).trim().split("\r\n");
    expect(lines[0]).toBe("donation_id,created_at,cause,customer_id,points,value,currency");
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(",One Tree Planted,dora,100,1.50,EUR");
  });
});
