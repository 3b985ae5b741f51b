import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { bearerToken } from "../auth/middleware";
import { verifyShopifySessionToken } from "../auth/shopify-session";
import { StorefrontState } from "../contract/storefront";
import { badRequest, unauthorized } from "../http/errors";
import { jsonResponse, problems } from "../http/openapi";
import { newRouter } from "../http/validation";
import { ensureMember, publicShopOf, storefrontState } from "../services/storefront";
import { readOne } from "../store/batch";
import { readOrder } from "../store/orders";
import { shopByShopifyDomain } from "../store/shops";

/**
 * Shopify customer accounts: the customer account UI extension (widget/shopify/customer-account)
 * calls these with the customer's session token (`shopify.sessionToken.get()`: HS256 with the
 * app's client secret, `dest` the shop, `sub` the customer's GID). The extension runs on Shopify's
 * extension origin, so the answers carry CORS for any origin: they hold only the signed-in
 * customer's own loyalty data, and nothing here reads a cookie.
 */
export const customerAccountRoutes = newRouter();

const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "Authorization, Accept, Content-Type",
  "Access-Control-Allow-Methods": "GET, OPTIONS",
  "Access-Control-Max-Age": "7200",
};

customerAccountRoutes.use("/shopify/customer-account/*", async (c, next) => {
  await next();
  for (const [name, value] of Object.entries(CORS)) c.res.headers.set(name, value);
});
customerAccountRoutes.options("/shopify/customer-account/*", (c) => c.body(null, 204));

/**
 * The shop and the signed-in customer a customer account session token names. `check` runs once
 * the token holds and before anything is written, so a bad request from a signed-in customer is
 * refused (400) with nothing changed, and a caller without a token is 401 whatever it sent.
 */
async function customerOf(c: Context<AppEnv>, check?: () => void) {
  const token = bearerToken(c.req.header("authorization"));
  const session = token
    ? await verifyShopifySessionToken(token, { apiKey: c.env.SHOPIFY_API_KEY, apiSecret: c.env.SHOPIFY_API_SECRET })
    : null;
  const shop = session?.kind === "customer" && session.subject ? await shopByShopifyDomain(c.env.DB, session.shopDomain) : null;
  if (!session?.subject || !shop) {
    throw unauthorized("Send the customer's session token from shopify.sessionToken.get(); the customer must be signed in.");
  }
  c.set("shop", shop);
  c.set("customerId", session.subject);
  check?.();
  // A verified customer not seen before becomes a member with balance 0.
  await ensureMember(c.env.DB, shop, session.subject, new Date());
  return { shop, customerId: session.subject };
}

const security = [{ customerAccountSessionToken: [] }];
customerAccountRoutes.openAPIRegistry.registerComponent("securitySchemes", "customerAccountSessionToken", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
  description: "A customer account UI extension's session token (shopify.sessionToken.get()), for a signed-in customer.",
});

customerAccountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/shopify/customer-account/state",
    tags: ["Shopify"],
    summary: "The loyalty page of Shopify's customer accounts",
    description: "The same state as GET /v1/storefront/state, for the customer the session token names.",
    security,
    responses: { 200: jsonResponse(StorefrontState, "The customer's loyalty state"), ...problems(401) },
  }),
  async (c) => {
    const { shop, customerId } = await customerOf(c);
    return c.json(await storefrontState(c.env, publicShopOf(shop), customerId), 200);
  },
);

const OrderPoints = z
  .object({
    order: z
      .object({ id: z.string(), points: z.number().int().describe("What the order earned, less what its refunds took back."), status: z.string() })
      .nullable()
      .describe("Null until Laurel has the order (its webhook may still be on its way), or for another customer's order."),
  })
  .openapi("CustomerAccountOrderPoints");

customerAccountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/shopify/customer-account/orders/{orderId}",
    tags: ["Shopify"],
    summary: "What one of the customer's orders earned",
    description: "For the order status block. `orderId` is the numeric Shopify order id.",
    security,
    // Checked after the session token, so a caller without one is 401 whatever the id.
    request: { params: z.object({ orderId: z.string().min(1).max(40).describe("A numeric Shopify order id") }) },
    responses: { 200: jsonResponse(OrderPoints, "The order's points"), ...problems(400, 401) },
  }),
  async (c) => {
    const { orderId } = c.req.valid("param");
    const { shop, customerId } = await customerOf(c, () => {
      if (!/^\d{1,20}$/.test(orderId)) throw badRequest("orderId must be a numeric Shopify order id.", [{ path: "orderId", message: "digits only" }]);
    });
    const order = await readOne(c.env.DB, readOrder(c.env.DB, shop.id, orderId));
    if (!order || order.customerExternalId !== customerId) return c.json({ order: null }, 200);
    return c.json(
      { order: { id: order.externalId, points: Math.max(0, order.pointsAwarded - order.pointsReversed), status: order.status } },
      200,
    );
  },
);
