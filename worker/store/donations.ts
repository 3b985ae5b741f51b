/** Donations (0032_donations.sql): redemptions of donation rewards, without a code, and their totals per cause. */
import type { Redemption } from "./rewards";

/** A donation: the redemption row (no code, status used at once, the cause frozen), in its debit's batch. */
export function insertDonation(db: D1Database, shopId: string, donation: Redemption & { cause: string }): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO redemptions (id, shop_id, customer_id, reward_id, code, points, status, reward_type, reward_value,
         created_at, used_at, cause)
       SELECT ?3, shop_id, id, ?4, NULL, ?5, 'used', 'donation', ?6, ?7, ?7, ?8 FROM customers WHERE shop_id = ?1 AND external_id = ?2`,
    )
    .bind(shopId, donation.customerExternalId, donation.id, donation.rewardId, donation.points, donation.rewardValue, donation.createdAt, donation.cause);
}

export interface CauseTotal {
  cause: string;
  count: number;
  points: number;
  /** Minor units. */
  value: number;
}

/** Donations made in [from, to) (not voided), per cause, largest first. */
export async function donationsByCause(db: D1Database, shopId: string, from: string, to: string): Promise<CauseTotal[]> {
  const { results } = await db
    .prepare(
      `SELECT cause, COUNT(*) AS count, SUM(points) AS points, COALESCE(SUM(reward_value), 0) AS value FROM redemptions
       WHERE shop_id = ? AND cause IS NOT NULL AND status != 'void' AND created_at >= ? AND created_at < ?
       GROUP BY cause ORDER BY value DESC, cause`,
    )
    .bind(shopId, from, to)
    .all<CauseTotal>();
  return results;
}

export interface DonationRow {
  id: string;
  customerId: string;
  cause: string;
  points: number;
  value: number;
  createdAt: string;
}

/** Every donation in [from, to), oldest first (the payout export). */
export async function donationsIn(db: D1Database, shopId: string, from: string, to: string): Promise<DonationRow[]> {
  const { results } = await db
    .prepare(
      `SELECT r.id, c.external_id AS customer_id, r.cause, r.points, COALESCE(r.reward_value, 0) AS value, r.created_at
       FROM redemptions r JOIN customers c ON c.id = r.customer_id
       WHERE r.shop_id = ? AND r.cause IS NOT NULL AND r.status != 'void' AND r.created_at >= ? AND r.created_at < ?
       ORDER BY r.created_at, r.id`,
    )
    .bind(shopId, from, to)
    .all<{ id: string; customer_id: string; cause: string; points: number; value: number; created_at: string }>();
  return results.map((r) => ({ id: r.id, customerId: r.customer_id, cause: r.cause, points: r.points, value: r.value, createdAt: r.created_at }));
}
