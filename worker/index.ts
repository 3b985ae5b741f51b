import { app } from "./app";
import type { Env } from "./env";
import { forEachDatabase } from "./services/databases";
import { consumeShopifyDeliveries, INGEST_QUEUE_NAME, type QueuedDelivery } from "./services/ingest-queue";
import { runScheduledWork } from "./services/scheduled";
import { deliverBatch, failDeadLetters, WEBHOOKS_DLQ_NAME } from "./services/webhook-delivery";
import type { DeliveryMessage } from "./store/webhook-dispatch";

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // Each database's shops in turn (one database unless DATABASES lists more).
    const now = new Date(controller.scheduledTime);
    ctx.waitUntil(forEachDatabase(env, (onDatabase) => runScheduledWork(onDatabase, now, controller.cron)));
  },
  async queue(batch, env) {
    // Shopify deliveries in the queue mode; webhook deliveries and their dead letters
    // (wrangler.toml [[queues.consumers]]).
    if (batch.queue === INGEST_QUEUE_NAME) return consumeShopifyDeliveries(batch as MessageBatch<QueuedDelivery>, env);
    if (batch.queue === WEBHOOKS_DLQ_NAME) return failDeadLetters(batch as MessageBatch<DeliveryMessage>, env);
    return deliverBatch(batch as MessageBatch<DeliveryMessage>, env);
  },
} satisfies ExportedHandler<Env>;
