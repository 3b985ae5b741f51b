/**
 * GET /v1/analytics against a fixture whose every figure is computed by hand below. The fixture is
 * written straight into D1 (rows with chosen timestamps, through the real ledger triggers) so the
 * period can lie in the past; a second shop with activity in the same period must change nothing.
 *
 * Period: from=2026-03-01 to=2026-03-30 -> [2026-03-01T00:00Z, 2026-03-31T00:00Z), 30 days.
 * Previous period (retention's base): [2026-01-30T00:00Z, 2026-03-01T00:00Z).
 * pointValue "0.005" EUR.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, makeShop, setProgram, type TestShop } from "./helpers";

const db = env.DB;
let shop: TestShop;
let other: TestShop;
const ids = new Map<string, number>();
let ledgerKey = 0;

async function member(s: TestShop, externalId: string, createdAt: string, redactedAt: string | null = null) {
  const result = await db
    .prepare(
      "INSERT INTO customers (shop_id, external_id, referral_code, created_at, redacted_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(s.id, externalId, `REF${externalId}${s.id.slice(-4)}`, createdAt, redactedAt)
    .first<{ id: number }>();
  ids.set(`${s.id}:${externalId}`, result!.id);
  return result!.id;
}

/** Appends an entry the way the ledger does: balance_after is the running sum (the trigger checks). */
async function entry(s: TestShop, externalId: string, kind: string, delta: number, createdAt: string, reference: string | null = null) {
  const id = ids.get(`${s.id}:${externalId}`)!;
  await db
    .prepare(
      `INSERT INTO ledger (shop_id, customer_id, delta, kind, reference, idempotency_key, balance_after, created_at)
       SELECT ?, id, ?, ?, ?, ?, balance + ?, ? FROM customers WHERE id = ?`,
    )
    .bind(s.id, delta, kind, reference, `fixture:${++ledgerKey}`, delta, createdAt, id)
    .run();
}

async function order(
  s: TestShop,
  externalId: string,
  orderId: string,
  createdAt: string,
  eligible: number,
  options: { refunded?: number; status?: string } = {},
) {
  await db
    .prepare(
      `INSERT INTO orders (shop_id, external_id, customer_id, currency, eligible_amount, total_amount, refunded_amount,
         status, created_at) VALUES (?, ?, ?, 'EUR', ?, ?, ?, ?, ?)`,
    )
    .bind(
      s.id,
      orderId,
      ids.get(`${s.id}:${externalId}`)!,
      eligible,
      eligible,
      options.refunded ?? 0,
      options.status ?? "paid",
      createdAt,
    )
    .run();
}

async function redemption(s: TestShop, externalId: string, id: string, points: number, createdAt: string, status = "issued") {
  await db
    .prepare(
      `INSERT INTO redemptions (id, shop_id, customer_id, reward_id, code, points, status, reward_type, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'amount_off', ?)`,
    )
    .bind(id, s.id, ids.get(`${s.id}:${externalId}`)!, `rw_${s.id}`, `CODE${id}`, points, status, createdAt)
    .run();
}

async function nps(s: TestShop, externalId: string, score: number, period: number, createdAt: string) {
  await db
    .prepare("INSERT INTO nps_responses (shop_id, customer_id, score, period, created_at) VALUES (?, ?, ?, ?, ?)")
    .bind(s.id, ids.get(`${s.id}:${externalId}`)!, score, period, createdAt)
    .run();
}

async function referral(s: TestShop, id: string, referrer: string, status: string, createdAt: string) {
  await db
    .prepare("INSERT INTO referrals (id, shop_id, referrer_id, code, status, created_at) VALUES (?, ?, ?, 'CODE', ?, ?)")
    .bind(id, s.id, ids.get(`${s.id}:${referrer}`)!, status, createdAt)
    .run();
}

async function challenge(s: TestShop, id: string) {
  await db
    .prepare(
      "INSERT INTO challenges (id, shop_id, name, kind, goal, created_at, updated_at) VALUES (?, ?, ?, 'order_count', 2, ?, ?)",
    )
    .bind(id, s.id, id, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")
    .run();
}

async function progress(s: TestShop, challengeId: string, externalId: string, updatedAt: string, completedAt: string | null) {
  await db
    .prepare(
      `INSERT INTO challenge_progress (shop_id, challenge_id, customer_id, progress, updated_at, completed_at)
       VALUES (?, ?, ?, 1, ?, ?)`,
    )
    .bind(s.id, challengeId, ids.get(`${s.id}:${externalId}`)!, updatedAt, completedAt)
    .run();
}

const at = (day: string) => `2026-${day}T12:00:00.000Z`;

async function seed(s: TestShop) {
  await db
    .prepare(
      "INSERT INTO rewards (id, shop_id, name, type, cost, value, created_at, updated_at) VALUES (?, ?, '€2 off', 'amount_off', 50, 200, ?, ?)",
    )
    .bind(`rw_${s.id}`, s.id, at("01-01"), at("01-01"))
    .run();

  // Members. F was erased before the period's end, E joins after it; H is erased after it.
  await member(s, "A", at("01-10"));
  await member(s, "B", at("02-05"));
  await member(s, "C", at("03-05"));
  await member(s, "D", at("03-20"));
  await member(s, "E", at("04-05"));
  await member(s, "F", at("01-15"), at("03-10"));
  await member(s, "G", at("02-20"));
  await member(s, "H", at("02-22"), at("04-02"));

  // Orders (eligible amounts in cents).
  await order(s, "A", "o1", at("01-20"), 10000);
  await order(s, "A", "o2", at("02-10"), 5000);
  await order(s, "A", "o3", at("03-10"), 8000);
  await order(s, "B", "o4", at("02-15"), 3000);
  await order(s, "C", "o5", at("03-06"), 4000, { refunded: 1000, status: "partially_refunded" });
  await order(s, "C", "o6", at("03-25"), 6000, { status: "cancelled" });
  await order(s, "D", "o7", at("03-21"), 2000);
  await order(s, "D", "o8", at("03-22"), 2000);
  await order(s, "F", "o9", at("02-01"), 7000);
  await order(s, "G", "o12", at("02-05"), 1000);
  await order(s, "G", "o10", at("02-25"), 1500);
  await order(s, "E", "o11", at("04-06"), 9999);

  // The ledger, each member's entries in time order.
  await entry(s, "A", "order", 100, at("01-20"), "o1"); // A 100
  await entry(s, "A", "order", 50, at("02-10"), "o2"); // A 150
  await entry(s, "A", "order", 80, at("03-10"), "o3"); // A 230
  await entry(s, "A", "redemption", -200, at("03-12")); // A 30
  await entry(s, "B", "signup", 25, at("02-05")); // B 25
  await entry(s, "B", "order", 30, at("02-15"), "o4"); // B 55
  await entry(s, "B", "redemption", -50, at("03-15")); // B 5
  await entry(s, "B", "redemption_reversal", 50, at("03-16")); // B 55 (the code was voided)
  await entry(s, "C", "signup", 25, at("03-05")); // C 25
  await entry(s, "C", "order", 40, at("03-06"), "o5"); // C 65
  await entry(s, "C", "refund", -10, at("03-08"), "o5"); // C 55
  await entry(s, "C", "order", 60, at("03-25"), "o6"); // C 115
  await entry(s, "C", "cancel", -60, at("03-26"), "o6"); // C 55
  await entry(s, "D", "order", 20, at("03-21"), "o7"); // D 20
  await entry(s, "D", "order", 20, at("03-22"), "o8"); // D 40
  await entry(s, "D", "challenge", 100, at("03-23")); // D 140
  await entry(s, "D", "adjustment", -15, at("03-29")); // D 125
  await entry(s, "F", "order", 70, at("02-01"), "o9"); // F 70
  await entry(s, "G", "order", 10, at("02-05"), "o12"); // G 10
  await entry(s, "G", "order", 15, at("02-25"), "o10"); // G 25
  await entry(s, "G", "expiry", -15, at("03-02")); // G 10
  await entry(s, "E", "order", 99, at("04-06"), "o11"); // E 99 (after the period)

  await redemption(s, "A", `rd1_${s.id}`, 200, at("03-12"));
  await redemption(s, "B", `rd2_${s.id}`, 50, at("03-15"), "void");

  // NPS: one detractor in February; in March two promoters, two passives, one detractor.
  await nps(s, "A", 6, 1, at("02-11"));
  await nps(s, "A", 10, 2, at("03-11"));
  await nps(s, "B", 9, 2, at("03-14"));
  await nps(s, "C", 7, 2, at("03-20"));
  await nps(s, "G", 8, 2, at("03-03"));
  await nps(s, "D", 3, 2, at("03-24"));

  // Referral claims: one before the period; in it one completed, one pending, one rejected, one reversed.
  await referral(s, `r5_${s.id}`, "A", "completed", at("02-20"));
  await referral(s, `r1_${s.id}`, "A", "completed", at("03-03"));
  await referral(s, `r2_${s.id}`, "A", "claimed", at("03-04"));
  await referral(s, `r3_${s.id}`, "B", "rejected", at("03-07"));
  await referral(s, `r4_${s.id}`, "B", "reversed", at("03-09"));

  // Challenge participations.
  await challenge(s, `ch1_${s.id}`);
  await challenge(s, `ch2_${s.id}`);
  await progress(s, `ch1_${s.id}`, "A", at("03-10"), at("03-10")); // moved and completed in the period
  await progress(s, `ch1_${s.id}`, "D", at("03-22"), at("03-22")); // same
  await progress(s, `ch2_${s.id}`, "C", at("03-06"), null); // moved, not completed
  await progress(s, `ch2_${s.id}`, "B", at("02-15"), null); // did not move in the period
  await progress(s, `ch1_${s.id}`, "C", at("04-02"), at("03-28")); // completed in it, moved again later
}

beforeAll(async () => {
  shop = await makeShop();
  other = await makeShop();
  await setProgram(shop, (p) => {
    p.pointValue = "0.005";
  });
  await seed(shop);
  // The other shop has the same activity: none of it may show in the first shop's figures.
  await seed(other);
  await member(other, "X", at("03-15"));
  await entry(other, "X", "signup", 1000, at("03-15"));
});

const analytics = (query: string, token = shop.secretKey) => call("GET", `/v1/analytics${query}`, { token });

describe("GET /v1/analytics: every figure of the fixture, by hand", () => {
  it("computes members, points, liability, rates, NPS, referrals, challenges and members at risk", async () => {
    const res = await analytics("?from=2026-03-01&to=2026-03-30");
    expect(res.status).toBe(200);
    const a = res.body;
    expect(a.period).toEqual({
      from: "2026-03-01",
      to: "2026-03-30",
      start: "2026-03-01T00:00:00.000Z",
      end: "2026-03-31T00:00:00.000Z",
    });
    expect(a.currency).toBe("EUR");

    // members: joined before Mar 31 and not erased by then: A, B, C, D, G, H (F erased Mar 10, E joins Apr 5) = 6.
    expect(a.members).toBe(6);
    // newMembers: C (Mar 5), D (Mar 20) = 2.
    expect(a.newMembers).toBe(2);
    // activeMembers: ordered in the period (not cancelled) A, C, D; redeemed in it A, B -> {A, B, C, D} = 4.
    expect(a.activeMembers).toBe(4);

    // pointsIssued: positive entries in March except the reversal: A 80; C 25 + 40 + 60; D 20 + 20 + 100 = 345.
    expect(a.pointsIssued).toBe(345);
    // pointsRedeemed: A 200; B 50 - 50 voided = 0 -> 200.
    expect(a.pointsRedeemed).toBe(200);
    // pointsExpired: G 15.
    expect(a.pointsExpired).toBe(15);
    // pointsClawedBack: C refund 10 + C cancel 60 + D adjustment 15 = 85.
    expect(a.pointsClawedBack).toBe(85);

    // Outstanding at the start (entries before Mar 1): A 150, B 55, F 70, G 25 = 300.
    // Outstanding at the end: 300 + 345 - 200 - 15 - 85 = 345 (A 30, B 55, C 55, D 125, F 70, G 10).
    expect(a.liabilityPoints).toBe(345);
    // liability: 345 x 0.005 = 1.725 EUR, half up -> "1.73".
    expect(a.liability).toBe("1.73");
    expect(a.pointValue).toBe("0.005");

    // redemptionRate: 200 / (300 + 345) = 0.310077... -> 0.3101.
    expect(a.redemptionRate).toBe(0.3101);
    // repeatPurchaseRate: buyers A (3 orders by the end), C (1: o6 was cancelled), D (2) -> 2/3 = 0.6667.
    expect(a.repeatPurchaseRate).toBe(0.6667);
    // retention: S = ordered Jan 30 - Feb 28: A (o2), B (o4), F (o9), G (o10; o12 too) = 4;
    // E = ordered in March: A, C, D = 3; N = E not in S: C, D = 2; (3 - 2) / 4 = 0.25.
    expect(a.retention).toEqual({ start: 4, end: 3, new: 2 });
    expect(a.retentionRate).toBe(0.25);
    // averageLifetimeValue: net spend of all non-cancelled orders before Mar 31:
    // 10000 + 5000 + 8000 + 3000 + (4000 - 1000) + 2000 + 2000 + 7000 + 1000 + 1500 = 42500 cents,
    // over the 6 members who placed them (A, B, C, D, F, G): 7083.33 -> 7083 -> "70.83".
    expect(a.averageLifetimeValue).toBe("70.83");

    // NPS in March: promoters A 10, B 9; passives C 7, G 8; detractor D 3 -> 100 x (2 - 1) / 5 = 20.
    expect(a.nps).toBe(20);
    expect(a.npsResponses).toEqual({ responses: 5, promoters: 2, passives: 2, detractors: 1 });
    // The trend: 12 months ending March 2026; February has one detractor (-100), March 20.
    expect(a.npsTrend).toHaveLength(12);
    expect(a.npsTrend[0]).toEqual({ month: "2025-04", score: null, responses: 0 });
    expect(a.npsTrend[10]).toEqual({ month: "2026-02", score: -100, responses: 1 });
    expect(a.npsTrend[11]).toEqual({ month: "2026-03", score: 20, responses: 5 });

    // referralConversion: March claims r1 completed, r2 claimed, r3 rejected, r4 reversed (r5 is February):
    // completed 1 / (4 claims - 1 rejected) = 0.3333.
    expect(a.referrals).toEqual({ claims: 4, completed: 1, rejected: 1, reversed: 1 });
    expect(a.referralConversion).toBe(0.3333);

    // challengeCompletion: participations that moved or completed in March: A-ch1, D-ch1, C-ch2, C-ch1 = 4
    // (B-ch2 last moved in February); completed in March: A-ch1, D-ch1, C-ch1 = 3 -> 0.75.
    expect(a.challenges).toEqual({ participants: 4, completed: 3 });
    expect(a.challengeCompletion).toBe(0.75);

    // atRisk at Mar 31 00:00, members with 2+ orders (not cancelled, not erased):
    // A: Jan 20, Feb 10, Mar 10 (noon) -> cadence 49 / 2 = 24.5 d, since 20.5 d <= 36.75 -> not at risk.
    // D: Mar 21, Mar 22 -> cadence 1 d, since 8.5 d > 1.5 -> at risk, overdue 7.5 d.
    // G: Feb 5, Feb 25 -> cadence 20 d, since 33.5 d > 30 -> at risk, overdue 13.5 d.
    // (C has one order that counts, B one, F is erased.) Most overdue first.
    expect(a.atRiskCount).toBe(2);
    expect(a.atRisk).toEqual([
      {
        customerId: "G",
        email: null,
        firstName: null,
        orders: 2,
        lastOrderAt: at("02-25"),
        cadenceDays: 20,
        daysSinceLastOrder: 33.5,
        overdueDays: 13.5,
      },
      {
        customerId: "D",
        email: null,
        firstName: null,
        orders: 2,
        lastOrderAt: at("03-22"),
        cadenceDays: 1,
        daysSinceLastOrder: 8.5,
        overdueDays: 7.5,
      },
    ]);

    // The daily series: 30 days; Mar 10 has A's order (80 points, 1 order, 80.00); Mar 12 A's redemption.
    expect(a.series.bucket).toBe("day");
    expect(a.series.points).toHaveLength(30);
    const day = (d: string) => a.series.points.find((p: { bucket: string }) => p.bucket === d);
    expect(day("2026-03-10")).toEqual({
      bucket: "2026-03-10",
      pointsIssued: 80,
      pointsRedeemed: 0,
      newMembers: 0,
      orders: 1,
      revenue: "80.00",
    });
    expect(day("2026-03-12")).toMatchObject({ pointsRedeemed: 200, orders: 0, revenue: "0.00" });
    expect(day("2026-03-05")).toMatchObject({ newMembers: 1, pointsIssued: 25 });
    // Mar 16's reversal is not issuance and takes 50 off what was redeemed that day.
    expect(day("2026-03-16")).toMatchObject({ pointsIssued: 0, pointsRedeemed: -50 });
    const total = (key: string) => a.series.points.reduce((sum: number, p: Record<string, number>) => sum + p[key]!, 0);
    expect(total("pointsIssued")).toBe(345);
    expect(total("pointsRedeemed")).toBe(200);
    expect(total("newMembers")).toBe(2);
    // Orders in March not cancelled: o3, o5, o7, o8 -> 80.00 + 30.00 + 20.00 + 20.00.
    expect(total("orders")).toBe(4);
  });

  it("takes instants as well as dates, and a period without activity has null ratios", async () => {
    // [Mar 10 12:00, Mar 12 12:00): A's order (80 points) only; A's redemption is at exactly Mar 12 12:00 (excluded).
    const res = await analytics("?from=2026-03-10T12:00:00Z&to=2026-03-12T12:00:00Z");
    expect(res.status).toBe(200);
    expect(res.body.pointsIssued).toBe(80);
    expect(res.body.pointsRedeemed).toBe(0);

    const empty = await analytics("?from=2025-01-01&to=2025-01-31");
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({
      members: 0,
      activeMembers: 0,
      pointsIssued: 0,
      liability: "0.00",
      redemptionRate: null,
      repeatPurchaseRate: null,
      retentionRate: null,
      averageLifetimeValue: null,
      nps: null,
      referralConversion: null,
      challengeCompletion: null,
      atRisk: [],
      atRiskCount: 0,
    });
  });

  it("defaults to the last 30 days, today included", async () => {
    const res = await analytics("");
    expect(res.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.parse(`${today}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
    expect(res.body.period).toMatchObject({ from, to: today });
    expect(res.body.series.points).toHaveLength(30);
    // Everything in the fixture is older: but the liability is what members hold today.
    expect(res.body.pointsIssued).toBe(0);
    expect(res.body.liabilityPoints).toBe(345 + 99);
  });

  it("uses months for periods over a year", async () => {
    const res = await analytics("?from=2025-01-01&to=2026-12-31");
    expect(res.status).toBe(200);
    expect(res.body.series.bucket).toBe("month");
    expect(res.body.series.points).toHaveLength(24);
    const march = res.body.series.points.find((p: { bucket: string }) => p.bucket === "2026-03");
    expect(march).toMatchObject({ pointsIssued: 345, pointsRedeemed: 200, newMembers: 2, orders: 4, revenue: "150.00" });
  });

  it("refuses a period that ends before it starts, dates that do not exist and garbage, changing nothing", async () => {
    for (const query of [
      "?from=2026-03-30&to=2026-03-01",
      "?from=2026-02-30",
      "?to=2026-13-01",
      "?from=yesterday",
      "?from=2026-03-01T25:00:00Z",
      "?from=2026-03-05T00:00:00Z&to=2026-03-05T00:00:00Z",
    ]) {
      const res = await analytics(query);
      expectError(res, 400, "invalid_request");
      expect(Array.isArray(res.body.error.details)).toBe(true);
    }
  });

  it("needs the shop's secret key or a console token, and shows only that shop", async () => {
    expectError(await call("GET", "/v1/analytics"), 401, "unauthorized");
    expectError(await analytics("", "sk_not_a_key"), 401, "unauthorized");
    const mine = await analytics("?from=2026-03-01&to=2026-03-30");
    const theirs = await analytics("?from=2026-03-01&to=2026-03-30", other.secretKey);
    // The other shop has the same fixture plus X's 1000 signup points in March.
    expect(theirs.body.pointsIssued).toBe(mine.body.pointsIssued + 1000);
    expect(theirs.body.members).toBe(mine.body.members + 1);
    expect(mine.body.pointsIssued).toBe(345);
  });

  it("documents every figure in the OpenAPI description", async () => {
    const doc = await call("GET", "/v1/openapi.json");
    const op = doc.body.paths["/v1/analytics"].get;
    for (const figure of [
      "members",
      "activeMembers",
      "pointsIssued",
      "pointsRedeemed",
      "pointsExpired",
      "liability",
      "redemptionRate",
      "repeatPurchaseRate",
      "retentionRate",
      "averageLifetimeValue",
      "nps",
      "referralConversion",
      "challengeCompletion",
      "atRisk",
    ]) {
      expect(op.description).toContain(`**${figure}**`);
    }
    expect(op.description).toMatch(/Ratios are numbers from 0 to 1/);
    expect(doc.body.components.securitySchemes.consoleToken).toBeDefined();
  });
});
