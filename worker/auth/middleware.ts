import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { unauthorized } from "../http/errors";
import { type Shop, shopBySecretKeyHash, shopByShopifyDomain } from "../store/shops";
import { shopByConsoleToken } from "./console";
import { timingSafeEqualText } from "../crypto";
import { hashSecretKey } from "./keys";
import { verifyShopifySessionToken } from "./shopify-session";

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match ? match[1]! : null;
}

/** The operator's routes: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export const requireOperator = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  const expected = c.env.ADMIN_TOKEN;
  if (!token || !expected || !timingSafeEqualText(token, expected)) {
    throw unauthorized("Send the operator token as Authorization: Bearer <ADMIN_TOKEN>.");
  }
  await next();
});

/**
 * The merchant's routes: `Authorization: Bearer <secretKey>`. The key is looked up by its hash,
 * so the comparison happens on a one-way digest and nothing secret is stored. A console session
 * token (auth/console.ts) stands in for the key, and so does a Shopify session token from the
 * embedded app (auth/shopify-session.ts): it acts as the shop its `dest` names.
 */
export const requireMerchant = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  const shop = token?.startsWith("sk_")
    ? await shopBySecretKeyHash(c.env.DB, await hashSecretKey(token))
    : token
      ? ((await shopByConsoleToken(c.env, token)) ?? (await shopByShopifySessionToken(c.env, token)))
      : null;
  if (!shop) {
    throw unauthorized(
      "Send your shop's secret key (or a console or Shopify session token) as Authorization: Bearer sk_... " +
        "In the Shopify admin, reload the app to get a fresh session.",
    );
  }
  c.set("shop", shop);
  await next();
});

/** The shop an admin session token of the embedded app speaks for, when Laurel has it. */
async function shopByShopifySessionToken(env: AppEnv["Bindings"], token: string): Promise<Shop | null> {
  const session = await verifyShopifySessionToken(token, { apiKey: env.SHOPIFY_API_KEY, apiSecret: env.SHOPIFY_API_SECRET });
  if (session?.kind !== "admin") return null;
  return shopByShopifyDomain(env.DB, session.shopDomain);
}
