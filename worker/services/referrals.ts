/**
 * Referrals: the public lookup and claim, a signup that arrives with a referral code,
 * the outcome a referee's first paid order decides, and its reversal. Outcomes are planned into the
 * batch of the event that decides them (events.ts), purely, from reads made with that event's own.
 */
import { groupedCode, sha256Hex } from "../crypto";
import { newId } from "../auth/keys";
import { expiresAt } from "../domain/clock";
import {
  CLAIMS_PER_ADDRESS_PER_HOUR,
  canonicalOfferCode,
  canonicalReferralCode,
  claimRejection,
  emailKey,
  orderRejection,
  REJECTION_MESSAGES,
  type RejectionReason,
} from "../domain/referrals";
import { ApiError, notFound } from "../http/errors";
import { known, mapRead, type Read, together } from "../store/batch";
import { type Customer, customerByReferralCode, readCustomerByReferralCode } from "../store/customers";
import { appendEntry } from "../store/ledger";
import {
  burstGuard,
  type CandidateReferral,
  type ClaimStanding,
  emailGuard,
  insertReferral,
  type Referral,
  readClaimedReferrals,
  readClaimStanding,
  readIsReferee,
  reverseReferralOfOrder,
  settleReferral,
} from "../store/referrals";
import { type Shop, shopByPublicKey } from "../store/shops";
import { planActivitySteps } from "./challenges";
import type { CodeIssuer, OfferClaim } from "./codes";
import { planOf, type StandingChange, write } from "./pipeline";
import { requireRefereeOffer } from "./program";

// ---------------------------------------------------------------------------------------------
// The outcome of a referee's first paid order

const offerCodesOf = (discountCodes: string[]) => [
  ...new Set(discountCodes.map(canonicalOfferCode).filter((code): code is string => code !== null)),
];

/** Claimed referrals a paid order may complete (by its email, the member's, its offer codes). */
export function readOrderReferrals(
  db: D1Database,
  shop: Shop,
  customerId: string,
  order: { email: string | null; discountCodes: string[] },
): Read<CandidateReferral[]> {
  const emailKeys = order.email ? [emailKey(order.email)] : [];
  return readClaimedReferrals(db, shop.id, emailKeys, offerCodesOf(order.discountCodes), customerId);
}

export interface ReferralOutcomeInput {
  customerId: string;
  /** The member as the order's plan read them (null: the order's batch creates them). */
  existing: Customer | null;
  order: { id: string; email: string | null; discountCodes: string[] };
}

/**
 * The referral a paid order completes, if any: the one whose offer code it used, else the first
 * claimed one it matches. The referee's first paid order pays the referrer once (and steps their
 * "referrals" challenges); a self-referral or a referee who ordered before is rejected with the
 * reason kept.
 */
export function planReferralOutcome(
  db: D1Database,
  shop: Shop,
  input: ReferralOutcomeInput,
  candidates: CandidateReferral[],
  now: Date,
): { statements: D1PreparedStatement[]; standings: StandingChange[] } {
  const offerCodes = offerCodesOf(input.order.discountCodes);
  const referral = candidates.find((r) => r.offerCode !== null && offerCodes.includes(r.offerCode)) ?? candidates[0];
  if (!referral) return { statements: [], standings: [] };
  const customer = input.existing;
  const reason = orderRejection({
    customerRowId: customer?.rowId ?? null,
    referrerRowId: referral.referrerRowId,
    orderEmailKey: input.order.email ? emailKey(input.order.email) : null,
    customerEmailKey: customer?.email ? emailKey(customer.email) : null,
    referrerEmailKey: referral.referrerEmailKey,
    previousOrders: customer?.orderCount ?? 0,
  });
  const outcome = { refereeExternalId: input.customerId, orderExternalId: input.order.id };
  if (reason) {
    return { statements: settleReferral(db, shop.id, referral.id, outcome, { status: "rejected", reason }), standings: [] };
  }
  const at = now.toISOString();
  const points = shop.program.referral.referrerPoints;
  const credit =
    points > 0
      ? appendEntry(db, {
          shopId: shop.id,
          customerExternalId: referral.referrerExternalId,
          delta: points,
          kind: "referral",
          reference: referral.id,
          key: `referral:${referral.id}`,
          createdAt: at,
          expiresAt: expiresAt(shop.program, now),
        })
      : null;
  const progress = planActivitySteps(db, shop, referral.referrerExternalId, referral.referrerChallenges, now);
  return {
    statements: [...settleReferral(db, shop.id, referral.id, outcome, { status: "completed", at, credit }), ...progress.statements],
    // A referral moves no spend: only the referrer's lifetime points can lift their tier.
    standings: [
      {
        standing: {
          externalId: referral.referrerExternalId,
          tier: referral.referrerTier,
          lifetimePoints: referral.referrerLifetimePoints,
          spend: null,
        },
        lifetime: points + progress.points,
      },
    ],
  };
}

/**
 * An order refunded in full (or cancelled) that completed a referral reverses it: the referrer's
 * points are clawed back (clamped at zero, the shortfall recorded) and the referral is `reversed`.
 * Decided inside the batch, so it needs no read and cannot go stale.
 */
export function planReferralReversal(db: D1Database, shop: Shop, orderExternalId: string, now: Date): D1PreparedStatement[] {
  return reverseReferralOfOrder(db, shop.id, orderExternalId, now.toISOString());
}

// ---------------------------------------------------------------------------------------------
// A signup reported with the referral code it arrived with

export interface SignupReferralReads {
  referrer: Customer | null;
  alreadyReferee: boolean;
  standing: ClaimStanding;
}

/** What a signup's referral needs, read with the signup's other reads (nothing without a code). */
export function readSignupReferral(
  db: D1Database,
  shop: Shop,
  input: { customerId: string; email: string | null; referralCode: string | undefined },
  now: Date,
): Read<SignupReferralReads | null> {
  if (!input.referralCode) return known(null);
  return mapRead(
    together([
      readCustomerByReferralCode(db, shop.id, canonicalReferralCode(input.referralCode)),
      readIsReferee(db, shop.id, input.customerId),
      readClaimStanding(db, shop.id, {
        addressHash: null,
        since: now.toISOString(),
        emailKey: input.email ? emailKey(input.email) : null,
        memberExternalId: input.customerId,
      }),
    ] as const),
    ([referrer, alreadyReferee, standing]) => ({ referrer, alreadyReferee, standing }),
  );
}

/**
 * A signup reported with the referral code it arrived with (`customer.created` with
 * `referralCode`): the member becomes the referee of a claimed referral, which their first paid
 * order completes as it would a claim. The claim rules apply (self-referral, an email that already
 * claimed, a referee who ordered before) and a rejection is kept with its reason. An unknown code,
 * or a member who already is a referee, changes nothing.
 */
export function planSignupReferral(
  db: D1Database,
  shop: Shop,
  input: { customerId: string; email: string | null; existing: Customer | null },
  reads: SignupReferralReads | null,
  now: Date,
): D1PreparedStatement[] {
  const referrer = reads?.referrer;
  if (!reads || !referrer || referrer.redactedAt) return [];
  if (input.existing && reads.alreadyReferee) return [];
  const email = input.email ?? input.existing?.email ?? null;
  const refereeEmailKey = reads.standing.emailKey;
  const standing = refereeEmailKey ? reads.standing : { recentClaimsFromAddress: 0, emailAlreadyClaimed: false, emailHasOrdered: false, emailKey: null };
  const reason = claimRejection({
    ...standing,
    refereeEmailKey: refereeEmailKey ?? "",
    referrerEmailKey: referrer.email ? emailKey(referrer.email) : null,
    claimantIsReferrer: referrer.externalId === input.customerId,
    emailHasOrdered: standing.emailHasOrdered || (input.existing?.orderCount ?? 0) > 0,
  });
  const statements = refereeEmailKey && !reason ? [emailGuard(db, shop.id, refereeEmailKey)] : [];
  statements.push(
    insertReferral(db, shop.id, {
      id: newId("ref"),
      referrerRowId: referrer.rowId,
      code: referrer.referralCode,
      refereeEmail: email,
      refereeEmailKey,
      refereeExternalId: input.customerId,
      offerCode: null,
      status: reason ? "rejected" : "claimed",
      rejectionReason: reason,
      addressHash: null,
      createdAt: now.toISOString(),
    }),
  );
  return statements;
}

// ---------------------------------------------------------------------------------------------
// The public lookup and claim

function offerOf(shop: Shop) {
  const offer = shop.program.referral.refereeOffer;
  return { type: offer.type, value: offer.value ?? null };
}

/** The shop and the (not erased) referrer behind a code; anything else is 404. */
async function referrerOf(db: D1Database, publicKey: string, code: string) {
  const shop = await shopByPublicKey(db, publicKey);
  if (!shop) throw notFound("Shop");
  const referrer = await customerByReferralCode(db, shop.id, canonicalReferralCode(code));
  if (!referrer || referrer.redactedAt) throw notFound("Referral code");
  requireRefereeOffer(shop);
  return { shop, referrer };
}

/** What a referee's landing page shows: the referrer's first name and the offer, never an email. */
export async function lookupReferral(db: D1Database, publicKey: string, code: string) {
  const { shop, referrer } = await referrerOf(db, publicKey, code);
  return { shop, body: { referral: { firstName: referrer.firstName, offer: offerOf(shop) } } };
}

type ClaimOutcome = { rejected: RejectionReason } | (OfferClaim & { referral: { id: string; status: "claimed" } });

/** Claims are counted per address without keeping the address itself. */
const addressKey = (shopId: string, address: string) => sha256Hex(`laurel-claim:${shopId}:${address}`);

/**
 * A referee claims the offer with an email and gets their own code, made valid at the shop's
 * checkout by its CodeIssuer. A claim that breaks a rule is stored as rejected with its reason
 * (the merchant sees it) and answered 422 `referral_rejected` (429 `rate_limited` for a burst),
 * with `details.reason`.
 */
export async function claimReferral(
  db: D1Database,
  input: {
    publicKey: string;
    code: string;
    email: string;
    address: string;
    /** The claimant's storefront session, if they have one. */
    claimant: { shopId: string; customerId: string | null } | null;
  },
  codesFor: (shop: Shop) => CodeIssuer,
  now = new Date(),
) {
  const { shop, referrer } = await referrerOf(db, input.publicKey, input.code);
  const addressHash = await addressKey(shop.id, input.address);
  const since = new Date(now.getTime() - 3_600_000).toISOString();
  const refereeEmailKey = emailKey(input.email);
  const read = readClaimStanding(db, shop.id, { addressHash, since, emailKey: refereeEmailKey });
  const { value: outcome } = await write<ClaimStanding, ClaimOutcome>(
    db,
    shop,
    read,
    (standing) => {
      const reason = claimRejection({
        ...standing,
        refereeEmailKey,
        referrerEmailKey: referrer.email ? emailKey(referrer.email) : null,
        claimantIsReferrer: input.claimant?.shopId === shop.id && input.claimant.customerId === referrer.externalId,
      });
      const claim = {
        id: newId("ref"),
        referrerRowId: referrer.rowId,
        code: referrer.referralCode,
        refereeEmail: input.email,
        refereeEmailKey,
        addressHash,
        createdAt: now.toISOString(),
      };
      if (reason) {
        const rejected = insertReferral(db, shop.id, { ...claim, offerCode: null, status: "rejected", rejectionReason: reason });
        return planOf<ClaimOutcome>({ rejected: reason }, { statements: [rejected] });
      }
      const offerCode = groupedCode(3);
      return planOf<ClaimOutcome>(
        { referral: { id: claim.id, status: "claimed" }, offerCode, offer: offerOf(shop) },
        {
          statements: [
            burstGuard(db, shop.id, { addressHash, since, limit: CLAIMS_PER_ADDRESS_PER_HOUR }),
            emailGuard(db, shop.id, refereeEmailKey),
            insertReferral(db, shop.id, { ...claim, offerCode, status: "claimed", rejectionReason: null }),
          ],
        },
      );
    },
    now,
  );
  if ("rejected" in outcome) {
    const reason = outcome.rejected;
    if (reason === "address_burst") {
      throw new ApiError("rate_limited", REJECTION_MESSAGES[reason], { details: { reason }, headers: { "Retry-After": "3600" } });
    }
    throw new ApiError("referral_rejected", REJECTION_MESSAGES[reason], { details: { reason } });
  }
  const failure = await codesFor(shop).issueOfferCode(outcome);
  if (failure) throw failure;
  return { shop, body: outcome };
}

export function referralView(referral: Referral) {
  return {
    id: referral.id,
    code: referral.code,
    referrer: { id: referral.referrerExternalId, firstName: referral.referrerFirstName },
    refereeEmail: referral.refereeEmail,
    refereeId: referral.refereeExternalId,
    offerCode: referral.offerCode,
    status: referral.status,
    rejectionReason: referral.rejectionReason as RejectionReasonView,
    orderId: referral.orderExternalId,
    createdAt: referral.createdAt,
    completedAt: referral.completedAt,
  };
}

type RejectionReasonView = keyof typeof REJECTION_MESSAGES | null;
