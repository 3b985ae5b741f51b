import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { sign, verify } from "hono/jwt";
import type { AppEnv } from "../app-env";
import type { Env } from "../env";
import { unauthorized } from "../http/errors";
import { shopById } from "../store/shops";
import { hmacSha256, toBase64Url } from "../crypto";
import { bearerToken } from "./middleware";

/** Storefront sessions last an hour; the widget renews them silently on a 401. */
export const SESSION_TTL_SECONDS = 60 * 60;
/** The key that signs session tokens, derived from the operator secret so nothing else is stored. */
let derived: { from: string; key: Promise<string> } | null = null;

async function sessionKey(env: Env): Promise<string> {
  // Derived once per isolate (and again only if the operator secret changes).
  if (derived?.from !== env.ADMIN_TOKEN) {
    derived = { from: env.ADMIN_TOKEN, key: hmacSha256(env.ADMIN_TOKEN, "laurel-storefront-session-v1").then(toBase64Url) };
    verifiedTokens.clear();
  }
  return derived.key;
}

/**
 * Tokens this isolate has verified, with their claims, until they expire: a token cannot change,
 * and a widget reads state with the same one for up to an hour, so its signature is checked once
 * (checking it, key import included, was an eighth of a state read's CPU: docs/performance.md).
 * Keyed by the whole token, signature included, so only a token that verified can hit; forgotten
 * when the signing key changes; the oldest make room past VERIFIED_LIMIT.
 */
const verifiedTokens = new Map<string, { claims: SessionClaims; expiresAt: number }>();
const VERIFIED_LIMIT = 2048;

export interface SessionClaims {
  shopId: string;
  customerId: string | null;
}

export async function issueSessionToken(env: Env, claims: SessionClaims, now = new Date()) {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + SESSION_TTL_SECONDS;
  const token = await sign(
    { sub: claims.customerId ?? "", shop: claims.shopId, iat, exp, aud: "laurel-storefront" },
    await sessionKey(env),
    "HS256",
  );
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

export async function readSessionToken(env: Env, token: string): Promise<SessionClaims | null> {
  const key = await sessionKey(env);
  const known = verifiedTokens.get(token);
  if (known) {
    if (known.expiresAt > Date.now()) return known.claims;
    verifiedTokens.delete(token);
    return null;
  }
  try {
    const payload = await verify(token, key, { alg: "HS256", aud: "laurel-storefront" });
    if (typeof payload.shop !== "string" || typeof payload.sub !== "string" || typeof payload.exp !== "number") return null;
    const claims = { shopId: payload.shop, customerId: payload.sub === "" ? null : payload.sub };
    if (verifiedTokens.size >= VERIFIED_LIMIT) verifiedTokens.delete(verifiedTokens.keys().next().value!);
    verifiedTokens.set(token, { claims, expiresAt: payload.exp * 1000 });
    return claims;
  } catch {
    return null;
  }
}

/**
 * Reads a session token without loading the shop from D1 (the state route reads the shop's public
 * part from KV). Sets `customerId`; returns the claims, or throws 401.
 */
export async function sessionClaims(c: Context<AppEnv>): Promise<SessionClaims> {
  const token = bearerToken(c.req.header("authorization"));
  const claims = token ? await readSessionToken(c.env, token) : null;
  if (!claims) throw unauthorized("The session is missing or expired; start a new one.");
  c.set("customerId", claims.customerId);
  return claims;
}

/**
 * Storefront routes behind a session: sets the shop and the customer (null for a guest). A caller
 * already authenticated upstream (the Shopify app proxy sets shop and customer) passes through.
 */
export const requireStorefrontSession = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get("shop")) return next();
  const token = bearerToken(c.req.header("authorization"));
  const claims = token ? await readSessionToken(c.env, token) : null;
  const shop = claims ? await shopById(c.env.DB, claims.shopId) : null;
  if (!claims || !shop) throw unauthorized("The session is missing or expired; start a new one.");
  c.set("shop", shop);
  c.set("customerId", claims.customerId);
  await next();
});
