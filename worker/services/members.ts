/**
 * Members: created on first sight (an event, a verified storefront identity), with signup points
 * when the program gives them, in the same batch as whatever brought them in.
 */
import { randomCode } from "../auth/crypto";
import { currencyExponent } from "../domain/money";
import { promotedTier, type TierStanding, windowOf } from "../domain/tiers";
import { type Customer, customerByExternalId, insertCustomer, setCustomerTier } from "../store/customers";
import { appendEntry } from "../store/ledger";
import { spendSince } from "../store/orders";
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

export async function planMember(
  db: D1Database,
  shop: Shop,
  externalId: string,
  profile: MemberProfile,
  now: Date,
): Promise<MemberPlan> {
  const existing = await customerByExternalId(db, shop.id, externalId);
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

/** What tiers measure for a member, with `extraPoints` about to be credited. */
export async function tierStanding(
  db: D1Database,
  shop: Shop,
  externalId: string,
  lifetimePoints: number,
  now: Date,
  extraSpend = 0,
): Promise<TierStanding> {
  const spendByWindow: Record<number, number> = {};
  const unit = 10 ** currencyExponent(shop.currency);
  for (const tier of shop.program.tiers) {
    if (tier.basis !== "spend") continue;
    const days = windowOf(tier);
    if (spendByWindow[days] !== undefined) continue;
    const since = new Date(now.getTime() - days * 86_400_000).toISOString();
    const spent = (await spendSince(db, shop.id, externalId, since)) + extraSpend;
    spendByWindow[days] = Math.floor(spent / unit);
  }
  return { lifetimePoints, spendByWindow };
}

/** The statement that promotes a member whose standing now reaches a higher tier (or none). */
export async function planPromotion(
  db: D1Database,
  shop: Shop,
  externalId: string,
  current: string | null,
  lifetimePoints: number,
  now: Date,
  extraSpend = 0,
): Promise<D1PreparedStatement[]> {
  if (shop.program.tiers.length === 0) return [];
  const standing = await tierStanding(db, shop, externalId, lifetimePoints, now, extraSpend);
  const next = promotedTier(shop.program.tiers, current, standing);
  return next === current ? [] : [setCustomerTier(db, shop.id, externalId, next, now.toISOString())];
}
