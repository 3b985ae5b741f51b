/**
 * Challenges, badges, referrals and NPS (DESIGN §3). Progress and referral rewards are planned
 * here as statements that join the batch of the event that caused them (events.ts), so points,
 * progress, badges and referral outcomes land together or not at all.
 */
import type { DiscountIssuer, ShopifyShopConnection } from "../adapters/shopify-discounts";
import { ShopifyAdminError } from "../adapters/shopify-admin";
import { groupedCode, sha256Hex } from "../auth/crypto";
import { newId } from "../auth/keys";
import { type ChallengeInput, type ChallengePatch, CreateChallenge } from "../contract/engagement";
import type { StorefrontChallenge } from "../contract/storefront";
import {
  type ChallengeKind,
  isRunning,
  nextProgress,
  ORDER_KINDS,
  type OrderFacts,
  type OrderStep,
  progressTakenBack,
  orderContribution,
  type ProgressState,
  visibleProgress,
} from "../domain/challenges";
import { expiresAt } from "../domain/clock";
import { npsPeriod, npsPeriodEnd } from "../domain/nps";
import {
  CLAIMS_PER_ADDRESS_PER_HOUR,
  canonicalOfferCode,
  canonicalReferralCode,
  claimRejection,
  emailKey,
  orderRejection,
  REJECTION_MESSAGES,
} from "../domain/referrals";
import { ApiError, badRequest, notFound } from "../http/errors";
import { fieldErrors } from "../http/validation";
import { commit, withFreshRead } from "../store/batch";
import {
  type Challenge,
  type ChallengeProgress,
  type ChallengeWithStats,
  challengeById,
  challengesWithProgress,
  challengeWithProgress,
  readChallengesWithProgress,
  completionStatements,
  creditByMemberRow,
  deleteChallenge,
  firstProgress,
  insertChallenge,
  progressAsRead,
  progressStep,
  takeBackProgress,
  updateChallenge,
} from "../store/challenges";
import type { Read } from "../store/batch";
import { type Customer, customerByReferralCode } from "../store/customers";
import type { Order } from "../store/orders";
import { appendEntry, balanceOf } from "../store/ledger";
import { answeredInPeriod, insertNpsResponse } from "../store/nps";
import {
  type Referral,
  readClaimedReferrals,
  burstGuard,
  claimStanding,
  completeReferral,
  emailGuard,
  insertReferral,
  isReferee,
  rejectReferral,
  reverseReferralOfOrder,
  withdrawClaim,
} from "../store/referrals";
import { type Shop, shopByPublicKey } from "../store/shops";
import { planMember, planPromotion } from "./members";
import { requireRefereeOffer } from "./program";

// ---------------------------------------------------------------------------------------------
// Merchant: challenge CRUD

export function challengeView(challenge: ChallengeWithStats) {
  return {
    id: challenge.id,
    name: challenge.name,
    kind: challenge.kind,
    goal: challenge.goal,
    rewardPoints: challenge.rewardPoints,
    badge: challenge.badge,
    productType: challenge.productType,
    periodDays: challenge.periodDays,
    startsAt: challenge.startsAt,
    endsAt: challenge.endsAt,
    active: challenge.active,
    completions: challenge.completions,
    createdAt: challenge.createdAt,
    updatedAt: challenge.updatedAt,
  };
}

/** Times are stored as UTC ISO strings so that they compare as text. */
const utc = (when: string | null | undefined) => (when ? new Date(when).toISOString() : null);

export async function createChallenge(
  db: D1Database,
  shop: Shop,
  input: ChallengeInput,
  now = new Date(),
): Promise<ChallengeWithStats> {
  const at = now.toISOString();
  const challenge: Challenge = {
    id: newId("chl"),
    name: input.name,
    kind: input.kind,
    goal: input.goal,
    rewardPoints: input.rewardPoints,
    badge: input.badge ?? null,
    productType: input.productType ?? null,
    periodDays: input.periodDays ?? null,
    startsAt: utc(input.startsAt),
    endsAt: utc(input.endsAt),
    active: input.active ?? true,
    createdAt: at,
    updatedAt: at,
  };
  await insertChallenge(db, shop.id, challenge);
  return { ...challenge, completions: 0 };
}

export async function requireChallenge(db: D1Database, shop: Shop, id: string): Promise<ChallengeWithStats> {
  const challenge = await challengeById(db, shop.id, id);
  if (!challenge) throw notFound("Challenge");
  return challenge;
}

/**
 * PATCH: the fields given replace the stored ones and the result must still be a valid challenge.
 * The kind is fixed at creation (progress of one kind means nothing to another).
 */
export async function patchChallenge(
  db: D1Database,
  shop: Shop,
  id: string,
  patch: ChallengePatch,
  now = new Date(),
): Promise<ChallengeWithStats> {
  const current = await requireChallenge(db, shop, id);
  const pick = <K extends keyof ChallengePatch>(key: K, fallback: ChallengePatch[K]) =>
    key in patch ? patch[key] : fallback;
  const merged = CreateChallenge.safeParse({
    name: pick("name", current.name),
    kind: current.kind,
    goal: pick("goal", current.goal),
    rewardPoints: pick("rewardPoints", current.rewardPoints),
    badge: pick("badge", current.badge),
    productType: pick("productType", current.productType),
    periodDays: pick("periodDays", current.periodDays),
    startsAt: pick("startsAt", current.startsAt),
    endsAt: pick("endsAt", current.endsAt),
    active: pick("active", current.active),
  });
  if (!merged.success) throw badRequest("The changed challenge would not be valid.", fieldErrors(merged.error));
  const next = merged.data;
  const challenge: ChallengeWithStats = {
    ...current,
    name: next.name,
    goal: next.goal,
    rewardPoints: next.rewardPoints,
    badge: next.badge ?? null,
    productType: next.productType ?? null,
    periodDays: next.periodDays ?? null,
    startsAt: utc(next.startsAt),
    endsAt: utc(next.endsAt),
    active: next.active ?? current.active,
    updatedAt: now.toISOString(),
  };
  await updateChallenge(db, shop.id, challenge);
  return challenge;
}

export async function removeChallenge(db: D1Database, shop: Shop, id: string, now = new Date()): Promise<void> {
  if (!(await deleteChallenge(db, shop.id, id, now.toISOString()))) throw notFound("Challenge");
}

// ---------------------------------------------------------------------------------------------
// Progress, planned into the batch of the event that causes it

/** Statements to append to an event's batch, and the points they credit to the event's customer. */
export interface EngagementPlan {
  statements: D1PreparedStatement[];
  points: number;
  /** What the event added to each challenge (not streaks), for an order to record. */
  steps: OrderStep[];
}

/**
 * Steps for each running, unfinished challenge the event touches. A step the read predicts will
 * reach the goal carries the statements that complete it (they check the goal themselves, so the
 * database decides which of two racing events pays); the others are planned on the progress as
 * read, which a guard checks, so a concurrent step makes the batch re-read instead of leaving a
 * challenge at its goal but not completed.
 */
function planSteps(
  db: D1Database,
  shop: Shop,
  customerExternalId: string,
  challenges: ChallengeProgress[],
  stepOf: (challenge: Challenge) => { amount: number; period: number | null } | null,
  eventAt: Date,
  now: Date,
): EngagementPlan {
  const at = now.toISOString();
  const statements: D1PreparedStatement[] = [];
  const asRead: ChallengeProgress[] = [];
  const steps: OrderStep[] = [];
  let points = 0;
  for (const read of challenges) {
    const { challenge, state } = read;
    if (state?.completed || !isRunning(challenge, eventAt)) continue;
    const step = stepOf(challenge);
    if (!step) continue;
    statements.push(progressStep(db, { shopId: shop.id, challengeId: challenge.id, customerExternalId, ...step, at }));
    if (step.period === null) steps.push({ challengeId: challenge.id, kind: challenge.kind, amount: step.amount });
    if (nextProgress(challenge, state, step).completed) {
      const expires = expiresAt(shop.program, now);
      statements.push(...completionStatements(db, { shopId: shop.id, challenge, customerExternalId, at, expiresAt: expires }));
      points += challenge.rewardPoints;
    } else {
      asRead.push(read);
    }
  }
  if (asRead.length) statements.unshift(progressAsRead(db, shop.id, customerExternalId, asRead));
  return { statements, points, steps };
}

/** One review, NPS answer or completed referral toward the member's challenges of that kind. */
export async function planActivityEngagement(
  db: D1Database,
  shop: Shop,
  customerExternalId: string,
  kind: Extract<ChallengeKind, "review" | "nps" | "referrals">,
  now: Date,
): Promise<EngagementPlan> {
  const challenges = await challengesWithProgress(db, shop.id, customerExternalId, [kind]);
  return planSteps(db, shop, customerExternalId, challenges, () => ({ amount: 1, period: null }), now, now);
}

export interface OrderEngagementInput {
  customerId: string;
  /** The member as the order's plan read them (null: the order's batch creates them). */
  existing: Customer | null;
  order: {
    id: string;
    email: string | null;
    discountCodes: string[];
    lines: OrderFacts["lines"];
    /** The eligible amount net of refunds already known. */
    eligible: number;
    /** False for an order already cancelled or refunded in full when it arrives. */
    counts: boolean;
  };
  orderedAt: Date;
}

/** What a paid order's engagement reads, in the same batch as the order's other reads. */
export interface OrderEngagementRows {
  challenges: ChallengeProgress[];
  referrals: Referral[];
}

const offerCodesOf = (discountCodes: string[]) => [
  ...new Set(discountCodes.map(canonicalOfferCode).filter((code): code is string => code !== null)),
];

export function readOrderEngagement(
  db: D1Database,
  shop: Shop,
  customerId: string,
  order: { email: string | null; discountCodes: string[] },
): Read<OrderEngagementRows> {
  const emailKeys = order.email ? [emailKey(order.email)] : [];
  const challenges = readChallengesWithProgress(db, shop.id, customerId, ORDER_KINDS);
  const referrals = readClaimedReferrals(db, shop.id, emailKeys, offerCodesOf(order.discountCodes), customerId);
  return {
    statements: [...challenges.statements, ...referrals.statements],
    parse: ([challengeRows, referralRows]) => ({
      challenges: challenges.parse([challengeRows!]),
      referrals: referrals.parse([referralRows!]),
    }),
  };
}

/**
 * A paid order's challenge progress (order_count, spend, product_type, streak) and the referral
 * it may complete: the referee's first paid order, recognised by the claimed email (the order's
 * or the customer's) or by the offer code among its discount codes, pays the referrer once.
 */
export async function planOrderEngagement(
  db: D1Database,
  shop: Shop,
  input: OrderEngagementInput,
  { challenges, referrals }: OrderEngagementRows,
  now: Date,
): Promise<EngagementPlan> {
  if (!input.order.counts) return { statements: [], points: 0, steps: [] };
  const { order, customerId } = input;
  const offerCodes = offerCodesOf(order.discountCodes);
  const facts: OrderFacts = { eligible: order.eligible, lines: order.lines, orderedAt: input.orderedAt };
  const plan = planSteps(
    db,
    shop,
    customerId,
    challenges,
    (challenge) => orderContribution(challenge, facts),
    input.orderedAt,
    now,
  );
  const referral = referrals.find((r) => r.offerCode !== null && offerCodes.includes(r.offerCode)) ?? referrals[0];
  if (referral) plan.statements.push(...(await planReferralOutcome(db, shop, referral, input, now)));
  return plan;
}

async function planReferralOutcome(
  db: D1Database,
  shop: Shop,
  referral: Referral,
  input: OrderEngagementInput,
  now: Date,
): Promise<D1PreparedStatement[]> {
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
  if (reason) return rejectReferral(db, shop.id, referral.id, { ...outcome, reason });
  const at = now.toISOString();
  const statements = completeReferral(db, shop.id, referral.id, { ...outcome, at });
  const points = shop.program.referral.referrerPoints;
  if (points > 0) {
    statements.push(
      appendEntry(db, {
        shopId: shop.id,
        customerExternalId: referral.referrerExternalId,
        delta: points,
        kind: "referral",
        reference: referral.id,
        key: `referral:${referral.id}`,
        createdAt: at,
        expiresAt: expiresAt(shop.program, now),
      }),
    );
  }
  const progress = await planActivityEngagement(db, shop, referral.referrerExternalId, "referrals", now);
  const lifetime = referral.referrerLifetimePoints + points + progress.points;
  const promotion = await planPromotion(db, shop, referral.referrerExternalId, referral.referrerTier, lifetime, now);
  return [...statements, ...progress.statements, ...promotion];
}

/**
 * A refund or cancellation takes back what its order added to the member's challenges, where they
 * are not completed yet: a refunded order no longer counts toward "3 orders", and spend goes back
 * by what was refunded. Completed challenges keep their reward and badge; streaks are not undone.
 */
export function planChallengeTakeBack(
  db: D1Database,
  shop: Shop,
  order: Order,
  after: { refunded: number; cancelled: boolean },
  now: Date,
): D1PreparedStatement[] {
  const member = order.customerExternalId;
  if (!member) return [];
  const before = { eligible: order.eligibleAmount, refunded: order.refundedAmount, cancelled: order.status === "cancelled" };
  const at = now.toISOString();
  return progressTakenBack(order.challengeSteps, before, { ...before, ...after }).map((back) =>
    takeBackProgress(db, shop.id, member, back, at),
  );
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
// Storefront: challenges, social actions, NPS

function storefrontChallenge(challenge: Challenge, state: ProgressState | null, now: Date): StorefrontChallenge {
  return {
    id: challenge.id,
    name: challenge.name,
    kind: challenge.kind,
    goal: challenge.goal,
    progress: visibleProgress(challenge, state, now),
    completed: state?.completed ?? false,
    badge: challenge.badge,
    rewardPoints: challenge.rewardPoints,
    endsAt: challenge.endsAt,
  };
}

const balanceIn = (result: D1Result | undefined) => (result?.results[0] as { balance: number } | undefined)?.balance ?? 0;

/**
 * A self-reported social action (follow, share): completes the social challenge once per member,
 * with the program's social points (once per challenge) and the challenge's reward.
 */
export async function reportSocialAction(
  db: D1Database,
  shop: Shop,
  customerId: string,
  challengeId: string,
  now = new Date(),
) {
  return withFreshRead(async () => {
    const found = await challengeWithProgress(db, shop.id, customerId, challengeId);
    if (!found) throw notFound("Challenge");
    const { challenge, state } = found;
    if (challenge.kind !== "social") {
      throw new ApiError(
        "not_self_reported",
        "Only social challenges are reported by the shopper; this one counts the shop's own events.",
        undefined,
        422,
      );
    }
    if (!isRunning(challenge, now)) throw new ApiError("challenge_not_running", "This challenge is not running.", undefined, 422);
    if (state) throw new ApiError("already_reported", "This action was already reported.", undefined, 409);
    const member = await planMember(db, shop, customerId, {}, now);
    const at = now.toISOString();
    const statements = [
      ...member.statements,
      balanceOf(db, shop.id, customerId),
      firstProgress(db, { shopId: shop.id, challengeId, customerExternalId: customerId, amount: challenge.goal, at }),
      ...completionStatements(db, {
        shopId: shop.id,
        challenge,
        customerExternalId: customerId,
        at,
        expiresAt: expiresAt(shop.program, now),
      }),
    ];
    const social = shop.program.waysToEarn.social;
    const earned = challenge.rewardPoints + social;
    const lifetime = (member.existing?.lifetimePoints ?? 0) + member.points + earned;
    statements.push(...(await planPromotion(db, shop, customerId, member.existing?.tier ?? null, lifetime, now)));
    if (social > 0) {
      statements.push(
        creditByMemberRow(db, {
          shopId: shop.id,
          customerExternalId: customerId,
          kind: "social",
          reference: challengeId,
          keyPrefix: `social:${challengeId}:`,
          delta: social,
          createdAt: at,
          expiresAt: expiresAt(shop.program, now),
        }),
      );
    }
    statements.push(balanceOf(db, shop.id, customerId));
    const results = await commit(db, statements);
    const before = balanceIn(results[member.statements.length]);
    const balance = balanceIn(results[results.length - 1]);
    return {
      challenge: storefrontChallenge(challenge, { progress: challenge.goal, lastPeriod: null, completed: true }, now),
      points: balance - before,
      balance,
    };
  });
}

/**
 * An NPS answer: one per member per period (program.waysToEarn.npsPeriodDays, counted from
 * 1970-01-01 UTC), with the program's NPS points and a step toward `nps` challenges. A second
 * answer in the period is 409 `already_answered` and changes nothing.
 */
export async function answerNps(
  db: D1Database,
  shop: Shop,
  customerId: string,
  answer: { score: number; comment?: string | undefined },
  now = new Date(),
) {
  const periodDays = shop.program.waysToEarn.npsPeriodDays;
  const period = npsPeriod(now, periodDays);
  const nextAt = npsPeriodEnd(period, periodDays).toISOString();
  return withFreshRead(async () => {
    const member = await planMember(db, shop, customerId, {}, now);
    if (member.existing && (await answeredInPeriod(db, shop.id, customerId, period))) {
      throw new ApiError("already_answered", `The question was already answered; ask again from ${nextAt}.`, { nextAt }, 409);
    }
    const at = now.toISOString();
    const comment = answer.comment ? answer.comment : null;
    const statements = [
      ...member.statements,
      balanceOf(db, shop.id, customerId),
      insertNpsResponse(db, shop.id, { customerExternalId: customerId, score: answer.score, comment, period, createdAt: at }),
    ];
    const points = shop.program.waysToEarn.nps;
    if (points > 0) {
      statements.push(
        creditByMemberRow(db, {
          shopId: shop.id,
          customerExternalId: customerId,
          kind: "nps",
          reference: null,
          keyPrefix: `nps:${period}:`,
          delta: points,
          createdAt: at,
          expiresAt: expiresAt(shop.program, now),
        }),
      );
    }
    const challenges = await planActivityEngagement(db, shop, customerId, "nps", now);
    statements.push(...challenges.statements);
    const lifetime = (member.existing?.lifetimePoints ?? 0) + member.points + points + challenges.points;
    statements.push(...(await planPromotion(db, shop, customerId, member.existing?.tier ?? null, lifetime, now)));
    statements.push(balanceOf(db, shop.id, customerId));
    const results = await commit(db, statements);
    const before = balanceIn(results[member.statements.length]);
    const balance = balanceIn(results[results.length - 1]);
    return { response: { score: answer.score, comment, createdAt: at }, points: balance - before, balance, nextAt };
  });
}

// ---------------------------------------------------------------------------------------------
// Referrals: the public lookup and claim, the merchant's list

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

/** Claims are counted per address without keeping the address itself. */
const addressKey = (shopId: string, address: string) => sha256Hex(`laurel-claim:${shopId}:${address}`);

/**
 * A referee claims the offer with an email and gets their own code. A claim that breaks a rule
 * is stored as rejected with its reason (the merchant sees it) and answered 422
 * `referral_rejected` (429 `rate_limited` for a burst), with `details.reason`.
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
  now = new Date(),
) {
  const { shop, referrer } = await referrerOf(db, input.publicKey, input.code);
  const addressHash = await addressKey(shop.id, input.address);
  const since = new Date(now.getTime() - 3_600_000).toISOString();
  const refereeEmailKey = emailKey(input.email);
  const body = await withFreshRead(async () => {
    const standing = await claimStanding(db, shop.id, { addressHash, since, emailKey: refereeEmailKey });
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
      await commit(db, [insertReferral(db, shop.id, { ...claim, offerCode: null, status: "rejected", rejectionReason: reason })]);
      return { rejected: reason } as const;
    }
    const offerCode = groupedCode(3);
    await commit(db, [
      burstGuard(db, shop.id, { addressHash, since, limit: CLAIMS_PER_ADDRESS_PER_HOUR }),
      emailGuard(db, shop.id, refereeEmailKey),
      insertReferral(db, shop.id, { ...claim, offerCode, status: "claimed", rejectionReason: null }),
    ]);
    return { referral: { id: claim.id, status: "claimed" as const }, offerCode, offer: offerOf(shop) };
  });
  if ("rejected" in body && body.rejected) {
    const reason = body.rejected;
    if (reason === "address_burst") {
      throw new ApiError("rate_limited", REJECTION_MESSAGES[reason], { reason }, 429, { "Retry-After": "3600" });
    }
    throw new ApiError("referral_rejected", REJECTION_MESSAGES[reason], { reason }, 422);
  }
  return { shop, body };
}

/**
 * A signup reported with the referral code it arrived with (`customer.created` with
 * `referralCode`): the member becomes the referee of a claimed referral, which their first paid
 * order completes as it would a claim. The claim rules apply (self-referral, an email that already
 * claimed, a referee who ordered before) and a rejection is kept with its reason. An unknown code,
 * or a member who already is a referee, changes nothing.
 */
export async function planSignupReferral(
  db: D1Database,
  shop: Shop,
  input: { customerId: string; email: string | null; referralCode: string | undefined; existing: Customer | null },
  now: Date,
): Promise<D1PreparedStatement[]> {
  if (!input.referralCode) return [];
  const referrer = await customerByReferralCode(db, shop.id, canonicalReferralCode(input.referralCode));
  if (!referrer || referrer.redactedAt) return [];
  if (input.existing && (await isReferee(db, shop.id, input.customerId))) return [];
  const email = input.email ?? input.existing?.email ?? null;
  const refereeEmailKey = email ? emailKey(email) : null;
  const standing = refereeEmailKey
    ? await claimStanding(db, shop.id, { addressHash: null, since: now.toISOString(), emailKey: refereeEmailKey })
    : { recentClaimsFromAddress: 0, emailAlreadyClaimed: false, emailHasOrdered: false };
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

/**
 * For a Shopify shop, creates the referee's offer code in Shopify so checkout accepts it. When
 * Shopify cannot (or the shop is not connected), the claim is withdrawn and the answer is 502
 * `upstream_failed`; the referee may simply claim again. Null: all is well.
 */
export async function createOfferCodeInShopify(
  db: D1Database,
  shop: Shop,
  claim: { referral: { id: string }; offerCode: string; offer: { type: ReferralOfferType; value: string | number | null } },
  connection: ShopifyShopConnection | null,
  issuer: DiscountIssuer,
): Promise<ApiError | null> {
  let failure = "The shop is not connected to Shopify.";
  if (connection) {
    try {
      await issuer.createCode(connection, {
        code: claim.offerCode,
        reward: { name: "Referral offer", type: claim.offer.type, value: claim.offer.value, minOrder: null },
      });
      return null;
    } catch (err) {
      if (!(err instanceof ShopifyAdminError)) throw err;
      failure = `Shopify could not create the offer code: ${err.message}`;
    }
  }
  await withdrawClaim(db, shop.id, claim.referral.id);
  return new ApiError("upstream_failed", `${failure} No offer code was issued; try again later.`);
}

type ReferralOfferType = Shop["program"]["referral"]["refereeOffer"]["type"];

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
