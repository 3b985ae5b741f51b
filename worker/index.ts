import { app } from "./app";
import type { Env } from "./env";
import { runScheduledWork } from "./services/scheduled";
import { deliverBatch, failDeadLetters, WEBHOOKS_DLQ_NAME } from "./services/webhook-delivery";
import type { DeliveryMessage } from "./store/webhook-dispatch";

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduledWork(env, new Date(controller.scheduledTime), controller.cron));
  },
  async queue(batch, env) {
    // Webhook deliveries and their dead letters (wrangler.toml [[queues.consumers]]).
    if (batch.queue === WEBHOOKS_DLQ_NAME) await failDeadLetters(batch as MessageBatch<DeliveryMessage>, env);
    else await deliverBatch(batch as MessageBatch<DeliveryMessage>, env);
  },
} satisfies ExportedHandler<Env>;
