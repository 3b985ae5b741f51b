/**
 * Feedback (CES, CSAT, program) and the NPS repurchase/upsell answers: what is stored, what is
 * refused with nothing stored, the `feedback.received` event, and the merchant's list, filters,
 * themes and CSV export.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, makeReward, makeShop, orderPaid, outboxOf, storefrontSession, type TestShop } from "./helpers";

let shop: TestShop;
let token: string;
let otherToken: string;
let redemptionId: string;
let othersRedemptionId: string;

const counts = async () => {
  const f = await env.DB.prepare("SELECT COUNT(*) AS n FROM feedback").first<{ n: number }>();
  const o = await env.DB.prepare("SELECT COUNT(*) AS n FROM outbox WHERE type = 'feedback.received'").first<{ n: number }>();
  return { feedback: f!.n, events: o!.n };
};

const answer = (body: unknown, t = token) => call("POST", "/v1/storefront/feedback", { token: t, body });

function redeem(t: string, rewardId: string) {
  return call("POST", "/v1/storefront/redemptions", { token: t, body: { rewardId }, headers: { "idempotency-key": crypto.randomUUID() } });
}

beforeAll(async () => {
  shop = await makeShop();
  const reward = await makeReward(shop, { cost: 10 });
  await orderPaid(shop, { id: "fb-o1", customerId: "ann", subtotal: "50.00" });
  await orderPaid(shop, { id: "fb-o2", customerId: "bob", subtotal: "50.00" });
  token = await storefrontSession(shop, "ann");
  otherToken = await storefrontSession(shop, "bob");
  redemptionId = (await redeem(token, reward.id)).body.redemption.id;
  othersRedemptionId = (await redeem(otherToken, reward.id)).body.redemption.id;
});

describe("POST /v1/storefront/feedback", () => {
  it("stores a CES answer about the member's own redemption, once, and announces it", async () => {
    const before = await counts();
    const res = await answer({ kind: "ces", score: 6, comment: "Easy, the code worked", redemptionId });
    expect(res.status).toBe(201);
    expect(res.body.answer).toMatchObject({ kind: "ces", score: 6, comment: "Easy, the code worked", redemptionId });
    expect(await counts()).toEqual({ feedback: before.feedback + 1, events: before.events + 1 });
    const event = (await outboxOf(shop.id)).filter((e) => e.type === "feedback.received").pop()!;
    expect(event.data).toEqual({ customerId: "ann", kind: "ces", score: 6, comment: "Easy, the code worked" });

    const again = await answer({ kind: "ces", score: 2, redemptionId });
    expectError(again, 409, "already_answered");
    expect(await counts()).toEqual({ feedback: before.feedback + 1, events: before.events + 1 });
  });

  it("refuses bad answers with a 4xx and stores nothing", async () => {
    const before = await counts();
    const refused: [unknown, number, string][] = [
      [{ kind: "ces", score: 8, redemptionId }, 400, "invalid_request"],
      [{ kind: "ces", score: 0, redemptionId }, 400, "invalid_request"],
      [{ kind: "ces", score: 5 }, 400, "invalid_request"],
      [{ kind: "ces", score: 5, redemptionId: othersRedemptionId }, 404, "not_found"],
      [{ kind: "ces", score: 5, redemptionId: "rd_nope" }, 404, "not_found"],
      [{ kind: "csat", score: 6 }, 400, "invalid_request"],
      [{ kind: "csat" }, 400, "invalid_request"],
      [{ kind: "csat", score: 4.5 }, 400, "invalid_request"],
      [{ kind: "program", score: 3 }, 400, "invalid_request"],
      [{ kind: "program", score: 6, comment: "too high" }, 400, "invalid_request"],
      [{ kind: "nps", score: 5 }, 400, "invalid_request"],
      [{ kind: "csat", score: 4, comment: "x".repeat(1001) }, 400, "invalid_request"],
    ];
    for (const [body, status, code] of refused) expectError(await answer(body), status, code);
    expectError(await call("POST", "/v1/storefront/feedback", { token: await storefrontSession(shop), body: { kind: "csat", score: 4 } }), 401, "unauthorized");
    expectError(await call("POST", "/v1/storefront/feedback", { body: { kind: "csat", score: 4 } }), 401, "unauthorized");
    expect(await counts()).toEqual(before);
  });

  it("takes CSAT and program answers (several without a redemption; once per redemption with one)", async () => {
    expect((await answer({ kind: "csat", score: 4 })).status).toBe(201);
    expect((await answer({ kind: "csat", score: 2, comment: "Delivery was late" })).status).toBe(201);
    expect((await answer({ kind: "csat", score: 5, redemptionId })).status).toBe(201);
    expectError(await answer({ kind: "csat", score: 5, redemptionId }), 409, "already_answered");
    const program = await answer({ kind: "program", comment: "More rewards please, points expire too fast" });
    expect(program.status).toBe(201);
    expect(program.body.answer.score).toBeNull();
    expect((await answer({ kind: "program", score: 5, comment: "Love the tiers" }, otherToken)).status).toBe(201);
  });
});

describe("POST /v1/storefront/nps with repurchase and upsell", () => {
  it("stores both 0-10 answers and refuses out-of-range ones", async () => {
    const before = await counts();
    expectError(await call("POST", "/v1/storefront/nps", { token: otherToken, body: { score: 9, repurchase: 11 } }), 400, "invalid_request");
    expectError(await call("POST", "/v1/storefront/nps", { token: otherToken, body: { score: 9, upsell: -1 } }), 400, "invalid_request");
    expect(await counts()).toEqual(before);
    const res = await call("POST", "/v1/storefront/nps", {
      token: otherToken,
      body: { score: 9, comment: "Shipping is quick", repurchase: 10, upsell: 6 },
    });
    expect(res.status).toBe(201);
    expect(res.body.response).toMatchObject({ score: 9, repurchase: 10, upsell: 6 });
    const event = (await outboxOf(shop.id)).filter((e) => e.type === "feedback.received").pop()!;
    expect(event.data).toEqual({ customerId: "bob", kind: "nps", score: 9, comment: "Shipping is quick" });
  });
});

describe("GET /v1/feedback", () => {
  it("lists every answer newest first, NPS with its why, with kind and band filters and cursors", async () => {
    const all = await call("GET", "/v1/feedback", { token: shop.secretKey });
    expect(all.status).toBe(200);
    expect(all.body.answers).toHaveLength(7);
    expect(all.body.nextCursor).toBeNull();
    const nps = all.body.answers.find((a: { kind: string }) => a.kind === "nps");
    expect(nps).toMatchObject({ kind: "nps", score: 9, comment: "Shipping is quick", customerId: "bob", repurchase: 10, upsell: 6, band: "high" });
    expect(Object.keys(nps)).toEqual(expect.arrayContaining(["id", "kind", "score", "comment", "customerId", "createdAt"]));
    const times = all.body.answers.map((a: { createdAt: string }) => a.createdAt);
    expect([...times].sort().reverse()).toEqual(times);

    const csat = await call("GET", "/v1/feedback?kind=csat", { token: shop.secretKey });
    expect(csat.body.answers.map((a: { score: number }) => a.score).sort()).toEqual([2, 4, 5]);
    const low = await call("GET", "/v1/feedback?kind=csat&band=low", { token: shop.secretKey });
    expect(low.body.answers.map((a: { score: number }) => a.score)).toEqual([2]);
    expect(low.body.answers[0].themes).toEqual(["shipping"]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { answers: { id: string }[]; nextCursor: string | null } } = await call(
        "GET",
        `/v1/feedback?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token: shop.secretKey },
      );
      seen.push(...page.body.answers.map((a) => a.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.answers.map((a: { id: string }) => a.id));

    expectError(await call("GET", "/v1/feedback?kind=bogus", { token: shop.secretKey }), 400, "invalid_request");
    expectError(await call("GET", "/v1/feedback?band=low", { token: shop.secretKey }), 400, "invalid_request");
    expectError(await call("GET", "/v1/feedback?cursor=!!", { token: shop.secretKey }), 400, "invalid_request");
    expectError(await call("GET", "/v1/feedback"), 401, "unauthorized");
    const stranger = await makeShop();
    expect((await call("GET", "/v1/feedback", { token: stranger.secretKey })).body.answers).toEqual([]);
  });

  it("groups comments into keyword themes and exports CSV", async () => {
    const themes = await call("GET", "/v1/feedback/themes", { token: shop.secretKey });
    expect(themes.status).toBe(200);
    // Comments: "Easy, the code worked" (rewards, ease), "Delivery was late" (shipping), "More rewards please,
    // points expire too fast" (rewards), "Love the tiers" (rewards), "Shipping is quick" (shipping).
    expect(themes.body.comments).toBe(5);
    expect(themes.body.themes.map((t: { theme: string; count: number }) => [t.theme, t.count])).toEqual([
      ["rewards", 3],
      ["shipping", 2],
      ["ease", 1],
    ]);
    const csv = await call("GET", "/v1/feedback/export.csv?kind=csat", { token: shop.secretKey });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = (csv.body as string).trim().split("\r\n");
    expect(lines[0]).toBe("id,kind,score,band,comment,themes,customer_id,redemption_id,repurchase,upsell,created_at");
    expect(lines).toHaveLength(4);
  });
});
