/**
 * The reads behind `GET /v1/storefront/state`, as ONE D1 batch: the member, their recent activity,
 * spend per tier window, NPS standing, their reward codes and pending points, the active rewards and
 * the challenges with their progress and badges. (Public program parts come from KV; see store/cache.ts.)
 */
import { type PendingRelease, pendingReleasesStatement } from "./orders";
import type { Offer } from "../domain/win-back";
import { offersStatement } from "./offers";
import { memberRedemptionsStatement, type Redemption, type Reward, rewardRows, rewardsStatement } from "./rewards";

export interface StateRows {
  customer: {
    id: number;
    external_id: string;
    first_name: string | null;
    balance: number;
    lifetime_points: number;
    tier: string | null;
    referral_code: string;
  } | null;
  activity: {
    id: number;
    delta: number;
    kind: string;
    reference: string | null;
    balance_after: number;
    created_at: string;
    expires_at: string | null;
  }[];
  spendByWindow: Record<number, number>;
  lastNpsPeriod: number | null;
  rewards: Reward[];
  challenges: {
    id: string;
    name: string;
    kind: string;
    goal: number;
    reward_points: number;
    badge: string | null;
    ends_at: string | null;
    period_days: number | null;
    starts_at: string | null;
    progress: number | null;
    last_period: number | null;
    completed_at: string | null;
  }[];
  badges: { challenge_id: string; name: string; badge: string; earned_at: string }[];
  /** The member's codes: every issued one (up to 100) and the 10 newest others. */
  redemptions: Redemption[];
  /** Points held by the member's orders, by the day they become available. */
  pendingReleases: PendingRelease[];
  /** The member's personal offers (win-back) still running. */
  offers: Offer[];
}

export async function readState(
  db: D1Database,
  shopId: string,
  customerId: string | null,
  options: { spendWindows: number[]; now: Date; activityLimit: number },
): Promise<StateRows> {
  const member = "(SELECT id FROM customers WHERE shop_id = ?1 AND external_id = ?2)";
  const nowIso = options.now.toISOString();
  const redemptions = memberRedemptionsStatement(db, member, [shopId, customerId], { issued: 100, others: 10 });
  const pending = pendingReleasesStatement(db, member, [shopId, customerId]);
  const offers = offersStatement(db, member, [shopId, customerId], nowIso);
  const statements = [
    redemptions.statement,
    pending.statement,
    offers.statement,
    db
      .prepare(
        `SELECT id, external_id, first_name, balance, lifetime_points, tier, referral_code FROM customers
         WHERE shop_id = ?1 AND external_id = ?2`,
      )
      .bind(shopId, customerId),
    db
      .prepare(
        `SELECT id, delta, kind, reference, balance_after, created_at, expires_at FROM ledger
         WHERE customer_id = ${member} ORDER BY id DESC LIMIT ?3`,
      )
      .bind(shopId, customerId, options.activityLimit),
    db.prepare(`SELECT MAX(period) AS period FROM nps_responses WHERE customer_id = ${member}`).bind(shopId, customerId),
    rewardsStatement(db, shopId, true),
    db
      .prepare(
        `SELECT ch.id, ch.name, ch.kind, ch.goal, ch.reward_points, ch.badge, ch.ends_at, ch.period_days, ch.starts_at,
           p.progress, p.last_period, p.completed_at
         FROM challenges ch
         LEFT JOIN challenge_progress p ON p.challenge_id = ch.id AND p.customer_id = ${member}
         WHERE ch.shop_id = ?1 AND ch.deleted_at IS NULL AND ch.active = 1
           AND (ch.starts_at IS NULL OR ch.starts_at <= ?3) AND (ch.ends_at IS NULL OR ch.ends_at > ?3)
         ORDER BY ch.created_at, ch.id`,
      )
      .bind(shopId, customerId, nowIso),
    db
      .prepare(
        `SELECT challenge_id, name, badge, earned_at FROM badges WHERE customer_id = ${member} ORDER BY earned_at`,
      )
      .bind(shopId, customerId),
    ...options.spendWindows.map((days) =>
      db
        .prepare(
          `SELECT COALESCE(SUM(eligible_amount - MIN(refunded_amount, eligible_amount)), 0) AS spent FROM orders
           WHERE customer_id = ${member} AND status != 'cancelled' AND created_at >= ?3`,
        )
        .bind(shopId, customerId, new Date(options.now.getTime() - days * 86_400_000).toISOString()),
    ),
  ];
  const [codes, held, offerRows, customer, activity, nps, rewards, challenges, badges, ...spend] = await db.batch(statements);
  const spendByWindow: Record<number, number> = {};
  options.spendWindows.forEach((days, i) => {
    spendByWindow[days] = (spend[i]!.results[0] as { spent: number }).spent;
  });
  return {
    customer: (customer!.results[0] as StateRows["customer"]) ?? null,
    activity: activity!.results as StateRows["activity"],
    lastNpsPeriod: (nps!.results[0] as { period: number | null } | undefined)?.period ?? null,
    rewards: rewardRows(rewards!),
    challenges: challenges!.results as StateRows["challenges"],
    badges: badges!.results as StateRows["badges"],
    redemptions: redemptions.rows(codes!),
    pendingReleases: pending.rows(held!),
    offers: offers.rows(offerRows!),
    spendByWindow,
  };
}
