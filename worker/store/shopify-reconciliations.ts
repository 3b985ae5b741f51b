/** The runs of the scheduled Shopify reconciliation (migration 0027). */

export interface ReconciliationRun {
  id: string;
  ranAt: string;
  since: string;
  until: string | null;
  orders: number;
  credited: number;
  points: number;
  skipped: number;
  error: string | null;
}

export async function recordReconciliation(db: D1Database, shopId: string, run: ReconciliationRun): Promise<void> {
  await db
    .prepare(
      `INSERT INTO shopify_reconciliations (id, shop_id, ran_at, since, until, orders, credited, points, skipped, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(run.id, shopId, run.ranAt, run.since, run.until, run.orders, run.credited, run.points, run.skipped, run.error)
    .run();
}

/** The shop's runs, newest first. */
export async function reconciliationsOf(db: D1Database, shopId: string, limit = 10): Promise<ReconciliationRun[]> {
  const { results } = await db
    .prepare(
      `SELECT id, ran_at, since, until, orders, credited, points, skipped, error FROM shopify_reconciliations
       WHERE shop_id = ? ORDER BY ran_at DESC, id DESC LIMIT ?`,
    )
    .bind(shopId, limit)
    .all<{
      id: string;
      ran_at: string;
      since: string;
      until: string | null;
      orders: number;
      credited: number;
      points: number;
      skipped: number;
      error: string | null;
    }>();
  return results.map((row) => ({
    id: row.id,
    ranAt: row.ran_at,
    since: row.since,
    until: row.until,
    orders: row.orders,
    credited: row.credited,
    points: row.points,
    skipped: row.skipped,
    error: row.error,
  }));
}

/** Where the next run starts: the end of the last run that read everything. */
export async function lastReconciledUntil(db: D1Database, shopId: string): Promise<string | null> {
  const row = await db
    .prepare("SELECT MAX(until) AS until FROM shopify_reconciliations WHERE shop_id = ? AND until IS NOT NULL")
    .bind(shopId)
    .first<{ until: string | null }>();
  return row?.until ?? null;
}
