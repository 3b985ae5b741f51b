/**
 * The merchant's webhook endpoints: add (the secret shown once), read, change, pause and resume,
 * delete, a test event, the delivery log and a retry by hand. Delivery itself is
 * services/webhook-delivery.ts.
 */
import type { z } from "@hono/zod-openapi";
import { resolvedAddressProblem } from "../adapters/dns";
import { newWebhookSecret, sealWebhookSecret } from "../auth/webhook-secrets";
import type { CreateWebhook, DeliveriesQuery, UpdateWebhook } from "../contract/webhooks";
import { randomBytes, toHex } from "../crypto";
import { webhookUrlProblem } from "../domain/webhooks";
import type { Env } from "../env";
import { ApiError, badRequest, notFound } from "../http/errors";
import { commit, readOne } from "../store/batch";
import { type DomainEventType, newEventId } from "../store/outbox";
import type { Shop } from "../store/shops";
import {
  countEndpoints,
  deleteEndpoint,
  deliveryById,
  endpointById,
  insertEndpoint,
  insertTestDelivery,
  listDeliveries,
  listEndpoints,
  retryDeliveryNow,
  updateEndpoint,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "../store/webhooks";
import { enqueueDeliveries } from "./webhook-delivery";

/** Endpoints one shop may have. */
export const MAX_ENDPOINTS = 20;

export function webhookView(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    enabled: endpoint.enabled,
    pausedReason: endpoint.pausedReason,
    pausedAt: endpoint.pausedAt,
    failingSince: endpoint.failingSince,
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
  };
}

export function deliveryView(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    type: delivery.type,
    status: delivery.status,
    attempts: delivery.attempts,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    lastResponse: delivery.lastResponse,
    lastAttemptAt: delivery.lastAttemptAt,
    nextAttemptAt: delivery.status === "pending" ? delivery.nextAttemptAt : null,
    deliveredAt: delivery.deliveredAt,
    createdAt: delivery.createdAt,
  };
}

/** `["*"]` stays as it is; a list loses its repeats and keeps its order. */
function normalisedEvents(events: readonly string[]): string[] {
  return events.includes("*") ? ["*"] : [...new Set(events)];
}

/** 422 url_not_allowed unless the URL is one deliveries may go to. */
async function checkUrl(env: Env, url: string): Promise<void> {
  const problem = webhookUrlProblem(url, { demo: env.DEMO === "on" });
  if (problem) throw new ApiError("url_not_allowed", `The webhook URL ${problem}.`, { details: [{ path: "url", message: problem }] });
  const host = new URL(url).hostname;
  const resolved = env.DEMO === "on" && (host === "127.0.0.1" || host === "localhost") ? null : await resolvedAddressProblem(env.WEBHOOK_DNS_RESOLVER, host);
  if (resolved) throw new ApiError("url_not_allowed", `The webhook URL's host ${resolved}.`, { details: [{ path: "url", message: resolved }] });
}

export async function createWebhook(env: Env, shop: Shop, input: z.infer<typeof CreateWebhook>, now = new Date()) {
  await checkUrl(env, input.url);
  if ((await readOne(env.DB, countEndpoints(env.DB, shop.id))) >= MAX_ENDPOINTS) {
    throw new ApiError("rule_violation", `A shop has at most ${MAX_ENDPOINTS} webhook endpoints; delete one first.`);
  }
  const secret = newWebhookSecret();
  const id = `wh_${toHex(randomBytes(12))}`;
  await commit(env.DB, [
    insertEndpoint(env.DB, shop.id, {
      id,
      url: new URL(input.url).href,
      events: normalisedEvents(input.events),
      description: input.description ?? null,
      sealedSecret: await sealWebhookSecret(env, secret),
      createdAt: now.toISOString(),
    }),
  ]);
  return { webhook: webhookView(await requireWebhook(env.DB, shop, id)), secret };
}

export async function requireWebhook(db: D1Database, shop: Shop, id: string): Promise<WebhookEndpoint> {
  const endpoint = await readOne(db, endpointById(db, shop.id, id));
  if (!endpoint) throw notFound("Webhook");
  return endpoint;
}

export async function listWebhooks(db: D1Database, shop: Shop) {
  return (await readOne(db, listEndpoints(db, shop.id))).map(webhookView);
}

export async function changeWebhook(env: Env, shop: Shop, id: string, change: z.infer<typeof UpdateWebhook>, now = new Date()) {
  await requireWebhook(env.DB, shop, id);
  if (change.url !== undefined) await checkUrl(env, change.url);
  const statements = updateEndpoint(
    env.DB,
    shop.id,
    id,
    {
      url: change.url === undefined ? undefined : new URL(change.url).href,
      events: change.events === undefined ? undefined : normalisedEvents(change.events),
      description: change.description,
      enabled: change.enabled,
    },
    now.toISOString(),
  );
  await commit(env.DB, statements);
  return webhookView(await requireWebhook(env.DB, shop, id));
}

export async function removeWebhook(db: D1Database, shop: Shop, id: string): Promise<void> {
  await requireWebhook(db, shop, id);
  await commit(db, deleteEndpoint(db, shop.id, id));
}

/** The log's cursor: the last delivery shown, as `<createdAt>|<id>`. */
function parseCursor(cursor: string | undefined): { createdAt: string; id: string } | null {
  if (cursor === undefined) return null;
  const [createdAt, id, ...rest] = cursor.split("|");
  if (!createdAt || !id || rest.length || Number.isNaN(Date.parse(createdAt))) {
    throw badRequest("The cursor is not one this API gave.", [{ path: "cursor", message: "use nextCursor from the previous page" }]);
  }
  return { createdAt, id };
}

export async function deliveryLog(db: D1Database, shop: Shop, id: string, query: z.infer<typeof DeliveriesQuery>) {
  const before = parseCursor(query.cursor);
  await requireWebhook(db, shop, id);
  const deliveries = await readOne(db, listDeliveries(db, shop.id, id, { limit: query.limit + 1, before, status: query.status ?? null }));
  const page = deliveries.slice(0, query.limit);
  const last = page.at(-1);
  return {
    deliveries: page.map(deliveryView),
    nextCursor: deliveries.length > query.limit && last ? `${last.createdAt}|${last.id}` : null,
  };
}

/** A delivery sent again now, whatever became of it (the receiver sees the same webhook-id). */
export async function retryDelivery(env: Env, shop: Shop, id: string, deliveryId: string, now = new Date()) {
  await requireWebhook(env.DB, shop, id);
  const delivery = await readOne(env.DB, deliveryById(env.DB, shop.id, id, deliveryId));
  if (!delivery) throw notFound("Delivery");
  await commit(env.DB, [retryDeliveryNow(env.DB, shop.id, id, deliveryId, now.toISOString())]);
  await enqueueDeliveries(env, [{ deliveryId, shopId: shop.id, base: delivery.attempts }]);
  return deliveryView((await readOne(env.DB, deliveryById(env.DB, shop.id, id, deliveryId)))!);
}

/** A sample of each event's `data`, for the test event (ids say they are samples). */
const SAMPLE_DATA: Record<DomainEventType, Record<string, unknown>> = {
  "member.created": { customerId: "sample-customer", email: "sample@example.com" },
  "points.earned": { customerId: "sample-customer", points: 50, kind: "order", reference: "sample-order", balance: 150 },
  "points.spent": { customerId: "sample-customer", points: 100, kind: "redemption", reference: "sample-redemption", balance: 50 },
  "points.expiring": { customerId: "sample-customer", points: 40, expiresAt: "2030-01-01T00:00:00.000Z" },
  "tier.changed": { customerId: "sample-customer", from: null, to: "Gold" },
  "reward.redeemed": { customerId: "sample-customer", redemption: { id: "sample-redemption", code: "SAMPLE-CODE", rewardId: "sample-reward", points: 100, status: "issued" } },
  "reward.used": { customerId: "sample-customer", redemption: { id: "sample-redemption", code: "SAMPLE-CODE", rewardId: "sample-reward", points: 100, status: "used" } },
  "reward.affordable": { customerId: "sample-customer", rewardId: "sample-reward", balance: 500 },
  "referral.completed": { referrerId: "sample-referrer", refereeId: "sample-referee", points: 200 },
  "challenge.completed": { customerId: "sample-customer", challengeId: "sample-challenge", points: 25, badge: null },
  "feedback.received": { customerId: "sample-customer", kind: "nps", score: 9, comment: null },
  "member.at_risk": { customerId: "sample-customer", lastOrderAt: "2030-01-01T00:00:00.000Z", expectedBy: "2030-02-01T00:00:00.000Z" },
};

/** A signed sample event to this endpoint alone (even a paused one), logged like any delivery. */
export async function sendTestEvent(env: Env, shop: Shop, id: string, type: DomainEventType = "member.created", now = new Date()) {
  await requireWebhook(env.DB, shop, id);
  const eventId = newEventId();
  const payload = { id: eventId, type, occurredAt: now.toISOString(), shopId: shop.id, test: true, data: SAMPLE_DATA[type] };
  const deliveryId = `dlv_${toHex(randomBytes(12))}`;
  await commit(env.DB, [
    insertTestDelivery(env.DB, shop.id, { id: deliveryId, endpointId: id, eventId, type, payload: JSON.stringify(payload), createdAt: now.toISOString() }),
  ]);
  await enqueueDeliveries(env, [{ deliveryId, shopId: shop.id, base: 0 }]);
  return deliveryView((await readOne(env.DB, deliveryById(env.DB, shop.id, id, deliveryId)))!);
}
