import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { decode } from "hono/jwt";
import type { AppEnv } from "../app-env";
import { bearerToken } from "../auth/middleware";
import { hashSecretKey } from "../auth/keys";
import { envOn, HOME, resolvePlacement, spreadsShops } from "../services/databases";
import type { Lookup } from "../store/directory";
import { ApiError } from "./errors";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Routes whose JSON body names the shop: the field and what it holds. */
const BODY_LOOKUPS: Record<string, { field: string; kind: Lookup["kind"] }> = {
  "POST /v1/storefront/sessions": { field: "shop", kind: "public_key" },
  "POST /v1/console/sessions": { field: "secretKey", kind: "secret_key_hash" },
};

/**
 * With several databases (services/databases.ts), makes the request's `env.DB` the database that
 * holds its shop, before any route runs, so the routes and services below keep using `env.DB`.
 * Only locates: every credential is still checked by the route's own middleware, against the
 * shop in that database (a forged claim leads to a database where it fails the same way). While
 * the operator moves the shop, its writes are refused with 503 and a Retry-After.
 */
export const shopDatabase = createMiddleware<AppEnv>(async (c, next) => {
  if (!spreadsShops(c.env)) return next();
  const placement = await resolvePlacement(c.env, await lookupsOf(c));
  if (placement?.movingTo && !READS.has(c.req.method)) {
    throw new ApiError("shop_moving", "This shop is moving to another database; writes resume in a few seconds.", {
      headers: { "Retry-After": "5" },
    });
  }
  c.env = envOn(c.env, placement?.binding ?? HOME);
  await next();
});

/** What the request names its shop by, most precise first: credentials, then parameters, then the origin. */
async function lookupsOf(c: Context<AppEnv>): Promise<Lookup[]> {
  const lookups: Lookup[] = [];
  const token = bearerToken(c.req.header("authorization"));
  if (token?.startsWith("sk_")) lookups.push({ kind: "secret_key_hash", value: await hashSecretKey(token) });
  else if (token) lookups.push(...tokenLookups(token));
  const body = BODY_LOOKUPS[`${c.req.method} ${c.req.path}`];
  if (body) {
    const value = await bodyField(c, body.field);
    if (value) lookups.push({ kind: body.kind, value: body.kind === "secret_key_hash" ? await hashSecretKey(value) : value });
  }
  const shop = c.req.query("shop");
  if (shop?.startsWith("pk_")) lookups.push({ kind: "public_key", value: shop });
  else if (shop) lookups.push({ kind: "shopify_domain", value: shop.toLowerCase() });
  const domain = c.req.header("x-shopify-shop-domain");
  if (domain) lookups.push({ kind: "shopify_domain", value: domain.toLowerCase() });
  const origin = c.req.header("origin");
  if (origin) lookups.push({ kind: "origin", value: origin });
  return lookups;
}

/**
 * The shop a signed token says it is for (Laurel's storefront and console tokens: `shop`; Shopify's
 * session tokens: `dest`), read without checking the signature: the route checks it.
 */
function tokenLookups(token: string): Lookup[] {
  try {
    const { payload } = decode(token);
    if (typeof payload.shop === "string") return [{ kind: "id", value: payload.shop }];
    if (typeof payload.dest === "string") return [{ kind: "shopify_domain", value: payload.dest.replace(/^https?:\/\//, "").toLowerCase() }];
  } catch {
    // Not a JWT: the route refuses it.
  }
  return [];
}

async function bodyField(c: Context<AppEnv>, field: string): Promise<string | null> {
  try {
    const body = (await c.req.json()) as Record<string, unknown>;
    const value = body?.[field];
    return typeof value === "string" ? value : null;
  } catch {
    return null;
  }
}
