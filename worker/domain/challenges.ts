/**
 * Challenges, pure: what an event contributes to each kind, how streak periods are
 * numbered, when a challenge runs, and what a shopper sees. The store applies the same step rule
 * in SQL (store/challenges.ts), so concurrent events add up instead of overwriting each other.
 */

export const CHALLENGE_KINDS = [
  "order_count",
  "spend",
  "product_type",
  "streak",
  "referrals",
  "review",
  "social",
  "nps",
] as const;
export type ChallengeKind = (typeof CHALLENGE_KINDS)[number];

/** Kinds an order moves. */
export const ORDER_KINDS: readonly ChallengeKind[] = ["order_count", "spend", "product_type", "streak"];

export interface ChallengeRule {
  id: string;
  name: string;
  kind: ChallengeKind;
  /** Orders, minor units of spend, items of the product type, periods in a row, or actions. */
  goal: number;
  rewardPoints: number;
  badge: string | null;
  productType: string | null;
  periodDays: number | null;
  startsAt: string | null;
  endsAt: string | null;
  active: boolean;
}

export interface ProgressState {
  progress: number;
  /** Streaks: the index of the last period with an order. */
  lastPeriod: number | null;
  completed: boolean;
}

const DAY_MS = 86_400_000;

/** Whether an event at `at` counts toward the challenge (start inclusive, end exclusive). */
export function isRunning(rule: Pick<ChallengeRule, "active" | "startsAt" | "endsAt">, at: Date): boolean {
  if (!rule.active) return false;
  const t = at.getTime();
  if (rule.startsAt !== null && t < Date.parse(rule.startsAt)) return false;
  if (rule.endsAt !== null && t >= Date.parse(rule.endsAt)) return false;
  return true;
}

/**
 * Streak periods are consecutive blocks of `periodDays` days counted from the challenge's start
 * (or from 1970-01-01 UTC when it has none), so a weekly streak's weeks begin when it does.
 */
export function periodIndex(at: Date, periodDays: number, anchor: string | null): number {
  const origin = anchor === null ? 0 : Date.parse(anchor);
  return Math.floor((at.getTime() - origin) / (periodDays * DAY_MS));
}

export interface OrderFacts {
  /** The earning basis, net of refunds already known, in minor units. */
  eligible: number;
  lines: { productType?: string | undefined; quantity: number }[];
  orderedAt: Date;
}

/**
 * What an order adds to a challenge: 1 order, its eligible amount, the items of the challenge's
 * product type, or (for streaks) the period it falls in. Null when it does not touch the challenge.
 */
export function orderContribution(
  rule: ChallengeRule,
  order: OrderFacts,
): { amount: number; period: number | null } | null {
  switch (rule.kind) {
    case "order_count":
      return { amount: 1, period: null };
    case "spend":
      return order.eligible > 0 ? { amount: order.eligible, period: null } : null;
    case "product_type": {
      const items = order.lines
        .filter((line) => line.productType !== undefined && line.productType === rule.productType)
        .reduce((sum, line) => sum + line.quantity, 0);
      return items > 0 ? { amount: items, period: null } : null;
    }
    case "streak":
      return { amount: 1, period: periodIndex(order.orderedAt, rule.periodDays ?? 7, rule.startsAt) };
    default:
      return null;
  }
}

/** What a paid order added to one challenge (streaks are not recorded: a period cannot be undone). */
export interface OrderStep {
  challengeId: string;
  kind: ChallengeKind;
  amount: number;
}

/** An order's refund state: its eligible amount, what has been refunded, and whether it is cancelled. */
export interface OrderRefundState {
  eligible: number;
  refunded: number;
  cancelled: boolean;
}

/**
 * What an order still contributes to a challenge after refunds: nothing once refunded in full or
 * cancelled (the same rule as statusAfterRefunds); for spend, what is left of its eligible amount
 * (never more than it added).
 */
function stillContributes(step: OrderStep, order: OrderRefundState): number {
  if (order.cancelled || (order.refunded > 0 && order.refunded >= order.eligible)) return 0;
  if (step.kind === "spend") return Math.min(step.amount, Math.max(0, order.eligible - order.refunded));
  return step.amount;
}

/** How much each challenge's progress goes back when an order moves from `before` to `after`. */
export function progressTakenBack(
  steps: readonly OrderStep[],
  before: OrderRefundState,
  after: OrderRefundState,
): { challengeId: string; amount: number }[] {
  return steps
    .map((step) => ({ challengeId: step.challengeId, amount: stillContributes(step, before) - stillContributes(step, after) }))
    .filter((back) => back.amount > 0);
}

/**
 * One step of progress. Counters add; a streak grows by one in the period after its last one,
 * stays in the same period, restarts at 1 after a gap, and ignores a late order from an earlier
 * period. A completed challenge never moves again.
 */
export function nextProgress(
  rule: Pick<ChallengeRule, "kind" | "goal">,
  state: ProgressState | null,
  step: { amount: number; period: number | null },
): ProgressState {
  const current = state ?? { progress: 0, lastPeriod: null, completed: false };
  if (current.completed) return current;
  let progress: number;
  let lastPeriod = current.lastPeriod;
  if (rule.kind === "streak" && step.period !== null) {
    if (lastPeriod === null) progress = 1;
    else if (step.period === lastPeriod + 1) progress = current.progress + 1;
    else if (step.period <= lastPeriod) progress = current.progress;
    else progress = 1;
    if (lastPeriod === null || step.period > lastPeriod) lastPeriod = step.period;
  } else {
    progress = current.progress + step.amount;
  }
  return { progress, lastPeriod, completed: progress >= rule.goal };
}

/**
 * The progress a shopper sees: capped at the goal, and a streak that missed a whole period since
 * its last order shows as broken (0) until the next order starts it again.
 */
export function visibleProgress(
  rule: Pick<ChallengeRule, "kind" | "goal" | "periodDays" | "startsAt">,
  state: ProgressState | null,
  now: Date,
): number {
  if (!state) return 0;
  if (state.completed) return rule.goal;
  if (rule.kind === "streak" && state.lastPeriod !== null) {
    const current = periodIndex(now, rule.periodDays ?? 7, rule.startsAt);
    if (current > state.lastPeriod + 1) return 0;
  }
  return Math.min(rule.goal, state.progress);
}
