/**
 * The server-side scenarios: load against Laurel and the baseline at 10 and 50 connections (and
 * order events all on a few members: contention), and how the hot paths cost with 1k, 10k and
 * 100k ledger entries in a shop (seeded in bulk with `wrangler d1 execute --local --file`, never
 * through the API).
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
import { interleaved, load, warm } from "./load.mjs";
import { resultsDir } from "./paths.mjs";
import { detail, step } from "./progress.mjs";
import { spread } from "./stats.mjs";
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

/** Order events for `members(n)`: by default members 0..customers-1 in turn, so concurrent requests are for different members. */
const eventsTarget = (url, secretKey, label, customers, members = (n) => seededCustomer(n % customers)) => ({
  url,
  method: "POST",
  path: "/v1/events",
  headers: { authorization: `Bearer ${secretKey}` },
  body: (n) => orderPaid(`${runId}-${label}`, n, members(n)),
});

/** The worker's own write counters (routes/bench.ts; the bench starts Laurel with BENCH=on). */
const countersOf = (laurel) => async () => {
  const res = await fetch(`${laurel.url}/v1/bench/counters`, {
    headers: { authorization: `Bearer ${laurel.secrets.ADMIN_TOKEN}` },
  });
  if (!res.ok) throw new Error(`GET /v1/bench/counters answered ${res.status}: is BENCH on?`);
  return (await res.json()).writes;
};

function describe(run) {
  const failed = run.non2xx + run.errors + run.timeouts;
  return `${Math.round(run.okRps)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms${failed ? `  (${failed} not 2xx: ${JSON.stringify(run.statusCodes)})` : ""}  load ${run.loadAverage.toFixed(1)}`;
}

const ratios = (mine, base, key = "okRps") => mine.map((run, i) => run[key] / base[i][key]);

/**
 * DESIGN §8.7's load rows, each from `runs` runs. A run is one slice of Laurel and one of the
 * baseline back to back (their order alternating), so each run gives its own ratio and the row
 * shows the spread of those. At the highest connection count the order.paid run has a third slice:
 * the same events for only `hotMembers` members (contention), so its p99 is read beside the
 * distinct-member p99 of the same run; every run has fresh hot members, its challenges unstarted.
 */
export async function loadScenario(
  laurel,
  baseline,
  { seconds, runs = 3, connections = [10, 50], customers = 100, hotMembers = 5 },
) {
  const call = httpCaller(laurel.url);
  step("Load: creating the bench shop through the API and seeding its history in bulk");
  const shop = await createBenchShop(call, laurel.secrets.ADMIN_TOKEN, laurel.url);
  // Members 0..customers-1 take the distinct-member load; each contention run has its own five after them.
  const entries = seed(laurel, shop, 0, customers + hotMembers * runs);
  detail(`${customers + hotMembers * runs} members, ${entries} ledger entries`);
  const token = await openSession(call, shop, seededCustomer(7));
  const counters = countersOf(laurel);
  await counters();

  let hotRun = 0;
  const hot = (n) => seededCustomer(customers + hotRun * hotMembers + (n % hotMembers));
  const targets = {
    state: stateTarget(laurel.url, token),
    events: { ...eventsTarget(laurel.url, shop.secretKey, "load", customers), counters },
    contention: { ...eventsTarget(laurel.url, shop.secretKey, "hot", customers, hot), counters },
    baselineRead: { url: baseline.url, method: "GET", path: "/v1/baseline" },
    baselineWrite: {
      url: baseline.url,
      method: "POST",
      path: "/v1/baseline",
      body: (n) => orderPaid(`${runId}-baseline`, n, seededCustomer(n % customers)),
    },
    baselineTrips: { url: baseline.url, method: "GET", path: "/v1/baseline?trips=8" },
  };
  step("Load: warming up each endpoint (2 s each)");
  for (const name of ["state", "events", "baselineRead", "baselineWrite"]) await warm(targets[name]);

  const rows = [];
  const plan = [
    { kind: "state", name: "GET /v1/storefront/state", laurel: "state", baseline: "baselineRead", baselineName: "baseline GET (1 SELECT)" },
    { kind: "events", name: "POST /v1/events order.paid", laurel: "events", baseline: "baselineWrite", baselineName: "baseline POST (1 INSERT)" },
  ];
  let contention = null;
  const top = Math.max(...connections);
  for (const c of connections) {
    for (const item of plan) {
      const withContention = item.kind === "events" && c === top;
      const measured = { baseline: targets[item.baseline], laurel: targets[item.laurel] };
      if (withContention) measured.contention = targets.contention;
      step(
        `Load: ${item.name} vs ${item.baselineName}${withContention ? ` and on ${hotMembers} members` : ""}, ${c} connections, ${runs} runs of ${seconds} s slices`,
      );
      const slices = await interleaved(measured, {
        connections: c,
        seconds,
        runs,
        beforeRun: (i) => {
          hotRun = i;
        },
      });
      for (let i = 0; i < runs; i++) {
        detail(`run ${i + 1}: baseline ${describe(slices.baseline[i])}`);
        detail(`       laurel   ${describe(slices.laurel[i])}`);
        if (withContention) detail(`       hot      ${describe(slices.contention[i])}  ${retriesText(slices.contention[i])}`);
      }
      rows.push({
        ...item,
        connections: c,
        seconds,
        laurel: slices.laurel,
        baseline: slices.baseline,
        ratio: spread(ratios(slices.laurel, slices.baseline)),
      });
      if (withContention) {
        contention = {
          connections: c,
          seconds,
          members: hotMembers,
          hot: slices.contention,
          distinct: slices.laurel,
          p99Ratio: spread(ratios(slices.contention, slices.laurel, "p99")),
        };
      }
    }
  }
  // What sequential D1 round trips cost on their own: the baseline's query, 8 times in a row.
  step(`Load: baseline GET with 8 sequential queries vs 1, ${connections[0]} connections, ${runs} runs`);
  const trips = await interleaved(
    { one: targets.baselineRead, eight: targets.baselineTrips },
    { connections: connections[0], seconds, runs },
  );
  for (let i = 0; i < runs; i++) detail(`run ${i + 1}: 1 query ${describe(trips.one[i])}  ·  8 queries ${describe(trips.eight[i])}`);
  return {
    shop: { id: shop.shopId },
    customers,
    entries,
    runs: rows,
    contention,
    sequentialTrips: { trips: 8, connections: connections[0], one: trips.one, eight: trips.eight, ratio: spread(ratios(trips.eight, trips.one)) },
  };
}

/** Re-plans per event and events refused, from the worker's counters over one slice. */
export function retriesText(run) {
  const w = run.counters;
  if (!w) return "";
  const retries = w.attempts - w.calls;
  return `retries ${retries} over ${w.calls} events (${(retries / Math.max(w.calls, 1)).toFixed(2)}/event), ${w.exhausted} gave up`;
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
