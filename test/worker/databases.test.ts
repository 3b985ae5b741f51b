/**
 * Many databases (README "Scaling"): shops spread over DB and DB_1, two local D1 databases in
 * workerd. Every call goes through the worker with DATABASES listing both; the other test files
 * run on DB alone, as `npm start` does.
 */
import { applyD1Migrations, createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { customerDigest, expectError } from "./helpers";
import { ADMIN, callWith } from "./helpers";

const SPREAD = { DATABASES: "DB,DB_1", MOVE_SETTLE_MS: "0" } as const;
const api = (method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  callWith(SPREAD, method, path, options);

interface SpreadShop {
  id: string;
  publicKey: string;
  secretKey: string;
  widgetSecret: string;
  database: string;
}

let shops = 0;
async function makeSpreadShop(overrides: Record<string, unknown> = {}): Promise<SpreadShop> {
  shops++;
  const res = await api("POST", "/v1/shops", {
    token: ADMIN,
    body: { name: `Spread ${shops}`, currency: "EUR", origins: [`https://spread-${shops}.example`], ...overrides },
  });
  if (res.status !== 201) throw new Error(`shop creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.shop.id, publicKey: res.body.shop.publicKey, ...res.body };
}

/** Makes a database bigger than the other by `kb` (rows of a shop that does not exist). */
async function grow(db: D1Database, kb: number) {
  await db
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO idempotency_keys (shop_id, scope, key, request_hash, status, response, created_at)
       SELECT 'filler', 'filler', hex(randomblob(8)) || i, 'h', 200, hex(randomblob(512)), '2026-01-01T00:00:00.000Z' FROM n`,
    )
    .bind(kb)
    .run();
}

const count = async (db: D1Database, table: string, shopId: string) =>
  (await db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE shop_id = ?`).bind(shopId).first<{ n: number }>())!.n;

const order = (shop: SpreadShop, id: string, customerId: string, subtotal: string) =>
  api("POST", "/v1/events", {
    token: shop.secretKey,
    body: { id: `evt-${id}`, type: "order.paid", order: { id, customerId, currency: "EUR", subtotal, lines: [] } },
  });

async function session(shop: SpreadShop, customerId: string, origin?: string) {
  const ts = Math.floor(Date.now() / 1000);
  const res = await api("POST", "/v1/storefront/sessions", {
    body: { shop: shop.publicKey, customer: { id: customerId, ts, digest: await customerDigest(shop.widgetSecret, customerId, ts) } },
    headers: origin ? { origin } : {},
  });
  expect(res.status).toBe(200);
  return res.body.token as string;
}

/** A shop on DB_1 (DB made the bigger one first). */
async function shopOnSecond(): Promise<SpreadShop> {
  const loads = (await api("GET", "/v1/operator/databases", { token: ADMIN })).body.databases as { bytes: number }[];
  await grow(env.DB, Math.ceil(Math.max(0, loads[1]!.bytes - loads[0]!.bytes) / 1024) + 200);
  const shop = await makeSpreadShop();
  expect(shop.database).toBe("DB_1");
  return shop;
}

beforeAll(async () => {
  await applyD1Migrations(env.DB_1, env.TEST_MIGRATIONS);
});

describe("many databases", () => {
  it("places each new shop on the smaller database", async () => {
    await grow(env.DB, 300);
    const first = await makeSpreadShop();
    expect(first.database).toBe("DB_1");
    expect(await count(env.DB_1, "customers", first.id)).toBe(0);
    expect(await env.DB_1.prepare("SELECT id FROM shops WHERE id = ?").bind(first.id).first()).not.toBeNull();
    expect(await env.DB.prepare("SELECT id FROM shops WHERE id = ?").bind(first.id).first()).toBeNull();

    await grow(env.DB_1, 900);
    const second = await makeSpreadShop();
    expect(second.database).toBe("DB");

    const loads = await api("GET", "/v1/operator/databases", { token: ADMIN });
    expect(loads.status).toBe(200);
    expect(loads.body.databases.map((d: { binding: string }) => d.binding)).toEqual(["DB", "DB_1"]);
  });

  it("serves a shop of the second database by its secret key, public key, session token and origin", async () => {
    const shop = await shopOnSecond();
    const origin = `https://spread-${shops}.example`;
    expect((await order(shop, "o-1", "c-1", "40.00")).body.status).toBe("processed");
    expect(await count(env.DB_1, "ledger", shop.id)).toBe(1);
    expect(await count(env.DB, "ledger", shop.id)).toBe(0);

    const member = await api("GET", "/v1/customers/c-1", { token: shop.secretKey });
    expect(member.status).toBe(200);
    expect(member.body.customer.balance).toBe(40);

    const token = await session(shop, "c-1", origin);
    const state = await api("GET", "/v1/storefront/state", { token, headers: { origin } });
    expect(state.status).toBe(200);
    expect(state.body.customer.balance).toBe(40);
    expect(state.headers.get("access-control-allow-origin")).toBe(origin);

    // A preflight knows no shop yet: the origin is found in the second database.
    const preflight = await api("OPTIONS", "/v1/storefront/state", {
      headers: { origin, "access-control-request-method": "GET" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    const unknown = await api("OPTIONS", "/v1/storefront/state", {
      headers: { origin: "https://nobody.example", "access-control-request-method": "GET" },
    });
    expect(unknown.headers.get("access-control-allow-origin")).toBeNull();

    // The console trades the key (in its body) for a token that names the shop.
    const consoleSession = await api("POST", "/v1/console/sessions", { body: { secretKey: shop.secretKey } });
    expect(consoleSession.status).toBe(200);
    const program = await api("GET", "/v1/program", { token: consoleSession.body.token });
    expect(program.status).toBe(200);

    // Another shop's key still reaches nothing of this one.
    const other = await makeSpreadShop();
    expect((await api("GET", "/v1/customers/c-1", { token: other.secretKey })).status).toBe(404);
  });

  it("runs the scheduled work on every database", async () => {
    const shop = await shopOnSecond();
    const program = await api("GET", "/v1/program", { token: shop.secretKey });
    program.body.program.expiry.days = 30;
    expect((await api("PUT", "/v1/program", { token: shop.secretKey, body: program.body })).status).toBe(200);
    expect((await order(shop, "o-exp", "c-exp", "25.00")).body.status).toBe("processed");

    const controller = createScheduledController({ scheduledTime: Date.now() + 31 * 86_400_000, cron: "17 3 * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, { ...env, ...SPREAD }, ctx);
    await waitOnExecutionContext(ctx);
    const member = await api("GET", "/v1/customers/c-exp", { token: shop.secretKey });
    expect(member.body.customer.balance).toBe(0);
    expect(await env.DB_1.prepare("SELECT COUNT(*) AS n FROM ledger WHERE shop_id = ? AND kind = 'expiry'").bind(shop.id).first("n")).toBe(1);
  });
});

describe("moving a shop", () => {
  it("copies every row to the other database, re-checks each balance, switches, and deletes the source", async () => {
    const shop = await shopOnSecond();
    const origin = `https://spread-${shops}.example`;
    const reward = await api("POST", "/v1/rewards", {
      token: shop.secretKey,
      body: { name: "€5 off", type: "amount_off", cost: 100, value: "5.00" },
    });
    expect(reward.status).toBe(201);
    for (const [i, subtotal] of ["120.00", "80.00", "35.50"].entries()) {
      expect((await order(shop, `m-${i}`, `c-${i}`, subtotal)).body.status).toBe("processed");
    }
    expect((await order(shop, "m-3", "c-0", "20.00")).body.status).toBe("processed");
    const adjust = await api("POST", "/v1/customers/c-1/adjustments", {
      token: shop.secretKey,
      body: { points: -30, note: "goodwill" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(adjust.status).toBe(201);
    const token = await session(shop, "c-0", origin);
    const redeemed = await api("POST", "/v1/storefront/redemptions", {
      token,
      body: { rewardId: reward.body.reward.id },
      headers: { "idempotency-key": crypto.randomUUID(), origin },
    });
    expect(redeemed.status).toBe(201);

    const tables = ["customers", "ledger", "orders", "redemptions", "rewards", "received_events", "outbox", "idempotency_keys"];
    const before = Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(env.DB_1, t, shop.id)] as const)));
    const balances = async () =>
      Promise.all(["c-0", "c-1", "c-2"].map(async (id) => (await api("GET", `/v1/customers/${id}`, { token: shop.secretKey })).body.customer));
    const membersBefore = await balances();
    const ledgerBefore = (await api("GET", "/v1/customers/c-0/ledger", { token: shop.secretKey })).body;

    const moved = await api("POST", `/v1/operator/shops/${shop.id}/move`, { token: ADMIN, body: { to: "DB" } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ shopId: shop.id, from: "DB_1", to: "DB" });
    expect(moved.body.rows.ledger).toBe(before.ledger);

    for (const table of tables) {
      expect({ table, n: await count(env.DB, table, shop.id) }).toEqual({ table, n: before[table] });
      expect({ table, n: await count(env.DB_1, table, shop.id) }).toEqual({ table, n: 0 });
    }
    expect(await env.DB_1.prepare("SELECT id FROM shops WHERE id = ?").bind(shop.id).first()).toBeNull();
    // The same keys, tokens and answers, now from the home database.
    expect(await balances()).toEqual(membersBefore);
    expect((await api("GET", "/v1/customers/c-0/ledger", { token: shop.secretKey })).body).toEqual(ledgerBefore);
    const state = await api("GET", "/v1/storefront/state", { token, headers: { origin } });
    expect(state.status).toBe(200);
    expect(state.body.customer.balance).toBe(membersBefore[0].balance);
    // Writes go on in the new home; a repeated event is still recognised there.
    expect((await order(shop, "m-3", "c-0", "20.00")).body.status).toBe("duplicate");
    expect((await order(shop, "m-4", "c-2", "10.00")).body.status).toBe("processed");
    expect(await count(env.DB, "ledger", shop.id)).toBe(before.ledger! + 1);

    // And back again.
    const back = await api("POST", `/v1/operator/shops/${shop.id}/move`, { token: ADMIN, body: { to: "DB_1" } });
    expect(back.status).toBe(200);
    expect(await count(env.DB_1, "ledger", shop.id)).toBe(before.ledger! + 1);
    expect((await api("GET", "/v1/customers/c-2", { token: shop.secretKey })).body.customer.balance).toBe(membersBefore[2].balance + 10);
  });

  it("refuses the shop's writes while it moves, and keeps answering its reads", async () => {
    const shop = await shopOnSecond();
    expect((await order(shop, "p-1", "c-1", "10.00")).body.status).toBe("processed");
    await env.DB.prepare("UPDATE shop_placements SET moving_to = 'DB' WHERE shop_id = ?").bind(shop.id).run();
    const { forgetRecentPlacements } = await import("../../worker/services/databases");
    forgetRecentPlacements();
    const refused = await order(shop, "p-2", "c-1", "10.00");
    expectError(refused, 503, "shop_moving");
    expect(refused.headers.get("retry-after")).toBe("5");
    expect((await api("GET", "/v1/customers/c-1", { token: shop.secretKey })).body.customer.balance).toBe(10);
    await env.DB.prepare("UPDATE shop_placements SET moving_to = NULL WHERE shop_id = ?").bind(shop.id).run();
    forgetRecentPlacements();
    expect((await order(shop, "p-2", "c-1", "10.00")).body.status).toBe("processed");
  });

  it("refuses a move to a database the worker does not spread shops over", async () => {
    const shop = await shopOnSecond();
    expectError(await api("POST", `/v1/operator/shops/${shop.id}/move`, { token: ADMIN, body: { to: "DB_7" } }), 400, "invalid_request");
    expectError(await api("POST", `/v1/operator/shops/${shop.id}/move`, { token: ADMIN, body: { to: "DB_1" } }), 400, "invalid_request");
    expectError(await api("POST", "/v1/operator/shops/shop_nope/move", { token: ADMIN, body: { to: "DB_1" } }), 404, "not_found");
    expect((await api("POST", `/v1/operator/shops/${shop.id}/move`, { token: shop.secretKey, body: { to: "DB" } })).status).toBe(401);
  });
});
