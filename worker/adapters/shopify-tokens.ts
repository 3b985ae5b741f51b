/**
 * The shop's Admin API access, kept current. Offline tokens are the expiring kind: an access token
 * lasts an hour, and the refresh grant trades the refresh token for a new pair (Shopify rotates
 * the refresh token each time). Laurel refreshes when less than five minutes are left, as Shopify's
 * own library does, under a lease in D1 so that two requests (in any isolates) never spend the same
 * refresh token: one refreshes, the others wait for its new token.
 *
 * A non-expiring token stored before expiring tokens ('legacy') is exchanged for an expiring one on
 * its next use (token exchange with the offline token as subject, Shopify's documented migration).
 * A refusal by Shopify (a refresh token expired or revoked, the app uninstalled) is kept on the
 * shop, and the console tells the merchant to open the app from the Shopify admin again.
 */
import { openAccessToken, sealAccessToken } from "../auth/shopify";
import { randomBytes, toHex } from "../crypto";
import type { Env } from "../env";
import {
  releaseRefreshLease,
  type SealedTokenSet,
  type ShopifyTokenKind,
  type ShopifyTokenRow,
  saveRefreshedToken,
  shopifyTokenOf,
  takeRefreshLease,
} from "../store/shopify-tokens";
import { adminOrigin, requestShopifyToken, ShopifyAdminError, type ShopifyGrant, type ShopifyTokenSet } from "./shopify-admin";

/** Refresh when less than this is left of the access token. */
export const REFRESH_BEFORE_MS = 5 * 60_000;
/** How long a refresh may hold the lease before another request may try. */
const LEASE_MS = 30_000;
/** How often, and how many times, a request waits for another's refresh. */
const WAIT_MS = 100;
const WAITS = 50;

export interface ShopifyAccess {
  shopifyDomain: string;
  accessToken: string;
}

export interface TokenOptions {
  fetch?: (request: Request) => Promise<Response>;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A token set as it is stored: every secret sealed with the app secret. */
export async function sealTokenSet(appSecret: string, token: ShopifyTokenSet, kind: ShopifyTokenKind): Promise<SealedTokenSet> {
  return {
    sealedToken: await sealAccessToken(appSecret, token.accessToken),
    kind,
    expiresAt: token.expiresAt?.toISOString() ?? null,
    sealedRefreshToken: token.refreshToken ? await sealAccessToken(appSecret, token.refreshToken) : null,
    refreshExpiresAt: token.refreshExpiresAt?.toISOString() ?? null,
  };
}

function needsNewToken(row: ShopifyTokenRow, now: Date): boolean {
  if (row.kind === "legacy") return true;
  if (row.kind !== "expiring" || !row.expiresAt) return false;
  return Date.parse(row.expiresAt) - now.getTime() < REFRESH_BEFORE_MS;
}

/**
 * The shop's current access token, refreshed first when it is about to lapse; null when the shop
 * has no usable token (never connected, uninstalled, or Shopify refused the refresh).
 */
export async function currentShopifyAccess(env: Env, shopId: string, options: TokenOptions = {}): Promise<ShopifyAccess | null> {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? defaultSleep;
  for (let wait = 0; ; wait++) {
    const row = await shopifyTokenOf(env.DB, shopId);
    if (!row?.domain || !row.sealedToken || !env.SHOPIFY_API_SECRET) return null;
    const accessToken = await openAccessToken(env.SHOPIFY_API_SECRET, row.sealedToken);
    if (!accessToken) return null;
    const current = { shopifyDomain: row.domain, accessToken };
    const at = now();
    if (!needsNewToken(row, at)) return current;

    const nonce = toHex(randomBytes(16));
    const lease = { version: row.version, nonce, until: new Date(at.getTime() + LEASE_MS).toISOString(), now: at.toISOString() };
    if (await takeRefreshLease(env.DB, shopId, lease)) {
      return (await renew(env, shopId, row, current, nonce, options)) ?? (stillValid(row, now()) ? current : null);
    }
    // Another request holds the lease: its new token will be there in a moment.
    if (wait >= WAITS) return stillValid(row, now()) ? current : null;
    await sleep(WAIT_MS);
  }
}

/** A token that has not lapsed yet (a legacy one never does) can still serve this request. */
function stillValid(row: ShopifyTokenRow, now: Date): boolean {
  return row.kind !== "expiring" || !row.expiresAt || Date.parse(row.expiresAt) > now.getTime();
}

/** The refresh (or migration) itself, by the lease's holder. */
async function renew(
  env: Env,
  shopId: string,
  row: ShopifyTokenRow,
  current: ShopifyAccess,
  nonce: string,
  options: TokenOptions,
): Promise<ShopifyAccess | null> {
  const secret = env.SHOPIFY_API_SECRET;
  const refreshToken = row.sealedRefreshToken ? await openAccessToken(secret, row.sealedRefreshToken) : null;
  const now = (options.now ?? (() => new Date()))();
  let grant: ShopifyGrant;
  if (row.kind === "legacy") grant = { offlineToken: current.accessToken };
  else if (refreshToken && (!row.refreshExpiresAt || Date.parse(row.refreshExpiresAt) > now.getTime())) grant = { refreshToken };
  else {
    await releaseRefreshLease(env.DB, shopId, nonce, "Laurel's access to the store lapsed (the refresh token expired).");
    return null;
  }
  if (!env.SHOPIFY_API_KEY) {
    await releaseRefreshLease(env.DB, shopId, nonce, null);
    return null;
  }
  let token: ShopifyTokenSet;
  try {
    token = await requestShopifyToken(
      adminOrigin(env, current.shopifyDomain),
      { clientId: env.SHOPIFY_API_KEY, clientSecret: secret },
      grant,
      { ...(options.fetch ? { fetch: options.fetch } : {}), now: () => now.getTime() },
    );
  } catch (err) {
    if (!(err instanceof ShopifyAdminError)) throw err;
    if (err.kind === "refused" && row.kind === "legacy") {
      // Not every token can be migrated (a custom app's cannot): keep using it as it is.
      const kept = { sealedToken: row.sealedToken!, kind: "manual" as const, expiresAt: null, sealedRefreshToken: null, refreshExpiresAt: null };
      return (await saveRefreshedToken(env.DB, shopId, nonce, kept)) ? current : null;
    }
    await releaseRefreshLease(env.DB, shopId, nonce, err.kind === "refused" ? err.message : null);
    return null;
  }
  const saved = await saveRefreshedToken(env.DB, shopId, nonce, await sealTokenSet(secret, token, token.expiresAt ? "expiring" : "manual"));
  return saved ? { shopifyDomain: current.shopifyDomain, accessToken: token.accessToken } : null;
}
