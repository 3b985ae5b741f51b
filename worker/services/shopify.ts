/**
 * Shopify: webhook topics turned into loyalty events (through the same ingestion and the same
 * received_events dedupe as POST /v1/events), the GDPR topics, the shop's Admin API connection,
 * and reconciliation of orders whose webhooks never came (discount codes: services/codes.ts).
 */
import {
  type AdminClientOptions,
  adminOrigin,
  requestShopifyToken,
  ShopifyAdminError,
  type ShopifyTokenSet,
  writeStorefrontMetafields,
} from "../adapters/shopify-admin";
import { currentShopifyAccess, sealTokenSet } from "../adapters/shopify-tokens";
import { newId } from "../auth/keys";
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
import { insertDataRequest } from "../store/data-requests";
import { eventReceived, recordEventOnce } from "../store/events";
import { type Shop, shopByShopifyDomain } from "../store/shops";
import { eraseShopStatements, markShopifyUninstalled, saveShopifyConnection } from "../store/shopify";
import { shopifyTokenOf } from "../store/shopify-tokens";
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

const SHOPIFY_DOMAIN = /^[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com$/;

export function normaliseShopDomain(domain: string | null | undefined): string | null {
  const value = (domain ?? "").trim().toLowerCase();
  return SHOPIFY_DOMAIN.test(value) ? value : null;
}

/** Whether Laurel can reach the shop's store, and what the merchant must do when it cannot. */
export async function shopifyConnectionStatus(env: Env, shop: Shop) {
  const row = await shopifyTokenOf(env.DB, shop.id);
  const domain = row?.domain ?? null;
  const view = (status: "connected" | "not_connected" | "uninstalled" | "reconnect_required", message: string) => ({
    status,
    domain,
    tokenExpiresAt: status === "connected" ? (row?.expiresAt ?? null) : null,
    message,
  });
  if (row?.uninstalledAt && !row.sealedToken) {
    return view("uninstalled", "The app was uninstalled from this store. Install it again from the Shopify App Store or your install link.");
  }
  if (row?.error && !row.sealedToken) {
    return view(
      "reconnect_required",
      `${row.error} Open Laurel from your Shopify admin (Apps → Laurel) to grant access again; if that does not help, reinstall the app.`,
    );
  }
  if (!row?.sealedToken || !domain) {
    return view("not_connected", "This shop is not connected to a Shopify store. Install the app from the Shopify admin.");
  }
  return view("connected", "Connected.");
}

/** The shop's Admin API connection (its token refreshed when due), or null when it has none. */
export function shopifyConnection(env: Env, shop: Shop) {
  return currentShopifyAccess(env, shop.id);
}

/**
 * Connects a shop to its Shopify store: checks the token by writing the storefront metafields the
 * theme app extension reads (public key, API origin, widget secret), then stores the sealed token.
 * A token Shopify refuses changes nothing here.
 */
export async function connectShopify(
  env: Env,
  shop: Shop,
  input: { shopDomain: string; accessToken: string; apiOrigin: string; token?: ShopifyTokenSet },
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
  // A token from the install is expiring; one connected by hand (a custom app's) does not expire.
  const token = input.token ?? { accessToken: input.accessToken, scope: "", expiresAt: null, refreshToken: null, refreshExpiresAt: null };
  const sealed = await sealTokenSet(env.SHOPIFY_API_SECRET, token, token.expiresAt ? "expiring" : "manual");
  try {
    await commit(env.DB, [saveShopifyConnection(env.DB, shop.id, { domain, connectedAt: now.toISOString(), ...sealed })]);
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
  let token: ShopifyTokenSet;
  try {
    token = await requestShopifyToken(
      adminOrigin(env, domain),
      { clientId: env.SHOPIFY_API_KEY, clientSecret: env.SHOPIFY_API_SECRET },
      { code: input.code },
    );
  } catch (err) {
    if (!(err instanceof ShopifyAdminError)) throw err;
    throw new ApiError("upstream_failed", `Shopify refused the authorization code: ${err.message}`);
  }
  return connectShopify(env, shop, { shopDomain: domain, accessToken: token.accessToken, apiOrigin: input.apiOrigin, token }, now);
}

/**
 * The embedded app opened in the Shopify admin: when Laurel has no usable token for the store (a
 * managed install, a token Shopify stopped renewing, a legacy one), the admin's session token is
 * exchanged for an expiring offline token (token exchange, Shopify's documented path for embedded
 * apps) and the store is connected with it. Then the connection as it stands.
 */
export async function openEmbeddedApp(env: Env, shop: Shop, input: { sessionToken: string; shopDomain: string; apiOrigin: string }) {
  const status = await shopifyConnectionStatus(env, shop);
  if (status.status === "connected") return status;
  if (!env.SHOPIFY_API_KEY) throw new ApiError("not_configured", "SHOPIFY_API_KEY is not set on this Laurel.");
  let token: ShopifyTokenSet;
  try {
    token = await requestShopifyToken(
      adminOrigin(env, input.shopDomain),
      { clientId: env.SHOPIFY_API_KEY, clientSecret: env.SHOPIFY_API_SECRET },
      { sessionToken: input.sessionToken },
    );
  } catch (err) {
    if (!(err instanceof ShopifyAdminError)) throw err;
    throw new ApiError(
      "upstream_failed",
      `Shopify did not grant Laurel access to ${input.shopDomain} (${err.message}). Reinstall the app from the Shopify admin.`,
    );
  }
  await connectShopify(env, shop, { shopDomain: input.shopDomain, accessToken: token.accessToken, apiOrigin: input.apiOrigin, token });
  return shopifyConnectionStatus(env, shop);
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
