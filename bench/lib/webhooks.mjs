/**
 * Webhook delivery (DESIGN §8.3, §8.7): 1,000 order events to a shop with one endpoint, a local
 * receiver that checks every Standard Webhooks signature and answers 200 at once, and the time
 * from each order's commit (the 200 of its POST /v1/events) to the receipt of its points.earned
 * delivery. "All delivered once": every order's delivery arrives, none twice (by webhook-id).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { loadavg } from "node:os";
import { orderPaid } from "./fixture.mjs";
import { detail, step } from "./progress.mjs";
import { spread } from "./stats.mjs";

const SUBSCRIBED = ["points.earned"];

function verifier(secret) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return (headers, body) => {
    const id = headers["webhook-id"];
    const timestamp = headers["webhook-timestamp"];
    const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
    return String(headers["webhook-signature"] ?? "")
      .split(" ")
      .some((part) => {
        const [version, signature] = part.split(",");
        const given = Buffer.from(signature ?? "", "base64");
        return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
      });
  };
}

/** A receiver on 127.0.0.1: records every delivery's time, id and payload; 200 to each. */
async function startReceiver() {
  const deliveries = [];
  let verify = () => false;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      const body = Buffer.concat(chunks).toString("utf8");
      let payload = null;
      try {
        payload = JSON.parse(body);
      } catch {}
      deliveries.push({ at, id: req.headers["webhook-id"], signed: verify(req.headers, body), payload });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    deliveries,
    setSecret: (secret) => {
      verify = verifier(secret);
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function post(url, path, token, body) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** Sends `events` order.paid events over `connections` concurrent loops; the commit time of each order. */
async function sendOrders(laurel, shop, { events, connections, label }) {
  const committed = new Map();
  let next = 0;
  const loop = async () => {
    while (next < events) {
      const n = next++;
      const event = orderPaid(label, n, `hook-member-${n % 100}`);
      await post(laurel.url, "/v1/events", shop.secretKey, event);
      committed.set(event.order.id, performance.now());
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  return committed;
}

export async function webhookScenario(laurel, { runs = 3, events = 1000, connections = 10, waitSeconds = 120 }) {
  const receiver = await startReceiver();
  try {
    step(`Webhooks: ${runs} runs of ${events} order events, each delivered as points.earned to ${receiver.url}`);
    const results = [];
    for (let run = 0; run < runs; run++) {
      // A shop of its own per run (default program: one credit, one delivery, per order).
      const created = await post(laurel.url, "/v1/shops", laurel.secrets.ADMIN_TOKEN, {
        name: `Webhook bench ${run + 1}`,
        currency: "EUR",
        origins: [laurel.url],
        platform: "custom",
      });
      const shop = { secretKey: created.secretKey };
      const hook = await post(laurel.url, "/v1/webhooks", shop.secretKey, { url: receiver.url, events: SUBSCRIBED });
      receiver.setSecret(hook.secret);
      receiver.deliveries.length = 0;
      const loadAverage = loadavg()[0];
      const started = performance.now();
      const committed = await sendOrders(laurel, shop, { events, connections, label: `hooks-${Date.now().toString(36)}-${run}` });
      const sent = performance.now();
      const deadline = sent + waitSeconds * 1000;
      const ofOrders = () => receiver.deliveries.filter((d) => d.payload?.data?.kind === "order");
      while (new Set(ofOrders().map((d) => d.payload.data.reference)).size < events && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // A little longer, so a duplicate that trails the last first delivery is seen too.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const orders = ofOrders();
      const firstByOrder = new Map();
      for (const d of orders) if (!firstByOrder.has(d.payload.data.reference)) firstByOrder.set(d.payload.data.reference, d);
      const latencies = [...firstByOrder].map(([orderId, d]) => Math.max(0, d.at - (committed.get(orderId) ?? d.at)));
      latencies.sort((a, b) => a - b);
      const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : null);
      const ids = orders.map((d) => d.id);
      const result = {
        events,
        loadAverage,
        delivered: firstByOrder.size,
        duplicates: ids.length - new Set(ids).size,
        unsigned: receiver.deliveries.filter((d) => !d.signed).length,
        others: receiver.deliveries.length - orders.length,
        p50: pct(50),
        p95: pct(95),
        max: latencies.at(-1) ?? null,
        sendSeconds: (sent - started) / 1000,
        drainSeconds: (Math.max(sent, ...orders.map((d) => d.at)) - sent) / 1000,
      };
      detail(
        `run ${run + 1}: ${result.delivered}/${events} delivered, ${result.duplicates} twice, ${result.unsigned} badly signed · p50 ${Math.round(result.p50)} ms p95 ${Math.round(result.p95)} ms · sent in ${result.sendSeconds.toFixed(1)} s, last receipt ${result.drainSeconds.toFixed(1)} s later · load ${loadAverage.toFixed(1)}`,
      );
      results.push(result);
    }
    return {
      available: true,
      runs: results,
      p50: spread(results.map((r) => r.p50)),
      p95: spread(results.map((r) => r.p95)),
    };
  } finally {
    await receiver.close();
  }
}
