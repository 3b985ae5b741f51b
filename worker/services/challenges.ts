/**
 * Challenges and badges: the merchant's CRUD, and progress planned as statements that
 * join the batch of the event that caused it (events.ts, nps.ts, referrals.ts), so points,
 * progress and badges land together or not at all. Every function here that plans is pure over
 * reads gathered beforehand.
 */
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
  orderContribution,
  type ProgressState,
  progressTakenBack,
  visibleProgress,
} from "../domain/challenges";
import { expiresAt } from "../domain/clock";
import { ApiError, badRequest, notFound } from "../http/errors";
import { fieldErrors } from "../http/validation";
import { type Read, together } from "../store/batch";
import {
  type Challenge,
  type ChallengeProgress,
  type ChallengeWithStats,
  challengeById,
  completionStatements,
  deleteChallenge,
  firstProgress,
  insertChallenge,
  progressAsRead,
  progressStep,
  readChallengesWithProgress,
  readChallengeWithProgress,
  takeBackProgress,
  updateChallenge,
} from "../store/challenges";
import { appendMemberKeyedCredit } from "../store/ledger";
import type { Order } from "../store/orders";
import type { Shop } from "../store/shops";
import { memberWithChange, readMember } from "./members";
import { planOf, write } from "./pipeline";

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
export interface ProgressPlan {
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
): ProgressPlan {
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

/** The member's challenges one review, NPS answer or completed referral steps. */
export function readActivityChallenges(
  db: D1Database,
  shop: Shop,
  customerExternalId: string,
  kind: Extract<ChallengeKind, "review" | "nps" | "referrals">,
): Read<ChallengeProgress[]> {
  return readChallengesWithProgress(db, shop.id, customerExternalId, [kind]);
}

/** One review, NPS answer or completed referral toward the member's challenges of that kind. */
export function planActivitySteps(
  db: D1Database,
  shop: Shop,
  customerExternalId: string,
  challenges: ChallengeProgress[],
  now: Date,
): ProgressPlan {
  return planSteps(db, shop, customerExternalId, challenges, () => ({ amount: 1, period: null }), now, now);
}

/** The member's challenges a paid order can step (order_count, spend, product_type, streak). */
export function readOrderChallenges(db: D1Database, shop: Shop, customerExternalId: string): Read<ChallengeProgress[]> {
  return readChallengesWithProgress(db, shop.id, customerExternalId, ORDER_KINDS);
}

/** A paid order's steps; nothing for an order already cancelled or refunded in full when it arrives. */
export function planOrderSteps(
  db: D1Database,
  shop: Shop,
  customerExternalId: string,
  facts: OrderFacts & { counts: boolean },
  challenges: ChallengeProgress[],
  now: Date,
): ProgressPlan {
  if (!facts.counts) return { statements: [], points: 0, steps: [] };
  const stepOf = (challenge: Challenge) => orderContribution(challenge, facts);
  return planSteps(db, shop, customerExternalId, challenges, stepOf, facts.orderedAt, now);
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

// ---------------------------------------------------------------------------------------------
// Storefront: challenges as the widget shows them, social actions

export function storefrontChallenge(challenge: Challenge, state: ProgressState | null, now: Date): StorefrontChallenge {
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

/**
 * A self-reported social action (follow, share): completes the social challenge once per member,
 * with the program's social points (once per challenge) and the challenge's reward.
 */
export async function reportSocialAction(db: D1Database, shop: Shop, customerId: string, challengeId: string, now = new Date()) {
  const read = together([readChallengeWithProgress(db, shop.id, customerId, challengeId), readMember(db, shop, customerId, now)] as const);
  const committed = await write(
    db,
    shop,
    read,
    ([found, memberRead]) => {
      if (!found) throw notFound("Challenge");
      const { challenge, state } = found;
      if (challenge.kind !== "social") {
        throw new ApiError(
          "not_self_reported",
          "Only social challenges are reported by the shopper; this one counts the shop's own events.",
        );
      }
      if (!isRunning(challenge, now)) throw new ApiError("challenge_not_running", "This challenge is not running.");
      if (state) throw new ApiError("already_reported", "This action was already reported.");
      const member = memberWithChange(db, shop, memberRead, {}, now);
      const at = now.toISOString();
      const expires = expiresAt(shop.program, now);
      const social = shop.program.waysToEarn.social;
      const statements = [
        ...member.statements,
        firstProgress(db, { shopId: shop.id, challengeId, customerExternalId: customerId, amount: challenge.goal, at }),
        ...completionStatements(db, { shopId: shop.id, challenge, customerExternalId: customerId, at, expiresAt: expires }),
      ];
      if (social > 0) {
        statements.push(
          appendMemberKeyedCredit(db, {
            shopId: shop.id,
            customerExternalId: customerId,
            kind: "social",
            reference: challengeId,
            keyPrefix: `social:${challengeId}:`,
            delta: social,
            createdAt: at,
            expiresAt: expires,
          }),
        );
      }
      return planOf(challenge, {
        statements,
        member: customerId,
        standings: [member.change(challenge.rewardPoints + social)],
      });
    },
    now,
  );
  const challenge = committed.value;
  return {
    challenge: storefrontChallenge(challenge, { progress: challenge.goal, lastPeriod: null, completed: true }, now),
    points: committed.moved,
    balance: committed.balance ?? 0,
  };
}
