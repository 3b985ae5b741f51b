/** A shop's Shopify connection, and the erasure of a whole shop (shop/redact). */
import type { SealedTokenSet } from "./shopify-tokens";

/**
 * Connects (or reconnects) a shop with a new token (store/shopify-tokens.ts reads and refreshes
 * it): a domain taken by another shop fails the UNIQUE key.
 */
export function saveShopifyConnection(
  db: D1Database,
  shopId: string,
  connection: { domain: string; connectedAt: string } & SealedTokenSet,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE shops SET platform = 'shopify', shopify_domain = ?, shopify_access_token = ?, shopify_connected_at = ?,
         shopify_uninstalled_at = NULL, shopify_token_kind = ?, shopify_token_expires_at = ?, shopify_refresh_token = ?,
         shopify_refresh_expires_at = ?, shopify_token_version = shopify_token_version + 1, shopify_token_error = NULL,
         shopify_refresh_lease = NULL, shopify_refresh_lease_until = NULL
       WHERE id = ?`,
    )
    .bind(
      connection.domain,
      connection.sealedToken,
      connection.connectedAt,
      connection.kind,
      connection.expiresAt,
      connection.sealedRefreshToken,
      connection.refreshExpiresAt,
      shopId,
    );
}

/** app/uninstalled: Shopify has revoked the token; forget it, keep the program until shop/redact. */
export async function markShopifyUninstalled(db: D1Database, shopId: string, at: string): Promise<void> {
  await db
    .prepare(
      "UPDATE shops SET shopify_access_token = NULL, shopify_refresh_token = NULL, shopify_uninstalled_at = ? WHERE id = ?",
    )
    .bind(at, shopId)
    .run();
}

/**
 * Every row of the shop, in one atomic batch. The shop row goes first: the ledger refuses deletes
 * while its shop exists (it is append-only otherwise), and foreign keys are checked at the end of
 * the batch, when the customers that other rows point at are gone too.
 */
export function eraseShopStatements(db: D1Database, shopId: string): D1PreparedStatement[] {
  const deletes = [
    "DELETE FROM shops WHERE id = ?",
    "DELETE FROM ledger WHERE shop_id = ?",
    "DELETE FROM nps_responses WHERE shop_id = ?",
    "DELETE FROM badges WHERE shop_id = ?",
    "DELETE FROM challenge_progress WHERE shop_id = ?",
    "DELETE FROM challenges WHERE shop_id = ?",
    "DELETE FROM referrals WHERE shop_id = ?",
    "DELETE FROM redemptions WHERE shop_id = ?",
    "DELETE FROM rewards WHERE shop_id = ?",
    "DELETE FROM order_refunds WHERE shop_id = ?",
    "DELETE FROM orders WHERE shop_id = ?",
    "DELETE FROM received_events WHERE shop_id = ?",
    "DELETE FROM idempotency_keys WHERE shop_id = ?",
    "DELETE FROM outbox WHERE shop_id = ?",
    "DELETE FROM data_requests WHERE shop_id = ?",
    "DELETE FROM shopify_reconciliations WHERE shop_id = ?",
    "DELETE FROM guest_orders WHERE shop_id = ?",
    "DELETE FROM customers WHERE shop_id = ?",
  ];
  return [db.prepare("PRAGMA defer_foreign_keys = ON"), ...deletes.map((sql) => db.prepare(sql).bind(shopId))];
}
