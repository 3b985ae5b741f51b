import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { dispatchOutbox } from "../services/webhook-delivery";

/**
 * After a write request has answered, the events it committed (and any an earlier request left
 * behind) go to the webhooks queue, outside the response's time. The crons do the same, so an
 * isolate that dies before this runs delays its events by minutes at most.
 */
export const dispatchAfterWrites = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS" || !c.env.WEBHOOKS_QUEUE) return;
  c.executionCtx.waitUntil(
    dispatchOutbox(c.env).catch((err) => {
      console.error(JSON.stringify({ level: "error", message: "webhook dispatch failed", error: String(err) }));
    }),
  );
});
