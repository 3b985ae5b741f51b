import { app } from "./app";
import type { Env } from "./env";
import { forEachDatabase } from "./services/databases";
import { runScheduledWork } from "./services/scheduled";

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // Each database's shops in turn (one database unless DATABASES lists more).
    const now = new Date(controller.scheduledTime);
    ctx.waitUntil(forEachDatabase(env, (onDatabase) => runScheduledWork(onDatabase, now, controller.cron)));
  },
} satisfies ExportedHandler<Env>;
