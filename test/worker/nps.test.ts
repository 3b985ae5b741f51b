import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countScores, npsPeriod, npsPeriodEnd, npsScore } from "../../worker/domain/nps";
import { answerNps } from "../../worker/services/nps";
import { npsCounts, npsCountsByMonth } from "../../worker/store/nps";
import { ApiError } from "../../worker/http/errors";
import { shopById } from "../../worker/store/shops";
import {
  assertLedgerInvariants,
  call,
  customer,
  expectError,
  ledgerOf,
  makeShop,
  setProgram,
  storefrontSession,
  type TestShop,
} from "./helpers";

const DAY = 86_400_000;

async function npsShop(points = 25, periodDays = 90) {
  const shop = await makeShop();
  await setProgram(shop, (p) => {
    p.waysToEarn.nps = points;
    p.waysToEarn.npsPeriodDays = periodDays;
  });
  return shop;
}

const answer = (token: string, body: unknown) => call("POST", "/v1/storefront/nps", { token, body });

async function responseCount(shop: TestShop) {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM nps_responses WHERE shop_id = ?").bind(shop.id).first<{ n: number }>())!.n;
}

describe("NPS arithmetic (pure)", () => {
  it("scores a known set of answers: % promoters - % detractors", () => {
    const scores = [10, 9, 9, 8, 7, 6, 5, 0, 10, 3];
    expect(countScores(scores)).toEqual({ promoters: 4, passives: 2, detractors: 4 });
    expect(npsScore(countScores(scores))).toEqual({ promoters: 4, passives: 2, detractors: 4, responses: 10, score: 0 });
    expect(npsScore(countScores([10, 10, 10, 9, 8, 2])).score).toBe(50);
    expect(npsScore(countScores([9, 9, 9])).score).toBe(100);
    expect(npsScore(countScores([0, 6, 6])).score).toBe(-100);
    expect(npsScore(countScores([7, 8, 7])).score).toBe(0);
  });

  it("rounds to whole points, halves away from zero, in integer arithmetic", () => {
    expect(npsScore({ promoters: 1, passives: 2, detractors: 0 }).score).toBe(33);
    expect(npsScore({ promoters: 2, passives: 1, detractors: 0 }).score).toBe(67);
    expect(npsScore({ promoters: 1, passives: 7, detractors: 0 }).score).toBe(13); // 12.5
    expect(npsScore({ promoters: 0, passives: 7, detractors: 1 }).score).toBe(-13); // -12.5
    expect(npsScore({ promoters: 0, passives: 0, detractors: 0 })).toEqual({
      promoters: 0,
      passives: 0,
      detractors: 0,
      responses: 0,
      score: null,
    });
  });

  it("numbers periods of npsPeriodDays from 1970 and knows when the next one starts", () => {
    expect(npsPeriod(new Date(0), 90)).toBe(0);
    expect(npsPeriod(new Date(90 * DAY - 1), 90)).toBe(0);
    expect(npsPeriod(new Date(90 * DAY), 90)).toBe(1);
    expect(npsPeriodEnd(0, 90).toISOString()).toBe(new Date(90 * DAY).toISOString());
  });
});

describe("POST /v1/storefront/nps", () => {
  it("stores an answer, pays the NPS points once per period and refuses a second answer with 409", async () => {
    const shop = await npsShop(25);
    const token = await storefrontSession(shop, "ann");
    const first = await answer(token, { score: 9, comment: "Fast delivery" });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      response: { score: 9, comment: "Fast delivery", createdAt: expect.any(String) },
      points: 25,
      balance: 25,
    });
    expect(Date.parse(first.body.nextAt)).toBeGreaterThan(Date.now());

    const second = await answer(token, { score: 3 });
    expectError(second, 409, "already_answered");
    expect(second.body.error.details.nextAt).toBe(first.body.nextAt);
    expect(await responseCount(shop)).toBe(1);
    expect((await ledgerOf(shop, "ann")).map((e) => [e.kind, e.delta])).toEqual([["nps", 25]]);

    const state = await call("GET", "/v1/storefront/state", { token });
    expect(state.body.customer.npsDue).toBe(false);
  });

  it("refuses guests, missing sessions and scores out of bounds, changing nothing", async () => {
    const shop = await npsShop();
    const guest = await storefrontSession(shop);
    expectError(await answer(guest, { score: 8 }), 401, "unauthorized");
    expectError(await call("POST", "/v1/storefront/nps", { body: { score: 8 } }), 401, "unauthorized");
    const token = await storefrontSession(shop, "bo");
    for (const body of [{ score: 11 }, { score: -1 }, { score: 7.5 }, { score: "9" }, {}, { score: 5, comment: "x".repeat(1001) }]) {
      expectError(await answer(token, body), 400, "invalid_request");
    }
    expect((await answer(token, { score: 0 })).status).toBe(201);
    expect(await responseCount(shop)).toBe(1);
  });

  it("promotes the member at once when the NPS points reach a tier", async () => {
    const shop = await npsShop(25);
    await setProgram(shop, (p) => {
      p.tiers = [{ name: "Insider", basis: "lifetime_points", threshold: 20, multiplier: 1, perks: "" }];
    });
    const token = await storefrontSession(shop, "tom");
    expect((await answer(token, { score: 7 })).status).toBe(201);
    expect(await customer(shop, "tom")).toMatchObject({ balance: 25, tier: "Insider" });
  });

  it("pays nothing when NPS points are off, but still stores the answer", async () => {
    const shop = await npsShop(0);
    const token = await storefrontSession(shop, "cy");
    const res = await answer(token, { score: 10 });
    expect(res.body).toMatchObject({ points: 0, balance: 0, response: { score: 10, comment: null } });
    expect(await ledgerOf(shop, "cy")).toEqual([]);
    expect(await responseCount(shop)).toBe(1);
  });

  it("concurrent answers store one and pay once", async () => {
    const shop = await npsShop(10);
    const token = await storefrontSession(shop, "dee");
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => answer(token, { score: i + 5 })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    expect(await responseCount(shop)).toBe(1);
    expect((await customer(shop, "dee")).balance).toBe(10);
    await assertLedgerInvariants(shop.id);
  });

  it("answers CORS preflights and responses for the shop's origins", async () => {
    const shop = await npsShop();
    const preflight = await call("OPTIONS", "/v1/storefront/nps", {
      headers: { origin: "https://shop.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    const token = await storefrontSession(shop, "eve");
    const res = await call("POST", "/v1/storefront/nps", {
      token,
      body: { score: 8 },
      headers: { origin: "https://shop.example" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(res.headers.get("vary")).toBe("Origin");
  });
});

describe("periods with a fixed clock", () => {
  it("allows one answer per period and pays again in the next, advancing nps challenges", async () => {
    const testShop = await npsShop(5, 30);
    const challenge = await call("POST", "/v1/challenges", {
      token: testShop.secretKey,
      body: { name: "Voice", kind: "nps", goal: 2, rewardPoints: 40, badge: "🗣️" },
    });
    const shop = (await shopById(env.DB, testShop.id))!;
    const start = new Date(npsPeriodEnd(npsPeriod(new Date("2026-05-10T00:00:00Z"), 30), 30).getTime());
    const first = await answerNps(env.DB, shop, "fay", { score: 9 }, start);
    expect(first.points).toBe(5);
    expect(first.nextAt).toBe(new Date(start.getTime() + 30 * DAY).toISOString());

    const late = new Date(start.getTime() + 30 * DAY - 1);
    await expect(answerNps(env.DB, shop, "fay", { score: 4 }, late)).rejects.toMatchObject({
      code: "already_answered",
      status: 409,
    });
    await expect(answerNps(env.DB, shop, "fay", { score: 4 }, late)).rejects.toBeInstanceOf(ApiError);

    const nextPeriod = new Date(start.getTime() + 30 * DAY);
    const second = await answerNps(env.DB, shop, "fay", { score: 4, comment: "Slower" }, nextPeriod);
    expect(second.points).toBe(5 + 40);
    const third = await answerNps(env.DB, shop, "fay", { score: 10 }, new Date(start.getTime() + 60 * DAY));
    expect(third.points).toBe(5);
    expect((await ledgerOf(testShop, "fay")).map((e) => [e.kind, e.delta])).toEqual([
      ["nps", 5],
      ["nps", 5],
      ["challenge", 40],
      ["nps", 5],
    ]);
    const member = await call("GET", "/v1/customers/fay", { token: testShop.secretKey });
    expect(member.body.customer.badges).toEqual([
      expect.objectContaining({ challengeId: challenge.body.challenge.id, badge: "🗣️" }),
    ]);
  });
});

/** What the console's analytics compute from the store's counts (services/analytics.ts). */
const npsFor = async (shopId: string, from: string, to: string) => npsScore(await npsCounts(env.DB, shopId, from, to));
const npsTrend = async (shopId: string, from: string, to: string) =>
  (await npsCountsByMonth(env.DB, shopId, from, to)).map(({ month, ...counts }) => ({ month, ...npsScore(counts) }));

describe("analytics counts", () => {
  it("counts answers in [from, to), in total and by month, and scores them", async () => {
    const testShop = await npsShop(0, 1);
    const shop = (await shopById(env.DB, testShop.id))!;
    const january = [10, 9, 9, 8, 7, 6, 5, 0, 10, 3]; // NPS 0
    const february = [10, 10, 10, 9, 8, 2]; // NPS 50
    for (const [i, score] of january.entries()) {
      await answerNps(env.DB, shop, `jan_${i}`, { score }, new Date(Date.UTC(2026, 0, 1 + i, 12)));
    }
    for (const [i, score] of february.entries()) {
      await answerNps(env.DB, shop, `feb_${i}`, { score }, new Date(Date.UTC(2026, 1, 1 + i, 12)));
    }
    // Another shop's answers never count.
    const other = (await shopById(env.DB, (await npsShop(0, 1)).id))!;
    await answerNps(env.DB, other, "x", { score: 0 }, new Date(Date.UTC(2026, 0, 5, 12)));

    expect(await npsFor(shop.id, "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z")).toEqual({
      promoters: 4,
      passives: 2,
      detractors: 4,
      responses: 10,
      score: 0,
    });
    expect(await npsFor(shop.id, "2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z")).toEqual({
      promoters: 8,
      passives: 3,
      detractors: 5,
      responses: 16,
      score: 19, // 100 x 3 / 16 = 18.75
    });
    expect((await npsFor(shop.id, "2025-01-01T00:00:00.000Z", "2025-12-01T00:00:00.000Z")).score).toBeNull();
    expect(await npsTrend(shop.id, "2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z")).toEqual([
      { month: "2026-01", promoters: 4, passives: 2, detractors: 4, responses: 10, score: 0 },
      { month: "2026-02", promoters: 4, passives: 1, detractors: 1, responses: 6, score: 50 },
    ]);
  });

  it("answers are in the GDPR export; a redact clears comments and keeps scores", async () => {
    const shop = await npsShop();
    const token = await storefrontSession(shop, "gus");
    await answer(token, { score: 2, comment: "My name is Gus and ..." });
    const exported = await call("GET", "/v1/customers/gus/export", { token: shop.secretKey });
    expect(exported.body.npsResponses).toEqual([{ score: 2, comment: "My name is Gus and ...", createdAt: expect.any(String) }]);
    expect(exported.body.badges).toEqual([]);
    expect((await call("DELETE", "/v1/customers/gus", { token: shop.secretKey })).status).toBe(200);
    const row = await env.DB.prepare("SELECT score, comment FROM nps_responses WHERE shop_id = ?").bind(shop.id).first();
    expect(row).toEqual({ score: 2, comment: null });
  });
});
