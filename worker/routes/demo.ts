import { requireOperator } from "../auth/middleware";
import { ApiError } from "../http/errors";
import { newRouter } from "../http/validation";
import { DEMO_CUSTOMERS, ensureDemoShop } from "../services/demo";

/**
 * The demo shop's server side, only when the DEMO var is "on" (npm start); a deployed worker
 * answers 404 for all of /demo/. Pages themselves are static assets under dist/public/demo/.
 */
export const demoRoutes = newRouter();

demoRoutes.use("/demo/*", async (c, next) => {
  if (c.env.DEMO !== "on") throw new ApiError("not_found", "The demo shop is off in this deployment.");
  await next();
});

/** Used by `npm start` (scripts/start.mjs) to find or create the demo shop and print its keys. */
demoRoutes.post("/demo/api/shop", requireOperator, async (c) => {
  const origin = new URL(c.req.url).origin;
  const demo = await ensureDemoShop(c.env, [origin, origin.replace("127.0.0.1", "localhost")]);
  return c.json({
    shop: { id: demo.shop.id, name: demo.shop.name, publicKey: demo.publicKey },
    secretKey: demo.secretKey,
    webhookSecret: demo.webhookSecret,
    widgetSecret: demo.widgetSecret,
    customers: DEMO_CUSTOMERS,
  });
});

// Everything else under /demo/ is a page of the demo shop.
demoRoutes.get("/demo/*", (c) => c.env.ASSETS.fetch(c.req.raw));
