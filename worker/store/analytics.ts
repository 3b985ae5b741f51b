/**
 * The SQL behind program analytics and the simulator. Every query filters by shop and takes the
 * period as [start, end) ISO instants; what the counts mean is decided in domain/analytics.ts.
 * Text comparison of ISO-8601 UTC instants is chronological (all are written by toISOString()).
 */

/** Ledger kinds that do not count toward lifetime points (the ledger trigger's rule). */
const NOT_LIFETIME = "('redemption', 'redemption_reversal', 'expiry')";

export interface MemberCounts {
  members: number;
  newMembers: number;
}

/** Members at the end of the period (not erased by then), and those who joined during it. */
export async function memberCounts(db: D1Database, shopId: string, start: string, end: string): Promise<MemberCounts> {
  const row = await db
    .prepare(
      `SELECT COUNT(*) AS members, COALESCE(SUM(created_at >= ?2), 0) AS newMembers FROM customers
       WHERE shop_id = ?1 AND created_at < ?3 AND (redacted_at IS NULL OR redacted_at >= ?3)`,
    )
    .bind(shopId, start, end)
    .first<MemberCounts>();
  return row ?? { members: 0, newMembers: 0 };
}

export interface LedgerFigures {
  pointsIssued: number;
  pointsRedeemed: number;
  pointsExpired: number;
  pointsClawedBack: number;
  outstandingAtStart: number;
  outstandingAtEnd: number;
}

/**
 * Issued: positive entries other than redemption reversals. Redeemed: redemptions less their
 * reversals. Expired: expiry entries. Clawed back: refunds, cancellations and debit adjustments.
 * Outstanding: the sum of all entries before the instant (= the sum of balances then).
 */
export async function ledgerFigures(db: D1Database, shopId: string, start: string, end: string): Promise<LedgerFigures> {
  const row = await db
    .prepare(
      `SELECT
         COALESCE(SUM(CASE WHEN created_at >= ?2 AND delta > 0 AND kind != 'redemption_reversal' THEN delta END), 0) AS pointsIssued,
         COALESCE(SUM(CASE WHEN created_at >= ?2 AND kind IN ('redemption', 'redemption_reversal') THEN -delta END), 0) AS pointsRedeemed,
         COALESCE(SUM(CASE WHEN created_at >= ?2 AND kind = 'expiry' THEN -delta END), 0) AS pointsExpired,
         COALESCE(SUM(CASE WHEN created_at >= ?2 AND delta < 0 AND kind IN ('refund', 'cancel', 'adjustment') THEN -delta END), 0) AS pointsClawedBack,
         COALESCE(SUM(CASE WHEN created_at < ?2 THEN delta END), 0) AS outstandingAtStart,
         COALESCE(SUM(delta), 0) AS outstandingAtEnd
       FROM ledger WHERE shop_id = ?1 AND created_at < ?3`,
    )
    .bind(shopId, start, end)
    .first<LedgerFigures>();
  return (
    row ?? { pointsIssued: 0, pointsRedeemed: 0, pointsExpired: 0, pointsClawedBack: 0, outstandingAtStart: 0, outstandingAtEnd: 0 }
  );
}

/** Members who placed an order (not cancelled) or redeemed a reward in the period. */
export async function activeMemberCount(db: D1Database, shopId: string, start: string, end: string): Promise<number> {
  const row = await db
    .prepare(
      `SELECT COUNT(*) AS n FROM (
         SELECT customer_id FROM orders
         WHERE shop_id = ?1 AND status != 'cancelled' AND customer_id IS NOT NULL AND created_at >= ?2 AND created_at < ?3
         UNION
         SELECT customer_id FROM redemptions WHERE shop_id = ?1 AND created_at >= ?2 AND created_at < ?3)`,
    )
    .bind(shopId, start, end)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export interface BuyerCounts {
  /** Members with an order (not cancelled) in the period. */
  buyers: number;
  /** Of those, members with at least two such orders by the period's end. */
  repeatBuyers: number;
  /** Members with an order in the previous period of the same length. */
  previousBuyers: number;
  /** Buyers of this period who were also buyers of the previous one. */
  returningBuyers: number;
}

export async function buyerCounts(
  db: D1Database,
  shopId: string,
  previousStart: string,
  start: string,
  end: string,
): Promise<BuyerCounts> {
  const row = await db
    .prepare(
      `WITH cur AS (
         SELECT DISTINCT customer_id FROM orders
         WHERE shop_id = ?1 AND status != 'cancelled' AND customer_id IS NOT NULL AND created_at >= ?3 AND created_at < ?4),
       prev AS (
         SELECT DISTINCT customer_id FROM orders
         WHERE shop_id = ?1 AND status != 'cancelled' AND customer_id IS NOT NULL AND created_at >= ?2 AND created_at < ?3)
       SELECT
         (SELECT COUNT(*) FROM cur) AS buyers,
         (SELECT COUNT(*) FROM cur WHERE (
            SELECT COUNT(*) FROM orders o
            WHERE o.customer_id = cur.customer_id AND o.status != 'cancelled' AND o.created_at < ?4) >= 2) AS repeatBuyers,
         (SELECT COUNT(*) FROM prev) AS previousBuyers,
         (SELECT COUNT(*) FROM cur WHERE customer_id IN (SELECT customer_id FROM prev)) AS returningBuyers`,
    )
    .bind(shopId, previousStart, start, end)
    .first<BuyerCounts>();
  return row ?? { buyers: 0, repeatBuyers: 0, previousBuyers: 0, returningBuyers: 0 };
}

/** Net spend (eligible amount less refunds, cancelled orders excluded) of all orders before `end`. */
export async function lifetimeSpend(db: D1Database, shopId: string, end: string): Promise<{ spend: number; buyers: number }> {
  const row = await db
    .prepare(
      `SELECT COALESCE(SUM(eligible_amount - MIN(refunded_amount, eligible_amount)), 0) AS spend,
         COUNT(DISTINCT customer_id) AS buyers
       FROM orders WHERE shop_id = ? AND status != 'cancelled' AND customer_id IS NOT NULL AND created_at < ?`,
    )
    .bind(shopId, end)
    .first<{ spend: number; buyers: number }>();
  return row ?? { spend: 0, buyers: 0 };
}

export interface ReferralCounts {
  claims: number;
  completed: number;
  rejected: number;
  reversed: number;
}

/** Referral claims made in the period, by what became of them. */
export async function referralCounts(db: D1Database, shopId: string, start: string, end: string): Promise<ReferralCounts> {
  const row = await db
    .prepare(
      `SELECT COUNT(*) AS claims, COALESCE(SUM(status = 'completed'), 0) AS completed,
         COALESCE(SUM(status = 'rejected'), 0) AS rejected, COALESCE(SUM(status = 'reversed'), 0) AS reversed
       FROM referrals WHERE shop_id = ? AND created_at >= ? AND created_at < ?`,
    )
    .bind(shopId, start, end)
    .first<ReferralCounts>();
  return row ?? { claims: 0, completed: 0, rejected: 0, reversed: 0 };
}

/**
 * Members' standing in challenges: a participation is a (challenge, member) row whose progress
 * moved in the period or that was completed in it; completed ones are those completed in it.
 */
export async function challengeCounts(
  db: D1Database,
  shopId: string,
  start: string,
  end: string,
): Promise<{ participants: number; completed: number }> {
  const row = await db
    .prepare(
      `SELECT COUNT(*) AS participants, COALESCE(SUM(completed_at >= ?2 AND completed_at < ?3), 0) AS completed
       FROM challenge_progress
       WHERE shop_id = ?1 AND ((updated_at >= ?2 AND updated_at < ?3) OR (completed_at >= ?2 AND completed_at < ?3))`,
    )
    .bind(shopId, start, end)
    .first<{ participants: number; completed: number }>();
  return row ?? { participants: 0, completed: 0 };
}

export interface AtRiskRow {
  externalId: string;
  email: string | null;
  firstName: string | null;
  orders: number;
  firstOrderAt: string;
  lastOrderAt: string;
}

/**
 * Members with two or more orders whose time since their last order (at `asOf`) exceeds `factor`
 * times their mean gap between orders (at least `minCadence` days): most overdue first.
 */
export async function membersAtRisk(
  db: D1Database,
  shopId: string,
  asOf: string,
  factor: number,
  minCadence: number,
  limit: number,
): Promise<{ count: number; members: AtRiskRow[] }> {
  const rhythm = `
    WITH rhythm AS (
      SELECT customer_id, COUNT(*) AS n, MIN(created_at) AS first_at, MAX(created_at) AS last_at FROM orders
      WHERE shop_id = ?1 AND status != 'cancelled' AND customer_id IS NOT NULL AND created_at < ?2
      GROUP BY customer_id HAVING COUNT(*) >= 2),
    due AS (
      SELECT r.*, julianday(?2) - julianday(r.last_at) AS since,
        MAX(?4, (julianday(r.last_at) - julianday(r.first_at)) / (r.n - 1)) AS cadence
      FROM rhythm r)
    SELECT %COLUMNS% FROM due d JOIN customers c ON c.id = d.customer_id
    WHERE c.redacted_at IS NULL AND d.since > ?3 * d.cadence`;
  const [count, list] = await db.batch([
    db.prepare(rhythm.replace("%COLUMNS%", "COUNT(*) AS n")).bind(shopId, asOf, factor, minCadence),
    db
      .prepare(
        `${rhythm.replace(
          "%COLUMNS%",
          "c.external_id AS externalId, c.email, c.first_name AS firstName, d.n AS orders, d.first_at AS firstOrderAt, d.last_at AS lastOrderAt",
        )} ORDER BY d.since - d.cadence DESC, c.id LIMIT ?5`,
      )
      .bind(shopId, asOf, factor, minCadence, limit),
  ]);
  return {
    count: (count!.results[0] as { n: number } | undefined)?.n ?? 0,
    members: list!.results as unknown as AtRiskRow[],
  };
}

export interface SeriesRow {
  bucket: string;
  pointsIssued: number;
  pointsRedeemed: number;
  newMembers: number;
  orders: number;
  revenue: number;
}

/** Per day (labelLength 10) or month (7): the points, new members, orders and net revenue. */
export async function seriesRows(
  db: D1Database,
  shopId: string,
  start: string,
  end: string,
  labelLength: 7 | 10,
): Promise<{ ledger: SeriesRow[]; members: SeriesRow[]; orders: SeriesRow[] }> {
  const [ledger, members, orders] = await db.batch([
    db
      .prepare(
        `SELECT substr(created_at, 1, ?4) AS bucket,
           COALESCE(SUM(CASE WHEN delta > 0 AND kind != 'redemption_reversal' THEN delta END), 0) AS pointsIssued,
           COALESCE(SUM(CASE WHEN kind IN ('redemption', 'redemption_reversal') THEN -delta END), 0) AS pointsRedeemed
         FROM ledger WHERE shop_id = ?1 AND created_at >= ?2 AND created_at < ?3 GROUP BY bucket`,
      )
      .bind(shopId, start, end, labelLength),
    db
      .prepare(
        `SELECT substr(created_at, 1, ?4) AS bucket, COUNT(*) AS newMembers FROM customers
         WHERE shop_id = ?1 AND created_at >= ?2 AND created_at < ?3 GROUP BY bucket`,
      )
      .bind(shopId, start, end, labelLength),
    db
      .prepare(
        `SELECT substr(created_at, 1, ?4) AS bucket, COUNT(*) AS orders,
           COALESCE(SUM(eligible_amount - MIN(refunded_amount, eligible_amount)), 0) AS revenue
         FROM orders WHERE shop_id = ?1 AND status != 'cancelled' AND created_at >= ?2 AND created_at < ?3 GROUP BY bucket`,
      )
      .bind(shopId, start, end, labelLength),
  ]);
  const rows = (r: D1Result | undefined) => (r?.results ?? []) as unknown as SeriesRow[];
  return { ledger: rows(ledger), members: rows(members), orders: rows(orders) };
}

// --- The simulator's inputs ------------------------------------------------------------------

/** Members with an order that occurred in [start, end). */
const REPLAYED_MEMBERS = `SELECT DISTINCT customer_id FROM orders WHERE shop_id = ?1 AND customer_id IS NOT NULL AND created_at >= ?2 AND created_at < ?3`;

export interface ReplayOrderRow {
  id: number;
  externalId: string;
  member: number;
  eligible: number;
  lines: string;
  occurredAt: string;
  processedAt: string | null;
  seq: number | null;
  recordedPoints: number;
}

/** A page of the window's orders with when the worker processed each (its `order:` ledger entry). */
export async function replayOrdersPage(
  db: D1Database,
  shopId: string,
  start: string,
  end: string,
  afterId: number,
  limit: number,
): Promise<ReplayOrderRow[]> {
  const { results } = await db
    .prepare(
      `SELECT o.id, o.external_id AS externalId, o.customer_id AS member, o.eligible_amount AS eligible, o.lines,
         o.created_at AS occurredAt, l.created_at AS processedAt, l.id AS seq, o.points_awarded AS recordedPoints
       FROM orders o LEFT JOIN ledger l ON l.shop_id = o.shop_id AND l.idempotency_key = 'order:' || o.external_id
       WHERE o.shop_id = ?1 AND o.customer_id IS NOT NULL AND o.created_at >= ?2 AND o.created_at < ?3 AND o.id > ?4
       ORDER BY o.id LIMIT ?5`,
    )
    .bind(shopId, start, end, afterId, limit)
    .all<ReplayOrderRow>();
  return results;
}

/** Refunds and cancellations applied to the orders that occurred in [since, end). */
export async function replayRefunds(db: D1Database, shopId: string, since: string, end: string) {
  const { results } = await db
    .prepare(
      `SELECT r.order_external_id AS orderId, r.kind, r.amount, r.created_at AS at FROM order_refunds r
       JOIN orders o ON o.shop_id = r.shop_id AND o.external_id = r.order_external_id
       WHERE r.shop_id = ?1 AND r.applied = 1 AND o.created_at >= ?2 AND o.created_at < ?3`,
    )
    .bind(shopId, since, end)
    .all<{ orderId: string; kind: "refund" | "cancel"; amount: number; at: string }>();
  return results;
}

/**
 * A page of the lifetime-counting ledger entries of the window's members from `start` on, other
 * than those of the replayed orders themselves (which the replay recomputes).
 */
export async function replayCreditsPage(
  db: D1Database,
  shopId: string,
  start: string,
  end: string,
  afterId: number,
  limit: number,
) {
  const { results } = await db
    .prepare(
      `SELECT l.id AS seq, l.customer_id AS member, l.delta, l.created_at AS at, l.kind FROM ledger l
       WHERE l.shop_id = ?1 AND l.created_at >= ?2 AND l.id > ?4 AND l.kind NOT IN ${NOT_LIFETIME}
         AND l.customer_id IN (${REPLAYED_MEMBERS})
         AND NOT (l.kind IN ('order', 'refund', 'cancel') AND EXISTS (
           SELECT 1 FROM orders o WHERE o.shop_id = ?1 AND o.external_id = l.reference AND o.created_at >= ?2 AND o.created_at < ?3))
       ORDER BY l.id LIMIT ?5`,
    )
    .bind(shopId, start, end, afterId, limit)
    .all<{ seq: number; member: number; delta: number; at: string; kind: string }>();
  return results;
}

/** Lifetime points of each of the window's members from entries before `start`. */
export async function lifetimeBefore(db: D1Database, shopId: string, start: string, end: string) {
  const { results } = await db
    .prepare(
      `SELECT customer_id AS member, COALESCE(SUM(delta), 0) AS points FROM ledger
       WHERE shop_id = ?1 AND created_at < ?2 AND kind NOT IN ${NOT_LIFETIME} AND customer_id IN (${REPLAYED_MEMBERS})
       GROUP BY customer_id`,
    )
    .bind(shopId, start, end)
    .all<{ member: number; points: number }>();
  return results;
}

/** The window's members' orders that occurred in [since, start), for tiers by spend. */
export async function priorOrders(db: D1Database, shopId: string, since: string, start: string, end: string) {
  const { results } = await db
    .prepare(
      `SELECT o.external_id AS id, o.customer_id AS member, o.eligible_amount AS eligible, o.created_at AS occurredAt,
         COALESCE(l.created_at, o.created_at) AS processedAt
       FROM orders o LEFT JOIN ledger l ON l.shop_id = o.shop_id AND l.idempotency_key = 'order:' || o.external_id
       WHERE o.shop_id = ?1 AND o.created_at >= ?4 AND o.created_at < ?2 AND o.customer_id IN (${REPLAYED_MEMBERS})`,
    )
    .bind(shopId, start, end, since)
    .all<{ id: string; member: number; eligible: number; occurredAt: string; processedAt: string }>();
  return results;
}

/** Positive points credited from `start` on other than by the window's orders (all members). */
export async function otherPointsSince(db: D1Database, shopId: string, start: string, end: string): Promise<number> {
  const row = await db
    .prepare(
      `SELECT COALESCE(SUM(l.delta), 0) AS points FROM ledger l
       WHERE l.shop_id = ?1 AND l.created_at >= ?2 AND l.delta > 0 AND l.kind != 'redemption_reversal'
         AND NOT (l.kind = 'order' AND EXISTS (
           SELECT 1 FROM orders o WHERE o.shop_id = ?1 AND o.external_id = l.reference AND o.created_at >= ?2 AND o.created_at < ?3))`,
    )
    .bind(shopId, start, end)
    .first<{ points: number }>();
  return row?.points ?? 0;
}

/** A page of members with no order in the window (not erased): their tier and lifetime points. */
export async function otherMembersPage(
  db: D1Database,
  shopId: string,
  start: string,
  end: string,
  afterId: number,
  limit: number,
) {
  const { results } = await db
    .prepare(
      `SELECT id, tier, lifetime_points AS lifetimePoints FROM customers
       WHERE shop_id = ?1 AND redacted_at IS NULL AND id > ?4 AND id NOT IN (${REPLAYED_MEMBERS})
       ORDER BY id LIMIT ?5`,
    )
    .bind(shopId, start, end, afterId, limit)
    .all<{ id: number; tier: string | null; lifetimePoints: number }>();
  return results;
}

/** Net spend since `since` of members with row ids in [fromId, toId], by member. */
export async function spendByMember(db: D1Database, shopId: string, since: string, fromId: number, toId: number) {
  const { results } = await db
    .prepare(
      `SELECT customer_id AS member, SUM(eligible_amount - MIN(refunded_amount, eligible_amount)) AS spent FROM orders
       WHERE shop_id = ? AND status != 'cancelled' AND created_at >= ? AND customer_id BETWEEN ? AND ?
       GROUP BY customer_id`,
    )
    .bind(shopId, since, fromId, toId)
    .all<{ member: number; spent: number }>();
  return results;
}

/** Points members hold now (the sum of balances). */
export async function outstandingPoints(db: D1Database, shopId: string): Promise<number> {
  const row = await db
    .prepare("SELECT COALESCE(SUM(balance), 0) AS points FROM customers WHERE shop_id = ?")
    .bind(shopId)
    .first<{ points: number }>();
  return row?.points ?? 0;
}
