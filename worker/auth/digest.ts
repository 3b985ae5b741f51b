/**
 * The customer digest a shop's server signs for the widget. No Worker-only types here:
 * the console's and the Shopify block's tests check their generated code against this very function.
 */
import { hmacSha256, timingSafeEqual } from "../crypto";

/** A customer digest is accepted for 24 h after its timestamp (and 5 min before, for clock skew). */
export const DIGEST_WINDOW_SECONDS = 24 * 60 * 60;

const hexToBytes = (hex: string) =>
  /^[0-9a-f]{64}$/i.test(hex) ? Uint8Array.from(hex.match(/../g)!, (h) => Number.parseInt(h, 16)) : null;

/** digest = hex HMAC-SHA256(widgetSecret, "{id}.{ts}"), ts in unix seconds, fresh within 24 h. */
export async function verifyCustomerDigest(
  widgetSecret: string,
  identity: { id: string; ts: number | string; digest: string },
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  const ts = Number(identity.ts);
  if (!Number.isInteger(ts) || ts > nowSeconds + 300 || nowSeconds - ts > DIGEST_WINDOW_SECONDS) return false;
  const given = hexToBytes(identity.digest);
  if (!given) return false;
  const expected = await hmacSha256(widgetSecret, `${identity.id}.${identity.ts}`);
  return timingSafeEqual(given, expected);
}

