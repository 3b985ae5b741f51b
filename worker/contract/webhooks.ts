import { z } from "@hono/zod-openapi";
import { DOMAIN_EVENT_TYPES } from "../store/outbox";
import { idText } from "./ids";

/** `/v1/webhooks` (README "Webhooks"): the merchant's endpoints and their delivery log. */

export const WebhookEventType = z.enum(DOMAIN_EVENT_TYPES, {
  error: `each event is one of ${DOMAIN_EVENT_TYPES.join(", ")}, or "*" for all`,
});

const Events = z
  .array(z.union([WebhookEventType, z.literal("*")], { error: `each event is one of ${DOMAIN_EVENT_TYPES.join(", ")}, or "*" for all` }))
  .min(1, 'list at least one event type, or ["*"] for all')
  .max(DOMAIN_EVENT_TYPES.length + 1)
  .describe('Event types to receive, or ["*"] for all of them.');

const Url = z.string().min(1).max(2048).describe("https only; http://127.0.0.1:<port> or http://localhost:<port> while DEMO is on.");
const Description = z.string().max(500).refine((text) => !/\p{Cs}/u.test(text), "must be well-formed Unicode text");

export const CreateWebhook = z
  .object({ url: Url, events: Events, description: Description.optional() })
  .strict()
  .openapi("CreateWebhook");

export const UpdateWebhook = z
  .object({
    url: Url.optional(),
    events: Events.optional(),
    description: Description.nullable().optional(),
    enabled: z.boolean().optional().describe("false pauses the endpoint; true resumes it with the events from then on."),
  })
  .strict()
  .openapi("UpdateWebhook");

export const WebhookView = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    pausedReason: z
      .enum(["merchant", "failing"])
      .nullable()
      .describe("failing: Laurel paused it after every attempt failed for three days; PATCH enabled:true resumes it."),
    pausedAt: z.string().nullable(),
    failingSince: z.string().nullable().describe("The first failed attempt since the last success."),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Webhook");

export const WebhookEnvelope = z.object({ webhook: WebhookView });
export const CreatedWebhook = z
  .object({ webhook: WebhookView, secret: z.string().describe("whsec_...: the signing secret, shown only now.") })
  .openapi("CreatedWebhook");

export const DeliveryView = z
  .object({
    id: z.string(),
    eventId: z.string().describe("The event's id, sent as webhook-id: the same at every attempt."),
    type: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable().describe("The HTTP status of the last attempt (null: no answer)."),
    lastError: z.string().nullable(),
    lastResponse: z.string().nullable().describe("The start of the last answer's body."),
    lastAttemptAt: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("WebhookDelivery");

export const DeliveryEnvelope = z.object({ delivery: DeliveryView });

export const WebhookIdParam = z.object({ id: idText(64) });
export const DeliveryParams = z.object({ id: idText(64), deliveryId: idText(64) });

export const DeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
  status: z.enum(["pending", "delivered", "failed"]).optional(),
});

export const TestEventRequest = z
  .object({ type: WebhookEventType.optional().describe("The sample event's type; default member.created.") })
  .strict()
  .openapi("WebhookTestEvent");
