import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { hmacSha256, sha256Hex, toHex } from "../crypto";
import { requireOperator } from "../auth/middleware";
import type { LoyaltyEvent } from "../contract/events";
import { Money } from "../contract/program";
import { formatMoney, parseMoney } from "../domain/money";
import { ApiError, badRequest } from "../http/errors";
import { fieldErrors, newRouter } from "../http/validation";
import { DEMO_CUSTOMERS, ensureDemoShop } from "../services/demo";
import { ingestEvent } from "../services/events";

/**
 * The demo shop's server side, only when the DEMO var is "on" (npm start); a deployed worker
 * answers 404 for all of /demo/. Pages themselves are static assets under dist/public/demo/.
 * It plays the merchant's own server: it signs the demo shoppers' digests (and only theirs) and
 * sends their orders and reviews as events, so the widget can be tried end to end.
 */
export const demoRoutes = newRouter();

demoRoutes.use("/demo/*", async (c, next) => {
  if (c.env.DEMO !== "on") throw new ApiError("not_found", "The demo shop is off in this deployment.");
  await next();
});

/** The demo shop, created on first use with this origin (and its localhost twin) allowed. */
function demoShop(c: Context<AppEnv>) {
  const origin = new URL(c.req.url).origin;
  return ensureDemoShop(c.env, [origin, origin.replace("127.0.0.1", "localhost")]);
}

/** Used by `npm start` (scripts/start.mjs) to find or create the demo shop and print its keys. */
demoRoutes.post("/demo/api/shop", requireOperator, async (c) => {
  const demo = await demoShop(c);
  return c.json({
    shop: { id: demo.shop.id, name: demo.shop.name, publicKey: demo.publicKey },
    secretKey: demo.secretKey,
    webhookSecret: demo.webhookSecret,
    widgetSecret: demo.widgetSecret,
    customers: DEMO_CUSTOMERS,
  });
});

const DemoShopper = z.enum(["guest", ...DEMO_CUSTOMERS.map((customer) => customer.id)]);

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest("The request is not valid; see details for each field.", fieldErrors(result.error));
  return result.data;
}

/**
 * What the shop's page puts on the script tag: the public key and, for a signed-in demo
 * shopper, `{id, ts, digest}` signed with the widget secret, exactly as a merchant's server would.
 */
demoRoutes.get("/demo/api/session", async (c) => {
  const shopper = parse(DemoShopper, c.req.query("customer") ?? "guest");
  const demo = await demoShop(c);
  let customer: { id: string; ts: string; digest: string } | null = null;
  if (shopper !== "guest") {
    const ts = String(Math.floor(Date.now() / 1000));
    customer = { id: shopper, ts, digest: toHex(await hmacSha256(demo.widgetSecret, `${shopper}.${ts}`)) };
  }
  return c.json({
    shop: demo.publicKey,
    currency: demo.shop.currency,
    customer,
    customers: DEMO_CUSTOMERS.map(({ id, firstName }) => ({ id, firstName })),
  });
});

const DemoOrder = z.object({
  customer: DemoShopper,
  /** A guest checks out with an email (how a referee's first order is recognised). */
  email: z.email().max(320).optional(),
  items: z
    .array(
      z.object({
        sku: z.string().min(1).max(100),
        productType: z.string().min(1).max(100).optional(),
        quantity: z.number().int().min(1).max(100),
        price: Money,
      }),
    )
    .min(1)
    .max(50),
  discountCodes: z.array(z.string().trim().min(1).max(64)).max(5).optional(),
});

/** A guest's customer id, stable per email, so a referee's orders add up to one customer. */
async function guestId(email: string): Promise<string> {
  return `demo-guest-${(await sha256Hex(email.trim().toLowerCase())).slice(0, 16)}`;
}

/** "Place order": an `order.paid` event, ingested as if the shop's platform had sent it. */
demoRoutes.post("/demo/api/orders", async (c) => {
  const order = parse(DemoOrder, await c.req.json().catch(() => null));
  const demo = await demoShop(c);
  const known = DEMO_CUSTOMERS.find((customer) => customer.id === order.customer);
  const email = known?.email ?? order.email;
  if (!email) throw badRequest("A guest order needs an email.", [{ path: "email", message: "required for guests" }]);
  const customerId = known?.id ?? (await guestId(email));
  const currency = demo.shop.currency;
  let subtotal = 0;
  for (const item of order.items) subtotal += (parseMoney(item.price, currency) ?? 0) * item.quantity;
  const number = crypto.randomUUID().slice(0, 8).toUpperCase();
  const event: LoyaltyEvent = {
    id: `demo-event-${number}`,
    type: "order.paid",
    occurredAt: new Date().toISOString(),
    order: {
      id: `DEMO-${number}`,
      customerId,
      email,
      currency,
      subtotal: formatMoney(subtotal, currency),
      lines: order.items.map(({ sku, productType, quantity, price }) => ({ sku, productType, quantity, price })),
      ...(order.discountCodes?.length ? { discountCodes: order.discountCodes } : {}),
    },
  };
  const result = await ingestEvent(c.env.DB, demo.shop, "demo", event);
  return c.json({ ...result, orderId: event.order.id, customerId, subtotal: formatMoney(subtotal, currency) }, 201);
});

/** "Write a review" on the product page: a `review.created` event for a signed-in demo shopper. */
demoRoutes.post("/demo/api/reviews", async (c) => {
  const { customer } = parse(z.object({ customer: DemoShopper }), await c.req.json().catch(() => null));
  if (customer === "guest") throw new ApiError("forbidden", "Sign in (pick a demo shopper) to review.");
  const demo = await demoShop(c);
  const event: LoyaltyEvent = { id: `demo-review-${crypto.randomUUID()}`, type: "review.created", customerId: customer };
  return c.json(await ingestEvent(c.env.DB, demo.shop, "demo", event), 201);
});

// Everything else under /demo/ is a page of the demo shop. The copy makes the asset's headers
// mutable for the app's own middleware (security headers).
demoRoutes.get("/demo/*", async (c) => {
  const asset = await c.env.ASSETS.fetch(c.req.raw);
  return new Response(asset.body, asset);
});
