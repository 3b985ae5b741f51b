/**
 * EXPLAIN QUERY PLAN for every statement the hot paths really execute. The worker's own app
 * (worker/app.ts, bundled with esbuild) runs in Node over node:sqlite with all migrations applied
 * and a shop with bulk history; each request's statements are recorded, then explained with the
 * same parameters. A plan that SCANs a table (instead of SEARCHing an index) is flagged: that is
 * the query whose cost grows with the shop's data. Nothing is copied from worker/store, so the
 * list cannot drift from the code.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { createD1, createKV } from "./d1-sqlite.mjs";
import {
  createBenchShop,
  entriesPerCustomer,
  historySql,
  openSession,
  orderPaid,
  seededCustomer,
  shopsSql,
} from "./fixture.mjs";
import { resultsDir, root } from "./paths.mjs";
import { detail } from "./progress.mjs";

const ADMIN_TOKEN = "bench-admin-token";
const ORIGIN = "http://127.0.0.1:8787";

let bundles = 0;
/** Each bundle's text by its URL, so a CPU profile's lines map back to the modules (profile.mjs). */
export const bundleSources = new Map();

async function bundleApp(entry = join(root, "worker", "app.ts")) {
  const dir = join(resultsDir, ".explain");
  mkdirSync(dir, { recursive: true });
  // A new file name each time: import() caches by URL.
  const outfile = join(dir, `app-${process.pid}-${++bundles}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "import"],
    outfile,
    logLevel: "error",
  });
  const url = pathToFileURL(outfile).href;
  bundleSources.set(url, readFileSync(outfile, "utf8"));
  try {
    return await import(url);
  } finally {
    rmSync(outfile, { force: true });
  }
}

function applyMigrations(sqlite, dir = join(root, "worker", "migrations")) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const file of files) sqlite.exec(readFileSync(join(dir, file), "utf8"));
  return files;
}

/** Tables that grow with a shop's activity (config tables such as rewards or challenges do not). */
const GROWING =
  /^(ledger|orders|customers|referrals|received_events|order_refunds|redemptions|nps_responses|badges|challenge_progress|idempotency_keys|shops)$/;

/**
 * Plan lines whose cost grows with the data: a SCAN of a table or index, or a SEARCH of a growing
 * table constrained by nothing but the shop (every row of the shop is visited).
 */
export function isFullScan(detail, aliases = {}) {
  // A co-routine's rows ("SCAN (subquery-N)") are the LIMITed result of a subquery already planned
  // above, not a table.
  if (/^SCAN /.test(detail)) return !/^SCAN (CONSTANT ROW|json_each|\(subquery-\d+\))/.test(detail) && !/VIRTUAL TABLE/.test(detail);
  const shopWide = /^SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \(shop_id=\?\)$/.exec(detail);
  return shopWide !== null && GROWING.test(aliases[shopWide[1]] ?? shopWide[1]);
}

const KEYWORDS = new Set(["on", "where", "left", "inner", "cross", "join", "using", "group", "order", "limit", "set", "values"]);

/** `FROM referrals r JOIN customers rc` -> {r: "referrals", rc: "customers"} (plans name aliases). */
function aliasesOf(sql) {
  const aliases = {};
  for (const m of sql.matchAll(/\b(?:FROM|JOIN|UPDATE)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?/gi)) {
    if (m[2] && !KEYWORDS.has(m[2].toLowerCase())) aliases[m[2]] = m[1];
  }
  return aliases;
}

const oneLine = (sql) => sql.replace(/\s+/g, " ").trim();

/**
 * The worker's app in this process: node:sqlite for D1 (all migrations applied), a Map for KV,
 * limiters that always allow. Every statement and D1 call made while `phase` is set is recorded.
 * `entry` bundles another copy of the worker instead (to measure a change before making it).
 */
export async function createWorld({ entry } = {}) {
  const { app } = await bundleApp(entry);
  const world = { phase: null, recorded: new Map(), trips: 0, waves: 0 };
  // Sequential round trips: a call made while another is still in flight (Promise.all) shares its trip.
  let inFlight = 0;
  const track = (promise) => {
    if (!world.phase) return promise;
    world.trips++;
    if (inFlight++ === 0) world.waves++;
    promise.finally(() => inFlight--).catch(() => {});
    return promise;
  };
  const { db, sqlite, stats } = createD1((sql, params) => {
    if (!world.phase) return;
    if (!world.recorded.has(world.phase)) world.recorded.set(world.phase, []);
    world.recorded.get(world.phase).push({ sql, params });
  });
  // Each batch() is one call, each statement run on its own is one.
  const batch = db.batch.bind(db);
  db.batch = (statements) => track(batch(statements));
  const prepare = db.prepare.bind(db);
  db.prepare = (sql) => {
    const wrap = (s) =>
      new Proxy(s, {
        get(target, key) {
          if (key === "bind") return (...values) => wrap(target.bind(...values));
          if (["all", "run", "first", "raw"].includes(key)) return (...args) => track(target[key](...args));
          return target[key];
        },
      });
    return wrap(prepare(sql));
  };
  const migrations = applyMigrations(sqlite);
  const limiter = { limit: async () => ({ success: true }) };
  const env = {
    DB: db,
    KV: createKV(),
    SESSION_LIMITER: limiter,
    WRITE_LIMITER: limiter,
    ADMIN_TOKEN,
    SHOPIFY_API_SECRET: "bench-shopify-secret",
    DEMO: "off",
    ASSETS: { fetch: async () => new Response("not found", { status: 404 }) },
  };
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} };

  const call = async (method, path, token, body) => {
    const headers = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await app.fetch(
      new Request(`${ORIGIN}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
      env,
      ctx,
    );
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
  // What a browser sends before the widget's first cross-origin call (it caches the answer 10 min).
  const preflight = async (origin = ORIGIN) => {
    const res = await app.fetch(
      new Request(`${ORIGIN}/v1/storefront/state`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      }),
      env,
      ctx,
    );
    if (res.status !== 204) throw new Error(`OPTIONS answered ${res.status}`);
  };
  const shop = await createBenchShop(call, ADMIN_TOKEN, ORIGIN);
  return Object.assign(world, { app, sqlite, stats, migrations, call, preflight, shop, seeded: 0 });
}

/** Grows the bench shop to `customers` members (10 ledger entries each). */
function grow(world, customers) {
  if (customers <= world.seeded) return;
  world.sqlite.exec(historySql({ shopId: world.shop.shopId, from: world.seeded, to: customers }));
  world.seeded = customers;
}

const ledgerRows = (world) =>
  world.sqlite.prepare("SELECT COUNT(*) AS n FROM ledger WHERE shop_id = ?").get(world.shop.shopId).n;

/**
 * Runs the hot paths once each and explains their statements, on a shop of `customers` members
 * (10 entries each), so plans are the ones a real shop gets.
 */
export async function explainHotPaths(world, { customers = 2000 } = {}) {
  const { call, shop, preflight } = world;
  grow(world, customers);
  const member = seededCustomer(7);
  const token = await openSession(call, shop, member);
  const guestToken = (await call("POST", "/v1/storefront/sessions", null, { shop: shop.publicKey })).token;

  const measure = async (name, run) => {
    world.phase = name;
    world.trips = 0;
    world.waves = 0;
    try {
      await run();
    } finally {
      world.recorded.set(name, world.recorded.get(name) ?? []);
      Object.assign(world.recorded.get(name), { trips: world.trips, waves: world.waves });
      world.phase = null;
    }
  };
  // Each once beforehand, so KV caches are warm as they are for every request but the first.
  await call("GET", "/v1/storefront/state", token);
  await measure("OPTIONS /v1/storefront/state (CORS preflight)", () => preflight());
  await measure("POST /v1/storefront/sessions (member)", () => openSession(call, shop, member));
  await measure("GET /v1/storefront/state (member)", () => call("GET", "/v1/storefront/state", token));
  await measure("GET /v1/storefront/state (guest)", () => call("GET", "/v1/storefront/state", guestToken));
  await measure("POST /v1/events order.paid (member)", () =>
    call("POST", "/v1/events", shop.secretKey, orderPaid("explain", 1, seededCustomer(11))),
  );
  await measure("POST /v1/events order.paid (new customer)", () =>
    call("POST", "/v1/events", shop.secretKey, orderPaid("explain", 2, "bench-new-customer")),
  );
  await measure("POST /v1/events order.paid (duplicate)", () =>
    call("POST", "/v1/events", shop.secretKey, orderPaid("explain", 1, seededCustomer(11))),
  );

  const paths = [];
  for (const [name, statements] of world.recorded) {
    const seen = new Map();
    for (const { sql, params } of statements) {
      const key = oneLine(sql);
      if (seen.has(key)) {
        seen.get(key).count++;
        continue;
      }
      let plan;
      try {
        plan = world.sqlite
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...params)
          .map((row) => row.detail);
      } catch (err) {
        plan = [`(cannot explain: ${err.message})`];
      }
      const aliases = aliasesOf(key);
      seen.set(key, { sql: key, count: 1, plan, scans: plan.filter((line) => isFullScan(line, aliases)) });
    }
    paths.push({
      name,
      roundTrips: statements.waves,
      calls: statements.trips,
      statements: statements.length,
      queries: [...seen.values()],
    });
  }
  world.recorded.clear();
  return {
    migrations: world.migrations,
    ledgerRows: ledgerRows(world),
    paths,
    fullScans: paths.flatMap((p) => p.queries.filter((q) => q.scans.length).map((q) => ({ path: p.name, ...q }))),
  };
}

/**
 * CPU microseconds per call of `fn` (this process's user + system time, so other processes on a
 * busy machine do not count), median of 3 rounds of `n` calls after `n / 5` unmeasured ones.
 */
async function timePerCall(n, fn) {
  for (let i = 0; i < Math.ceil(n / 5); i++) await fn(i);
  const rounds = [];
  for (let round = 0; round < 3; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) await fn(i);
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / n);
  }
  return rounds.sort((a, b) => a - b)[1];
}

/**
 * The worker's own cost per request (its JavaScript and SQLite, no network, no wrangler), one
 * request at a time, as the shop grows through `levels` ledger entries and as other shops fill
 * the database. The cleanest signal of a query that scans: its time grows with the data.
 */
export async function inProcessScale(world, { levels = [1_000, 10_000, 100_000], requests = 150, shops = 10_000 }) {
  const { call, shop, preflight } = world;
  // JIT warm-up on a throwaway shop, so the first level is not measured on cold code.
  const spare = await createBenchShop(call, ADMIN_TOKEN, "https://spare.example");
  world.sqlite.exec(historySql({ shopId: spare.shopId, from: 0, to: 50 }));
  const spareToken = await openSession(call, spare, seededCustomer(1));
  for (let i = 0; i < 300; i++) {
    await call("GET", "/v1/storefront/state", spareToken);
    await call("POST", "/v1/events", spare.secretKey, orderPaid("warm", i, seededCustomer(i % 50)));
    await preflight("https://not-a-shop.example");
  }
  const rows = [];
  let n = 0;
  for (const level of levels) {
    grow(world, Math.ceil(level / entriesPerCustomer()));
    const entries = ledgerRows(world);
    const customers = world.seeded;
    const token = await openSession(call, shop, seededCustomer(Math.floor(customers / 2)));
    const stateUs = await timePerCall(requests, () => call("GET", "/v1/storefront/state", token));
    const orderUs = await timePerCall(requests, () =>
      call("POST", "/v1/events", shop.secretKey, orderPaid("inprocess", n++, seededCustomer((n * 7) % customers))),
    );
    // The database's own time per request: what a single-threaded D1 database spends on it.
    const sqlTime = async (fn) => {
      const before = { ...world.stats };
      for (let i = 0; i < requests; i++) await fn();
      return { us: (world.stats.us - before.us) / requests, statements: (world.stats.statements - before.statements) / requests };
    };
    const stateSql = await sqlTime(() => call("GET", "/v1/storefront/state", token));
    const orderSql = await sqlTime(() =>
      call("POST", "/v1/events", shop.secretKey, orderPaid("inprocess", n++, seededCustomer((n * 7) % customers))),
    );
    rows.push({ level, entries, customers, stateUs, orderUs, stateSql, orderSql });
    detail(
      `${entries} entries: state ${Math.round(stateUs)} µs CPU (SQLite ${Math.round(stateSql.us)} µs), order.paid ${Math.round(orderUs)} µs CPU (SQLite ${Math.round(orderSql.us)} µs, ${orderSql.statements} statements)`,
    );
  }
  const count = () => world.sqlite.prepare("SELECT COUNT(*) AS n FROM shops").get().n;
  const preflights = [{ shops: count(), us: await timePerCall(requests, () => preflight("https://not-a-shop.example")) }];
  world.sqlite.exec(shopsSql(0, shops));
  preflights.push({ shops: count(), us: await timePerCall(requests, () => preflight("https://not-a-shop.example")) });
  detail(`CORS preflight: ${preflights.map((p) => `${p.shops} shops ${Math.round(p.us)} µs`).join(", ")}`);
  return { requests, levels: rows, preflights };
}

/**
 * The baseline worker (bench/baseline) in this process the same way, for a like-for-like CPU
 * comparison: what one Hono request with one D1 query costs here.
 */
export async function baselineInProcess({ requests = 150 } = {}) {
  const { default: app } = await bundleApp(join(root, "bench", "baseline", "worker.ts"));
  const { db, sqlite, stats } = createD1();
  applyMigrations(sqlite, join(root, "bench", "baseline", "migrations"));
  const env = { DB: db };
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} };
  const fetchOk = async (request) => {
    const res = await app.fetch(request, env, ctx);
    await res.text();
    if (!res.ok) throw new Error(`baseline answered ${res.status}`);
  };
  const read = () => fetchOk(new Request(`${ORIGIN}/v1/baseline`));
  let n = 0;
  const write = () =>
    fetchOk(
      new Request(`${ORIGIN}/v1/baseline`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(orderPaid("baseline", n++, seededCustomer(n % 100))),
      }),
    );
  const sqlPer = async (fn) => {
    const before = stats.us;
    for (let i = 0; i < requests; i++) await fn();
    return (stats.us - before) / requests;
  };
  const result = {
    readUs: await timePerCall(requests, read),
    writeUs: await timePerCall(requests, write),
    readSqlUs: await sqlPer(read),
    writeSqlUs: await sqlPer(write),
  };
  detail(
    `baseline in-process: GET ${Math.round(result.readUs)} µs CPU (SQLite ${Math.round(result.readSqlUs)} µs), POST ${Math.round(result.writeUs)} µs CPU (SQLite ${Math.round(result.writeSqlUs)} µs)`,
  );
  return result;
}
