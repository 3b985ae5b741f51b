/**
 * Load with autocannon against servers this bench started on 127.0.0.1, always bounded in time.
 * POST bodies are made per request (`body(n)`), so every order event has its own ids.
 */
import autocannon from "autocannon";

/**
 * One run. `target`: {url, method, path, headers, body?: (n) => object}. Returns req/s (mean),
 * latency p50/p99 in ms, and what did not answer 2xx.
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
  const result = await autocannon({
    url: target.url,
    connections,
    duration: seconds,
    timeout: 20,
    requests: [request],
  });
  const ok = result["2xx"];
  return {
    connections,
    seconds,
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
  };
}

/** A short run first: workerd compiles and warms up, D1 opens its file. */
/**
 * Two targets measured in alternating slices (A B B A A B ...), so that drift in what else the
 * machine is doing falls on both alike; each side's figures are over all its slices: requests per
 * second overall, p50 the median of the slices', p99 the highest.
 */
export async function alternate(a, b, { connections, seconds, rounds }) {
  const slice = Math.max(1, Math.round(seconds / rounds));
  const slices = { a: [], b: [] };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ["a", "b"] : ["b", "a"];
    for (const side of order) slices[side].push(await load(side === "a" ? a : b, { connections, seconds: slice }));
  }
  return { a: combine(slices.a), b: combine(slices.b) };
}

function combine(runs) {
  const sum = (key) => runs.reduce((total, run) => total + run[key], 0);
  const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
  const seconds = sum("seconds");
  return {
    connections: runs[0].connections,
    seconds,
    slices: runs.length,
    requests: sum("requests"),
    rps: sum("requests") / seconds,
    ok: sum("ok"),
    okRps: runs.reduce((total, run) => total + run.okRps * run.seconds, 0) / seconds,
    p50: median(runs.map((run) => run.p50)),
    p99: Math.max(...runs.map((run) => run.p99)),
    non2xx: sum("non2xx"),
    errors: sum("errors"),
    timeouts: sum("timeouts"),
    statusCodes: Object.assign({}, ...runs.map((run) => run.statusCodes)),
    perSlice: runs.map((run) => Math.round(run.okRps)),
  };
}

export async function warm(target, seconds = 2) {
  await load(target, { connections: 4, seconds });
}
