import { createRoute, z } from "@hono/zod-openapi";
import { requireMerchant } from "../auth/middleware";
import {
  CreatedWebhook,
  CreateWebhook,
  DeliveriesQuery,
  DeliveryEnvelope,
  DeliveryParams,
  DeliveryView,
  TestEventRequest,
  UpdateWebhook,
  WebhookEnvelope,
  WebhookIdParam,
  WebhookView,
} from "../contract/webhooks";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { newRouter } from "../http/validation";
import {
  changeWebhook,
  createWebhook,
  deliveryLog,
  listWebhooks,
  removeWebhook,
  requireWebhook,
  retryDelivery,
  sendTestEvent,
  webhookView,
} from "../services/webhooks";

/** Merchant: endpoints that receive Laurel's events, signed (Standard Webhooks), and their delivery log. */
export const webhookRoutes = newRouter();

for (const path of ["/v1/webhooks", "/v1/webhooks/*"]) webhookRoutes.use(path, requireMerchant);

const security = [{ secretKey: [] }];
const tags = ["Webhooks"];

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/webhooks",
    tags,
    summary: "Add a webhook endpoint",
    description:
      "Events from then on are POSTed to `url` as `{id, type, occurredAt, shopId, data}` with Standard Webhooks headers " +
      "(`webhook-id` = the event's id, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`) signed with the " +
      "`secret` answered here, and only here. A 2xx within 10 s delivers; otherwise the queue retries after 30 s, 5 min, " +
      "30 min, 2 h, 6 h, 12 h and 12 h, then the delivery is `failed`. Private, loopback and link-local destinations are " +
      "refused with 422 url_not_allowed.",
    security,
    request: { body: jsonBody(CreateWebhook) },
    responses: { 201: jsonResponse(CreatedWebhook, "The endpoint and its signing secret (shown once)"), ...problems(400, 401, 415, 422) },
  }),
  async (c) => c.json(await createWebhook(c.env, c.var.shop, c.req.valid("json")), 201),
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/webhooks",
    tags,
    summary: "List webhook endpoints",
    security,
    responses: { 200: jsonResponse(z.object({ webhooks: z.array(WebhookView) }), "Oldest first"), ...problems(401) },
  }),
  async (c) => c.json({ webhooks: await listWebhooks(c.env.DB, c.var.shop) }, 200),
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/webhooks/{id}",
    tags,
    summary: "Read a webhook endpoint",
    security,
    request: { params: WebhookIdParam },
    responses: { 200: jsonResponse(WebhookEnvelope, "The endpoint"), ...problems(401, 404) },
  }),
  async (c) => c.json({ webhook: webhookView(await requireWebhook(c.env.DB, c.var.shop, c.req.valid("param").id)) }, 200),
);

webhookRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/webhooks/{id}",
    tags,
    summary: "Change, pause or resume a webhook endpoint",
    description: "Events that happen while an endpoint is paused are never sent to it. Resuming also ends a pause Laurel made.",
    security,
    request: { params: WebhookIdParam, body: jsonBody(UpdateWebhook) },
    responses: { 200: jsonResponse(WebhookEnvelope, "The changed endpoint"), ...problems(400, 401, 404, 415, 422) },
  }),
  async (c) => c.json({ webhook: await changeWebhook(c.env, c.var.shop, c.req.valid("param").id, c.req.valid("json")) }, 200),
);

webhookRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/webhooks/{id}",
    tags,
    summary: "Delete a webhook endpoint",
    description: "Its delivery log goes with it; deliveries on their way are not sent.",
    security,
    request: { params: WebhookIdParam },
    responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) }), "Deleted"), ...problems(401, 404) },
  }),
  async (c) => {
    await removeWebhook(c.env.DB, c.var.shop, c.req.valid("param").id);
    return c.json({ deleted: true as const }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/webhooks/{id}/deliveries",
    tags,
    summary: "An endpoint's delivery log",
    description: "Newest first: status, attempts, the last answer and the next attempt.",
    security,
    request: { params: WebhookIdParam, query: DeliveriesQuery },
    responses: {
      200: jsonResponse(z.object({ deliveries: z.array(DeliveryView), nextCursor: z.string().nullable() }), "A page of the log"),
      ...problems(400, 401, 404),
    },
  }),
  async (c) => c.json(await deliveryLog(c.env.DB, c.var.shop, c.req.valid("param").id, c.req.valid("query")), 200),
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/webhooks/{id}/deliveries/{deliveryId}/retry",
    tags,
    summary: "Send a delivery again now",
    description: "For a failed delivery (or any other): attempted again at once with the same webhook-id, and retried as before.",
    security,
    request: { params: DeliveryParams },
    responses: { 202: jsonResponse(DeliveryEnvelope, "The delivery, pending"), ...problems(401, 404) },
  }),
  async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    return c.json({ delivery: await retryDelivery(c.env, c.var.shop, id, deliveryId) }, 202);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/webhooks/{id}/test",
    tags,
    summary: "Send a test event",
    description: "A signed sample event (`test: true`, sample ids) to this endpoint only, even a paused one; it shows in the log.",
    security,
    request: { params: WebhookIdParam, body: { ...jsonBody(TestEventRequest), required: false } },
    responses: { 202: jsonResponse(DeliveryEnvelope, "The test delivery, pending"), ...problems(400, 401, 404, 415) },
  }),
  async (c) => {
    const body = c.req.valid("json") as z.infer<typeof TestEventRequest> | undefined;
    return c.json({ delivery: await sendTestEvent(c.env, c.var.shop, c.req.valid("param").id, body?.type) }, 202);
  },
);
