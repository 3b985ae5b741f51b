/**
 * The console's API: sessions (the secret key traded for a short-lived token the merchant routes
 * accept), streamed CSV exports (quoting, formula injection, many pages, isolation) and a member's
 * badges and referrals.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { csvCell } from "../../worker/services/analytics";
import { call, expectError, makeShop, orderPaid, postAdjustment, type TestShop } from "./helpers";

let shop: TestShop;
let other: TestShop;

/** RFC 4180 parser, enough to read back what the export wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  if (cell !== "" || row.length) throw new Error("the CSV does not end with CRLF");
  return rows;
}

async function download(path: string, token = shop.secretKey) {
  const res = await exports.default.fetch(new Request(`http://laurel.test${path}`, { headers: { authorization: `Bearer ${token}` } }));
  return { res, text: await res.text() };
}

beforeAll(async () => {
  shop = await makeShop();
  other = await makeShop();
});

describe("console sessions", () => {
  it("trades the secret key for a token that the merchant routes accept, and refuses a wrong key", async () => {
    const res = await call("POST", "/v1/console/sessions", { body: { secretKey: shop.secretKey } });
    expect(res.status).toBe(200);
    expect(res.body.shop).toMatchObject({ id: shop.id, publicKey: shop.publicKey, currency: "EUR" });
    expect(JSON.stringify(res.body)).not.toContain(shop.secretKey);
    const ttl = Date.parse(res.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(25 * 60_000);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    const token = res.body.token as string;
    expect(token.startsWith("sk_")).toBe(false);

    // Any merchant route: the program, customers, rewards, challenges, analytics.
    for (const path of ["/v1/program", "/v1/customers", "/v1/rewards", "/v1/challenges", "/v1/analytics"]) {
      expect((await call("GET", path, { token })).status, path).toBe(200);
    }
    const created = await call("POST", "/v1/rewards", {
      token,
      body: { name: "Tote bag", type: "free_product", cost: 300, product: "TOTE-1" },
    });
    expect(created.status).toBe(201);

    for (const secretKey of ["sk_wrong", other.publicKey, "", shop.secretKey.slice(0, -2)]) {
      const refused = await call("POST", "/v1/console/sessions", { body: { secretKey } });
      expectError(refused, secretKey === "" ? 400 : 401, secretKey === "" ? "invalid_request" : "unauthorized");
    }
    expectError(await call("POST", "/v1/console/sessions", { body: {} }), 400, "invalid_request");
  });

  it("scopes a token to its shop; forged, tampered and storefront tokens are refused", async () => {
    const mine = (await call("POST", "/v1/console/sessions", { body: { secretKey: shop.secretKey } })).body.token as string;
    const theirs = (await call("POST", "/v1/console/sessions", { body: { secretKey: other.secretKey } })).body.token as string;
    await orderPaid(shop, { id: "scope-1", customerId: "mine-only", subtotal: "10.00" });
    expect((await call("GET", "/v1/customers/mine-only", { token: mine })).status).toBe(200);
    expectError(await call("GET", "/v1/customers/mine-only", { token: theirs }), 404, "not_found");

    const [header, payload, signature] = mine.split(".");
    const forged = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    forged.shop = other.id;
    const body = btoa(JSON.stringify(forged)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expectError(await call("GET", "/v1/program", { token: `${header}.${body}.${signature}` }), 401, "unauthorized");

    const storefront = await call("POST", "/v1/storefront/sessions", { body: { shop: shop.publicKey } });
    expectError(await call("GET", "/v1/program", { token: storefront.body.token }), 401, "unauthorized");
    // And a console token is no storefront session.
    expectError(await call("GET", "/v1/storefront/state", { token: mine }), 401, "unauthorized");
  });
});

describe("CSV exports", () => {
  it("quotes by RFC 4180 and defuses formulas in text, never in numbers", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('say "hi", then go')).toBe('"say ""hi"", then go"');
    expect(csvCell("two\r\nlines")).toBe('"two\r\nlines"');
    expect(csvCell("=HYPERLINK(\"http://evil\")")).toBe("\"'=HYPERLINK(\"\"http://evil\"\")\"");
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("-2")).toBe("'-2");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\tcmd")).toBe("'\tcmd");
    expect(csvCell(-50)).toBe("-50");
    expect(csvCell(null)).toBe("");
  });

  it("streams every member over many pages, with hostile text made safe", async () => {
    // 1,203 members written straight into D1 (the export reads 500 per page).
    const statements = [];
    for (let i = 1; i <= 1203; i++) {
      statements.push(
        env.DB.prepare(
          "INSERT INTO customers (shop_id, external_id, email, first_name, referral_code, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        ).bind(shop.id, `bulk-${i}`, `m${i}@example.com`, i === 7 ? '=cmd|"/c calc"!A1' : `Name, ${i}`, `BULK${i}`, "2026-01-01T00:00:00.000Z"),
      );
    }
    await env.DB.batch(statements);
    await env.DB.prepare(
      "INSERT INTO customers (shop_id, external_id, referral_code, created_at) VALUES (?, 'not-mine', 'OTHER1', '2026-01-01T00:00:00.000Z')",
    )
      .bind(other.id)
      .run();

    const { res, text } = await download("/v1/exports/customers.csv");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="customers-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([
      "id",
      "email",
      "first_name",
      "birthday",
      "balance",
      "lifetime_points",
      "tier",
      "referral_code",
      "order_count",
      "total_spent",
      "last_order_at",
      "created_at",
      "redacted_at",
    ]);
    const ids = rows.slice(1).map((r) => r[0]);
    // The member from the session test, the bulk ones, in row order, and nothing of the other shop.
    expect(ids).toContain("mine-only");
    expect(ids.filter((id) => id!.startsWith("bulk-"))).toHaveLength(1203);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).not.toContain("not-mine");
    const seventh = rows.find((r) => r[0] === "bulk-7")!;
    expect(seventh[2]).toBe('\'=cmd|"/c calc"!A1');
    const first = rows.find((r) => r[0] === "bulk-1")!;
    expect(first).toEqual(["bulk-1", "m1@example.com", "Name, 1", "", "0", "0", "", "BULK1", "0", "0.00", "", "2026-01-01T00:00:00.000Z", ""]);
    const buyer = rows.find((r) => r[0] === "mine-only")!;
    expect(buyer.slice(4, 6)).toEqual(["10", "10"]);
    expect(buyer[9]).toBe("10.00");
  });

  it("streams the ledger, negative numbers as numbers and notes defused", async () => {
    await orderPaid(shop, { id: "ledger-1", customerId: "ledger-member", subtotal: "25.00" });
    expect((await postAdjustment(shop, "ledger-member", { points: -5, note: "-5 for a damaged parcel, sorry" })).status).toBe(201);
    expect((await postAdjustment(shop, "ledger-member", { points: 3, note: 'goodwill "thanks"' })).status).toBe(201);
    await orderPaid(other, { id: "theirs-1", customerId: "theirs", subtotal: "99.00" });

    const { res, text } = await download("/v1/exports/ledger.csv");
    expect(res.status).toBe(200);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([
      "entry_id",
      "customer_id",
      "delta",
      "kind",
      "reference",
      "balance_after",
      "shortfall",
      "note",
      "created_at",
      "expires_at",
    ]);
    const mine = rows.slice(1).filter((r) => r[1] === "ledger-member");
    expect(mine.map((r) => [r[2], r[3], r[4], r[5], r[7]])).toEqual([
      ["25", "order", "ledger-1", "25", ""],
      ["-5", "adjustment", "", "20", "'-5 for a damaged parcel, sorry"],
      ["3", "adjustment", "", "23", 'goodwill "thanks"'],
    ]);
    expect(rows.some((r) => r[1] === "theirs")).toBe(false);
    // Entry ids ascend: the keyset order.
    const entryIds = rows.slice(1).map((r) => Number(r[0]));
    expect(entryIds).toEqual([...entryIds].sort((a, b) => a - b));
  });

  it("needs the secret key or a console token", async () => {
    for (const path of ["/v1/exports/customers.csv", "/v1/exports/ledger.csv"]) {
      const res = await call("GET", path);
      expectError(res, 401, "unauthorized");
    }
    const token = (await call("POST", "/v1/console/sessions", { body: { secretKey: shop.secretKey } })).body.token;
    const { res } = await download("/v1/exports/ledger.csv", token);
    expect(res.status).toBe(200);
  });
});

describe("a member's badges and referrals", () => {
  it("lists the badges earned, the referrals made and who referred them", async () => {
    await orderPaid(shop, { id: "ref-1", customerId: "referrer", subtotal: "10.00" });
    const referrerRow = await env.DB.prepare("SELECT id FROM customers WHERE shop_id = ? AND external_id = 'referrer'")
      .bind(shop.id)
      .first<{ id: number }>();
    await orderPaid(shop, { id: "ref-2", customerId: "referee", subtotal: "10.00" });
    const refereeRow = await env.DB.prepare("SELECT id FROM customers WHERE shop_id = ? AND external_id = 'referee'")
      .bind(shop.id)
      .first<{ id: number }>();
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO referrals (id, shop_id, referrer_id, code, referee_email, referee_customer_id, status, created_at, completed_at)
         VALUES ('rf_1', ?, ?, 'CODE', 'friend@example.com', ?, 'completed', '2026-05-01T00:00:00.000Z', '2026-05-02T00:00:00.000Z')`,
      ).bind(shop.id, referrerRow!.id, refereeRow!.id),
      env.DB.prepare(
        `INSERT INTO referrals (id, shop_id, referrer_id, code, referee_email, status, rejection_reason, created_at)
         VALUES ('rf_2', ?, ?, 'CODE', 'self@example.com', 'rejected', 'self_referral', '2026-05-03T00:00:00.000Z')`,
      ).bind(shop.id, referrerRow!.id),
      env.DB.prepare(
        `INSERT INTO challenges (id, shop_id, name, kind, goal, badge, created_at, updated_at)
         VALUES ('ch_badge', ?, 'First order', 'order_count', 1, 'Starter', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
      ).bind(shop.id),
      env.DB.prepare(
        `INSERT INTO badges (shop_id, customer_id, challenge_id, name, badge, earned_at)
         VALUES (?, ?, 'ch_badge', 'First order', 'Starter', '2026-05-01T00:00:00.000Z')`,
      ).bind(shop.id, referrerRow!.id),
    ]);

    const res = await call("GET", "/v1/console/customers/referrer/engagement", { token: shop.secretKey });
    expect(res.status).toBe(200);
    expect(res.body.badges).toEqual([
      { challengeId: "ch_badge", name: "First order", badge: "Starter", earnedAt: "2026-05-01T00:00:00.000Z" },
    ]);
    expect(res.body.referralsMade).toEqual([
      {
        id: "rf_2",
        refereeEmail: "self@example.com",
        refereeId: null,
        status: "rejected",
        rejectionReason: "self_referral",
        createdAt: "2026-05-03T00:00:00.000Z",
        completedAt: null,
      },
      {
        id: "rf_1",
        refereeEmail: "friend@example.com",
        refereeId: "referee",
        status: "completed",
        rejectionReason: null,
        createdAt: "2026-05-01T00:00:00.000Z",
        completedAt: "2026-05-02T00:00:00.000Z",
      },
    ]);
    expect(res.body.referredBy).toBeNull();
    const referee = await call("GET", "/v1/console/customers/referee/engagement", { token: shop.secretKey });
    expect(referee.body).toEqual({
      badges: [],
      referralsMade: [],
      referredBy: { customerId: "referrer", status: "completed", createdAt: "2026-05-01T00:00:00.000Z" },
    });
    expectError(await call("GET", "/v1/console/customers/referrer/engagement", { token: other.secretKey }), 404, "not_found");
    expectError(await call("GET", "/v1/console/customers/nobody/engagement", { token: shop.secretKey }), 404, "not_found");
    expectError(await call("GET", "/v1/console/customers/referrer/engagement"), 401, "unauthorized");
  });
});
