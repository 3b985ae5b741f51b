/**
 * From the outbox to the merchant's endpoint through the real WEBHOOKS_QUEUE (miniflare's
 * Queues, with its retries and dead-letter queue): a committed change delivers its events once,
 * a refused one none, a crash before the queue took them still delivers; signatures verified by
 * the test receiver; retries, the dead-letter path, pauses and the receiver's bad answers.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_ATTEMPTS, RETRY_DELAYS, retryDelaySeconds } from "../../worker/domain/webhooks";
import { ingestEvent } from "../../worker/services/events";
import { SWEEP_CRON, runScheduledWork } from "../../worker/services/scheduled";
import { dispatchOutbox } from "../../worker/services/webhook-delivery";
import { readOne } from "../../worker/store/batch";
import { shopById } from "../../worker/store/shops";
import { claimAndPlanDeliveries } from "../../worker/store/webhook-dispatch";
import { call, expectError, makeShop, orderPaid, postAdjustment, type TestShop } from "./helpers";
import { type Receiver, startReceiver } from "./webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

let endpointCounter = 0;

async function addEndpoint(receiver: Receiver, shop: TestShop, events: string[] = ["*"]) {
  const url = `https://hooks.example/laurel/${++endpointCounter}`;
  const res = await call("POST", "/v1/webhooks", { token: shop.secretKey, body: { url, events } });
  expect(res.status).toBe(201);
  receiver.secretFor(url, res.body.secret);
  return { url, id: res.body.webhook.id as string, secret: res.body.secret as string };
}

const deliveries = async (shop: TestShop, endpointId: string) =>
  (await call("GET", `/v1/webhooks/${endpointId}/deliveries`, { token: shop.secretKey })).body.deliveries as any[];

async function settled(shop: TestShop, endpointId: string, count: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await deliveries(shop, endpointId);
    if (log.length >= count && log.every((d) => d.status !== "pending")) return log;
    if (Date.now() > deadline) throw new Error(`deliveries not settled: ${JSON.stringify(log)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a committed change delivers its events once", () => {
  it("an order by a new member: member.created and points.earned, signed, each once, in the contract's shape", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const hook = await addEndpoint(receiver, shop);
    expect((await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "40.00", email: "c1@example.com" })).status).toBe(200);
    const got = await receiver.until((r) => (r.length >= 2 ? r : null));
    await settled(shop, hook.id, 2);
    // A little longer: a second copy would have come by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received).toHaveLength(2);
    const byType = Object.fromEntries(got.map((r) => [r.payload.type, r]));
    expect(byType["member.created"]!.payload.data).toEqual({ customerId: "c1", email: "c1@example.com" });
    expect(byType["points.earned"]!.payload.data).toEqual({ customerId: "c1", points: 40, kind: "order", reference: "o1", balance: 40 });
    for (const r of got) {
      expect(r.signatureValid).toBe(true);
      expect(Object.keys(r.payload).sort()).toEqual(["data", "id", "occurredAt", "shopId", "type"]);
      expect(r.payload.shopId).toBe(shop.id);
      expect(r.id).toBe(r.payload.id);
      expect(r.id).toMatch(/^evt_[0-9a-f]{32}$/);
    }
    const log = await deliveries(shop, hook.id);
    expect(log.map((d) => [d.status, d.attempts, d.lastStatus])).toEqual([
      ["delivered", 1, 200],
      ["delivered", 1, 200],
    ]);
  });

  it("a refused change delivers nothing", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    const hook = await addEndpoint(receiver, shop);
    expectError(await postAdjustment(shop, "c1", { points: -50, note: "too much" }), 422, "insufficient_points");
    await postAdjustment(shop, "c1", { points: 5, note: "marker" });
    await receiver.until((r) => r.some((x) => x.payload.data.kind === "adjustment"));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received.map((r) => [r.payload.type, r.payload.data.points])).toEqual([["points.earned", 5]]);
    expect(await deliveries(shop, hook.id)).toHaveLength(1);
  });

  it("events that happened before the endpoint existed, or in another shop, are not sent to it", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const other = await makeShop();
    await orderPaid(shop, { id: "before", customerId: "c1", subtotal: "10.00" });
    const hook = await addEndpoint(receiver, shop, ["points.earned"]);
    await addEndpoint(receiver, other, ["points.earned"]);
    await orderPaid(shop, { id: "after", customerId: "c1", subtotal: "20.00" });
    await receiver.until((r) => r.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received.map((r) => [r.url, r.payload.data.reference])).toEqual([[hook.url, "after"]]);
  });
});

describe("a crash between the commit and the queue still delivers", () => {
  it("a change committed with no dispatch after it (the isolate died) goes out with the next cron", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    await addEndpoint(receiver, shop, ["points.earned"]);
    // The use case itself, without the request's dispatch that follows a write (and after the
    // dispatch that followed the endpoint's creation is over).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stored = (await shopById(env.DB, shop.id))!;
    await ingestEvent(env.DB, stored, "test", {
      id: "evt-crash",
      type: "order.paid",
      occurredAt: new Date().toISOString(),
      order: { id: "o-crash", customerId: "c1", currency: "EUR", subtotal: "30.00", lines: [] },
    } as never);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received).toHaveLength(0);
    await runScheduledWork(env, new Date(), SWEEP_CRON);
    const [got] = await receiver.until((r) => (r.length ? r : null));
    expect(got!.payload.data).toMatchObject({ kind: "order", reference: "o-crash", points: 30 });
    expect(got!.signatureValid).toBe(true);
  });

  it("a dispatcher that wrote the deliveries and died before enqueueing: its claim lapses and the next one sends them, once", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const hook = await addEndpoint(receiver, shop, ["points.earned"]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stored = (await shopById(env.DB, shop.id))!;
    await ingestEvent(env.DB, stored, "test", {
      id: "evt-claimed",
      type: "order.paid",
      occurredAt: new Date().toISOString(),
      order: { id: "o-claimed", customerId: "c1", currency: "EUR", subtotal: "12.00", lines: [] },
    } as never);
    const now = new Date();
    const claim = await readOne(
      env.DB,
      claimAndPlanDeliveries(env.DB, { token: "dead-dispatcher", until: new Date(now.getTime() + 60_000).toISOString(), now: now.toISOString(), limit: 1000 }),
    );
    expect(claim.toEnqueue.length).toBeGreaterThanOrEqual(1);
    // While the claim holds, another dispatcher leaves these events alone.
    await dispatchOutbox(env, now);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received).toHaveLength(0);
    // A minute later the claim has lapsed.
    await dispatchOutbox(env, new Date(now.getTime() + 61_000));
    await receiver.until((r) => r.length >= 1);
    await settled(shop, hook.id, 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received.map((r) => r.payload.data.reference)).toEqual(["o-claimed"]);
  });
});

describe("retries through the queue", () => {
  it("the schedule: first retry within 60 s, at least 6 attempts over at least 24 h, growing", () => {
    expect(retryDelaySeconds(1)).toBeLessThanOrEqual(60);
    expect(MAX_ATTEMPTS).toBeGreaterThanOrEqual(6);
    expect(RETRY_DELAYS.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * 3600);
    for (let i = 1; i < RETRY_DELAYS.length; i++) expect(RETRY_DELAYS[i]!).toBeGreaterThanOrEqual(RETRY_DELAYS[i - 1]!);
    // A queue's longest delay is 12 hours.
    expect(Math.max(...RETRY_DELAYS)).toBeLessThanOrEqual(43_200);
    expect(retryDelaySeconds(MAX_ATTEMPTS)).toBeNull();
  });

  it("a receiver that fails twice gets the same event a third time, with the same webhook-id, signed anew", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const hook = await addEndpoint(receiver, shop, ["points.earned"]);
    receiver.answers(hook.url, [503, "busy"], [500, "oops"], 200);
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    const [log] = [await settled(shop, hook.id, 1)];
    expect(log!.map((d) => [d.status, d.attempts, d.lastStatus])).toEqual([["delivered", 3, 200]]);
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
  });

  it("a receiver that keeps failing: every attempt made, then the dead-letter queue marks it failed; a retry by hand delivers it", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const hook = await addEndpoint(receiver, shop, ["points.earned"]);
    receiver.answers(hook.url, [500, "down"]);
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    const [failed] = await settled(shop, hook.id, 1, 60_000);
    expect(failed).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, lastStatus: 500, nextAttemptAt: null });
    expect(failed.lastResponse).toBe("down");
    expect(receiver.received).toHaveLength(MAX_ATTEMPTS);
    receiver.answers(hook.url, 200);
    const retried = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${failed.id}/retry`, { token: shop.secretKey });
    expect(retried.status).toBe(202);
    expect(retried.body.delivery.status).toBe("pending");
    const [after] = await settled(shop, hook.id, 1);
    expect(after).toMatchObject({ status: "delivered", attempts: MAX_ATTEMPTS + 1, lastStatus: 200 });
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);
  }, 90_000);
});

describe("paused endpoints", () => {
  it("events that happen while an endpoint is paused are not sent to it, then or after it resumes", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const hook = await addEndpoint(receiver, shop, ["points.earned"]);
    await call("PATCH", `/v1/webhooks/${hook.id}`, { token: shop.secretKey, body: { enabled: false } });
    await orderPaid(shop, { id: "while-paused", customerId: "c1", subtotal: "10.00" });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await call("PATCH", `/v1/webhooks/${hook.id}`, { token: shop.secretKey, body: { enabled: true } });
    await runScheduledWork(env, new Date(), SWEEP_CRON);
    await orderPaid(shop, { id: "after-resume", customerId: "c1", subtotal: "10.00" });
    await receiver.until((r) => r.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received.map((r) => r.payload.data.reference)).toEqual(["after-resume"]);
  });

  it("an endpoint whose every attempt has failed for three days is paused, and the merchant sees why", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const hook = await addEndpoint(receiver, shop, ["points.earned"]);
    receiver.answers(hook.url, [500, "down"]);
    // Failing for two days: still on after another failure.
    await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?")
      .bind(new Date(Date.now() - 2 * 86_400_000).toISOString(), hook.id)
      .run();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    await receiver.until((r) => r.length >= 1);
    let read = (await call("GET", `/v1/webhooks/${hook.id}`, { token: shop.secretKey })).body.webhook;
    expect(read.enabled).toBe(true);
    // Failing for three days and more: the next failure pauses it.
    await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?")
      .bind(new Date(Date.now() - 3.5 * 86_400_000).toISOString(), hook.id)
      .run();
    const before = receiver.received.length;
    await receiver.until((r) => r.length > before);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      read = (await call("GET", `/v1/webhooks/${hook.id}`, { token: shop.secretKey })).body.webhook;
      if (!read.enabled) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(read).toMatchObject({ enabled: false, pausedReason: "failing" });
    // What was on its way is kept, not sent; a success after resuming ends the run of failures.
    const [log] = await settled(shop, hook.id, 1);
    expect(log.status).toBe("failed");
    receiver.answers(hook.url, 200);
    await call("PATCH", `/v1/webhooks/${hook.id}`, { token: shop.secretKey, body: { enabled: true } });
    await call("POST", `/v1/webhooks/${hook.id}/deliveries/${log.id}/retry`, { token: shop.secretKey });
    await settled(shop, hook.id, 1);
    read = (await call("GET", `/v1/webhooks/${hook.id}`, { token: shop.secretKey })).body.webhook;
    expect(read).toMatchObject({ enabled: true, pausedReason: null, failingSince: null });
  }, 60_000);
});

describe("a receiver's bad answers cannot hold the consumer", () => {
  it("a huge (endless) answer is read no further than its start", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const hook = await addEndpoint(receiver, shop, ["points.earned"]);
    const chunk = new TextEncoder().encode("x".repeat(1024));
    receiver.answers(hook.url, () => {
      let pulled = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          if (pulled > 100_000) controller.close();
          else controller.enqueue(chunk);
        },
      });
      return new Response(endless, { status: 200 });
    });
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    const [log] = await settled(shop, hook.id, 1);
    expect(log).toMatchObject({ status: "delivered", attempts: 1, lastStatus: 200 });
    expect(log.lastResponse.length).toBeLessThanOrEqual(500);
  });

  it("a redirect is not followed (it could lead anywhere): the attempt fails and says why", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const hook = await addEndpoint(receiver, shop, ["points.earned"]);
    receiver.answers(hook.url, () => new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data" } }));
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    const [log] = await settled(shop, hook.id, 1, 60_000);
    expect(log).toMatchObject({ status: "failed", lastStatus: 302 });
    expect(log.lastError).toContain("redirects are not followed");
    expect(receiver.requests.every((r) => r.url === hook.url)).toBe(true);
  }, 90_000);

  it("no answer within 10 s is a failed attempt", async () => {
    const { postSignedEvent } = await import("../../worker/adapters/webhook-post");
    const hanging = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal!.reason));
      })) as typeof fetch;
    const started = Date.now();
    const result = await postSignedEvent("https://hooks.example/slow", `whsec_${btoa("k".repeat(32))}`, { id: "evt_1", body: "{}" }, new Date(), hanging);
    expect(result).toMatchObject({ delivered: false, status: null, error: "no answer within 10 s" });
    expect(Date.now() - started).toBeLessThan(25_000);
  }, 40_000);
});
