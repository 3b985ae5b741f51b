/** The per-member order figures behind the program vs holdout comparison (domain/holdout.ts). */

export interface MemberOrders {
  id: number;
  externalId: string;
  /** Orders (not cancelled) placed in the period, and their net eligible amount. */
  ordersInPeriod: number;
  spendInPeriod: number;
  /** Orders (not cancelled) placed before the period's end, and their net eligible amount. */
  ordersBeforeEnd: number;
  spendBeforeEnd: number;
}

/**
 * Members who joined before `end` and were not erased by then, after row id `afterId`, with their
 * order figures: a keyset page (the hash that splits the groups is computed in the worker).
 */
export async function memberOrdersPage(
  db: D1Database,
  shopId: string,
  start: string,
  end: string,
  afterId: number,
  limit: number,
): Promise<MemberOrders[]> {
  const { results } = await db
    .prepare(
      `SELECT c.id, c.external_id,
         COALESCE(SUM(o.created_at >= ?2), 0) AS in_period,
         COALESCE(SUM(CASE WHEN o.created_at >= ?2 THEN o.eligible_amount - MIN(o.refunded_amount, o.eligible_amount) END), 0) AS spend_in_period,
         COUNT(o.id) AS before_end,
         COALESCE(SUM(o.eligible_amount - MIN(o.refunded_amount, o.eligible_amount)), 0) AS spend_before_end
       FROM customers c
       LEFT JOIN orders o ON o.customer_id = c.id AND o.status != 'cancelled' AND o.created_at < ?3
       WHERE c.shop_id = ?1 AND c.created_at < ?3 AND (c.redacted_at IS NULL OR c.redacted_at >= ?3) AND c.id > ?4
       GROUP BY c.id ORDER BY c.id LIMIT ?5`,
    )
    .bind(shopId, start, end, afterId, limit)
    .all<{ id: number; external_id: string; in_period: number; spend_in_period: number; before_end: number; spend_before_end: number }>();
  return results.map((r) => ({
    id: r.id,
    externalId: r.external_id,
    ordersInPeriod: r.in_period,
    spendInPeriod: r.spend_in_period,
    ordersBeforeEnd: r.before_end,
    spendBeforeEnd: r.spend_before_end,
  }));
}
