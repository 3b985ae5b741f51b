/**
 * Shopify: webhook topics turned into loyalty events (through the same ingestion and the same
 * received_events dedupe as POST /v1/events), the GDPR topics, the shop's Admin API connection,
 * and reconciliation of orders whose webhooks never came (discount codes: services/codes.ts).
 */
import {
  type AdminClientOptions,
  adminOrigin,
  exchangeOAuthCode,
  ShopifyAdminError,
  writeStorefrontMetafields,
} from "../adapters/shopify-admin";
import { openAccessToken, sealAccessToken } from "../auth/shopify";
import { type EventResult, LoyaltyEvent } from "../contract/events";
import {
  customerCreatedFromShopify,
  gdprCustomerRequest,
  type Mapped,
  orderCancelledFromShopify,
  orderPaidFromShopify,
  orderRefundedFromShopify,
  reconcileShopifyOrder,
} from "../domain/shopify";
import type { Env } from "../env";
import { ApiError, badRequest, conflict } from "../http/errors";
import { forgetCachedShop } from "../store/cache";
import { commit, readOne, StaleWrite } from "../store/batch";
import { customerByExternalId } from "../store/customers";
import { eventReceived, recordEventOnce } from "../store/events";
import { type Shop, shopByShopifyDomain } from "../store/shops";
import { eraseShopStatements, markShopifyUninstalled, saveShopifyConnection, shopifyConnectionOf } from "../store/shopify";
import { ingestEvent } from "./events";
import { exportCustomer, redactCustomer } from "./customers";

/** The received_events source of everything that comes from Shopify. */
const SHOPIFY_SOURCE = "shopify";

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
      if (known && topic === "customers/data_request") exported = await exportCustomer(env.DB, shop, request.customerId);
      await markReceived(env, shop, eventId, topic, now);
      return {
        status: known ? "processed" : "ignored",
        topic,
        eventId,
        ...(known ? {} : { reason: "unknown_customer" }),
        ...(topic === "customers/data_request" ? { export: exported } : {}),
      };
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

const SHOPIFY_DOMAIN = /^[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com$/;

export function normaliseShopDomain(domain: string | null | undefined): string | null {
  const value = (domain ?? "").trim().toLowerCase();
  return SHOPIFY_DOMAIN.test(value) ? value : null;
}

/** The shop's Admin API connection, or null when it has none (or it was uninstalled). */
export async function shopifyConnection(env: Env, shop: Shop) {
  const row = await shopifyConnectionOf(env.DB, shop.id);
  if (!row?.domain || !row.sealedToken || !env.SHOPIFY_API_SECRET) return null;
  const accessToken = await openAccessToken(env.SHOPIFY_API_SECRET, row.sealedToken);
  return accessToken ? { shopifyDomain: row.domain, accessToken } : null;
}

/**
 * Connects a shop to its Shopify store: checks the token by writing the storefront metafields the
 * theme app extension reads (public key, API origin, widget secret), then stores the sealed token.
 * A token Shopify refuses changes nothing here.
 */
export async function connectShopify(
  env: Env,
  shop: Shop,
  input: { shopDomain: string; accessToken: string; apiOrigin: string },
  now = new Date(),
  adminOptions: AdminClientOptions = {},
) {
  const domain = normaliseShopDomain(input.shopDomain);
  if (!domain) {
    throw badRequest("shopDomain must be the store's *.myshopify.com domain.", [
      { path: "shopDomain", message: "such as my-store.myshopify.com" },
    ]);
  }
  try {
    await writeStorefrontMetafields(
      { origin: adminOrigin(env, domain), accessToken: input.accessToken },
      { public_key: shop.publicKey, api_origin: input.apiOrigin, widget_secret: shop.widgetSecret },
      adminOptions,
    );
  } catch (err) {
    if (!(err instanceof ShopifyAdminError)) throw err;
    throw new ApiError("upstream_failed", `Shopify refused the connection: ${err.message}`, {
      details: { kind: err.kind, status: err.details.status ?? null },
    });
  }
  const sealedToken = await sealAccessToken(env.SHOPIFY_API_SECRET, input.accessToken);
  try {
    await commit(env.DB, [saveShopifyConnection(env.DB, shop.id, { domain, sealedToken, connectedAt: now.toISOString() })]);
  } catch (err) {
    if (err instanceof StaleWrite && err.uniqueOn("shops", "shopify_domain")) throw conflict(`${domain} is connected to another shop.`);
    throw err;
  }
  await forgetCachedShop(env.KV, shop.id);
  return { shopify: { domain, connectedAt: now.toISOString(), metafields: ["public_key", "api_origin", "widget_secret"] } };
}

/** The scopes Laurel asks for when a store installs the app. */
export const SHOPIFY_SCOPES = "read_orders,read_customers,write_discounts,write_app_proxy";

/**
 * The end of the OAuth install: the store's Laurel shop (created by the operator with this
 * shopifyDomain) gets the offline token the code is exchanged for, and the metafields.
 */
export async function completeShopifyInstall(
  env: Env,
  input: { shopDomain: string; code: string; apiOrigin: string },
  now = new Date(),
) {
  const domain = normaliseShopDomain(input.shopDomain);
  const shop = domain ? await shopByShopifyDomain(env.DB, domain) : null;
  if (!domain || !shop) {
    throw new ApiError(
      "not_found",
      `No Laurel shop is set up for ${input.shopDomain}; the operator creates it first (POST /v1/shops with shopifyDomain).`,
    );
  }
  if (!env.SHOPIFY_API_KEY) throw new ApiError("not_configured", "SHOPIFY_API_KEY is not set on this Laurel.");
  let token: { accessToken: string; scope: string };
  try {
    token = await exchangeOAuthCode(adminOrigin(env, domain), {
      clientId: env.SHOPIFY_API_KEY,
      clientSecret: env.SHOPIFY_API_SECRET,
      code: input.code,
    });
  } catch (err) {
    if (!(err instanceof ShopifyAdminError)) throw err;
    throw new ApiError("upstream_failed", `Shopify refused the authorization code: ${err.message}`);
  }
  return connectShopify(env, shop, { shopDomain: domain, accessToken: token.accessToken, apiOrigin: input.apiOrigin }, now);
}

export interface ReconciledOrder {
  orderId: string | null;
  status: "credited" | "already_credited" | "skipped";
  reason?: string;
  points: number;
}

/**
 * Orders from Shopify's orders API, replayed as the webhooks would have delivered them. Every step
 * is idempotent on Shopify's own ids, so overlapping or repeated calls move no points twice.
 */
export async function reconcileShopifyOrders(env: Env, shop: Shop, orders: unknown[], now = new Date()) {
  const { includeTax, includeShipping } = shop.program.earning;
  const results: ReconciledOrder[] = [];
  for (const order of orders) {
    const replay = reconcileShopifyOrder(order, { includeTax, includeShipping });
    const idOf = (order as { id?: unknown } | null)?.id;
    if (!replay.ok) {
      results.push({
        orderId: typeof idOf === "string" || typeof idOf === "number" ? String(idOf) : null,
        status: "skipped",
        reason: replay.reason === "guest_order" ? "guest_order" : replay.issues.join("; "),
        points: 0,
      });
      continue;
    }
    let points = 0;
    let credited = false;
    try {
      for (const event of replay.events) {
        // An order our event contract refuses (amounts beyond its bounds) is skipped, never a 500.
        const checked = LoyaltyEvent.safeParse(event);
        if (!checked.success) {
          throw badRequest(checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
        }
        const result = await ingestEvent(env.DB, shop, SHOPIFY_SOURCE, checked.data, now);
        points += result.points;
        if (event.type === "order.paid" && result.status === "processed") credited = true;
      }
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      results.push({ orderId: replay.orderId, status: "skipped", reason: err.message, points });
      continue;
    }
    results.push({ orderId: replay.orderId, status: credited ? "credited" : "already_credited", points });
  }
  return {
    orders: results,
    credited: results.filter((r) => r.status === "credited").length,
    points: results.reduce((sum, r) => sum + r.points, 0),
  };
}
