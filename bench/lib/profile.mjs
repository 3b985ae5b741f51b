/**
 * Where a request's CPU goes (`npm run bench -- --profile`), two ways:
 *  - in-process: the worker's own code (bundled as explain.mjs bundles it) on node:sqlite under
 *    V8's sampling profiler (node:inspector), one path at a time;
 *  - over HTTP: Laurel and the baseline under `wrangler dev`, each with its DevTools inspector,
 *    profiled while autocannon loads one path at a time, beside the CPU each process of the
 *    stack (wrangler's Node, workerd, the client) spent per request (from /proc, Linux only).
 * Self time is summed by module (a bundle's `// worker/store/shops.ts` markers map lines back to
 * files), natives are counted where they were called from (a `text()` inside the D1 binding is
 * the binding's), and every profile is written as a .cpuprofile file for DevTools. Node's
 * WebCrypto is much slower than workerd's, so in-process its share is an upper bound.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { bundleSources, createWorld } from "./explain.mjs";
import { createBenchShop, historySql, openSession, orderPaid, seededCustomer } from "./fixture.mjs";
import { load, warm } from "./load.mjs";
import { resultsDir, root } from "./paths.mjs";
import { detail, step } from "./progress.mjs";
import { httpCaller } from "./scenarios.mjs";
import { d1ExecuteFile, freePort, startWorkerDev } from "./servers.mjs";

/** Line ranges of each module inside a bundle, from esbuild's `// path` comments. */
function moduleRanges(source) {
  const ranges = [];
  source.split("\n").forEach((line, i) => {
    const m = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/.exec(line);
    if (m) ranges.push({ line: i, module: m[1] });
  });
  return ranges;
}

function moduleAt(ranges, line) {
  let lo = 0;
  let hi = ranges.length - 1;
  let found = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid].line <= line) {
      found = ranges[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found?.module ?? "(bundle prelude)";
}

/** A package or a worker folder: node_modules/hono/dist/... -> hono, worker/store/x.ts -> worker/store/x.ts. */
const areaOf = (module) => {
  const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module);
  return pkg ? pkg[1] : module;
};

/**
 * What an area stands for here: the worker's own code, the libraries it bundles, the platform
 * (Node's Request/Response, WebCrypto, streams: native and cheaper in workerd), SQLite behind the
 * D1 stand-in, and the harness itself.
 */
function categoryOf(area) {
  if (area.startsWith("worker/")) return "worker code";
  if (/^(hono|zod|@hono\/zod-openapi|@asteasolutions\/zod-to-openapi|@scalar\/.*)$/.test(area)) return "libraries (hono, zod)";
  if (area === "bench/lib/d1-sqlite.mjs" || ["all", "run", "get", "exec", "prepare"].includes(area)) return "D1 stand-in (node:sqlite)";
  if (area === "(garbage collector)") return "garbage collection";
  if (area.startsWith("node: crypto")) return "platform: WebCrypto";
  if (area.startsWith("node: ")) return "platform: Request, Response, streams";
  if (area.startsWith("bench/")) return "bench harness";
  return "other (program, natives)";
}

function summarise(profile, ranges, bundleUrl) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  });
  const byArea = new Map();
  const byFunction = new Map();
  const byCategory = new Map();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    let area;
    if (callFrame.url === bundleUrl) area = areaOf(moduleAt(ranges, callFrame.lineNumber));
    else if (callFrame.url.startsWith("node:")) area = `node: ${callFrame.url.replace(/^node:internal\//, "").split("/")[0]}`;
    else if (callFrame.url) area = callFrame.url.replace(/^.*\/bench\//, "bench/");
    else area = callFrame.functionName || "(native)";
    // Idle, and the profiler's own stop (it serialises the profile).
    if (area === "(idle)" || area === "node: node:inspector") continue;
    total += us;
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const category = categoryOf(area);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    const fn = `${callFrame.functionName || "(anonymous)"} ${area}${callFrame.url === bundleUrl ? `:${callFrame.lineNumber + 1}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const top = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, us, share: us / total }));
  return { totalUs: total, categories: top(byCategory, 10), areas: top(byArea, 25), functions: top(byFunction, 40) };
}

export async function profileInProcess({ requests = 1500, customers = 200 } = {}) {
  step("Profile: the worker's code in-process on node:sqlite, under V8's sampling profiler");
  const world = await createWorld();
  const [bundleUrl, source] = [...bundleSources].at(-1);
  const ranges = moduleRanges(source);
  const { call, shop, sqlite } = world;
  sqlite.exec(historySql({ shopId: shop.shopId, from: 0, to: customers }));
  const token = await openSession(call, shop, seededCustomer(7));
  let n = 0;
  const paths = {
    "GET /v1/storefront/state (member)": () => call("GET", "/v1/storefront/state", token),
    "POST /v1/events order.paid (member)": () =>
      call("POST", "/v1/events", shop.secretKey, orderPaid("profile", n++, seededCustomer(n % customers))),
  };
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 50 });
  const results = {};
  for (const [name, run] of Object.entries(paths)) {
    for (let i = 0; i < 300; i++) await run();
    await session.post("Profiler.start");
    const cpu = process.cpuUsage();
    for (let i = 0; i < requests; i++) await run();
    const used = process.cpuUsage(cpu);
    const { profile } = await session.post("Profiler.stop");
    const file = join(resultsDir, `profile-${name.split(" ")[1].replace(/\W+/g, "-").replace(/^-|-$/g, "")}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const summary = summarise(profile, ranges, bundleUrl);
    results[name] = { requests, cpuUsPerRequest: (used.user + used.system) / requests, file, ...summary };
    detail(`${name}: ${Math.round(results[name].cpuUsPerRequest)} µs CPU per request (profile in ${file})`);
    for (const category of summary.categories) {
      detail(`  ${(category.share * 100).toFixed(1).padStart(5)}%  ${Math.round(category.us / requests).toString().padStart(5)} µs  ${category.name}`);
    }
    detail("  by module:");
    for (const area of summary.areas.slice(0, 12)) {
      detail(`  ${(area.share * 100).toFixed(1).padStart(5)}%  ${Math.round(area.us / requests).toString().padStart(5)} µs  ${area.name}`);
    }
    detail("  top functions of the worker and its libraries:");
    for (const fn of summary.functions.filter((f) => /worker\/|hono|zod/.test(f.name)).slice(0, 15)) {
      detail(`  ${(fn.share * 100).toFixed(1).padStart(5)}%  ${Math.round(fn.us / requests).toString().padStart(5)} µs  ${fn.name}`);
    }
  }
  session.disconnect();
  return results;
}

// ---------------------------------------------------------------------------------------------
// Over HTTP: the worker's isolate in workerd, and every process of the stack

/** A DevTools protocol client on wrangler's inspector proxy (it wants a local Origin). */
async function inspector(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { origin: "http://127.0.0.1" } });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`the inspector on port ${port} refused the connection`));
  });
  let next = 0;
  const pending = new Map();
  ws.onmessage = (message) => {
    const data = JSON.parse(String(message.data));
    if (data.id && pending.has(data.id)) {
      pending.get(data.id)(data);
      pending.delete(data.id);
    }
  };
  return {
    send: (method, params = {}) =>
      new Promise((resolve) => {
        const id = ++next;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** CPU seconds of every process in a process group, by name and pid (Linux /proc). */
function groupCpu(pgid) {
  const out = {};
  if (!existsSync("/proc/self/stat")) return out;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      out[`${stat.slice(stat.indexOf("(") + 1, close)}:${pid}`] = (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {}
  }
  return out;
}

const PROCESS_NAMES = { node: "wrangler (Node)", workerd: "workerd", esbuild: "esbuild (wrangler's watcher)" };

/** The dev bundle wrangler wrote for a worker (its lines map samples back to modules). */
function devBundle(marker) {
  const dir = join(root, ".wrangler", "tmp");
  if (!existsSync(dir)) return null;
  const candidates = readdirSync(dir)
    .filter((d) => d.startsWith("dev-"))
    .map((d) => join(dir, d, "index.js"))
    .filter((f) => existsSync(f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const file of candidates) {
    const source = readFileSync(file, "utf8");
    if (source.includes(marker)) return source;
  }
  return null;
}

const TRACING = new Set(["setAttributes", "enterSpan", "set tracing"]);

function categoryOfModule(module) {
  if (module.startsWith("worker/") || module.startsWith("bench/baseline/")) return "worker code";
  if (/node_modules\/(hono|zod|@hono)/.test(module)) return "libraries (hono, zod)";
  if (/wrangler|\.wrangler\/tmp|middleware/.test(module)) return "wrangler dev's middleware (dev only)";
  return "worker code";
}

/** Self time per request by category; natives count for the JS frame that called them. */
function workerdSplit(profile, source, requests) {
  const ranges = source ? moduleRanges(source) : [];
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const categoryOf = (id) => {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName;
    if (name === "(program)") return "runtime (program)";
    if (name === "(garbage collector)") return "garbage collection";
    if (TRACING.has(name) || callFrame.url.includes("tracing")) return "runtime tracing spans";
    if (callFrame.url.startsWith("cloudflare-internal:d1")) return "D1 binding (statements and results)";
    if (callFrame.url.endsWith("index.js") || callFrame.url.endsWith("worker.js")) {
      return categoryOfModule(ranges.length ? moduleAt(ranges, callFrame.lineNumber) : "worker/");
    }
    const up = parent.get(id);
    return up === undefined ? "runtime (natives)" : categoryOf(up);
  };
  const split = {};
  const functions = new Map();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    if (callFrame.functionName === "(idle)") continue;
    busy += us;
    const category = categoryOf(id);
    split[category] = (split[category] ?? 0) + us / requests;
    const inBundle = callFrame.url.endsWith("index.js") && ranges.length;
    const where = inBundle ? `${moduleAt(ranges, callFrame.lineNumber).replace(/^.*node_modules\//, "")}:${callFrame.lineNumber + 1}` : callFrame.url;
    const key = `${callFrame.functionName || "(anonymous)"} ${where} [${category}]`;
    functions.set(key, (functions.get(key) ?? 0) + us / requests);
  }
  const top = [...functions].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([name, us]) => ({ name, us }));
  return { busyUs: busy / requests, split, functions: top };
}

/**
 * Laurel and the baseline under `wrangler dev` with their inspectors, each path loaded for
 * `seconds` at `connections` while its worker is profiled, and the stack's processes measured.
 */
export async function profileOverHttp({ seconds = 5, connections = 10, customers = 100 } = {}) {
  step("Profile over HTTP: Laurel and the baseline under wrangler dev, each with its DevTools inspector");
  const admin = "bench-admin-token";
  const [laurelInspector, baselineInspector] = [await freePort(), await freePort()];
  const laurel = await startWorkerDev({
    label: "laurel-profile",
    config: join(root, "wrangler.toml"),
    vars: { ADMIN_TOKEN: admin, SHOPIFY_API_SECRET: "bench-shopify-secret", DEMO: "on", BENCH: "on" },
    inspectorPort: laurelInspector,
    ready: "/v1/openapi.json",
  });
  const baseline = await startWorkerDev({
    label: "baseline-profile",
    config: join(root, "bench", "baseline", "wrangler.toml"),
    inspectorPort: baselineInspector,
    ready: "/v1/baseline",
  });
  const call = httpCaller(laurel.url);
  const shop = await createBenchShop(call, admin, laurel.url);
  const seedFile = join(resultsDir, `.profile-seed-${process.pid}.sql`);
  writeFileSync(seedFile, historySql({ shopId: shop.shopId, from: 0, to: customers }));
  d1ExecuteFile(laurel.persistTo, seedFile);
  const token = await openSession(call, shop, seededCustomer(7));
  const label = Date.now().toString(36);
  const paths = [
    { name: "baseline GET (1 SELECT)", server: baseline, inspectorPort: baselineInspector, target: { url: baseline.url, method: "GET", path: "/v1/baseline" } },
    {
      name: "baseline POST (1 INSERT)",
      server: baseline,
      inspectorPort: baselineInspector,
      target: { url: baseline.url, method: "POST", path: "/v1/baseline", body: (n) => orderPaid(`${label}-b`, n, seededCustomer(n % customers)) },
    },
    {
      name: "GET /v1/storefront/state",
      server: laurel,
      inspectorPort: laurelInspector,
      target: { url: laurel.url, method: "GET", path: "/v1/storefront/state", headers: { authorization: `Bearer ${token}` } },
    },
    {
      name: "POST /v1/events order.paid",
      server: laurel,
      inspectorPort: laurelInspector,
      target: {
        url: laurel.url,
        method: "POST",
        path: "/v1/events",
        headers: { authorization: `Bearer ${shop.secretKey}` },
        body: (n) => orderPaid(`${label}-l`, n, seededCustomer(n % customers)),
      },
    },
  ];
  for (const path of paths) await warm(path.target);
  // What each process burns with no request at all, taken off its share below.
  const idle = new Map();
  for (const server of [laurel, baseline]) {
    const before = groupCpu(server.child.pid);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = groupCpu(server.child.pid);
    idle.set(server, Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] - (before[k] ?? 0)) / 3])));
  }
  const sources = {
    [laurel.url]: devBundle("// worker/app.ts"),
    [baseline.url]: devBundle("// bench/baseline/worker.ts"),
  };
  const results = [];
  for (const path of paths) {
    const devtools = await inspector(path.inspectorPort);
    await devtools.send("Profiler.enable");
    await devtools.send("Profiler.setSamplingInterval", { interval: 100 });
    const cpuBefore = groupCpu(path.server.child.pid);
    const clientBefore = process.cpuUsage();
    await devtools.send("Profiler.start");
    const run = await load(path.target, { connections, seconds });
    const stopped = await devtools.send("Profiler.stop");
    const client = process.cpuUsage(clientBefore);
    const cpuAfter = groupCpu(path.server.child.pid);
    devtools.close();
    const requests = Math.max(run.requests, 1);
    const processes = {};
    for (const key of Object.keys(cpuAfter)) {
      const name = PROCESS_NAMES[key.split(":")[0]] ?? key.split(":")[0];
      const used = cpuAfter[key] - (cpuBefore[key] ?? 0) - seconds * (idle.get(path.server)[key] ?? 0);
      processes[name] = (processes[name] ?? 0) + (Math.max(0, used) / requests) * 1e6;
    }
    processes["client (autocannon)"] = ((client.user + client.system) / requests);
    const profile = stopped.result?.profile;
    const file = join(resultsDir, `profile-http-${path.name.replace(/\W+/g, "-").replace(/^-|-$/g, "").toLowerCase()}.cpuprofile`);
    if (profile) writeFileSync(file, JSON.stringify(profile));
    const isolate = profile ? workerdSplit(profile, sources[path.server.url], requests) : null;
    results.push({ name: path.name, requests, okRps: run.okRps, loadAverage: run.loadAverage, processes, isolate, file });
    detail(`${path.name}: ${Math.round(run.okRps)} req/s, load ${run.loadAverage.toFixed(1)} · CPU per request by process: ${Object.entries(processes).map(([k, v]) => `${k} ${Math.round(v)} µs`).join(", ")}`);
    if (isolate) {
      detail(`  the worker's isolate: ${Math.round(isolate.busyUs)} µs busy per request`);
      for (const [category, us] of Object.entries(isolate.split).sort((a, b) => b[1] - a[1])) {
        detail(`  ${Math.round(us).toString().padStart(6)} µs  ${category}`);
      }
      detail("  top functions:");
      for (const fn of isolate.functions.slice(0, 15)) detail(`  ${Math.round(fn.us).toString().padStart(6)} µs  ${fn.name}`);
    }
  }
  return { connections, seconds, paths: results };
}

export async function profileHotPaths() {
  return { inProcess: await profileInProcess(), http: await profileOverHttp() };
}
