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
  let n = 0;
  const request = { method: target.method, path: target.path, headers: target.headers ?? {} };
  if (target.body) {
    request.headers = { ...request.headers, "content-type": "application/json" };
    request.setupRequest = (req) => ({ ...req, body: JSON.stringify(target.body(n++)) });
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
export async function warm(target, seconds = 2) {
  await load(target, { connections: 4, seconds });
}
