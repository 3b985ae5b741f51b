/**
 * Referrals: claims, their outcome and the reason a claim or an order was rejected. Status changes
 * are guarded by the status they were planned from, so a referral completes, is rejected or is
 * reversed once, whatever races with it.
 */
import type { RejectionReason } from "../domain/referrals";
import { allRows, exists, firstRow, guard, mapRead, type Read, together } from "./batch";
import { CHALLENGE_COLUMNS, type ChallengeProgress, type ChallengeProgressRow, toChallengeProgress } from "./challenges";
import { appendReferralReversal } from "./ledger";

export type ReferralStatus = "claimed" | "completed" | "rejected" | "reversed";

export interface Referral {
  id: string;
  code: string;
  referrerRowId: number;
  referrerExternalId: string;
  referrerFirstName: string | null;
  referrerEmailKey: string | null;
  referrerTier: string | null;
  referrerLifetimePoints: number;
  refereeEmail: string | null;
  refereeEmailKey: string | null;
  refereeExternalId: string | null;
  offerCode: string | null;
  status: ReferralStatus;
  rejectionReason: string | null;
  orderExternalId: string | null;
  createdAt: string;
  completedAt: string | null;
}

interface ReferralRow {
  cursor: number;
  id: string;
  code: string;
  referrer_id: number;
  referrer_external_id: string;
  referrer_first_name: string | null;
  referrer_email_key: string | null;
  referrer_tier: string | null;
  referrer_lifetime_points: number;
  referee_email: string | null;
  referee_email_key: string | null;
  referee_external_id: string | null;
  offer_code: string | null;
  status: ReferralStatus;
  rejection_reason: string | null;
  order_external_id: string | null;
  created_at: string;
  completed_at: string | null;
}

/** Referrals with their referrer and referee. */
const SELECT_REFERRALS = `SELECT r.rowid AS cursor, r.id, r.code, r.referrer_id, rc.external_id AS referrer_external_id,
    rc.first_name AS referrer_first_name, rc.email_key AS referrer_email_key, rc.tier AS referrer_tier,
    rc.lifetime_points AS referrer_lifetime_points, r.referee_email, r.referee_email_key,
    ec.external_id AS referee_external_id, r.offer_code, r.status, r.rejection_reason, r.order_external_id,
    r.created_at, r.completed_at
  FROM referrals r JOIN customers rc ON rc.id = r.referrer_id
  LEFT JOIN customers ec ON ec.id = r.referee_customer_id`;

function toReferral(row: ReferralRow): Referral {
  return {
    id: row.id,
    code: row.code,
    referrerRowId: row.referrer_id,
    referrerExternalId: row.referrer_external_id,
    referrerFirstName: row.referrer_first_name,
    referrerEmailKey: row.referrer_email_key,
    referrerTier: row.referrer_tier,
    referrerLifetimePoints: row.referrer_lifetime_points,
    refereeEmail: row.referee_email,
    refereeEmailKey: row.referee_email_key,
    refereeExternalId: row.referee_external_id,
    offerCode: row.offer_code,
    status: row.status,
    rejectionReason: row.rejection_reason,
    orderExternalId: row.order_external_id,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

export interface ClaimStanding {
  recentClaimsFromAddress: number;
  emailAlreadyClaimed: boolean;
  emailHasOrdered: boolean;
  /** The address key the standing was read for (null: none known). */
  emailKey: string | null;
}

/**
 * Everything the claim rules need to know, in one read. `emailKey` null: the key of the member's
 * own email (`memberExternalId`), for a signup that reported none.
 */
export function readClaimStanding(
  db: D1Database,
  shopId: string,
  input: { addressHash: string | null; since: string; emailKey: string | null; memberExternalId?: string | undefined },
): Read<ClaimStanding> {
  return mapRead(
    firstRow(
      db
        .prepare(
          `WITH k AS (SELECT COALESCE(?4, (SELECT email_key FROM customers WHERE shop_id = ?1 AND external_id = ?5)) AS key)
           SELECT
             (SELECT COUNT(*) FROM referrals WHERE shop_id = ?1 AND claim_address = ?2 AND created_at >= ?3) AS recent,
             EXISTS (SELECT 1 FROM referrals, k WHERE shop_id = ?1 AND referee_email_key = k.key AND status != 'rejected')
               AS claimed,
             (EXISTS (SELECT 1 FROM customers, k WHERE shop_id = ?1 AND email_key = k.key AND order_count > 0)
               OR EXISTS (SELECT 1 FROM orders, k WHERE shop_id = ?1 AND email_key = k.key)) AS ordered,
             (SELECT key FROM k) AS email_key`,
        )
        .bind(shopId, input.addressHash, input.since, input.emailKey, input.memberExternalId ?? null),
      (row: { recent: number; claimed: number; ordered: number; email_key: string | null }) => row,
    ),
    (row) => ({
      recentClaimsFromAddress: row?.recent ?? 0,
      emailAlreadyClaimed: row?.claimed === 1,
      emailHasOrdered: row?.ordered === 1,
      emailKey: row?.email_key ?? null,
    }),
  );
}

export interface NewReferral {
  id: string;
  referrerRowId: number;
  code: string;
  refereeEmail: string | null;
  refereeEmailKey: string | null;
  /** A referee known by identity (a signup reported with the code it arrived with). */
  refereeExternalId?: string | undefined;
  offerCode: string | null;
  status: "claimed" | "rejected";
  rejectionReason: RejectionReason | null;
  addressHash: string | null;
  createdAt: string;
}

export function insertReferral(db: D1Database, shopId: string, referral: NewReferral): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO referrals (id, shop_id, referrer_id, code, referee_email, referee_email_key, referee_customer_id,
         offer_code, status, rejection_reason, claim_address, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT id FROM customers WHERE shop_id = ?2 AND external_id = ?7), ?8, ?9,
         ?10, ?11, ?12)`,
    )
    .bind(
      referral.id,
      shopId,
      referral.referrerRowId,
      referral.code,
      referral.refereeEmail,
      referral.refereeEmailKey,
      referral.refereeExternalId ?? null,
      referral.offerCode,
      referral.status,
      referral.rejectionReason,
      referral.addressHash,
      referral.createdAt,
    );
}

/**
 * Fail an accepted claim's batch when, since it was planned, the address reached the burst limit:
 * the claim is then planned again and rejected with its reason.
 */
export function burstGuard(
  db: D1Database,
  shopId: string,
  input: { addressHash: string; since: string; limit: number },
): D1PreparedStatement {
  return guard(
    db,
    "(SELECT COUNT(*) FROM referrals WHERE shop_id = ? AND claim_address = ? AND created_at >= ?) < ?",
    shopId,
    input.addressHash,
    input.since,
    input.limit,
  );
}

/** Fail an accepted claim's batch when, since it was planned, the email claimed elsewhere. */
export function emailGuard(db: D1Database, shopId: string, emailKey: string): D1PreparedStatement {
  return guard(
    db,
    "NOT EXISTS (SELECT 1 FROM referrals WHERE shop_id = ? AND referee_email_key = ? AND status != 'rejected')",
    shopId,
    emailKey,
  );
}

/** Whether a member already is the referee of some referral (a signup reported twice counts once). */
export function readIsReferee(db: D1Database, shopId: string, customerExternalId: string): Read<boolean> {
  return exists(
    db
      .prepare(
        `SELECT 1 AS found FROM referrals
         WHERE shop_id = ?1 AND referee_customer_id = (SELECT id FROM customers WHERE shop_id = ?1 AND external_id = ?2)`,
      )
      .bind(shopId, customerExternalId),
  );
}

/** Takes back a claim whose offer code could not be issued (its code never existed anywhere). */
export async function withdrawClaim(db: D1Database, shopId: string, referralId: string): Promise<void> {
  await db
    .prepare("DELETE FROM referrals WHERE shop_id = ? AND id = ? AND status = 'claimed'")
    .bind(shopId, referralId)
    .run();
}

/**
 * Claimed referrals an order may complete: by the addresses it carries, the ordering member's own
 * address (customers.email_key), the offer codes used, or the member (a referee known since signup).
 * Runs on every paid order, so each branch is an index lookup ((shop, email key) and the unique
 * (shop, offer code)); written as `r.rowid IN (...)` (both branches filter by shop) because with
 * `shop_id = ? AND (a OR b)` SQLite walks all of the shop's referrals in created_at order instead
 * (12 ms per order at 20k referrals; see bench/ and README "Benchmarks").
 * Bound as ?1 shop, ?2 email keys (JSON), ?3 offer codes (JSON), ?4 the ordering member.
 */
const CANDIDATE_REFERRALS = `SELECT rowid FROM referrals WHERE shop_id = ?1 AND referee_email_key IN (SELECT value FROM json_each(?2))
  UNION ALL
  SELECT rowid FROM referrals WHERE shop_id = ?1
    AND referee_email_key = (SELECT email_key FROM customers WHERE shop_id = ?1 AND external_id = ?4)
  UNION ALL
  SELECT rowid FROM referrals WHERE shop_id = ?1 AND offer_code IN (SELECT value FROM json_each(?3))
  UNION ALL
  SELECT rowid FROM referrals WHERE shop_id = ?1
    AND referee_customer_id = (SELECT id FROM customers WHERE shop_id = ?1 AND external_id = ?4)`;

/** A claimed referral an order may complete, with the referrer's "referrals" challenges as read. */
export type CandidateReferral = Referral & { referrerChallenges: ChallengeProgress[] };

export function readClaimedReferrals(
  db: D1Database,
  shopId: string,
  emailKeys: string[],
  offerCodes: string[],
  customerExternalId: string,
): Read<CandidateReferral[]> {
  const params = [shopId, JSON.stringify(emailKeys), JSON.stringify(offerCodes), customerExternalId];
  const referrals = allRows(
    db
      .prepare(`${SELECT_REFERRALS} WHERE r.rowid IN (${CANDIDATE_REFERRALS}) AND r.status = 'claimed' ORDER BY r.created_at, r.id`)
      .bind(...params),
    toReferral,
  );
  // The referrer's running "referrals" challenges, which completing the referral steps: read in
  // the same batch so the order's plan needs no second read.
  const challenges = allRows(
    db
      .prepare(
        `SELECT DISTINCT r.referrer_id, ${CHALLENGE_COLUMNS}, p.progress, p.last_period, p.completed_at, p.version
         FROM referrals r JOIN challenges ch ON ch.shop_id = r.shop_id
         LEFT JOIN challenge_progress p ON p.challenge_id = ch.id AND p.customer_id = r.referrer_id
         WHERE r.rowid IN (${CANDIDATE_REFERRALS}) AND r.status = 'claimed'
           AND ch.kind = 'referrals' AND ch.deleted_at IS NULL AND ch.active = 1
         ORDER BY ch.created_at, ch.id`,
      )
      .bind(...params),
    (row: { referrer_id: number } & ChallengeProgressRow) => ({ referrerRowId: row.referrer_id, progress: toChallengeProgress(row) }),
  );
  return mapRead(together([referrals, challenges] as const), ([found, rows]) =>
    found.map((referral) => ({
      ...referral,
      referrerChallenges: rows.filter((row) => row.referrerRowId === referral.referrerRowId).map((row) => row.progress),
    })),
  );
}

const fromStatus = (db: D1Database, id: string, status: ReferralStatus) =>
  guard(db, "EXISTS (SELECT 1 FROM referrals WHERE id = ? AND status = ?)", id, status);

/** A referral's outcome at its referee's first paid order: completed (and paid) or rejected with a reason. */
export type ReferralOutcome =
  | { status: "completed"; at: string; credit: D1PreparedStatement | null }
  | { status: "rejected"; reason: RejectionReason };

/**
 * Settles a claimed referral with the referee and their qualifying order, only from `claimed`. A
 * completion's credit to the referrer (when the program pays one) lands before the status
 * changes, so the outbox's referral.completed reports the points it paid.
 */
export function settleReferral(
  db: D1Database,
  shopId: string,
  referralId: string,
  input: { refereeExternalId: string; orderExternalId: string },
  outcome: ReferralOutcome,
): D1PreparedStatement[] {
  const completed = outcome.status === "completed";
  return [
    fromStatus(db, referralId, "claimed"),
    ...(completed && outcome.credit ? [outcome.credit] : []),
    db
      .prepare(
        `UPDATE referrals SET status = ?1, completed_at = ?2, rejection_reason = ?3, order_external_id = ?4,
           referee_customer_id = (SELECT id FROM customers WHERE shop_id = ?5 AND external_id = ?6)
         WHERE shop_id = ?5 AND id = ?7`,
      )
      .bind(
        outcome.status,
        completed ? outcome.at : null,
        completed ? null : outcome.reason,
        input.orderExternalId,
        shopId,
        input.refereeExternalId,
        referralId,
      ),
  ];
}

/**
 * Reverses the referral an order completed, if any, without a read: the referrer's reward (as the
 * ledger paid it) is clawed back, clamped at zero with the shortfall recorded, and the referral
 * becomes `reversed`. A second full refund or a cancellation finds it reversed and does nothing.
 */
export function reverseReferralOfOrder(
  db: D1Database,
  shopId: string,
  orderExternalId: string,
  at: string,
): D1PreparedStatement[] {
  return [
    appendReferralReversal(db, shopId, orderExternalId, at),
    // The referrer's unfinished "referrals" challenges (those created by the time it completed)
    // no longer count it; completed ones keep their reward.
    db
      .prepare(
        `UPDATE challenge_progress SET progress = MAX(0, progress - 1), version = version + 1, updated_at = ?3
         WHERE completed_at IS NULL
           AND customer_id = (SELECT referrer_id FROM referrals
                              WHERE shop_id = ?1 AND order_external_id = ?2 AND status = 'completed')
           AND challenge_id IN (
             SELECT ch.id FROM challenges ch
             WHERE ch.shop_id = ?1 AND ch.kind = 'referrals'
               AND ch.created_at <= (SELECT completed_at FROM referrals
                                     WHERE shop_id = ?1 AND order_external_id = ?2 AND status = 'completed'))`,
      )
      .bind(shopId, orderExternalId, at),
    db
      .prepare(
        "UPDATE referrals SET status = 'reversed' WHERE shop_id = ? AND order_external_id = ? AND status = 'completed'",
      )
      .bind(shopId, orderExternalId),
  ];
}

export async function listReferrals(
  db: D1Database,
  shopId: string,
  options: { limit: number; cursor?: number | undefined; status?: ReferralStatus | undefined },
): Promise<{ referrals: Referral[]; nextCursor: string | null }> {
  const { results } = await db
    .prepare(
      `${SELECT_REFERRALS}
       WHERE r.shop_id = ?1 AND (?2 IS NULL OR r.rowid < ?2) AND (?3 IS NULL OR r.status = ?3)
       ORDER BY r.rowid DESC LIMIT ?4`,
    )
    .bind(shopId, options.cursor ?? null, options.status ?? null, options.limit + 1)
    .all<ReferralRow>();
  const page = results.slice(0, options.limit);
  return {
    referrals: page.map(toReferral),
    nextCursor: results.length > options.limit ? String(page[page.length - 1]!.cursor) : null,
  };
}

/**
 * GDPR: the referee's address (and its key and the claim's address hash) go, for claims made
 * with the customer's email as well as those their orders completed. Must run before the
 * customer's own email is cleared.
 */
export function redactReferralStatements(db: D1Database, shopId: string, rowId: number): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE referrals SET referee_email = NULL, referee_email_key = NULL, claim_address = NULL
         WHERE shop_id = ?1 AND (referee_customer_id = ?2
           OR referee_email_key = (SELECT email_key FROM customers WHERE shop_id = ?1 AND id = ?2))`,
      )
      .bind(shopId, rowId),
  ];
}
