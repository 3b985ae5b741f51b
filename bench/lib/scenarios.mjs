/**
 * The server-side scenarios: load against Laurel and the baseline at 10 and 50 connections, and
 * how the hot paths cost with 1k, 10k and 100k ledger entries in a shop (seeded in bulk with
 * `wrangler d1 execute --local --file`, never through the API).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createBenchShop,
  entriesPerCustomer,
  historySql,
  openSession,
  orderPaid,
  seededCustomer,
  shopsSql,
} from "./fixture.mjs";
import { alternate, load, warm } from "./load.mjs";
import { resultsDir } from "./paths.mjs";
import { detail, step } from "./progress.mjs";
import { d1ExecuteFile } from "./servers.mjs";

const runId = Date.now().toString(36);

export function httpCaller(url) {
  return async (method, path, token, body) => {
    const headers = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/** Seeds members [from, to) of `shop` and returns the shop's ledger entry count afterwards. */
function seed(laurel, shop, from, to) {
  const out = execute(
    laurel,
    `${historySql({ shopId: shop.shopId, from, to })}\nSELECT COUNT(*) AS entries FROM ledger WHERE shop_id = '${shop.shopId}';\n`,
  );
  const match = /"entries":\s*(\d+)/.exec(out);
  return match ? Number(match[1]) : null;
}

function execute(laurel, sql) {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `.seed-${process.pid}.sql`);
  writeFileSync(file, sql);
  let out;
  try {
    out = d1ExecuteFile(laurel.persistTo, file);
  } finally {
    rmSync(file, { force: true });
  }
  return out;
}

const stateTarget = (url, token) => ({
  url,
  method: "GET",
  path: "/v1/storefront/state",
  headers: { authorization: `Bearer ${token}` },
});

/** Order events for members 0..customers-1 in turn, so concurrent requests are for different members. */
const eventsTarget = (url, secretKey, label, customers) => ({
  url,
  method: "POST",
  path: "/v1/events",
  headers: { authorization: `Bearer ${secretKey}` },
  body: (n) => orderPaid(`${runId}-${label}`, n, seededCustomer(n % customers)),
});

function describe(run) {
  const failed = run.non2xx + run.errors + run.timeouts;
  return `${Math.round(run.okRps)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms${failed ? `  (${failed} not 2xx: ${JSON.stringify(run.statusCodes)})` : ""}`;
}

export async function loadScenario(laurel, baseline, { seconds, rounds = 3, connections = [10, 50], customers = 100 }) {
  const call = httpCaller(laurel.url);
  step("Load: creating the bench shop through the API and seeding its history in bulk");
  const shop = await createBenchShop(call, laurel.secrets.ADMIN_TOKEN, laurel.url);
  const entries = seed(laurel, shop, 0, customers);
  detail(`${customers} members, ${entries} ledger entries`);
  const token = await openSession(call, shop, seededCustomer(7));

  const targets = {
    state: stateTarget(laurel.url, token),
    events: eventsTarget(laurel.url, shop.secretKey, "load", customers),
    baselineRead: { url: baseline.url, method: "GET", path: "/v1/baseline" },
    baselineWrite: {
      url: baseline.url,
      method: "POST",
      path: "/v1/baseline",
      body: (n) => orderPaid(`${runId}-baseline`, n, seededCustomer(n % customers)),
    },
  };
  step("Load: warming up each endpoint (2 s each)");
  for (const target of Object.values(targets)) await warm(target);

  const runs = [];
  const plan = [
    { name: "GET /v1/storefront/state", laurel: "state", baseline: "baselineRead", baselineName: "baseline GET (1 SELECT)" },
    { name: "POST /v1/events order.paid", laurel: "events", baseline: "baselineWrite", baselineName: "baseline POST (1 INSERT)" },
  ];
  const readBaseline = {};
  for (const c of connections) {
    for (const item of plan) {
      step(`Load: ${item.name} vs ${item.baselineName}, ${c} connections, ${seconds} s each in ${rounds} alternating slices`);
      const { a: base, b: mine } = await alternate(targets[item.baseline], targets[item.laurel], { connections: c, seconds, rounds });
      detail(`baseline  ${describe(base)}  (slices: ${base.perSlice.join(", ")} req/s)`);
      detail(`laurel    ${describe(mine)}  (slices: ${mine.perSlice.join(", ")} req/s)`);
      if (item.baseline === "baselineRead") readBaseline[c] = base;
      runs.push({ ...item, connections: c, seconds, laurel: mine, baseline: base });
    }
  }
  // What sequential D1 round trips cost on their own: the baseline's query, 8 times in a row (as
  // many as order.paid makes before it answers).
  step(`Load: baseline GET with 8 sequential queries, ${connections[0]} connections, ${seconds} s`);
  const trips = await load({ ...targets.baselineRead, path: "/v1/baseline?trips=8" }, { connections: connections[0], seconds });
  detail(`baseline x8 ${describe(trips)}`);

  // DESIGN §6 names one baseline, the one-query worker: order ingestion is also put beside its GET.
  for (const run of runs) {
    const read = readBaseline[run.connections];
    run.vsReadBaseline = read ? run.laurel.okRps / read.okRps : null;
  }
  return { shop: { id: shop.shopId }, customers, entries, runs, sequentialTrips: { trips: 8, run: trips } };
}

export async function scaleScenario(
  laurel,
  { seconds, levels = [1_000, 10_000, 100_000], connections = 10, shops = 10_000 },
) {
  const call = httpCaller(laurel.url);
  step("Scale: a second shop, grown to each size in bulk");
  const shop = await createBenchShop(call, laurel.secrets.ADMIN_TOKEN, laurel.url);
  const per = entriesPerCustomer();
  let seeded = 0;
  const results = [];
  for (const level of levels) {
    const target = Math.ceil(level / per);
    const started = Date.now();
    const entries = seed(laurel, shop, seeded, target);
    seeded = target;
    step(`Scale: ${entries} ledger entries, ${seeded} members (seeded in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    // The measured member is in the middle of the data, with the same history as everyone else.
    const token = await openSession(call, shop, seededCustomer(Math.floor(seeded / 2)));
    const state = stateTarget(laurel.url, token);
    await warm(state, 1);
    const stateRun = await load(state, { connections, seconds });
    detail(`state     ${describe(stateRun)}`);
    const eventsRun = await load(eventsTarget(laurel.url, shop.secretKey, `scale${level}`, seeded), {
      connections,
      seconds,
    });
    detail(`order.paid ${describe(eventsRun)}`);
    results.push({ level, entries, customers: seeded, state: stateRun, events: eventsRun });
  }

  // CORS preflights do not depend on one shop's size but on how many shops share the database.
  const preflight = {
    url: laurel.url,
    method: "OPTIONS",
    path: "/v1/storefront/state",
    headers: { origin: "https://not-a-shop.example", "access-control-request-method": "GET" },
  };
  const tenants = [];
  step(`Scale: CORS preflight from an origin no shop lists, with the few shops of this run`);
  await warm(preflight, 1);
  tenants.push({ shops: null, run: await load(preflight, { connections, seconds }) });
  detail(`preflight ${describe(tenants[0].run)}`);
  execute(laurel, shopsSql(0, shops));
  step(`Scale: the same preflight with ${shops} more shops in the database`);
  tenants.push({ shops, run: await load(preflight, { connections, seconds }) });
  detail(`preflight ${describe(tenants[1].run)}`);
  return { connections, seconds, levels: results, tenants };
}
