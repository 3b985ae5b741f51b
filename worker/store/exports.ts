/**
 * Keyset pages for the CSV exports (any size: each page is one bounded query on the row id) and a
 * member's referrals for the console's customer profile.
 */

export interface CustomerExportRow {
  id: number;
  external_id: string;
  email: string | null;
  first_name: string | null;
  birthday: string | null;
  balance: number;
  lifetime_points: number;
  tier: string | null;
  referral_code: string;
  order_count: number;
  total_spent: number;
  last_order_at: string | null;
  created_at: string;
  redacted_at: string | null;
}

export async function customersAfter(
  db: D1Database,
  shopId: string,
  afterId: number,
  limit: number,
): Promise<CustomerExportRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, external_id, email, first_name, birthday, balance, lifetime_points, tier, referral_code, order_count,
         total_spent, last_order_at, created_at, redacted_at
       FROM customers WHERE shop_id = ? AND id > ? ORDER BY id LIMIT ?`,
    )
    .bind(shopId, afterId, limit)
    .all<CustomerExportRow>();
  return results;
}

export interface LedgerExportRow {
  id: number;
  customer_id: string;
  delta: number;
  kind: string;
  reference: string | null;
  balance_after: number;
  shortfall: number;
  note: string | null;
  created_at: string;
  expires_at: string | null;
}

export async function ledgerAfter(db: D1Database, shopId: string, afterId: number, limit: number): Promise<LedgerExportRow[]> {
  const { results } = await db
    .prepare(
      `SELECT l.id, c.external_id AS customer_id, l.delta, l.kind, l.reference, l.balance_after, l.shortfall, l.note,
         l.created_at, l.expires_at
       FROM ledger l JOIN customers c ON c.id = l.customer_id
       WHERE l.shop_id = ? AND l.id > ? ORDER BY l.id LIMIT ?`,
    )
    .bind(shopId, afterId, limit)
    .all<LedgerExportRow>();
  return results;
}

export interface MemberReferralRow {
  id: string;
  referee_email: string | null;
  referee_id: string | null;
  status: "claimed" | "completed" | "rejected" | "reversed";
  rejection_reason: string | null;
  created_at: string;
  completed_at: string | null;
}

/** Referrals a member made (newest first, up to `limit`) and the one that brought them in, if any. */
export async function referralsOfMember(db: D1Database, shopId: string, customerRowId: number, limit: number) {
  const [made, by] = await db.batch([
    db
      .prepare(
        `SELECT r.id, r.referee_email, c.external_id AS referee_id, r.status, r.rejection_reason, r.created_at, r.completed_at
         FROM referrals r LEFT JOIN customers c ON c.id = r.referee_customer_id
         WHERE r.shop_id = ? AND r.referrer_id = ? ORDER BY r.created_at DESC, r.id LIMIT ?`,
      )
      .bind(shopId, customerRowId, limit),
    db
      .prepare(
        `SELECT c.external_id AS referrer_id, r.status, r.created_at FROM referrals r JOIN customers c ON c.id = r.referrer_id
         WHERE r.shop_id = ? AND r.referee_customer_id = ? AND r.status != 'rejected'
         ORDER BY r.created_at LIMIT 1`,
      )
      .bind(shopId, customerRowId),
  ]);
  return {
    made: (made!.results ?? []) as unknown as MemberReferralRow[],
    by: ((by!.results ?? [])[0] ?? null) as { referrer_id: string; status: string; created_at: string } | null,
  };
}
