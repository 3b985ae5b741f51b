import { createRoute } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { requireMerchant } from "../auth/middleware";
import { verifyStandardWebhook } from "../auth/standard-webhooks";
import { EventResult, LoyaltyEvent } from "../contract/events";
import { unauthorized } from "../http/errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { newRouter } from "../http/validation";
import { ingestEvent } from "../services/events";
import { shopByPublicKey } from "../store/shops";

export const eventRoutes = newRouter();

/**
 * Two ways in: the secret key, or (for `?shop=<publicKey>`) a Standard Webhooks signature over the
 * raw body with the shop's webhook secret. Both are checked before the body is validated.
 */
const authenticateEvent = createMiddleware<AppEnv>(async (c, next) => {
  const publicKey = c.req.query("shop");
  if (publicKey === undefined) return requireMerchant(c, next);
  const shop = await shopByPublicKey(c.env.DB, publicKey);
  const body = await c.req.text();
  const valid =
    shop !== null &&
    (await verifyStandardWebhook(
      shop.webhookSecret,
      {
        id: c.req.header("webhook-id"),
        timestamp: c.req.header("webhook-timestamp"),
        signature: c.req.header("webhook-signature"),
      },
      body,
    ));
  if (!shop || !valid) {
    throw unauthorized("The webhook signature is missing, invalid or older than 5 minutes.");
  }
  c.set("shop", shop);
  await next();
});

eventRoutes.use("/v1/events", authenticateEvent);

eventRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/events",
    tags: ["Events"],
    summary: "Ingest a loyalty event",
    description:
      "Orders, refunds, cancellations, customers, reviews and custom events from any platform. " +
      "Processed exactly once per event id, order and refund; a 200 means every effect is visible. " +
      "Authenticate with the secret key, or sign with Standard Webhooks and pass `?shop=<publicKey>`.",
    security: [{ secretKey: [] }, { standardWebhooks: [] }],
    request: {
      body: jsonBody(LoyaltyEvent),
    },
    responses: {
      200: jsonResponse(EventResult, "Processed, or a duplicate that changed nothing"),
      ...problems(400, 401, 413, 415, 422),
    },
  }),
  async (c) => {
    // The validator has run (400 on failure); the union is too wide for Hono's input inference.
    const event = c.req.valid("json" as never) as LoyaltyEvent;
    // One source for both ways in: an event id counts once however it was authenticated.
    return c.json(await ingestEvent(c.env.DB, c.var.shop, "events", event), 200);
  },
);
