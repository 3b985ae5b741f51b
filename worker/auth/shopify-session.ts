/**
 * Shopify session tokens: the JWTs App Bridge hands the embedded app (`shopify.idToken()`) and the
 * customer account UI extensions hand theirs (`shopify.sessionToken.get()`). Both are HS256,
 * signed with the app's client secret, and carry (shopify.dev, "Session tokens"):
 *   iss  the shop's admin, https://{shop}.myshopify.com/admin (admin tokens only)
 *   dest the shop, https://{shop}.myshopify.com
 *   aud  the app's client id
 *   sub  the staff member's id (admin) or the customer's GID (customer accounts, when signed in)
 *   exp, nbf, iat, jti, sid
 * Verified here exactly as Shopify documents: the signature in constant time, `exp` in the future
 * and `nbf` in the past (5 s leeway), `aud` equal to our client id, and `iss` and
 * `dest` naming the same shop. An admin token and a customer's are told apart, so a shopper's
 * token never opens a merchant route.
 */
import { fromBase64, hmacSha256, timingSafeEqual } from "../crypto";

export const SESSION_TOKEN_LEEWAY_SECONDS = 5;
const SHOP = /^[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com$/;
const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/(\d{1,20})$/;

export interface ShopifySessionToken {
  /** The shop's *.myshopify.com domain, from `dest`. */
  shopDomain: string;
  /** Who: a staff member's id for an admin token, a customer's numeric id for a customer's. */
  subject: string | null;
  kind: "admin" | "customer";
  /** The token's own session id and id, for logs. */
  sid: string | null;
  expiresAt: number;
}

function decodeSegment(segment: string): unknown {
  const bytes = fromBase64(segment.replace(/-/g, "+").replace(/_/g, "/"));
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return null;
  }
}

function shopOf(url: unknown, path: "" | "/admin"): string | null {
  if (typeof url !== "string") return null;
  // Customer account tokens may name the shop without a scheme.
  const match = /^(?:https:\/\/)?([^/]+)(\/admin)?\/?$/.exec(url);
  if (!match || (match[2] ?? "") !== path) return null;
  const host = match[1]!.toLowerCase();
  return SHOP.test(host) ? host : null;
}

/**
 * The verified token, or null when anything is off: not a JWT, not HS256, another secret, expired,
 * not yet valid, another app's, or a shop that does not match itself.
 */
export async function verifyShopifySessionToken(
  token: string,
  app: { apiKey: string | undefined; apiSecret: string },
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<ShopifySessionToken | null> {
  if (!app.apiKey || !app.apiSecret || token.length > 4096) return null;
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) return null;
  const [header, payload, signature] = parts as [string, string, string];
  const head = decodeSegment(header) as { alg?: unknown; typ?: unknown } | null;
  if (head?.alg !== "HS256") return null;
  const given = fromBase64(signature.replace(/-/g, "+").replace(/_/g, "/"));
  const expected = await hmacSha256(app.apiSecret, `${header}.${payload}`);
  if (!given || !timingSafeEqual(given, expected)) return null;

  const claims = decodeSegment(payload) as Record<string, unknown> | null;
  if (!claims || typeof claims !== "object") return null;
  const { exp, nbf, aud, sub, sid } = claims;
  if (typeof exp !== "number" || exp + SESSION_TOKEN_LEEWAY_SECONDS <= nowSeconds) return null;
  if (nbf !== undefined && (typeof nbf !== "number" || nbf - SESSION_TOKEN_LEEWAY_SECONDS > nowSeconds)) return null;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(app.apiKey)) return null;
  const shopDomain = shopOf(claims.dest, "");
  if (!shopDomain) return null;

  // Admin tokens name a staff member (a numeric id) and come from the shop's admin; a customer
  // account extension's name the customer's GID, or nobody for a signed-out visitor.
  if (claims.iss !== undefined && shopOf(claims.iss, "/admin") !== shopDomain) return null;
  const customer = typeof sub === "string" ? CUSTOMER_GID.exec(sub) : null;
  const staff = typeof sub === "string" && /^\d{1,20}$/.test(sub) ? sub : typeof sub === "number" ? String(sub) : null;
  let kind: ShopifySessionToken["kind"];
  if (staff && claims.iss !== undefined) kind = "admin";
  else if (customer || sub === undefined) kind = "customer";
  else return null;
  return {
    shopDomain,
    subject: kind === "admin" ? staff : (customer?.[1] ?? null),
    kind,
    sid: typeof sid === "string" ? sid : null,
    expiresAt: exp,
  };
}
