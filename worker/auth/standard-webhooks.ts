import { fromBase64, hmacSha256, timingSafeEqual, toBase64 } from "../crypto";

export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/**
 * Standard Webhooks: `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` entries
 * over "{id}.{timestamp}.{body}", keyed with the base64-decoded part of `whsec_...`.
 * Returns true only for a fresh timestamp and a matching signature.
 */
export async function verifyStandardWebhook(
  secret: string,
  headers: { id: string | undefined; timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) return false;
  const key = fromBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
  if (!key) return false;
  const expected = await hmacSha256(key, `${id}.${timestamp}.${body}`);
  let valid = false;
  for (const part of signature.split(" ")) {
    const [version, value] = part.split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = fromBase64(value);
    if (given && timingSafeEqual(given, expected)) valid = true;
  }
  return valid;
}

/** The header value a sender computes (used by the demo shop and tests). */
export async function signStandardWebhook(secret: string, id: string, timestamp: number, body: string) {
  const key = fromBase64(secret.replace(/^whsec_/, ""))!;
  return `v1,${toBase64(await hmacSha256(key, `${id}.${timestamp}.${body}`))}`;
}
