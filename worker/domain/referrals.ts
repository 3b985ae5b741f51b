/**
 * Referral rules, pure: how addresses are compared for fraud, which rule a
 * claim breaks, and how offer codes typed at checkout are recognised.
 */

const GMAIL = new Set(["gmail.com", "googlemail.com"]);

/** ASCII-only lower-casing, exactly what SQLite's lower() does (the migration mirrors this rule). */
const lowerAscii = (text: string) => text.replace(/[A-Z]/g, (ch) => ch.toLowerCase());

/**
 * The form fraud rules compare: lower-case, the +tag dropped, and for Gmail the dots dropped and
 * googlemail.com folded into gmail.com. `Ann.Lee+promo@GMail.com` -> `annlee@gmail.com`. Kept in
 * step with the `email_key` columns of 0005_engagement_extra.sql (a test checks both agree).
 */
export function emailKey(email: string): string {
  const lowered = lowerAscii(email.replace(/^ +| +$/g, ""));
  const at = lowered.indexOf("@");
  if (at < 1) return lowered;
  let local = lowered.slice(0, at);
  let domain = lowered.slice(at + 1);
  const plus = local.indexOf("+");
  if (plus >= 0) local = local.slice(0, plus);
  if (GMAIL.has(domain)) {
    local = local.replaceAll(".", "");
    domain = "gmail.com";
  }
  return `${local}@${domain}`;
}

export type RejectionReason =
  | "self_referral"
  | "email_already_claimed"
  | "referee_ordered_before"
  | "address_burst";

export const REJECTION_MESSAGES: Record<RejectionReason, string> = {
  self_referral: "A member cannot refer themselves.",
  email_already_claimed: "This email address has already claimed a referral offer.",
  referee_ordered_before: "Referral offers are for new customers; this address has ordered before.",
  address_burst: "Too many referral claims from this network; try again later.",
};

/** The burst rule: claims of existing codes per address per hour (never fewer than 10). */
export const CLAIMS_PER_ADDRESS_PER_HOUR = 10;

export interface ClaimFacts {
  /** Claims of existing codes from the same address within the last hour. */
  recentClaimsFromAddress: number;
  refereeEmailKey: string;
  /** The referrer's own address, normalised (null when unknown). */
  referrerEmailKey: string | null;
  /** The claimant's session belongs to the referrer. */
  claimantIsReferrer: boolean;
  /** The address already holds a claimed (or completed, or reversed) referral in this shop. */
  emailAlreadyClaimed: boolean;
  /** A customer or an order of this shop with this address has ordered before. */
  emailHasOrdered: boolean;
}

/** The first rule a claim breaks, in the order the merchant would want to read them; null: honest. */
export function claimRejection(facts: ClaimFacts): RejectionReason | null {
  if (facts.recentClaimsFromAddress >= CLAIMS_PER_ADDRESS_PER_HOUR) return "address_burst";
  if (facts.claimantIsReferrer || facts.refereeEmailKey === facts.referrerEmailKey) return "self_referral";
  if (facts.emailAlreadyClaimed) return "email_already_claimed";
  if (facts.emailHasOrdered) return "referee_ordered_before";
  return null;
}

export interface QualifyingFacts {
  /** The ordering customer's row id, and the referrer's. */
  customerRowId: number | null;
  referrerRowId: number;
  /** Normalised addresses of the order and of its customer. */
  orderEmailKey: string | null;
  customerEmailKey: string | null;
  referrerEmailKey: string | null;
  /** Orders the customer had before this one (cancelled ones excluded). */
  previousOrders: number;
}

/** Whether a referee's order completes the referral, or the rule it breaks. */
export function orderRejection(facts: QualifyingFacts): RejectionReason | null {
  if (facts.customerRowId !== null && facts.customerRowId === facts.referrerRowId) return "self_referral";
  if (
    facts.referrerEmailKey !== null &&
    (facts.orderEmailKey === facts.referrerEmailKey || facts.customerEmailKey === facts.referrerEmailKey)
  ) {
    return "self_referral";
  }
  if (facts.previousOrders > 0) return "referee_ordered_before";
  return null;
}

/**
 * Offer codes are issued as `XXXX-XXXX-XXXX`; at checkout they may be typed in lower case or
 * without the dashes. Returns the issued form, or null for anything that cannot be one.
 */
export function canonicalOfferCode(typed: string): string | null {
  const raw = typed.toUpperCase().replace(/[^A-Z0-9]/g, "");
  if (raw.length !== 12) return null;
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
}

/** Referral codes are stored upper-case; links are often lower-cased by the apps that carry them. */
export function canonicalReferralCode(typed: string): string {
  return typed.trim().toUpperCase();
}
