/**
 * Load with autocannon against servers this bench started on 127.0.0.1, always bounded in time.
 * POST bodies are made per request (`body(n)`), so every order event has its own ids.
 */
import { loadavg } from "node:os";
import autocannon from "autocannon";

/**
 * One slice. `target`: {url, method, path, headers, body?: (n) => object, counters?: () => object}.
 * Returns req/s, latency p50/p99 in ms, what did not answer 2xx, the 1-minute load average as it
 * started, and, when the target reads the worker's own counters, how they moved meanwhile.
 */
export async function load(target, { connections, seconds }) {
  const request = { method: target.method, path: target.path, headers: target.headers ?? {} };
  if (target.body) {
    // The count lives on the target, so a second run (or the warm-up before it) never sends the
    // same event again: a repeated id would be a duplicate, which costs far less than an order.
    target.sent ??= 0;
    request.headers = { ...request.headers, "content-type": "application/json" };
    request.setupRequest = (req) => ({ ...req, body: JSON.stringify(target.body(target.sent++)) });
  }
  const loadAverage = loadavg()[0];
  const before = target.counters ? await target.counters() : null;
  const result = await autocannon({
    url: target.url,
    connections,
    duration: seconds,
    timeout: 20,
    requests: [request],
  });
  let counters = null;
  if (before) {
    // Requests cut off at the end of the slice still finish in the worker: let them land.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await target.counters();
    counters = Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - (before[key] ?? 0)]));
  }
  const ok = result["2xx"];
  return {
    connections,
    seconds,
    loadAverage,
    requests: result.requests.total,
    rps: result.requests.average,
    ok,
    okRps: ok / Math.max(result.duration, 0.001),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: result.statusCodeStats,
    counters,
  };
}

/**
 * `runs` runs, each one slice of every target, the order rotated from run to run (A B, B A, A B;
 * A B C, B C A, C A B) so that drift in what else the machine does falls on all alike. Returns
 * each target's slices, in run order. `beforeRun(i)` runs before run i's first slice.
 */
export async function interleaved(targets, { connections, seconds, runs, beforeRun = () => {} }) {
  const names = Object.keys(targets);
  const slices = Object.fromEntries(names.map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    await beforeRun(i);
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      slices[name].push(await load(targets[name], { connections, seconds }));
    }
  }
  return slices;
}

/** A short run first: workerd compiles and warms up, D1 opens its file. */
export async function warm(target, seconds = 2) {
  await load(target, { connections: 4, seconds });
}
