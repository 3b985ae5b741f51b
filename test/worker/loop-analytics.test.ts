/**
 * The closing-the-loop analytics against fixtures whose every figure is computed by hand below:
 * ces, csat, cli, feedbackCount and their monthly trend; win-back offered/converted/revenue; the
 * program against its holdout group. Rows are written straight into D1 with chosen timestamps; a
 * second shop with the same rows must change nothing.
 *
 * Period: from=2026-03-01 to=2026-03-30 -> [2026-03-01T00:00Z, 2026-03-31T00:00Z).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { inHoldout } from "../../worker/domain/holdout";
import { call, makeShop, setProgram, type TestShop } from "./helpers";

const db = env.DB;
const at = (day: string) => `2026-${day}T12:00:00.000Z`;
let shop: TestShop;
let other: TestShop;
let split: TestShop;

async function member(s: TestShop, externalId: string, createdAt = at("01-01")) {
  const row = await db
    .prepare("INSERT INTO customers (shop_id, external_id, referral_code, created_at) VALUES (?, ?, ?, ?) RETURNING id")
    .bind(s.id, externalId, `R${externalId}${s.id.slice(-6)}`, createdAt)
    .first<{ id: number }>();
  return row!.id;
}

async function feedback(s: TestShop, customer: number, kind: string, score: number | null, createdAt: string, redemptionId: string | null = null) {
  await db
    .prepare("INSERT INTO feedback (shop_id, customer_id, kind, score, comment, redemption_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(s.id, customer, kind, score, kind === "program" ? "a comment" : null, redemptionId, createdAt)
    .run();
}

let npsPeriod = 0;
async function nps(s: TestShop, customer: number, score: number, repurchase: number | null, upsell: number | null, createdAt: string) {
  await db
    .prepare("INSERT INTO nps_responses (shop_id, customer_id, score, repurchase, upsell, period, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(s.id, customer, score, repurchase, upsell, ++npsPeriod, createdAt)
    .run();
}

let orderSeq = 0;
async function order(s: TestShop, customer: number, createdAt: string, eligible: number, options: { refunded?: number; status?: string } = {}) {
  await db
    .prepare(
      `INSERT INTO orders (shop_id, external_id, customer_id, currency, eligible_amount, total_amount, refunded_amount, status, created_at)
       VALUES (?, ?, ?, 'EUR', ?, ?, ?, ?, ?)`,
    )
    .bind(s.id, `o${++orderSeq}`, customer, eligible, eligible, options.refunded ?? 0, options.status ?? "paid", createdAt)
    .run();
}

async function offer(s: TestShop, customer: number, startsAt: string, expiresAt: string) {
  await db
    .prepare(
      "INSERT INTO offers (shop_id, customer_id, source, multiplier, starts_at, expires_at, created_at) VALUES (?, ?, 'win_back', 2, ?, ?, ?)",
    )
    .bind(s.id, customer, startsAt, expiresAt, startsAt)
    .run();
}

async function seed(s: TestShop) {
  const a = await member(s, "A");
  const b = await member(s, "B");
  const c = await member(s, "C");
  const d = await member(s, "D");
  // CES in March: 7, 5, 4, 2, 6 -> 5..7: three of five. One in February (3) and one in April.
  for (const [i, score] of [7, 5, 4, 2, 6].entries()) await feedback(s, a, "ces", score, at(`03-0${i + 2}`), `rd_${s.id}_${i}`);
  await feedback(s, b, "ces", 3, at("02-15"), `rd_${s.id}_feb`);
  await feedback(s, b, "ces", 7, at("04-02"), `rd_${s.id}_apr`);
  // CSAT in March: 5, 4, 3 -> 4..5: two of three. April: 1 (outside).
  await feedback(s, b, "csat", 5, at("03-10"));
  await feedback(s, c, "csat", 4, at("03-11"));
  await feedback(s, d, "csat", 3, at("03-12"));
  await feedback(s, d, "csat", 1, at("04-01"));
  // Program feedback in March: one with a score, one without.
  await feedback(s, a, "program", 4, at("03-20"));
  await feedback(s, c, "program", null, at("03-21"));

  // NPS in March (score, repurchase, upsell): A 10/9/3, B 9/6/-, C 7/10/10, D 3/-/-.
  await nps(s, a, 10, 9, 3, at("03-05"));
  await nps(s, b, 9, 6, null, at("03-06"));
  await nps(s, c, 7, 10, 10, at("03-07"));
  await nps(s, d, 3, null, null, at("03-08"));
  // February: 10 / 0 / -.
  await nps(s, a, 10, 0, null, at("02-05"));

  // Win-back offers. A: Mar 5-19, ordered Mar 10 (80.00). B: Mar 20 - Apr 3, ordered Apr 1 (30.00 less 10.00
  // refunded). C: Mar 25 - Apr 8, only a cancelled order. D: started in February (outside the period).
  await offer(s, a, at("03-05"), at("03-19"));
  await order(s, a, at("03-10"), 8000);
  await order(s, a, at("03-25"), 9900); // after A's offer ended
  await offer(s, b, at("03-20"), at("04-03"));
  await order(s, b, at("04-01"), 3000, { refunded: 1000, status: "partially_refunded" });
  await offer(s, c, at("03-25"), at("04-08"));
  await order(s, c, at("03-26"), 5000, { status: "cancelled" });
  await offer(s, d, at("02-20"), at("03-06"));
  await order(s, d, at("03-01"), 4000);
}

beforeAll(async () => {
  shop = await makeShop();
  other = await makeShop();
  await seed(shop);
  await seed(other);
  split = await makeShop();
});

const analytics = (s: TestShop) => call("GET", "/v1/analytics?from=2026-03-01&to=2026-03-30", { token: s.secretKey });

describe("GET /v1/analytics: feedback figures, by hand", () => {
  it("ces, csat, cli and feedbackCount for the period, and their monthly trend", async () => {
    const res = await analytics(shop);
    expect(res.status).toBe(200);
    const a = res.body;
    // ces: 3 of 5 March answers are 5..7 -> 60.0.
    expect(a.ces).toBe(60);
    // csat: 2 of 3 March answers are 4..5 -> 66.666... -> 66.7.
    expect(a.csat).toBe(66.7);
    // cli: recommend 10, 9, 7, 3 -> (2 - 1) / 4 = 25; repurchase 9, 6, 10 -> (2 - 1) / 3 = 33.33...;
    // upsell 3, 10 -> (1 - 1) / 2 = 0; mean (25 + 33.33 + 0) / 3 = 19.44... -> 19.4.
    expect(a.cli).toBe(19.4);
    // feedbackCount: 5 CES + 3 CSAT + 2 program in March (NPS answers count apart).
    expect(a.feedbackCount).toBe(10);
    expect(a.feedbackResponses).toEqual({ ces: 5, csat: 3, program: 2 });
    // NPS itself is unchanged by the new questions: (2 - 1) / 4 = 25.
    expect(a.nps).toBe(25);

    // The 12 months ending with March 2026.
    expect(a.feedbackTrend).toHaveLength(12);
    expect(a.feedbackTrend[0]).toEqual({ month: "2025-04", ces: null, csat: null, cli: null, feedbackCount: 0 });
    // February: CES 3 -> 0 of 1 = 0.0; no CSAT; CLI: recommend 10 -> 100, repurchase 0 -> -100, mean 0.
    expect(a.feedbackTrend[10]).toEqual({ month: "2026-02", ces: 0, csat: null, cli: 0, feedbackCount: 1 });
    expect(a.feedbackTrend[11]).toEqual({ month: "2026-03", ces: 60, csat: 66.7, cli: 19.4, feedbackCount: 10 });
  });

  it("null figures without answers", async () => {
    const a = (await analytics(split)).body;
    expect([a.ces, a.csat, a.cli, a.feedbackCount]).toEqual([null, null, null, 0]);
  });
});

describe("GET /v1/analytics: win-back, by hand", () => {
  it("offered, converted and the revenue of orders placed while the offers ran", async () => {
    const a = (await analytics(shop)).body;
    // Offers started in March: A, B, C (D started in February). A ordered in its window (80.00), B too
    // (30.00 - 10.00 refunded = 20.00, after the period's end but while the offer ran); C's order was cancelled.
    expect(a.winBack).toEqual({ offered: 3, converted: 2, revenue: "100.00" });
  });
});

describe("GET /v1/analytics: the program against its holdout group, by hand", () => {
  it("group sizes, repeat purchase rate, average order and lifetime values, and the small-sample warning", async () => {
    await setProgram(split, (p) => {
      p.holdout = { percent: 20 };
    });
    // Customers' groups come from the hash: take the first names of each kind.
    const names = Array.from({ length: 400 }, (_, i) => `cust-${i}`);
    const [h1, h2] = names.filter((n) => inHoldout(20, split.id, n));
    const [p1, p2, p3, p4] = names.filter((n) => !inHoldout(20, split.id, n));
    const id = new Map<string, number>();
    for (const n of [p1!, p2!, p3!, p4!, h1!, h2!]) id.set(n, await member(split, n));
    await order(split, id.get(p1!)!, at("02-10"), 5000);
    await order(split, id.get(p1!)!, at("03-10"), 3000);
    await order(split, id.get(p2!)!, at("03-05"), 4000);
    await order(split, id.get(p2!)!, at("03-20"), 2000);
    await order(split, id.get(p3!)!, at("03-15"), 1000, { refunded: 500, status: "partially_refunded" });
    await order(split, id.get(h1!)!, at("03-12"), 6000);
    await order(split, id.get(h1!)!, at("03-13"), 5000, { status: "cancelled" });
    await order(split, id.get(h2!)!, at("01-10"), 2000);

    const { incrementality } = (await analytics(split)).body;
    expect(incrementality).toEqual({
      holdoutPercent: 20,
      programMembers: 4,
      holdoutMembers: 2,
      // Buyers in March: P1, P2, P3 | H1.
      buyers: { program: 3, holdout: 1 },
      // P1 and P2 have two orders by the end: 2 / 3 = 0.6667; H1 has one (the other was cancelled): 0.
      repeatPurchaseRate: { program: 0.6667, holdout: 0 },
      // March orders: 30.00 + 40.00 + 20.00 + 5.00 (10.00 less 5.00 refunded) = 95.00 over 4 -> 23.75 | 60.00 / 1.
      averageOrderValue: { program: "23.75", holdout: "60.00" },
      // Lifetime: P1 80.00, P2 60.00, P3 5.00 = 145.00 / 3 = 48.333 -> 48.33 | H1 60.00 + H2 20.00 = 80.00 / 2.
      averageLifetimeValue: { program: "48.33", holdout: "40.00" },
      significance: {
        test: "two-proportion z-test on the repeat purchase rate, 95%",
        // pooled 2/4 = 0.5; se = sqrt(0.25 x (1/3 + 1)) = 0.5774; z = 0.6667 / 0.5774 = 1.15.
        z: 1.15,
        significant: false,
        warning:
          "Too few customers to conclude anything yet: each group needs at least 30 buyers in the period (program 3, holdout 1).",
      },
    });
  });
});
