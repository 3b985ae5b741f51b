/**
 * Spikes absorbed (README "Webhooks on Queues"): with `SHOPIFY_WEBHOOKS = "queue"` and the
 * `INGEST_QUEUE` binding, `/shopify/webhooks` verifies a delivery, enqueues it raw and answers 200
 * at once; this consumer applies each with the same idempotent ingestion as the synchronous route
 * (by event id, order id and refund id, indifferent to arrival order), so a message delivered
 * twice changes nothing the second time. The database's single writer then sees the consumer's
 * concurrency, not the flash sale's.
 */
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import { parseShopifyJson } from "../domain/shopify";
import { shopByShopifyDomain } from "../store/shops";
import { envForShopifyDomain } from "./databases";
import { processShopifyWebhook, type WebhookOutcome } from "./shopify";

/** What the route enqueues: the verified delivery as it came, its body still raw text. */
export interface QueuedDelivery {
  topic: string;
  deliveryId: string;
  domain: string;
  body: string;
  /** When the route accepted it (ISO-8601): the bench's time-to-visible starts here. */
  receivedAt: string;
}

/** The queue INGEST_QUEUE sends to (wrangler.toml), as the consumer's batches name it. */
export const INGEST_QUEUE_NAME = "laurel-ingest";

/** Messages applied side by side within a batch: enough to overlap D1 round trips, few enough to keep retries rare. */
const CONCURRENCY = 6;

export const queuesShopifyWebhooks = (env: Env) => env.SHOPIFY_WEBHOOKS === "queue" && env.INGEST_QUEUE !== undefined;

export async function enqueueShopifyDelivery(env: Env, delivery: QueuedDelivery) {
  await env.INGEST_QUEUE!.send(delivery, { contentType: "json" });
  return { status: "queued" as const, topic: delivery.topic, eventId: `${delivery.topic}:${delivery.deliveryId}` };
}

/** Backoff for a message that failed: 2, 4, 8 ... seconds, at most 5 minutes. */
const backoff = (attempts: number) => Math.min(300, 2 ** Math.max(1, attempts));

/**
 * Applies a batch. A message is acknowledged once its delivery is applied, found a duplicate, or
 * refused for good (a payload that maps to nothing, a shop Laurel does not know); one that lost
 * to concurrent writes, met a paused shop or a failing database is retried with backoff, and
 * after the consumer's max_retries goes to the dead-letter queue (wrangler.toml).
 */
export async function consumeShopifyDeliveries(batch: MessageBatch<QueuedDelivery>, env: Env): Promise<void> {
  const messages = [...batch.messages];
  const work = async () => {
    for (let message = messages.shift(); message; message = messages.shift()) {
      try {
        await applyDelivery(env, message.body);
        message.ack();
      } catch (err) {
        const retryAfter = err instanceof ApiError ? Number(err.headers?.["Retry-After"] ?? 0) : 0;
        console.error(
          JSON.stringify({ level: "warn", message: "queued delivery failed, retried", deliveryId: message.body.deliveryId, error: String(err) }),
        );
        message.retry({ delaySeconds: Math.max(retryAfter, backoff(message.attempts)) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, messages.length) }, work));
}

async function applyDelivery(env: Env, delivery: QueuedDelivery): Promise<WebhookOutcome | null> {
  const onShop = await envForShopifyDomain(env, delivery.domain);
  const shop = await shopByShopifyDomain(onShop.DB, delivery.domain);
  // Not ours (never connected, or erased since): nothing to apply, as the synchronous route answers.
  if (!shop) return null;
  const payload = parseShopifyJson(delivery.body);
  return processShopifyWebhook(onShop, shop, { topic: delivery.topic, deliveryId: delivery.deliveryId, payload });
}
