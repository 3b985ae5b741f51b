/**
 * Members: created on first sight (an event, a verified storefront identity), with signup points
 * when the program gives them, in the same batch as whatever brought them in.
 */
import { randomCode } from "../auth/crypto";
import { currencyExponent } from "../domain/money";
import { promotedTier, type TierStanding, windowOf } from "../domain/tiers";
import { type Customer, customerByExternalId, insertCustomer, setCustomerTier } from "../store/customers";
import { appendEntry } from "../store/ledger";
import { readOne, type Read } from "../store/batch";
import { readSpendSince } from "../store/orders";
import type { Shop } from "../store/shops";
import { expiresAt } from "../domain/clock";

export interface MemberProfile {
  email?: string | undefined;
  firstName?: string | undefined;
  birthday?: string | undefined;
}

export interface MemberPlan {
  externalId: string;
  /** The member as read, or null when this plan creates them. */
  existing: Customer | null;
  statements: D1PreparedStatement[];
  /** Points the plan's statements credit (signup). */
  points: number;
}

/** Referral codes: 8 unambiguous characters, unguessable (30^8 ≈ 6.6e11). */
export const newReferralCode = () => randomCode(8);

/** The member as read, or the statements that create them (with signup points) when `existing` is null. */
export function memberPlan(
  db: D1Database,
  shop: Shop,
  externalId: string,
  existing: Customer | null,
  profile: MemberProfile,
  now: Date,
): MemberPlan {
  if (existing) return { externalId, existing, statements: [], points: 0 };
  const at = now.toISOString();
  const referralCode = newReferralCode();
  const statements = [insertCustomer(db, shop.id, { externalId, ...profile, referralCode, createdAt: at })];
  const signup = shop.program.waysToEarn.signup;
  if (signup > 0) {
    statements.push(
      appendEntry(db, {
        shopId: shop.id,
        customerExternalId: externalId,
        delta: signup,
        kind: "signup",
        reference: null,
        // Keyed by the member's own (unique, fresh) referral code, not the external id: a GDPR
        // redact frees the external id, and the ledger must not keep it.
        key: `signup:${referralCode}`,
        createdAt: at,
        expiresAt: expiresAt(shop.program, now),
      }),
    );
  }
  return { externalId, existing: null, statements, points: signup };
}

export async function planMember(
  db: D1Database,
  shop: Shop,
  externalId: string,
  profile: MemberProfile,
  now: Date,
): Promise<MemberPlan> {
  return memberPlan(db, shop, externalId, await customerByExternalId(db, shop.id, externalId), profile, now);
}

/** Spend in minor units over each window the program's spend tiers measure, keyed by days. */
export type SpendByWindow = Record<number, number>;

export function readTierSpend(db: D1Database, shop: Shop, externalId: string, now: Date): Read<SpendByWindow> {
  const windows = [...new Set(shop.program.tiers.filter((tier) => tier.basis === "spend").map(windowOf))];
  const since = windows.map((days) => new Date(now.getTime() - days * 86_400_000).toISOString());
  const read = readSpendSince(db, shop.id, externalId, since);
  return {
    statements: read.statements,
    parse: (results) => {
      const spent = read.parse(results);
      return Object.fromEntries(windows.map((days, i) => [days, spent[i]!]));
    },
  };
}

/** What tiers measure for a member: lifetime points, and whole currency units spent per window. */
function standingOf(shop: Shop, lifetimePoints: number, spend: SpendByWindow, extraSpend: number): TierStanding {
  const unit = 10 ** currencyExponent(shop.currency);
  const spendByWindow: Record<number, number> = {};
  for (const [days, spent] of Object.entries(spend)) spendByWindow[Number(days)] = Math.floor((spent + extraSpend) / unit);
  return { lifetimePoints, spendByWindow };
}

export async function tierStanding(
  db: D1Database,
  shop: Shop,
  externalId: string,
  lifetimePoints: number,
  now: Date,
): Promise<TierStanding> {
  return standingOf(shop, lifetimePoints, await readOne(db, readTierSpend(db, shop, externalId, now)), 0);
}

/**
 * The statement that promotes a member whose standing reaches a higher tier (or none), from the
 * spend read beforehand; `extraSpend` is what the batch itself adds.
 */
export function promotionOf(
  db: D1Database,
  shop: Shop,
  member: { externalId: string; tier: string | null; lifetimePoints: number },
  spend: SpendByWindow,
  now: Date,
  extraSpend = 0,
): D1PreparedStatement[] {
  if (shop.program.tiers.length === 0) return [];
  const standing = standingOf(shop, member.lifetimePoints, spend, extraSpend);
  const next = promotedTier(shop.program.tiers, member.tier, standing);
  return next === member.tier ? [] : [setCustomerTier(db, shop.id, member.externalId, next, now.toISOString())];
}

/** The same, reading the spend first. */
export async function planPromotion(
  db: D1Database,
  shop: Shop,
  externalId: string,
  current: string | null,
  lifetimePoints: number,
  now: Date,
): Promise<D1PreparedStatement[]> {
  if (shop.program.tiers.length === 0) return [];
  const spend = await readOne(db, readTierSpend(db, shop, externalId, now));
  return promotionOf(db, shop, { externalId, tier: current, lifetimePoints }, spend, now);
}
