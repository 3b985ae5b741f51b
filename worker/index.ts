import { app } from "./app";
import type { Env } from "./env";
import { forEachDatabase } from "./services/databases";
import { consumeShopifyDeliveries, INGEST_QUEUE_NAME, type QueuedDelivery } from "./services/ingest-queue";
import { runScheduledWork } from "./services/scheduled";

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // Each database's shops in turn (one database unless DATABASES lists more).
    const now = new Date(controller.scheduledTime);
    ctx.waitUntil(forEachDatabase(env, (onDatabase) => runScheduledWork(onDatabase, now, controller.cron)));
  },
  async queue(batch, env) {
    if (batch.queue === INGEST_QUEUE_NAME) return consumeShopifyDeliveries(batch as MessageBatch<QueuedDelivery>, env);
    console.error(JSON.stringify({ level: "error", message: "a batch from an unknown queue", queue: batch.queue }));
    batch.retryAll({ delaySeconds: 60 });
  },
} satisfies ExportedHandler<Env>;
