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
import { createBenchShop, historySql, openSession, orderPaid, seededCustomer } from "./fixture.mjs";
import { resultsDir, root } from "./paths.mjs";

const ADMIN_TOKEN = "bench-admin-token";
const ORIGIN = "http://127.0.0.1:8787";

async function bundleApp() {
  const dir = join(resultsDir, ".explain");
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `app-${process.pid}.mjs`);
  await build({
    entryPoints: [join(root, "worker", "app.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "import"],
    outfile,
    logLevel: "error",
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function applyMigrations(sqlite) {
  const dir = join(root, "worker", "migrations");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const file of files) sqlite.exec(readFileSync(join(dir, file), "utf8"));
  return files;
}

/** Plan lines that read a whole table or index rather than searching it. */
export function isFullScan(detail) {
  return /^SCAN /.test(detail) && !/^SCAN (CONSTANT ROW|json_each)/.test(detail) && !/VIRTUAL TABLE/.test(detail);
}

const oneLine = (sql) => sql.replace(/\s+/g, " ").trim();

/**
 * Runs the hot paths and explains their statements. `customers` seeded customers with 10 entries
 * each make the shop's ledger big enough that plans are the ones a real shop gets.
 */
export async function explainHotPaths({ customers = 2000 } = {}) {
  const { app } = await bundleApp();
  let phase = null;
  let trips = 0;
  const recorded = new Map(); // phase -> [{sql, params}]
  const { db, sqlite } = createD1((sql, params) => {
    if (!phase) return;
    if (!recorded.has(phase)) recorded.set(phase, []);
    recorded.get(phase).push({ sql, params });
  });
  // Round trips: each batch() is one, each statement run on its own is one.
  const batch = db.batch.bind(db);
  db.batch = async (statements) => {
    if (phase) trips++;
    return batch(statements);
  };
  const prepare = db.prepare.bind(db);
  db.prepare = (sql) => {
    const stmt = prepare(sql);
    const wrap = (s) =>
      new Proxy(s, {
        get(target, key) {
          if (key === "bind") return (...values) => wrap(target.bind(...values));
          if (["all", "run", "first", "raw"].includes(key)) {
            return (...args) => {
              if (phase) trips++;
              return target[key](...args);
            };
          }
          return target[key];
        },
      });
    return wrap(stmt);
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

  const shop = await createBenchShop(call, ADMIN_TOKEN, ORIGIN);
  sqlite.exec(historySql({ shopId: shop.shopId, from: 0, to: customers }));
  const member = seededCustomer(7);
  const token = await openSession(call, shop, member);
  const guestToken = (await call("POST", "/v1/storefront/sessions", null, { shop: shop.publicKey })).token;

  const measure = async (name, run) => {
    phase = name;
    trips = 0;
    try {
      await run();
    } finally {
      recorded.set(name, recorded.get(name) ?? []);
      recorded.get(name).trips = trips;
      phase = null;
    }
  };
  // Each once beforehand, so KV caches are warm as they are for every request but the first.
  await call("GET", "/v1/storefront/state", token);
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
  for (const [name, statements] of recorded) {
    const seen = new Map();
    for (const { sql, params } of statements) {
      const key = oneLine(sql);
      if (seen.has(key)) {
        seen.get(key).count++;
        continue;
      }
      let plan;
      try {
        plan = sqlite
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...params)
          .map((row) => row.detail);
      } catch (err) {
        plan = [`(cannot explain: ${err.message})`];
      }
      seen.set(key, { sql: key, count: 1, plan, scans: plan.filter(isFullScan) });
    }
    paths.push({ name, roundTrips: statements.trips, statements: statements.length, queries: [...seen.values()] });
  }
  const ledgerRows = sqlite.prepare("SELECT COUNT(*) AS n FROM ledger WHERE shop_id = ?").get(shop.shopId).n;
  return {
    migrations,
    ledgerRows,
    paths,
    fullScans: paths.flatMap((p) => p.queries.filter((q) => q.scans.length).map((q) => ({ path: p.name, ...q }))),
  };
}
