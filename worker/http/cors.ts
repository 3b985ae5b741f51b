import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { originListedAnywhere } from "../services/databases";

const ALLOWED_HEADERS = "authorization, content-type, idempotency-key";
const ALLOWED_METHODS = "GET, POST, OPTIONS";

/**
 * CORS for the storefront API: grants go only to a shop's own origins. When the request names its
 * shop (a token, a body, a query) only that shop's origins count; before that is known (a
 * preflight, a 401 for an expired token) an origin some shop lists gets the grant, so the widget
 * can read the error and renew its session.
 */
export const storefrontCors = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("origin");
  if (c.req.method === "OPTIONS") {
    const allowed = origin ? await originListedAnywhere(c.env, origin) : false;
    const headers: Record<string, string> = { Vary: "Origin" };
    if (allowed && origin) {
      headers["Access-Control-Allow-Origin"] = origin;
      headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS;
      headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS;
      headers["Access-Control-Max-Age"] = "600";
    }
    return c.body(null, 204, headers);
  }
  await next();
  if (!origin) return;
  const origins = c.get("shop")?.origins ?? c.get("shopOrigins");
  const allowed = origins ? origins.includes(origin) : await originListedAnywhere(c.env, origin);
  c.res.headers.append("Vary", "Origin");
  if (allowed) {
    c.res.headers.set("Access-Control-Allow-Origin", origin);
    c.res.headers.set("Access-Control-Expose-Headers", "Retry-After");
  }
});
