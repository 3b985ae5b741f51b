/**
 * The queue mode of /shopify/webhooks (services/ingest-queue.ts): verified deliveries are
 * enqueued raw and answered at once, and the consumer applies them with the same idempotent
 * ingestion as the synchronous route: same balances, once however often a message comes.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SHOPIFY_API_VERSION } from "../../worker/adapters/shopify-admin";
import { app } from "../../worker/app";
import { signShopifyWebhook } from "../../worker/auth/shopify";
import worker from "../../worker/index";
import { INGEST_QUEUE_NAME, type QueuedDelivery } from "../../worker/services/ingest-queue";
import ordersPaidRaw from "../fixtures/shopify/orders-paid.json?raw";
import { customer, makeShop, type TestShop } from "./helpers";

const SECRET = "test-shopify-secret";
const BUYER = "115310627314723954";

interface ShopifyShop extends TestShop {
  domain: string;
}

let shops = 0;
async function shopifyShop(): Promise<ShopifyShop> {
  const domain = `laurel-queue-${++shops}.myshopify.com`;
  return { ...(await makeShop({ platform: "shopify", shopifyDomain: domain, currency: "USD" })), domain };
}

/** A producer that keeps what it is sent, so the test decides when the consumer runs. */
function heldQueue() {
  const sent: QueuedDelivery[] = [];
  const queue = {
    send: async (body: QueuedDelivery) => {
      sent.push(body);
    },
    sendBatch: async () => {
      throw new Error("not used");
    },
  } as unknown as Queue<QueuedDelivery>;
  return { sent, queue };
}

let deliveries = 0;
async function deliver(bindings: Partial<Cloudflare.Env>, shop: { domain: string }, body: string, hmac?: string) {
  const request = new Request("http://laurel.test/shopify/webhooks", {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": "orders/paid",
      "x-shopify-shop-domain": shop.domain,
      "x-shopify-api-version": SHOPIFY_API_VERSION,
      "x-shopify-event-id": `evt-q-${++deliveries}`,
      "x-shopify-hmac-sha256": hmac ?? (await signShopifyWebhook(SECRET, body)),
    },
  });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: (await response.json()) as any };
}

const forShop = (shop: ShopifyShop) => ordersPaidRaw.replaceAll("{shop}.myshopify.com", shop.domain);

async function consume(messages: QueuedDelivery[], attempts = 1) {
  const batch = createMessageBatch<QueuedDelivery>(
    INGEST_QUEUE_NAME,
    messages.map((body, i) => ({ id: `msg-${deliveries}-${i}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

const ledgerRows = async (shopId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger WHERE shop_id = ?").bind(shopId).first<{ n: number }>())!.n;

describe("Shopify webhooks through the queue", () => {
  it("answers a verified delivery at once, applies it from the queue, and only once", async () => {
    const synchronous = await shopifyShop();
    const applied = await deliver({}, synchronous, forShop(synchronous));
    expect(applied.body.status).toBe("processed");
    const expected = (await customer(synchronous, BUYER)).balance;
    expect(expected).toBeGreaterThan(0);

    const shop = await shopifyShop();
    const { sent, queue } = heldQueue();
    const queued = await deliver({ SHOPIFY_WEBHOOKS: "queue", INGEST_QUEUE: queue }, shop, forShop(shop));
    expect(queued.status).toBe(200);
    expect(queued.body).toMatchObject({ status: "queued", topic: "orders/paid" });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ topic: "orders/paid", domain: shop.domain, body: forShop(shop) });
    expect(await ledgerRows(shop.id)).toBe(0);

    const result = await consume(sent);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    expect((await customer(shop, BUYER)).balance).toBe(expected);
    expect(await ledgerRows(shop.id)).toBe(1);

    // At-least-once delivery: the same message again, and twice in one batch, change nothing.
    const again = await consume([sent[0]!, sent[0]!]);
    expect(again.explicitAcks).toHaveLength(2);
    expect((await customer(shop, BUYER)).balance).toBe(expected);
    expect(await ledgerRows(shop.id)).toBe(1);
  });

  it("enqueues nothing for a delivery whose signature does not match", async () => {
    const shop = await shopifyShop();
    const { sent, queue } = heldQueue();
    const refused = await deliver({ SHOPIFY_WEBHOOKS: "queue", INGEST_QUEUE: queue }, shop, forShop(shop), "AAAA");
    expect(refused.status).toBe(401);
    expect(sent).toEqual([]);
  });

  it("acknowledges a delivery for a store Laurel does not know, and retries one the database refused", async () => {
    const shop = await shopifyShop();
    const { sent, queue } = heldQueue();
    await deliver({ SHOPIFY_WEBHOOKS: "queue", INGEST_QUEUE: queue }, { domain: "nobody-here.myshopify.com" }, forShop(shop));
    expect((await consume(sent)).explicitAcks).toHaveLength(1);

    const held = heldQueue();
    await deliver({ SHOPIFY_WEBHOOKS: "queue", INGEST_QUEUE: held.queue }, shop, forShop(shop));
    const failing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") return () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const batch = createMessageBatch<QueuedDelivery>(INGEST_QUEUE_NAME, [{ id: "m-fail", timestamp: new Date(), attempts: 3, body: held.sent[0]! }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DB: failing });
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m-fail"]);
    expect(await ledgerRows(shop.id)).toBe(0);
    // Its retry, on a database that answers, applies it.
    expect((await consume(held.sent, 4)).explicitAcks).toHaveLength(1);
    expect(await ledgerRows(shop.id)).toBe(1);
  });

  it("runs on the local queue end to end: the route's 200 comes first, the points follow", async () => {
    const shop = await shopifyShop();
    const queued = await deliver({ SHOPIFY_WEBHOOKS: "queue" }, shop, forShop(shop));
    expect(queued.body.status).toBe("queued");
    // The local queue delivers the batch to worker/index.ts within its batch timeout.
    let rows = 0;
    for (let i = 0; i < 300 && rows === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = await ledgerRows(shop.id);
    }
    expect(rows).toBe(1);
  });
});
