import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { SHOPIFY_API_VERSION } from "../adapters/shopify-admin";
import { bearerToken, requireMerchant } from "../auth/middleware";
import { verifyShopifySessionToken } from "../auth/shopify-session";
import { randomBytes, toHex } from "../crypto";
import { oauthState, verifyAdminQuery, verifyAppProxy, verifyOauthState, verifyShopifyWebhook } from "../auth/shopify";
import { issueSessionToken } from "../auth/storefront";
import {
  DataRequestList,
  ReconciliationRunAnswer,
  ReconciliationRuns,
  ShopifyConnectionView,
  ShopifyEmbeddedSession,
} from "../contract/shopify";
import type { StorefrontSession } from "../contract/storefront";
import { parseShopifyJson } from "../domain/shopify";
import { ApiError, badRequest, notFound, unauthorized } from "../http/errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { onError } from "../http/on-error";
import { clientAddress, spend } from "../http/rate-limit";
import { newRouter } from "../http/validation";
import {
  completeShopifyInstall,
  connectShopify,
  normaliseShopDomain,
  openEmbeddedApp,
  SHOPIFY_SCOPES,
  shopifyConnectionStatus,
} from "../services/shopify-install";
import { processShopifyWebhook } from "../services/shopify";
import { reconcileShopifyOrders, reconcileShopifyStore } from "../services/shopify-reconciliation";
import { enqueueShopifyDelivery, queuesShopifyWebhooks } from "../services/ingest-queue";
import { shopView } from "../services/shops";
import { dataRequestsOf } from "../store/data-requests";
import { reconciliationsOf } from "../store/shopify-reconciliations";
import { ensureMember } from "../services/storefront";
import { type Shop, shopByShopifyDomain } from "../store/shops";
import { engagementRoutes } from "./engagement";
import { storefrontRoutes } from "./storefront";

/** Shopify's surfaces: webhooks, the app proxy, and the merchant's connect and reconcile routes. */
export const shopifyRoutes = newRouter();

const WebhookAnswer = z
  .object({
    status: z.enum(["processed", "duplicate", "ignored", "rejected", "queued"]),
    topic: z.string(),
    eventId: z.string().optional(),
    reason: z.string().optional(),
  })
  .passthrough()
  .openapi("ShopifyWebhookAnswer");

shopifyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/shopify/webhooks",
    tags: ["Shopify"],
    summary: "Shopify webhook deliveries",
    description:
      "Topics orders/paid, orders/cancelled, refunds/create, customers/create, customers/data_request, " +
      "customers/redact, shop/redact and app/uninstalled. X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of " +
      "the raw body with the app secret (401, no effect, otherwise); the shop is X-Shopify-Shop-Domain; " +
      "X-Shopify-Event-Id (else X-Shopify-Webhook-Id) dedupes. 200 for accepted and duplicate deliveries. In the " +
      'queue mode (SHOPIFY_WEBHOOKS = "queue") a verified delivery is answered `queued` at once and applied by the ' +
      "queue's consumer with the same idempotent ingestion.",
    responses: { 200: jsonResponse(WebhookAnswer, "Accepted, duplicate, or ignored"), ...problems(400, 401, 413) },
  }),
  async (c) => {
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (!(await verifyShopifyWebhook(c.env.SHOPIFY_API_SECRET, raw, c.req.header("x-shopify-hmac-sha256")))) {
      throw unauthorized("The X-Shopify-Hmac-Sha256 signature does not match the body.");
    }
    const topic = (c.req.header("x-shopify-topic") ?? "").trim().toLowerCase();
    const deliveryId = c.req.header("x-shopify-event-id") || c.req.header("x-shopify-webhook-id");
    const domain = normaliseShopDomain(c.req.header("x-shopify-shop-domain"));
    if (!topic || !deliveryId || !domain) {
      throw badRequest("X-Shopify-Topic, X-Shopify-Shop-Domain and X-Shopify-Event-Id or X-Shopify-Webhook-Id are required.");
    }
    const payload = parseShopifyJson(new TextDecoder().decode(raw));
    if (payload === undefined) throw badRequest("The body is not JSON.");
    if (queuesShopifyWebhooks(c.env)) {
      const body = new TextDecoder().decode(raw);
      return c.json(await enqueueShopifyDelivery(c.env, { topic, deliveryId, domain, body, receivedAt: new Date().toISOString() }), 200);
    }
    const shop = await shopByShopifyDomain(c.env.DB, domain);
    // Not ours (never connected, or already erased): accepted, so Shopify stops retrying.
    if (!shop) return c.json({ status: "ignored" as const, topic, reason: "unknown_shop" }, 200);
    c.set("shop", shop);
    return c.json(await processShopifyWebhook(c.env, shop, { topic, deliveryId, payload }), 200);
  },
);

/**
 * The app proxy. Shopify forwards `https://{shop}/apps/laurel/...` here with `shop`,
 * `logged_in_customer_id`, `path_prefix`, `timestamp` and `signature` added to the query. A valid
 * signature authenticates the shop and the customer, so the storefront API below runs with that
 * identity, same-origin for the widget.
 */
const verifiedProxyRequests = new WeakMap<Request, { shop: Shop; customerId: string | null }>();
const proxiedStorefront = newRouter();

proxiedStorefront.use("*", async (c, next) => {
  const identity = verifiedProxyRequests.get(c.req.raw);
  if (!identity) throw unauthorized("Not an app proxy request.");
  // A verified customer not seen before becomes a member with balance 0.
  if (identity.customerId) await ensureMember(c.env.DB, identity.shop, identity.customerId, new Date());
  c.set("shop", identity.shop);
  c.set("customerId", identity.customerId);
  await next();
});

/** A session for the proxy's identity: no digest, the proxy signature already proved it. */
proxiedStorefront.post("/v1/storefront/sessions", async (c) => {
  await spend(c.env.SESSION_LIMITER, `session:${clientAddress(c)}`);
  const shop = c.var.shop;
  const customerId = c.var.customerId;
  const customer = customerId ? await ensureMember(c.env.DB, shop, customerId, new Date()) : null;
  const session = await issueSessionToken(c.env, { shopId: shop.id, customerId: customer?.id ?? null });
  return c.json({ ...session, customer } satisfies z.infer<typeof StorefrontSession>, 200);
});
proxiedStorefront.route("/", storefrontRoutes);
proxiedStorefront.route("/", engagementRoutes);
proxiedStorefront.notFound((c) => {
  throw notFound(`The storefront route ${new URL(c.req.url).pathname}`);
});
proxiedStorefront.onError(onError);

const PROXY_PARAMS = ["shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature"];

async function forwardThroughProxy(c: Context<AppEnv>) {
  const url = new URL(c.req.url);
  const verified = await verifyAppProxy(c.env.SHOPIFY_API_SECRET, url.searchParams);
  if (!verified) throw unauthorized("The app proxy signature is missing, does not match, or is stale.");
  const domain = normaliseShopDomain(verified.shop);
  const shop = domain ? await shopByShopifyDomain(c.env.DB, domain) : null;
  if (!shop) throw notFound("Shop");

  const path = url.pathname.slice("/shopify/proxy".length) || "/";
  if (!path.startsWith("/v1/storefront/")) throw notFound(`The storefront route ${path}`);
  const query = new URLSearchParams(url.searchParams);
  for (const name of PROXY_PARAMS) query.delete(name);
  // Public storefront routes name the shop by its public key.
  query.set("shop", shop.publicKey);

  const headers = new Headers(c.req.raw.headers);
  // Every request arrives from Shopify's servers; rate limits count the shopper, whom Shopify
  // names in X-Forwarded-For.
  const shopper = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
  if (shopper) headers.set("cf-connecting-ip", shopper);
  let body: string | undefined;
  if (c.req.method !== "GET" && c.req.method !== "HEAD") {
    body = await c.req.text();
    const parsed = body ? parseShopifyJson(body) : undefined;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed) && "shop" in parsed) {
      body = JSON.stringify({ ...parsed, shop: shop.publicKey });
    }
  }
  const forwarded = new Request(`${url.origin}${path}?${query}`, { method: c.req.method, headers, body });
  verifiedProxyRequests.set(forwarded, { shop, customerId: verified.loggedInCustomerId });
  let ctx: Context<AppEnv>["executionCtx"] | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    // Hono throws when the runtime gave no execution context.
  }
  return proxiedStorefront.fetch(forwarded, c.env, ctx);
}

shopifyRoutes.all("/shopify/proxy", forwardThroughProxy);
shopifyRoutes.all("/shopify/proxy/*", forwardThroughProxy);

const ConnectRequest = z
  .object({
    shopDomain: z.string().min(1).max(255).describe("The store's *.myshopify.com domain."),
    accessToken: z.string().min(1).max(255).describe("An Admin API access token with write_discounts."),
    apiOrigin: z
      .string()
      .max(2000)
      .refine((u) => /^https?:\/\//.test(u) && URL.canParse(u), "an http(s) URL")
      .optional()
      .describe("Where this Laurel runs, for the theme app extension; defaults to this request's origin."),
  })
  .openapi("ShopifyConnectRequest");

const ConnectAnswer = z
  .object({
    shopify: z.object({ domain: z.string(), connectedAt: z.string(), metafields: z.array(z.string()) }),
  })
  .openapi("ShopifyConnection");

for (const path of ["/v1/shopify/connect", "/v1/shopify/reconcile", "/v1/shopify/connection", "/v1/shopify/reconciliations", "/v1/data-requests"]) {
  shopifyRoutes.use(path, requireMerchant);
}

/** Every merchant credential: the secret key, a console session, a Shopify session token. */
const merchantSecurity: { [scheme: string]: string[] }[] = [{ secretKey: [] }, { consoleToken: [] }, { shopifySessionToken: [] }];

shopifyRoutes.openAPIRegistry.registerComponent("securitySchemes", "shopifySessionToken", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
  description:
    "A Shopify session token from App Bridge (shopify.idToken()) in the embedded app: HS256 with the app's client secret, " +
    "aud = SHOPIFY_API_KEY, dest = https://{shop}.myshopify.com of a connected shop; accepted wherever the secret key is.",
});

shopifyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/shopify/connection",
    tags: ["Shopify"],
    summary: "The shop and its Shopify connection",
    description:
      "Who the credential speaks for, and whether Laurel can reach the store: `connected`, `not_connected`, `uninstalled` or " +
      "`reconnect_required` (Shopify refused to renew Laurel's access), with what the merchant must do. The embedded console reads it first.",
    security: merchantSecurity,
    responses: { 200: jsonResponse(ShopifyConnectionView, "The shop and its connection"), ...problems(401) },
  }),
  async (c) => c.json({ shop: shopView(c.var.shop), shopify: await shopifyConnectionStatus(c.env, c.var.shop) }, 200),
);

shopifyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/shopify/reconciliations",
    tags: ["Shopify"],
    summary: "The scheduled reconciliation's last runs",
    description:
      "The daily run pulls the orders updated since the last run (the last day on the first) through the Admin API and " +
      "applies what webhooks missed: paid orders, refunds and cancellations, idempotent by order and refund id. The last 10 runs, newest first.",
    security: merchantSecurity,
    responses: { 200: jsonResponse(ReconciliationRuns, "The runs"), ...problems(401) },
  }),
  async (c) => c.json({ runs: await reconciliationsOf(c.env.DB, c.var.shop.id) }, 200),
);

shopifyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/shopify/reconciliations",
    tags: ["Shopify"],
    summary: "Reconcile now",
    description: "Runs the scheduled reconciliation for this shop at once (the console's \"Check now\"); the same run the daily cron makes.",
    security: merchantSecurity,
    responses: { 200: jsonResponse(ReconciliationRunAnswer, "The run"), ...problems(401, 422) },
  }),
  async (c) => {
    if (c.var.shop.platform !== "shopify") throw new ApiError("rule_violation", "Only a Shopify shop has a store to reconcile.");
    return c.json({ run: await reconcileShopifyStore(c.env, c.var.shop) }, 200);
  },
);

shopifyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/data-requests",
    tags: ["Shopify"],
    summary: "Customer data requests",
    description:
      "Every customers/data_request Shopify delivered (newest first, the last 100), with the export Laurel made when it " +
      "arrived. Shopify discards webhook answers: download each export here and send it to the customer.",
    security: merchantSecurity,
    responses: { 200: jsonResponse(DataRequestList, "The requests"), ...problems(401) },
  }),
  async (c) => {
    const requests = await dataRequestsOf(c.env.DB, c.var.shop.id);
    return c.json({ requests: requests.map(({ id, customerId, requestedAt, ordersRequested, export: data }) => ({ id, customerId, requestedAt, ordersRequested, export: data })) }, 200);
  },
);

shopifyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/shopify/connect",
    tags: ["Shopify"],
    summary: "Connect the shop to its Shopify store",
    description:
      "Stores the Admin API access token (sealed) and writes the app-owned metafields the theme app " +
      "extension reads: laurel.public_key, laurel.api_origin and laurel.widget_secret. 502 when Shopify refuses.",
    security: [{ secretKey: [] }],
    request: { body: jsonBody(ConnectRequest) },
    responses: { 200: jsonResponse(ConnectAnswer, "Connected"), ...problems(400, 401, 409) },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const apiOrigin = (body.apiOrigin ?? new URL(c.req.url).origin).replace(/\/+$/, "");
    return c.json(
      await connectShopify(c.env, c.var.shop, { shopDomain: body.shopDomain, accessToken: body.accessToken, apiOrigin }),
      200,
    );
  },
);

const ReconcileAnswer = z
  .object({
    orders: z.array(
      z.object({
        orderId: z.string().nullable(),
        status: z
          .enum(["credited", "held", "already_credited", "skipped"])
          .describe("`held`: a guest order, its points kept for its email for 30 days until a member with it appears."),
        reason: z.string().optional(),
        points: z.number().int(),
      }),
    ),
    credited: z.number().int(),
    points: z.number().int(),
  })
  .openapi("ShopifyReconciliation");

shopifyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/shopify/reconcile",
    tags: ["Shopify"],
    summary: "Credit orders whose webhooks never arrived",
    description:
      `Send a page of Shopify's orders API as it comes (\`{"orders": [...]}\` from GET /admin/api/${SHOPIFY_API_VERSION}/orders.json, ` +
      "at most 250 orders; use `fields=` to stay under 64 KB). Paid orders are credited, then their refunds and " +
      "cancellation applied, exactly as the webhooks would have; repeating a call, or overlapping the webhooks, moves nothing twice.",
    security: [{ secretKey: [] }],
    responses: { 200: jsonResponse(ReconcileAnswer, "What each order did"), ...problems(400, 401, 413, 415) },
  }),
  async (c) => {
    const payload = parseShopifyJson(await c.req.text()) as { orders?: unknown } | undefined;
    if (!payload || typeof payload !== "object" || !Array.isArray(payload.orders)) {
      throw badRequest('Send the orders API response: {"orders": [...]}.', [{ path: "orders", message: "an array of orders" }]);
    }
    if (payload.orders.length > 250) {
      throw badRequest("At most 250 orders per call (one page of the orders API).", [
        { path: "orders", message: "at most 250 items" },
      ]);
    }
    return c.json(await reconcileShopifyOrders(c.env, c.var.shop, payload.orders), 200);
  },
);

/**
 * The embedded app (`application_url`, `embedded = true`): Shopify opens it inside the admin with
 * a signed query (`shop`, `host`, `embedded`, `id_token`, `hmac`). The answer is the merchant
 * console, loaded the way Shopify documents for embedded apps: the `shopify-api-key` meta tag and
 * App Bridge's script from Shopify's CDN first in the head, so that the console's requests carry a
 * session token (`shopify.idToken()`) instead of a secret key. Only the Shopify admin may frame it.
 */
export const EMBEDDED_APP_PATH = "/shopify/app";
const APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

const escapeAttribute = (value: string) =>
  value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

shopifyRoutes.get(EMBEDDED_APP_PATH, async (c) => {
  const url = new URL(c.req.url);
  if (!(await verifyAdminQuery(c.env.SHOPIFY_API_SECRET, url.searchParams))) {
    throw unauthorized("The hmac of this Shopify request is missing, does not match, or is stale. Open the app from the Shopify admin.");
  }
  const shop = normaliseShopDomain(url.searchParams.get("shop"));
  if (!shop) throw badRequest("shop must be the store's *.myshopify.com domain.");
  if (!c.env.SHOPIFY_API_KEY) throw new ApiError("not_configured", "SHOPIFY_API_KEY is not set on this Laurel.");
  const page = await c.env.ASSETS.fetch(new Request(new URL("/console/index.html", url.origin)));
  if (!page.ok) throw new ApiError("not_configured", "The console is not built on this Laurel (npm run build).");
  const head =
    `<meta name="shopify-api-key" content="${escapeAttribute(c.env.SHOPIFY_API_KEY)}" />` +
    `<script src="${APP_BRIDGE}"></script>`;
  const html = (await page.text()).replace(/<head>/i, `<head>${head}`);
  return c.html(html, 200, {
    "Content-Security-Policy": `frame-ancestors https://${shop} https://admin.shopify.com;`,
    "Cache-Control": "no-store",
  });
});

shopifyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/shopify/session",
    tags: ["Shopify"],
    summary: "Open the embedded app",
    description:
      "Called by the embedded console with the admin's session token (App Bridge `shopify.idToken()`). When Laurel has no " +
      "usable token for the store, the session token is exchanged for an expiring offline token (token exchange); a store " +
      "Laurel does not know gets its shop (self-serve: its name, currency and domains from the Admin API); and the store is " +
      "connected (metafields included). Answers the shop and its connection; 401 for a token that is not a valid admin " +
      "session token of this app, 502 when Shopify refuses the exchange.",
    security: [{ shopifySessionToken: [] }],
    responses: { 200: jsonResponse(ShopifyEmbeddedSession, "The shop and its connection"), ...problems(401, 422, 502) },
  }),
  async (c) => {
    const token = bearerToken(c.req.header("authorization"));
    const session = token
      ? await verifyShopifySessionToken(token, { apiKey: c.env.SHOPIFY_API_KEY, apiSecret: c.env.SHOPIFY_API_SECRET })
      : null;
    if (!token || session?.kind !== "admin") {
      throw unauthorized("Laurel could not verify this session with Shopify. Reload the app from the Shopify admin.");
    }
    const apiOrigin = new URL(c.req.url).origin;
    const { shop, shopify } = await openEmbeddedApp(c.env, { sessionToken: token, shopDomain: session.shopDomain, apiOrigin });
    c.set("shop", shop);
    return c.json({ shop: shopView(shop), shopify }, 200);
  },
);

/**
 * Installing from an install link without Shopify managed installation: /shopify/auth (opened with
 * a signed `shop` query) starts the OAuth authorization code grant; the callback exchanges the code
 * for an expiring offline token, creates the store's Laurel shop if it has none (self-serve), and
 * connects it, then sends the merchant to the app in the Shopify admin. A cookie holds the state's
 * nonce, so only the browser that started the install can complete it.
 */
const STATE_COOKIE = "laurel_shopify_state";

function cookie(c: Context<AppEnv>, name: string): string | null {
  for (const part of (c.req.header("cookie") ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=") || null;
  }
  return null;
}

shopifyRoutes.get("/shopify/auth", async (c) => {
  const url = new URL(c.req.url);
  if (!(await verifyAdminQuery(c.env.SHOPIFY_API_SECRET, url.searchParams))) {
    throw unauthorized("The hmac of this Shopify request is missing, does not match, or is stale.");
  }
  const shop = normaliseShopDomain(url.searchParams.get("shop"));
  if (!shop) throw badRequest("shop must be the store's *.myshopify.com domain.");
  if (!c.env.SHOPIFY_API_KEY) throw new ApiError("not_configured", "SHOPIFY_API_KEY is not set on this Laurel.");
  const nonce = toHex(randomBytes(16));
  const authorize = new URL(`https://${shop}/admin/oauth/authorize`);
  authorize.searchParams.set("client_id", c.env.SHOPIFY_API_KEY);
  authorize.searchParams.set("scope", SHOPIFY_SCOPES);
  authorize.searchParams.set("redirect_uri", `${url.origin}/shopify/auth/callback`);
  authorize.searchParams.set("state", await oauthState(c.env.SHOPIFY_API_SECRET, shop, nonce));
  c.header("Set-Cookie", `${STATE_COOKIE}=${nonce}; Path=/shopify/auth; Max-Age=600; HttpOnly; Secure; SameSite=Lax`);
  return c.redirect(authorize.toString(), 302);
});

shopifyRoutes.get("/shopify/auth/callback", async (c) => {
  const url = new URL(c.req.url);
  const params = url.searchParams;
  const shop = normaliseShopDomain(params.get("shop"));
  const valid =
    shop !== null &&
    (await verifyAdminQuery(c.env.SHOPIFY_API_SECRET, params)) &&
    (await verifyOauthState(c.env.SHOPIFY_API_SECRET, shop, params.get("state"), cookie(c, STATE_COOKIE)));
  if (!valid || !shop) throw unauthorized("This install callback is not signed by Shopify for the install started here.");
  const code = params.get("code");
  if (!code) throw badRequest("The callback carries no code.");
  await completeShopifyInstall(c.env, { shopDomain: shop, code, apiOrigin: url.origin });
  c.header("Set-Cookie", `${STATE_COOKIE}=; Path=/shopify/auth; Max-Age=0; HttpOnly; Secure; SameSite=Lax`);
  // Into the app inside the Shopify admin, where the console opens with session tokens.
  return c.redirect(`https://${shop}/admin/apps/${encodeURIComponent(c.env.SHOPIFY_API_KEY ?? "")}`, 302);
});
