/**
 * Shopify's two signatures, both keyed with the app's client secret (`SHOPIFY_API_SECRET`):
 * - webhooks: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw request body;
 * - the app proxy: `signature` is the hex HMAC-SHA256 of the other query parameters, each as
 *   `key=value` (repeated values joined with ","), sorted and concatenated with no separator.
 * Pure functions over Web Crypto; every comparison is constant-time.
 */
import { fromBase64, hmacSha256, timingSafeEqual, toBase64, toHex } from "../crypto";

/** How far an app proxy `timestamp` may be from our clock (Shopify's own library allows 90 s). */
export const APP_PROXY_TOLERANCE_SECONDS = 90;

/** True only when `header` is the base64 HMAC-SHA256 of exactly these body bytes. */
export async function verifyShopifyWebhook(
  secret: string,
  rawBody: Uint8Array,
  header: string | null | undefined,
): Promise<boolean> {
  if (!secret || !header) return false;
  const given = fromBase64(header.trim());
  if (given?.byteLength !== 32) return false;
  return timingSafeEqual(given, await hmacSha256(secret, rawBody));
}

/** The header value Shopify would send for this body (tests and local tooling sign with it). */
export async function signShopifyWebhook(secret: string, rawBody: Uint8Array | string): Promise<string> {
  const bytes = typeof rawBody === "string" ? new TextEncoder().encode(rawBody) : rawBody;
  return toBase64(await hmacSha256(secret, bytes));
}

/** The verified identity an app proxy request carries. */
export interface AppProxyRequest {
  /** The shop's `*.myshopify.com` domain. */
  shop: string;
  /** The numeric Shopify customer id as a decimal string, or null for a guest. */
  loggedInCustomerId: string | null;
  /** The storefront path the proxy was mounted at, such as `/apps/laurel`. */
  pathPrefix: string | null;
  timestamp: number;
}

/** Parameters that must appear once: a second copy would make the signed identity ambiguous. */
const SINGLE_VALUED = new Set(["shop", "signature", "timestamp", "logged_in_customer_id", "path_prefix"]);

/**
 * The message Shopify signs: every parameter but `signature`, as `key=value` with repeated values
 * joined by ",", sorted, concatenated. Returns null when a single-valued parameter repeats.
 */
export function appProxySignedMessage(params: URLSearchParams): string | null {
  const values = new Map<string, string[]>();
  for (const [key, value] of params) {
    if (key === "signature") continue;
    const list = values.get(key);
    if (list) {
      if (SINGLE_VALUED.has(key)) return null;
      list.push(value);
    } else values.set(key, [value]);
  }
  const pairs = [...values].map(([key, list]) => `${key}=${list.join(",")}`);
  // Code-unit order, as Ruby's Array#sort in Shopify's documented example.
  pairs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.join("");
}

export async function signAppProxy(secret: string, params: URLSearchParams): Promise<string> {
  const message = appProxySignedMessage(params);
  if (message === null) throw new RangeError("a single-valued app proxy parameter repeats");
  return toHex(await hmacSha256(secret, message));
}

function hexToBytes(hex: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * Verifies an app proxy query: a well-formed signature that matches, exactly one shop and
 * timestamp, and a timestamp within the tolerance. Returns the identity, or null when any check
 * fails (the caller answers 401).
 */
export async function verifyAppProxy(
  secret: string,
  params: URLSearchParams,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = APP_PROXY_TOLERANCE_SECONDS,
): Promise<AppProxyRequest | null> {
  if (!secret) return null;
  const signatures = params.getAll("signature");
  if (signatures.length !== 1) return null;
  const given = hexToBytes(signatures[0]!);
  const message = appProxySignedMessage(params);
  if (!given || message === null) return null;
  const expected = await hmacSha256(secret, message);
  if (!timingSafeEqual(given, expected)) return null;

  const shop = params.get("shop");
  const timestamp = params.get("timestamp");
  if (!shop || !timestamp || !/^\d{1,12}$/.test(timestamp)) return null;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return null;
  const customer = params.get("logged_in_customer_id");
  return {
    shop,
    loggedInCustomerId: customer && /^\d{1,20}$/.test(customer) ? customer : null,
    pathPrefix: params.get("path_prefix"),
    timestamp: Number(timestamp),
  };
}

/**
 * Admin API access tokens are stored sealed: AES-GCM under a key derived from the app secret, so
 * a copy of the database alone does not hold usable tokens. Rotating the app secret means
 * reconnecting the shops (their tokens change with a new secret anyway).
 */
async function tokenKey(appSecret: string): Promise<CryptoKey> {
  const raw = await hmacSha256(appSecret, "laurel-shopify-access-token-v1");
  // Our byte arrays never sit on a SharedArrayBuffer; the DOM lib's BufferSource type insists.
  return crypto.subtle.importKey("raw", raw as BufferSource, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

export async function sealAccessToken(appSecret: string, token: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await tokenKey(appSecret), new TextEncoder().encode(token));
  return `v1.${toBase64(iv)}.${toBase64(sealed)}`;
}

/** The token, or null when the value was sealed under another secret or altered. */
export async function openAccessToken(appSecret: string, sealed: string): Promise<string | null> {
  const [version, iv, data] = sealed.split(".");
  const ivBytes = iv ? fromBase64(iv) : null;
  const dataBytes = data ? fromBase64(data) : null;
  if (version !== "v1" || !ivBytes || !dataBytes) return null;
  try {
    const key = await tokenKey(appSecret);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: ivBytes as BufferSource }, key, dataBytes as BufferSource);
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

/**
 * The messages an admin query's `hmac` may sign: the other parameters (not `hmac`, not
 * `signature`) sorted by name and joined as `key=value` with `&`, in the forms Shopify has used:
 * - raw values, and values through `encodeURIComponent` (Shopify's OAuth documentation);
 * - Shopify's own library (`@shopify/shopify-api`, `ProcessedQuery`): repeated values joined
 *   with ",", keys sorted with `localeCompare`, keys and values serialised by `URLSearchParams`
 *   (space as "+", `!'()~` escaped), and the same with "+" written "%20", as it has signed since
 *   March 2026.
 * Every form needs the secret, and each is a serialisation that cannot be confused with another
 * query's, so accepting all of them only widens what Shopify may send, not what a forger may.
 */
export function adminQueryMessages(params: URLSearchParams): string[] {
  const entries = signedEntries(params);
  const byCodeUnit = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const library = libraryForm(entries);
  return [
    ...new Set([
      byCodeUnit.map(([k, v]) => `${k}=${v}`).join("&"),
      byCodeUnit.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&"),
      library,
      library.replace(/\+/g, "%20"),
    ]),
  ];
}

const signedEntries = (params: URLSearchParams) => [...params].filter(([key]) => key !== "hmac" && key !== "signature");

/** `ProcessedQuery.stringify` of Shopify's library, with "+" as it was before March 2026. */
function libraryForm(entries: [string, string][]): string {
  const joined = new Map<string, string>();
  for (const [key, value] of entries) joined.set(key, joined.has(key) ? `${joined.get(key)},${value}` : value);
  return new URLSearchParams([...joined].sort(([a], [b]) => a.localeCompare(b))).toString();
}

/**
 * Requests Shopify sends through the merchant's browser (opening the app, the OAuth callback)
 * carry `hmac`: the hex HMAC-SHA256, with the client secret, of one of `adminQueryMessages`. The
 * timestamp must be within 90 s, as Shopify's library allows.
 */
export async function verifyAdminQuery(
  secret: string,
  params: URLSearchParams,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  const hmacs = params.getAll("hmac");
  if (!secret || hmacs.length !== 1) return false;
  const given = hexToBytes(hmacs[0]!);
  const timestamp = params.get("timestamp");
  if (!given || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > APP_PROXY_TOLERANCE_SECONDS) return false;
  let valid = false;
  for (const message of adminQueryMessages(params)) {
    if (timingSafeEqual(given, await hmacSha256(secret, message))) valid = true;
  }
  return valid;
}

/** Signs the query as Shopify's library does today ("%20" for spaces); tests and the fake use it. */
export async function signAdminQuery(secret: string, params: URLSearchParams): Promise<string> {
  return toHex(await hmacSha256(secret, libraryForm(signedEntries(params)).replace(/\+/g, "%20")));
}

/**
 * The OAuth `state`: a nonce bound to the shop and MACed with the client secret. The nonce also
 * goes into a cookie, so that only the browser that started the install can finish it.
 */
export async function oauthState(secret: string, shop: string, nonce: string): Promise<string> {
  return `${nonce}.${toHex(await hmacSha256(secret, `laurel-oauth-state:${shop}:${nonce}`))}`;
}

export async function verifyOauthState(
  secret: string,
  shop: string,
  state: string | null,
  cookieNonce: string | null,
): Promise<boolean> {
  if (!state || !cookieNonce) return false;
  const expected = await oauthState(secret, shop, cookieNonce);
  const a = new TextEncoder().encode(state);
  const b = new TextEncoder().encode(expected);
  return timingSafeEqual(a, b);
}
