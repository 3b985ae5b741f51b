/**
 * Session tokens as Shopify signs them: the payload of App Bridge's ID token (and of Shopify's own
 * library's test helper, @shopify/shopify-api `getJwt`), HS256 with the app's client secret.
 * `test/widget/shopify-library.test.ts` checks the same verifier against tokens that library signs.
 */
import { hmacSha256, toBase64Url } from "../../worker/crypto";

export const CLIENT_ID = "test-client-id";
export const SECRET = "test-shopify-secret"; // SHOPIFY_API_SECRET in vitest.config.ts

const encode = (value: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(value)));

export async function signJwt(payload: Record<string, unknown>, options: { secret?: string; header?: Record<string, unknown> } = {}) {
  const head = encode(options.header ?? { alg: "HS256", typ: "JWT" });
  const body = encode(payload);
  return `${head}.${body}.${toBase64Url(await hmacSha256(options.secret ?? SECRET, `${head}.${body}`))}`;
}

/** An admin session token for `shop` (its *.myshopify.com domain), as App Bridge's idToken() gives it. */
export function adminSessionToken(
  shop: string,
  overrides: Record<string, unknown> = {},
  options: { secret?: string; header?: Record<string, unknown> } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    {
      iss: `https://${shop}/admin`,
      dest: `https://${shop}`,
      aud: CLIENT_ID,
      sub: "42",
      exp: now + 60,
      nbf: now - 1,
      iat: now - 1,
      jti: crypto.randomUUID(),
      sid: crypto.randomUUID(),
      ...overrides,
    },
    options,
  );
}

/** A customer account extension's session token (`shopify.sessionToken.get()`). */
export function customerSessionToken(shop: string, customerId: string | null, overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({
    dest: shop,
    aud: CLIENT_ID,
    ...(customerId === null ? {} : { sub: `gid://shopify/Customer/${customerId}` }),
    exp: now + 300,
    nbf: now - 1,
    iat: now - 1,
    jti: crypto.randomUUID(),
    ...overrides,
  });
}
