/**
 * A shop's Shopify offline token (all values sealed, see auth/shopify.ts) and the lease that lets
 * one request at a time refresh it (migration 0025). D1 has no row locks: the lease is a
 * conditional UPDATE that only one writer can win, and the refreshed token is saved only by the
 * lease's holder, over the version it read.
 */

export type ShopifyTokenKind = "expiring" | "manual" | "legacy";

export interface ShopifyTokenRow {
  domain: string | null;
  sealedToken: string | null;
  kind: ShopifyTokenKind | null;
  expiresAt: string | null;
  sealedRefreshToken: string | null;
  refreshExpiresAt: string | null;
  version: number;
  leaseUntil: string | null;
  error: string | null;
  uninstalledAt: string | null;
}

/** A token as it is written: sealed values and ISO times. */
export interface SealedTokenSet {
  sealedToken: string;
  kind: ShopifyTokenKind;
  expiresAt: string | null;
  sealedRefreshToken: string | null;
  refreshExpiresAt: string | null;
}

export async function shopifyTokenOf(db: D1Database, shopId: string): Promise<ShopifyTokenRow | null> {
  const row = await db
    .prepare(
      `SELECT shopify_domain, shopify_access_token, shopify_token_kind, shopify_token_expires_at, shopify_refresh_token,
         shopify_refresh_expires_at, shopify_token_version, shopify_refresh_lease_until, shopify_token_error,
         shopify_uninstalled_at
       FROM shops WHERE id = ?`,
    )
    .bind(shopId)
    .first<{
      shopify_domain: string | null;
      shopify_access_token: string | null;
      shopify_token_kind: ShopifyTokenKind | null;
      shopify_token_expires_at: string | null;
      shopify_refresh_token: string | null;
      shopify_refresh_expires_at: string | null;
      shopify_token_version: number;
      shopify_refresh_lease_until: string | null;
      shopify_token_error: string | null;
      shopify_uninstalled_at: string | null;
    }>();
  return row
    ? {
        domain: row.shopify_domain,
        sealedToken: row.shopify_access_token,
        kind: row.shopify_token_kind,
        expiresAt: row.shopify_token_expires_at,
        sealedRefreshToken: row.shopify_refresh_token,
        refreshExpiresAt: row.shopify_refresh_expires_at,
        version: row.shopify_token_version,
        leaseUntil: row.shopify_refresh_lease_until,
        error: row.shopify_token_error,
        uninstalledAt: row.shopify_uninstalled_at,
      }
    : null;
}

/**
 * Takes the refresh lease if the token is still the version read and nobody holds a live lease.
 * True: this caller refreshes; false: another request is at it (or already did).
 */
export async function takeRefreshLease(
  db: D1Database,
  shopId: string,
  lease: { version: number; nonce: string; until: string; now: string },
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE shops SET shopify_refresh_lease = ?, shopify_refresh_lease_until = ?
       WHERE id = ? AND shopify_token_version = ? AND shopify_access_token IS NOT NULL
         AND (shopify_refresh_lease_until IS NULL OR shopify_refresh_lease_until < ?)`,
    )
    .bind(lease.nonce, lease.until, shopId, lease.version, lease.now)
    .run();
  return result.meta.changes === 1;
}

/** The refreshed token, saved only by the lease's holder; the lease ends with it. */
export async function saveRefreshedToken(db: D1Database, shopId: string, nonce: string, token: SealedTokenSet): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE shops SET shopify_access_token = ?, shopify_token_kind = ?, shopify_token_expires_at = ?,
         shopify_refresh_token = ?, shopify_refresh_expires_at = ?, shopify_token_version = shopify_token_version + 1,
         shopify_token_error = NULL, shopify_refresh_lease = NULL, shopify_refresh_lease_until = NULL
       WHERE id = ? AND shopify_refresh_lease = ?`,
    )
    .bind(token.sealedToken, token.kind, token.expiresAt, token.sealedRefreshToken, token.refreshExpiresAt, shopId, nonce)
    .run();
  return result.meta.changes === 1;
}

/**
 * Ends a lease without a new token. With `error` (Shopify refused the refresh: the token is gone
 * for good) the token is forgotten and the reason kept for the console; without it (Shopify could
 * not be reached) the token stays for the next try.
 */
export async function releaseRefreshLease(db: D1Database, shopId: string, nonce: string, error: string | null): Promise<void> {
  await db
    .prepare(
      `UPDATE shops SET shopify_refresh_lease = NULL, shopify_refresh_lease_until = NULL,
         shopify_access_token = CASE WHEN ?1 IS NULL THEN shopify_access_token ELSE NULL END,
         shopify_refresh_token = CASE WHEN ?1 IS NULL THEN shopify_refresh_token ELSE NULL END,
         shopify_token_error = COALESCE(?1, shopify_token_error)
       WHERE id = ?2 AND shopify_refresh_lease = ?3`,
    )
    .bind(error, shopId, nonce)
    .run();
}
