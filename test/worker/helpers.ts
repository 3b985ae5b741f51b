import { env, exports } from "cloudflare:workers";
import { signStandardWebhook } from "../../worker/auth/standard-webhooks";

export const ADMIN = "test-admin-token";

export interface TestShop {
  id: string;
  publicKey: string;
  secretKey: string;
  webhookSecret: string;
  widgetSecret: string;
}

export async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  } else if (body !== undefined) {
    headers["content-type"] ??= "application/json";
  }
  const response = await exports.default.fetch(new Request(`http://laurel.test${path}`, { method, headers, body }));
  return parsedResponse(response);
}

let shopCounter = 0;

export async function makeShop(
  overrides: Partial<{ name: string; currency: string; origins: string[]; platform: string; shopifyDomain: string }> = {},
): Promise<TestShop> {
  shopCounter++;
  const res = await call("POST", "/v1/shops", {
    token: ADMIN,
    body: { name: `Shop ${shopCounter}`, currency: "EUR", origins: ["https://shop.example"], ...overrides },
  });
  if (res.status !== 201) throw new Error(`makeShop failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.shop.id, publicKey: res.body.shop.publicKey, ...res.body };
}

export async function setProgram(shop: TestShop, change: (program: any) => void) {
  const current = await call("GET", "/v1/program", { token: shop.secretKey });
  change(current.body.program);
  const res = await call("PUT", "/v1/program", { token: shop.secretKey, body: current.body });
  if (res.status !== 200) throw new Error(`setProgram failed: ${JSON.stringify(res.body)}`);
  return res.body.program;
}

let eventCounter = 0;
export const eventId = () => `evt_${++eventCounter}_${Math.random().toString(36).slice(2)}`;

export function sendEvent(shop: TestShop, event: Record<string, unknown>) {
  return call("POST", "/v1/events", { token: shop.secretKey, body: { id: eventId(), ...event } });
}

export function orderPaid(
  shop: TestShop,
  order: { id: string; customerId: string; subtotal: string; [key: string]: unknown },
  extra: Record<string, unknown> = {},
) {
  return sendEvent(shop, { type: "order.paid", order: { currency: "EUR", lines: [], ...order }, ...extra });
}

export async function signedEvent(shop: TestShop, event: Record<string, unknown>, options: { secret?: string; timestamp?: number } = {}) {
  const body = JSON.stringify(event);
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = await signStandardWebhook(options.secret ?? shop.webhookSecret, id, timestamp, body);
  return call("POST", `/v1/events?shop=${shop.publicKey}`, {
    raw: body,
    headers: { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature },
  });
}

export async function customer(shop: TestShop, externalId: string) {
  return (await call("GET", `/v1/customers/${encodeURIComponent(externalId)}`, { token: shop.secretKey })).body.customer;
}

/** The ledger's invariants (balance = sum of deltas, never below zero), checked directly in D1 for every customer of a shop. */
export async function assertLedgerInvariants(shopId: string) {
  const { results: customers } = await env.DB.prepare("SELECT id, balance FROM customers WHERE shop_id = ?")
    .bind(shopId)
    .all<{ id: number; balance: number }>();
  for (const c of customers) {
    const { results: entries } = await env.DB.prepare(
      "SELECT delta, balance_after FROM ledger WHERE customer_id = ? ORDER BY id",
    )
      .bind(c.id)
      .all<{ delta: number; balance_after: number }>();
    let running = 0;
    for (const e of entries) {
      running += e.delta;
      if (e.balance_after !== running) throw new Error(`balance_after ${e.balance_after} != running ${running}`);
      if (running < 0) throw new Error("running balance went below zero");
    }
    if (running !== c.balance) throw new Error(`customer ${c.id}: balance ${c.balance} != ledger sum ${running}`);
  }
  return customers.length;
}

export interface OutboxRow {
  seq: number;
  id: string;
  type: string;
  customer_id: number | null;
  ledger_id: number | null;
  data: Record<string, any>;
  occurred_at: string;
}

/** A shop's outbox, oldest first (`data` parsed). */
export async function outboxOf(shopId: string, afterSeq = 0): Promise<OutboxRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT seq, id, type, customer_id, ledger_id, data, occurred_at FROM outbox WHERE shop_id = ? AND seq > ? ORDER BY seq",
  )
    .bind(shopId, afterSeq)
    .all<Omit<OutboxRow, "data"> & { data: string }>();
  return results.map((r) => ({ ...r, data: JSON.parse(r.data) }));
}

/** The outbox's last sequence number so far (to read only what a step adds). */
export async function outboxMark(): Promise<number> {
  return (await env.DB.prepare("SELECT COALESCE(MAX(seq), 0) AS n FROM outbox").first<{ n: number }>())!.n;
}

/**
 * Every committed ledger entry that moved points has exactly one points event, and every points
 * event reports exactly one committed entry: credit -> points.earned, debit -> points.spent, with
 * the entry's points, kind, reference, resulting balance and the member's (current) id. Returns
 * how many entries were matched.
 */
export async function assertOutboxMatchesLedger(shopId: string) {
  const { results: entries } = await env.DB.prepare(
    `SELECT l.id, l.delta, l.kind, l.reference, l.balance_after, c.external_id FROM ledger l
     JOIN customers c ON c.id = l.customer_id WHERE l.shop_id = ? ORDER BY l.id`,
  )
    .bind(shopId)
    .all<{ id: number; delta: number; kind: string; reference: string | null; balance_after: number; external_id: string }>();
  const events = (await outboxOf(shopId)).filter((e) => e.type === "points.earned" || e.type === "points.spent");
  const byEntry = new Map<number, OutboxRow>();
  for (const event of events) {
    if (event.ledger_id === null) throw new Error(`points event ${event.id} names no ledger entry`);
    if (byEntry.has(event.ledger_id)) throw new Error(`ledger entry ${event.ledger_id} has two points events`);
    byEntry.set(event.ledger_id, event);
  }
  let matched = 0;
  for (const entry of entries) {
    const event = byEntry.get(entry.id);
    byEntry.delete(entry.id);
    if (entry.delta === 0) {
      if (event) throw new Error(`entry ${entry.id} moved nothing but has ${event.type}`);
      continue;
    }
    if (!event) throw new Error(`entry ${entry.id} (${entry.kind} ${entry.delta}) has no points event`);
    const expected = {
      type: entry.delta > 0 ? "points.earned" : "points.spent",
      data: { customerId: entry.external_id, points: Math.abs(entry.delta), kind: entry.kind, reference: entry.reference, balance: entry.balance_after },
    };
    const actual = { type: event.type, data: event.data };
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw new Error(`entry ${entry.id}: event ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
    }
    matched++;
  }
  if (byEntry.size) throw new Error(`points events for entries that do not exist: ${[...byEntry.keys()].join(", ")}`);
  return matched;
}

/** Row counts of every table that a refused request must leave untouched. */
export async function snapshot(): Promise<Record<string, number>> {
  const tables = ["shops", "customers", "ledger", "orders", "order_refunds", "received_events", "idempotency_keys", "outbox"];
  const counts: Record<string, number> = {};
  for (const t of tables) {
    counts[t] = (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${t}`).first<{ n: number }>())!.n;
  }
  const sums = await env.DB.prepare("SELECT COALESCE(SUM(balance),0) AS b FROM customers").first<{ b: number }>();
  counts.balances = sums!.b;
  return counts;
}

/** Asserts the contract's error shape `{"error":{"code","message","details?"}}` with a status. */
export function expectError(res: { status: number; body: unknown }, status: number, code: string) {
  const where = `${res.status} ${JSON.stringify(res.body)}`;
  if (res.status !== status) throw new Error(`expected ${status} ${code}, got ${where}`);
  const body = res.body as { error: { code: unknown; message: unknown } } | null;
  if (!body || typeof body !== "object" || Object.keys(body).join() !== "error") throw new Error(`not an error body: ${where}`);
  const keys = Object.keys(body.error).filter((k) => k !== "details");
  if (keys.sort().join() !== "code,message") throw new Error(`unexpected error fields: ${where}`);
  if (body.error.code !== code) throw new Error(`expected code ${code}, got ${where}`);
  if (typeof body.error.message !== "string" || body.error.message.length === 0) throw new Error(`no message: ${where}`);
}

/** `POST /v1/customers/:id/adjustments` with an Idempotency-Key (a fresh one unless given). */
export function postAdjustment(
  shop: TestShop,
  externalId: string,
  body: unknown,
  key: string | null = crypto.randomUUID(),
) {
  return call("POST", `/v1/customers/${encodeURIComponent(externalId)}/adjustments`, {
    token: shop.secretKey,
    body,
    headers: key === null ? {} : { "idempotency-key": key },
  });
}

/** A ledger entry as the merchant API shows it. */
export interface Entry {
  id: number;
  delta: number;
  kind: string;
  reference: string | null;
  balanceAfter: number;
  shortfall: number;
  note: string | null;
  createdAt: string;
  expiresAt: string | null;
}

/** Every ledger entry of a customer through the merchant API, oldest first (follows cursors). */
export async function ledgerOf(shop: TestShop, externalId: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?limit=200&cursor=${cursor}` : "?limit=200";
    const res = await call("GET", `/v1/customers/${encodeURIComponent(externalId)}/ledger${query}`, { token: shop.secretKey });
    if (res.status !== 200) throw new Error(`ledger failed: ${res.status} ${JSON.stringify(res.body)}`);
    entries.push(...res.body.entries);
    cursor = res.body.nextCursor;
  } while (cursor);
  return entries.reverse();
}

export async function customerDigest(widgetSecret: string, id: string, ts: number | string) {
  const { hmacSha256, toHex } = await import("../../worker/crypto");
  return toHex(await hmacSha256(widgetSecret, `${id}.${ts}`));
}

/** A storefront session for a customer of `shop` (a verified digest), or a guest's. */
export async function storefrontSession(shop: TestShop, customerId?: string, options: { ts?: number; origin?: string } = {}) {
  const body: Record<string, unknown> = { shop: shop.publicKey };
  if (customerId) {
    const ts = options.ts ?? Math.floor(Date.now() / 1000);
    body.customer = { id: customerId, ts, digest: await customerDigest(shop.widgetSecret, customerId, ts) };
  }
  const res = await call("POST", "/v1/storefront/sessions", {
    body,
    headers: options.origin ? { origin: options.origin } : {},
  });
  if (res.status !== 200) throw new Error(`session failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

export async function makeReward(shop: TestShop, reward: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/rewards", {
    token: shop.secretKey,
    body: { name: "€5 off", type: "amount_off", cost: 100, value: "5.00", ...reward },
  });
  if (res.status !== 201) throw new Error(`makeReward failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.reward as { id: string; cost: number };
}


/**
 * The D1 binding with injected faults, for what happens when the database fails mid-request: a
 * statement run on its own throws while `fails(sql)` says so, a batch throws (running nothing)
 * when `fails` says so for any of its statements. `batches` lists the SQL of every committed batch.
 */
export function faultyDb(db: D1Database, fails: (sql: string) => boolean) {
  const real = new WeakMap<object, { statement: D1PreparedStatement; sql: string }>();
  const batches: string[][] = [];
  const injected = (sql: string) => Promise.reject(new Error(`D1_ERROR: injected fault in: ${sql.replace(/\s+/g, " ").slice(0, 60)}`));
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...args: unknown[]) => wrap(target.bind(...args), sql);
        if (prop === "first" || prop === "run" || prop === "all" || prop === "raw") {
          return (...args: unknown[]) =>
            fails(sql) ? injected(sql) : (Reflect.get(target, prop) as (...a: unknown[]) => unknown).apply(target, args);
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    real.set(proxy, { statement, sql });
    return proxy;
  };
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const parts = statements.map((s) => real.get(s) ?? { statement: s, sql: "" });
          const failing = parts.find((p) => fails(p.sql));
          if (failing) return injected(failing.sql);
          const results = await target.batch(parts.map((p) => p.statement));
          batches.push(parts.map((p) => p.sql));
          return results;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrapped, batches };
}

/** Like `call`, but through the app with some bindings replaced (a faulty database, mostly). */
export async function callWith(
  bindings: Partial<Cloudflare.Env>,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const { app } = await import("../../worker/app");
  const { createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  const request = new Request(`http://laurel.test${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return parsedResponse(response);
}

/** A response as tests read it: the status, the JSON body (or its text), the headers. */
async function parsedResponse(response: Response): Promise<{ status: number; body: any; headers: Headers }> {
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, body: parsed, headers: response.headers };
}
