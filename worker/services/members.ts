/**
 * Members: created on first sight (an event, a verified storefront identity), with signup points
 * when the program gives them, in the same batch as whatever brought them in; and their standing
 * (what tiers measure), read in the same batch as the rest of a write's reads.
 */
import { randomCode } from "../crypto";
import { expiresAt } from "../domain/clock";
import { inHoldout } from "../domain/holdout";
import { promotedTier, standingFromSpend, windowOf } from "../domain/tiers";
import { known, mapRead, type Read, together } from "../store/batch";
import { type Customer, insertCustomer, readCustomer } from "../store/customers";
import { appendEntry } from "../store/ledger";
import { readSpendByMember, readSpendSince } from "../store/orders";
import type { Shop } from "../store/shops";
import { type Standing, type StandingChange, standingFrom } from "./pipeline";

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
  const signup = isHoldout(shop, externalId) ? 0 : shop.program.waysToEarn.signup;
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

/** Whether the member is in the program's control group (they earn and see nothing; domain/holdout.ts). */
export const isHoldout = (shop: Shop, externalId: string) => inHoldout(shop.program.holdout.percent, shop.id, externalId);

/** Spend in minor units over each window the program's spend tiers measure, keyed by days. */
export type SpendByWindow = Record<number, number>;

/** The windows (days) the program's spend tiers measure, and since when each counts at `now`. */
function spendWindowsAt(shop: Shop, now: Date) {
  const windows = [...new Set(shop.program.tiers.filter((tier) => tier.basis === "spend").map(windowOf))];
  return { windows, since: windows.map((days) => new Date(now.getTime() - days * 86_400_000).toISOString()) };
}

export function readTierSpend(db: D1Database, shop: Shop, externalId: string, now: Date): Read<SpendByWindow> {
  const { windows, since } = spendWindowsAt(shop, now);
  return mapRead(readSpendSince(db, shop.id, externalId, since), (spent) =>
    Object.fromEntries(windows.map((days, i) => [days, spent[i]!])),
  );
}

/** The same for several members at once (a page of members), by member row id. */
export function readTierSpendOf(db: D1Database, shop: Shop, customerRowIds: number[], now: Date): Read<Map<number, SpendByWindow>> {
  const { windows, since } = spendWindowsAt(shop, now);
  if (windows.length === 0) return known(new Map());
  return mapRead(readSpendByMember(db, shop.id, customerRowIds, since), (spend) => {
    const byMember = new Map<number, SpendByWindow>();
    for (const [rowId, spent] of spend) byMember.set(rowId, Object.fromEntries(windows.map((days, i) => [days, spent[i]!])));
    return byMember;
  });
}

/** A member (null when not yet created) with their standing, in one read. */
export interface MemberRead {
  customer: Customer | null;
  standing: Standing;
}

export function readMember(db: D1Database, shop: Shop, externalId: string, now: Date): Read<MemberRead> {
  return mapRead(together([readCustomer(db, shop.id, externalId), readTierSpend(db, shop, externalId, now)] as const), ([customer, spend]) => ({
    customer,
    standing: standingFrom(externalId, customer, spend),
  }));
}

/**
 * The member a plan works on: created by it when new (their signup points count toward their
 * standing), and the standing change of what else the plan credits (`points`) and spends.
 */
export function memberWithChange(
  db: D1Database,
  shop: Shop,
  read: MemberRead,
  profile: MemberProfile,
  now: Date,
): MemberPlan & { change: (points: number, spend?: number) => StandingChange } {
  const member = memberPlan(db, shop, read.standing.externalId, read.customer, profile, now);
  return {
    ...member,
    change: (points, spend = 0) => ({ standing: read.standing, lifetime: member.points + points, spend }),
  };
}

/**
 * The tier the program gives a member now: the stored tier, raised to what their standing reaches
 * under the current tiers (a tier added or a threshold lowered since their last write promotes at
 * once; a lower tier waits for the daily review at the window's end). Reads show this; the next
 * write stores it.
 */
export function currentTier(shop: Shop, standing: Standing): string | null {
  const measured = standingFromSpend(standing.lifetimePoints, standing.spend ?? {}, shop.currency);
  return promotedTier(shop.program.tiers, standing.tier, measured);
}
