
import { newId } from "../auth/keys";
import { type EventResult, LoyaltyEvent } from "../contract/events";
import {
  customerCreatedFromShopify,
  gdprCustomerRequest,
  type Mapped,
  orderCancelledFromShopify,
  orderPaidFromShopify,
  orderRefundedFromShopify,
} from "../domain/shopify";
import type { Env } from "../env";
import { ApiError, badRequest } from "../http/errors";
import { forgetCachedShop } from "../store/cache";
import { commit, readOne, StaleWrite } from "../store/batch";
import { customerByExternalId } from "../store/customers";
import { insertDataRequest } from "../store/data-requests";
import { eventReceived, recordEventOnce } from "../store/events";
import type { Shop } from "../store/shops";
import { eraseShopStatements, markShopifyUninstalled } from "../store/shopify";
import { ingestEvent } from "./events";
import { exportCustomer, redactCustomer } from "./customers";

/** The received_events source of everything that comes from Shopify. */
export const SHOPIFY_SOURCE = "shopify";

export interface WebhookDelivery {
  topic: string;
  /** X-Shopify-Event-Id, else X-Shopify-Webhook-Id. */
  deliveryId: string;
  payload: unknown;
}

export interface WebhookOutcome {
  status: "processed" | "duplicate" | "ignored" | "rejected";
  topic: string;
  eventId: string;
  reason?: string;
  result?: EventResult;
  /** customers/data_request: the recorded request (GET /v1/data-requests) and its export. */
  dataRequestId?: string;
  export?: unknown;
  error?: { code: string; message: string; details?: unknown };
}

/**
 * The received_events id of a delivery. X-Shopify-Event-Id is shared by every delivery of one
 * merchant action (a checkout fires orders/paid and customers/create with the same id), so the id
 * is scoped by topic: a retry of the same topic is a duplicate, another topic is not.
 */
const deliveryEventId = (topic: string, deliveryId: string) => `${topic}:${deliveryId}`;

async function alreadyReceived(env: Env, shop: Shop, eventId: string): Promise<boolean> {
  return readOne(env.DB, eventReceived(env.DB, shop.id, SHOPIFY_SOURCE, eventId));
}

/** Records a delivery that changed nothing else (a concurrent delivery recording it first is the same outcome). */
async function markReceived(env: Env, shop: Shop, eventId: string, topic: string, now: Date): Promise<void> {
  await commit(env.DB, [
    recordEventOnce(env.DB, shop.id, { source: SHOPIFY_SOURCE, id: eventId, type: topic, receivedAt: now.toISOString() }),
  ]);
}

/**
 * customers/data_request: Shopify discards the response body, so the request and its export are
 * recorded with the delivery (one batch) for the store owner to download from the console. Null
 * when a concurrent delivery of the same request recorded it first.
 */
async function recordDataRequest(
  env: Env,
  shop: Shop,
  eventId: string,
  request: { customerId: string; orderIds: string[] },
  exported: unknown,
  now: Date,
): Promise<string | null> {
  const id = newId("dr");
  try {
    await commit(env.DB, [
      recordEventOnce(env.DB, shop.id, { source: SHOPIFY_SOURCE, id: eventId, type: "customers/data_request", receivedAt: now.toISOString() }),
      insertDataRequest(env.DB, shop.id, {
        id,
        customerId: request.customerId,
        deliveryId: eventId,
        ordersRequested: request.orderIds,
        export: exported,
        requestedAt: now.toISOString(),
      }),
    ]);
    return id;
  } catch (err) {
    if (err instanceof StaleWrite && err.uniqueOn("data_requests")) return null;
    throw err;
  }
}

/** Validates a mapped event against our own contract and ingests it; refusals are kept as `rejected`. */
async function ingestMapped(
  env: Env,
  shop: Shop,
  topic: string,
  eventId: string,
  mapped: Mapped<LoyaltyEvent>,
  now: Date,
): Promise<WebhookOutcome> {
  if (!mapped.ok) {
    if (await alreadyReceived(env, shop, eventId)) return { status: "duplicate", topic, eventId };
    await markReceived(env, shop, eventId, topic, now);
    return mapped.reason === "guest_order"
      ? { status: "ignored", topic, eventId, reason: "guest_order" }
      : {
          status: "rejected",
          topic,
          eventId,
          error: { code: "invalid_payload", message: "The payload is not what Shopify documents.", details: mapped.issues },
        };
  }
  const checked = LoyaltyEvent.safeParse(mapped.event);
  try {
    if (!checked.success) {
      throw badRequest("The mapped event breaks the event contract.", checked.error.issues);
    }
    const result = await ingestEvent(env.DB, shop, SHOPIFY_SOURCE, checked.data, now);
    return { status: result.status, topic, eventId, result };
  } catch (err) {
    // A permanent refusal (wrong currency, impossible amounts) is answered 200 and remembered:
    // Shopify retries anything else, and then drops the subscription after repeated failures.
    if (!(err instanceof ApiError)) throw err;
    if (await alreadyReceived(env, shop, eventId)) return { status: "duplicate", topic, eventId };
    await markReceived(env, shop, eventId, topic, now);
    return { status: "rejected", topic, eventId, error: err.toBody().error };
  }
}

/** One verified delivery for a known shop. Every effect is committed before this returns. */
export async function processShopifyWebhook(
  env: Env,
  shop: Shop,
  delivery: WebhookDelivery,
  now = new Date(),
): Promise<WebhookOutcome> {
  const { topic, payload } = delivery;
  const eventId = deliveryEventId(topic, delivery.deliveryId);
  const earning = shop.program.earning;

  switch (topic) {
    case "orders/paid":
      return ingestMapped(env, shop, topic, eventId, orderPaidFromShopify(payload, eventId), now);
    case "orders/cancelled":
      return ingestMapped(env, shop, topic, eventId, orderCancelledFromShopify(payload, eventId), now);
    case "refunds/create":
      return ingestMapped(
        env,
        shop,
        topic,
        eventId,
        orderRefundedFromShopify(payload, eventId, {
          currency: shop.currency,
          includeTax: earning.includeTax,
          includeShipping: earning.includeShipping,
        }),
        now,
      );
    case "customers/create":
      return ingestMapped(env, shop, topic, eventId, customerCreatedFromShopify(payload, eventId), now);
    case "customers/data_request":
    case "customers/redact": {
      if (await alreadyReceived(env, shop, eventId)) return { status: "duplicate", topic, eventId };
      const request = gdprCustomerRequest(payload);
      if (!request) {
        await markReceived(env, shop, eventId, topic, now);
        return { status: "rejected", topic, eventId, error: { code: "invalid_payload", message: "No customer id in the payload." } };
      }
      const known = (await customerByExternalId(env.DB, shop.id, request.customerId)) !== null;
      let exported: unknown = null;
      if (known && topic === "customers/redact") await redactCustomer(env.DB, shop, request.customerId, now);
      if (topic === "customers/data_request") {
        if (known) exported = await exportCustomer(env.DB, shop, request.customerId);
        const dataRequestId = await recordDataRequest(env, shop, eventId, request, exported, now);
        if (!dataRequestId) return { status: "duplicate", topic, eventId };
        return {
          status: known ? "processed" : "ignored",
          topic,
          eventId,
          ...(known ? {} : { reason: "unknown_customer" }),
          dataRequestId,
          export: exported,
        };
      }
      await markReceived(env, shop, eventId, topic, now);
      return { status: known ? "processed" : "ignored", topic, eventId, ...(known ? {} : { reason: "unknown_customer" }) };
    }
    case "shop/redact": {
      // The signed X-Shopify-Shop-Domain names the shop (the payload repeats it).
      await commit(env.DB, eraseShopStatements(env.DB, shop.id));
      await forgetCachedShop(env.KV, shop.id);
      return { status: "processed", topic, eventId };
    }
    case "app/uninstalled": {
      if (await alreadyReceived(env, shop, eventId)) return { status: "duplicate", topic, eventId };
      await markShopifyUninstalled(env.DB, shop.id, now.toISOString());
      await markReceived(env, shop, eventId, topic, now);
      return { status: "processed", topic, eventId };
    }
    default:
      return { status: "ignored", topic, eventId, reason: "unsubscribed_topic" };
  }
}

