/** Points for good: what members gave, per cause, for the merchant to pay out. */
import type { Period } from "../domain/analytics";
import { formatMoney } from "../domain/money";
import { donationsByCause, donationsIn } from "../store/donations";
import type { Shop } from "../store/shops";

export async function donationsReport(db: D1Database, shop: Shop, period: Period) {
  const causes = await donationsByCause(db, shop.id, period.start, period.end);
  return {
    period: { from: period.from, to: period.to, start: period.start, end: period.end },
    currency: shop.currency,
    causes: causes.map((c) => ({ cause: c.cause, count: c.count, points: c.points, value: formatMoney(c.value, shop.currency) })),
  };
}

/** The figure analytics shows: donations in the period and the money they promise. */
export async function donationTotals(db: D1Database, shop: Shop, period: Period) {
  const causes = await donationsByCause(db, shop.id, period.start, period.end);
  return {
    count: causes.reduce((sum, c) => sum + c.count, 0),
    value: formatMoney(
      causes.reduce((sum, c) => sum + c.value, 0),
      shop.currency,
    ),
  };
}

/** Every donation of the period, as CSV rows (one per gift) for the payout. */
export async function donationRows(db: D1Database, shop: Shop, period: Period) {
  const rows = await donationsIn(db, shop.id, period.start, period.end);
  return rows.map((r) => [r.id, r.createdAt, r.cause, r.customerId, r.points, formatMoney(r.value, shop.currency), shop.currency]);
}
