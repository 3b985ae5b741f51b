/**
 * The widget's server side: sessions for guests and verified customers, and the whole state the
 * widget shows in one round trip (public program parts from KV, the member's data in one batch).
 */
import { verifyCustomerDigest } from "../auth/digest";
import { issueSessionToken } from "../auth/storefront";
import type { StorefrontProgram, StorefrontState } from "../contract/storefront";
import type { z } from "@hono/zod-openapi";
import { type ChallengeKind, visibleProgress } from "../domain/challenges";
import { formatMoney } from "../domain/money";
import { memberCodeList } from "../domain/rewards";
import { progressToNextTier, promotedTier, standingFromSpend, windowOf } from "../domain/tiers";
import { inHoldout } from "../domain/holdout";
import { npsPeriod } from "../domain/nps";
import { currentOffer } from "../domain/win-back";
import type { Env } from "../env";
import { notFound, unauthorized } from "../http/errors";
import { cachedPublicProgram, cachePublicProgram } from "../store/cache";
import { type Shop, shopById, shopByPublicKey } from "../store/shops";
import { readState } from "../store/storefront";
import { memberWithChange, readMember } from "./members";
import { nothingToDo, planOf, write } from "./pipeline";
import { memberRedemptionView, rewardValueView } from "./rewards";

/** What the storefront may know of a shop, cached in KV (~60 s stale at most after a change). */
export interface PublicShop {
  shopId: string;
  publicKey: string;
  origins: string[];
  program: z.infer<typeof StorefrontProgram>;
  /** The program's holdout share (not shown to shoppers; a value cached before it existed reads as 0). */
  holdoutPercent?: number;
}

export function publicShopOf(shop: Shop): PublicShop {
  const { program } = shop;
  return {
    shopId: shop.id,
    publicKey: shop.publicKey,
    origins: shop.origins,
    program: {
      shopName: shop.name,
      currency: shop.currency,
      earning: program.earning,
      waysToEarn: program.waysToEarn,
      referral: { referrerPoints: program.referral.referrerPoints, refereeOffer: program.referral.refereeOffer },
      tiers: program.tiers,
      branding: program.branding,
      texts: program.texts,
    },
    holdoutPercent: program.holdout.percent,
  };
}

export async function publicShop(env: Env, shopId: string): Promise<PublicShop> {
  const cached = await cachedPublicProgram<PublicShop>(env.KV, shopId);
  if (cached) return cached;
  const shop = await shopById(env.DB, shopId);
  if (!shop) throw unauthorized("The session's shop no longer exists.");
  const value = publicShopOf(shop);
  await cachePublicProgram(env.KV, shopId, value);
  return value;
}

export interface SessionRequest {
  shop: string;
  customer?: { id: string; ts: number | string; digest: string } | undefined;
}

/**
 * A guest session, or a customer's proven by the digest. A verified customer seen for the first
 * time becomes a member (with signup points when the program gives them).
 */
export async function openSession(env: Env, request: SessionRequest, now = new Date()) {
  const shop = await shopByPublicKey(env.DB, request.shop);
  if (!shop) throw notFound("Shop");
  let customer: { id: string; balance: number } | null = null;
  if (request.customer) {
    const identity = request.customer;
    if (!(await verifyCustomerDigest(shop.widgetSecret, identity, Math.floor(now.getTime() / 1000)))) {
      throw unauthorized("The customer digest is invalid or older than 24 hours; sign it again on your server.");
    }
    customer = await ensureMember(env.DB, shop, identity.id, now);
  }
  const session = await issueSessionToken(env, { shopId: shop.id, customerId: customer?.id ?? null }, now);
  return { shop, body: { ...session, customer } };
}

/** The member for a verified identity, created with balance 0 (plus signup points) when new. */
export async function ensureMember(db: D1Database, shop: Shop, externalId: string, now: Date) {
  const { value, balance } = await write(
    db,
    shop,
    readMember(db, shop, externalId, now),
    (read) => {
      if (read.customer) return nothingToDo(read.customer.balance);
      const member = memberWithChange(db, shop, read, {}, now);
      return planOf(0, { statements: member.statements, member: externalId, standings: [member.change(0)] });
    },
    now,
  );
  return { id: externalId, balance: balance ?? value };
}

const ACTIVITY_LIMIT = 10;
/** Codes listed besides those still usable (used, voided, expired), newest first. */
const OTHER_CODES_LISTED = 10;

export async function storefrontState(
  env: Env,
  publicShopValue: PublicShop,
  customerId: string | null,
  now = new Date(),
): Promise<StorefrontState> {
  const { program } = publicShopValue;
  const spendWindows = [...new Set(program.tiers.filter((t) => t.basis === "spend").map(windowOf))];
  const rows = await readState(env.DB, publicShopValue.shopId, customerId, {
    spendWindows,
    now,
    activityLimit: ACTIVITY_LIMIT,
  });
  const balance = rows.customer?.balance ?? 0;
  const rewards = rows.rewards.map((reward) => ({
    id: reward.id,
    name: reward.name,
    type: reward.type,
    cost: reward.cost,
    value: rewardValueView(program.currency, reward.type, reward.value),
    minOrder: reward.minOrder === null ? null : formatMoney(reward.minOrder, program.currency),
    affordable: rows.customer !== null && balance >= reward.cost,
    cause: reward.cause,
  }));
  const challenges = rows.challenges.map((ch) => ({
    id: ch.id,
    name: ch.name,
    kind: ch.kind,
    goal: ch.goal,
    // Capped at the goal; a streak that missed a period shows as broken (domain/challenges.ts).
    progress: visibleProgress(
      { kind: ch.kind as ChallengeKind, goal: ch.goal, periodDays: ch.period_days, startsAt: ch.starts_at },
      ch.progress === null
        ? null
        : { progress: ch.progress, lastPeriod: ch.last_period, completed: ch.completed_at !== null },
      now,
    ),
    completed: ch.completed_at !== null,
    badge: ch.badge,
    rewardPoints: ch.reward_points,
    endsAt: ch.ends_at,
  }));
  const c = rows.customer;
  if (!c) {
    return { program, customer: null, rewards, challenges, activity: [], redemptions: [] };
  }
  const standing = standingFromSpend(c.lifetime_points, rows.spendByWindow, program.currency);
  // The tier the program gives now: a tier added since the member's last order already counts.
  const tier = promotedTier(program.tiers, c.tier, standing);
  const tierProgress = progressToNextTier(program.tiers, tier, standing);
  const npsPeriodDays = program.waysToEarn.npsPeriodDays;
  const currentNpsPeriod = npsPeriod(now, npsPeriodDays);
  const origin = publicShopValue.origins[0] ?? "";
  const holdout = inHoldout(publicShopValue.holdoutPercent ?? 0, publicShopValue.shopId, c.external_id);
  return {
    program,
    customer: {
      id: c.external_id,
      firstName: c.first_name,
      balance: c.balance,
      lifetimePoints: c.lifetime_points,
      pendingPoints: rows.pendingReleases.reduce((sum, release) => sum + release.points, 0),
      pendingReleases: rows.pendingReleases,
      tier,
      nextTier: tierProgress.nextTier
        ? { name: tierProgress.nextTier.name, threshold: tierProgress.nextTier.threshold, basis: tierProgress.nextTier.basis }
        : null,
      progress: tierProgress.progress,
      remainingToNextTier: tierProgress.remaining,
      referralCode: c.referral_code,
      referralLink: `${origin}/?ref=${c.referral_code}`,
      badges: rows.badges.map((b) => ({ challengeId: b.challenge_id, name: b.name, badge: b.badge, earnedAt: b.earned_at })),
      npsDue: !holdout && (rows.lastNpsPeriod === null || rows.lastNpsPeriod < currentNpsPeriod),
      offer: holdout ? null : currentOffer(rows.offers, now),
      holdout,
    },
    rewards,
    challenges,
    redemptions: memberCodeList(rows.redemptions, now, OTHER_CODES_LISTED).map((r) => memberRedemptionView(program.currency, r)),
    activity: rows.activity.map((e) => ({
      id: e.id,
      delta: e.delta,
      kind: e.kind,
      reference: e.reference,
      balanceAfter: e.balance_after,
      createdAt: e.created_at,
      expiresAt: e.expires_at,
    })),
  };
}
