/** Shopify store credit given for redemptions, and its reversal when one is voided (migration 0028). */

/** The credit landed in Shopify: the pending redemption is done. False when it was voided meanwhile. */
export async function markStoreCredited(db: D1Database, shopId: string, redemptionId: string, transactionId: string): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE redemptions SET shopify_status = 'created', shopify_store_credit_tx = ?
       WHERE shop_id = ? AND id = ? AND status = 'issued' AND shopify_status = 'pending'`,
    )
    .bind(transactionId, shopId, redemptionId)
    .run();
  return result.meta.changes === 1;
}

/** Whether the redemption was given as store credit (its credit's transaction), and not yet taken back. */
export async function storeCreditOf(db: D1Database, shopId: string, redemptionId: string) {
  return db
    .prepare(
      `SELECT c.external_id AS customerId, r.reward_value AS value, r.shopify_store_credit_tx AS transactionId,
         r.shopify_store_credit_reversal AS reversal
       FROM redemptions r JOIN customers c ON c.id = r.customer_id
       WHERE r.shop_id = ? AND r.id = ? AND r.status = 'issued'`,
    )
    .bind(shopId, redemptionId)
    .first<{ customerId: string; value: number | null; transactionId: string | null; reversal: string | null }>();
}

/** The void's lease on the credit: only one request takes it back. */
export async function takeStoreCreditReversal(db: D1Database, shopId: string, redemptionId: string, nonce: string): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE redemptions SET shopify_store_credit_reversal = ?
       WHERE shop_id = ? AND id = ? AND status = 'issued' AND shopify_store_credit_tx IS NOT NULL AND shopify_store_credit_reversal IS NULL`,
    )
    .bind(nonce, shopId, redemptionId)
    .run();
  return result.meta.changes === 1;
}

/** The debit's transaction (done), or null to give the lease back (Shopify refused: nothing changed). */
export async function endStoreCreditReversal(
  db: D1Database,
  shopId: string,
  redemptionId: string,
  nonce: string,
  debitTransactionId: string | null,
): Promise<void> {
  await db
    .prepare("UPDATE redemptions SET shopify_store_credit_reversal = ? WHERE shop_id = ? AND id = ? AND shopify_store_credit_reversal = ?")
    .bind(debitTransactionId, shopId, redemptionId, nonce)
    .run();
}
