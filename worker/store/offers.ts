/** Personal offers (0031_offers.sql): granted by the daily run (win-back) or by hand. */
import type { Offer } from "../domain/win-back";
import { allRows, type Read } from "./batch";

const MEMBER = "(SELECT id FROM customers WHERE shop_id = ?1 AND external_id = ?2)";

/** The member's offers still running at or after `at` (what an order or the widget needs). */
export function readOffersOf(db: D1Database, shopId: string, customerExternalId: string, at: string): Read<Offer[]> {
  return allRows(
    db
      .prepare(`SELECT multiplier, starts_at, expires_at FROM offers WHERE customer_id = ${MEMBER} AND expires_at > ?3`)
      .bind(shopId, customerExternalId, at),
    (r: { multiplier: number; starts_at: string; expires_at: string }) => ({
      multiplier: r.multiplier,
      startsAt: r.starts_at,
      expiresAt: r.expires_at,
    }),
  );
}

/** The statement (for the storefront state's batch) and how to parse its rows. */
export function offersStatement(db: D1Database, member: string, params: unknown[], at: string) {
  return {
    statement: db
      .prepare(`SELECT multiplier, starts_at, expires_at FROM offers WHERE customer_id = ${member} AND expires_at > ?${params.length + 1}`)
      .bind(...params, at),
    rows: (result: D1Result): Offer[] =>
      (result.results as { multiplier: number; starts_at: string; expires_at: string }[]).map((r) => ({
        multiplier: r.multiplier,
        startsAt: r.starts_at,
        expiresAt: r.expires_at,
      })),
  };
}

export interface NewOffer {
  customerExternalId: string;
  source: "win_back" | "manual";
  multiplier: number;
  startsAt: string;
  expiresAt: string;
  episode: string | null;
  note: string | null;
}

/** An offer; one of an episode already granted is skipped (the daily run may run twice). */
export function insertOffer(db: D1Database, shopId: string, offer: NewOffer): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO offers (shop_id, customer_id, source, multiplier, starts_at, expires_at, episode, note, created_at)
       SELECT shop_id, id, ?3, ?4, ?5, ?6, ?7, ?8, ?5 FROM customers WHERE shop_id = ?1 AND external_id = ?2
       ON CONFLICT (customer_id, episode) DO NOTHING`,
    )
    .bind(shopId, offer.customerExternalId, offer.source, offer.multiplier, offer.startsAt, offer.expiresAt, offer.episode, offer.note);
}

/**
 * Offers that started in [start, end): how many, how many of their members ordered while the offer
 * ran (an order not cancelled, placed in [starts_at, expires_at)), and the net revenue of those orders.
 */
export async function offerFigures(db: D1Database, shopId: string, start: string, end: string) {
  const row = await db
    .prepare(
      `WITH granted AS (
         SELECT id, customer_id, starts_at, expires_at FROM offers WHERE shop_id = ?1 AND starts_at >= ?2 AND starts_at < ?3),
       bought AS (
         SELECT g.id, SUM(o.eligible_amount - MIN(o.refunded_amount, o.eligible_amount)) AS revenue
         FROM granted g JOIN orders o ON o.customer_id = g.customer_id AND o.status != 'cancelled'
           AND o.created_at >= g.starts_at AND o.created_at < g.expires_at
         GROUP BY g.id)
       SELECT (SELECT COUNT(*) FROM granted) AS offered, (SELECT COUNT(*) FROM bought) AS converted,
         (SELECT COALESCE(SUM(revenue), 0) FROM bought) AS revenue`,
    )
    .bind(shopId, start, end)
    .first<{ offered: number; converted: number; revenue: number }>();
  return row ?? { offered: 0, converted: 0, revenue: 0 };
}
