/**
 * The program simulator, pure: replays a shop's recorded orders under a program with the real
 * earning rules (earning.ts) and tier rules (tiers.ts), in the order the worker processed them, so
 * that the current program replayed gives back the points each order was awarded.
 *
 * The model, which the API documents:
 * - each order earns `pointsForOrder` on its recorded eligible amount and lines, with the tier
 *   multiplier of the tier the member holds at that moment and the boosts running when it occurred;
 * - refunds and cancellations claw back with `clawbackFor`, when they happened (those that arrived
 *   before their order apply with it, as the worker does);
 * - other points (signup, challenges, referrals, adjustments, older orders and their claw-backs)
 *   are kept as recorded; they count toward lifetime points, and promote where the worker does;
 * - a member starts the window in the tier their standing then qualifies for; promotion happens
 *   where the worker promotes (never lower): after each order, and after a batch of referral, NPS,
 *   social or challenge points that no order brought; scheduled downgrades are not replayed;
 * - the earning basis is the recorded eligible amount, so a change of includeShipping/includeTax
 *   is not reflected.
 */
import type { Program, TierRule } from "../contract/program";
import { pointsValueMinor, ratio } from "./analytics";
import { clawbackFor, type OrderLine, pointsForOrder } from "./earning";
import { promotedTier, qualifyingTier, type TierStanding, tierMultiplier, wholeUnits, windowOf } from "./tiers";

const DAY_MS = 86_400_000;

export interface ReplayOrder {
  id: string;
  /** The member (customer row id). */
  member: number;
  /** Minor units: the recorded earning basis. */
  eligible: number;
  lines: OrderLine[];
  /** When the order happened (boosts, spend windows). */
  occurredAt: string;
  /** When the worker processed it (its ledger entry), else when it happened. */
  processedAt: string;
  /** Tie-break among events of the same instant (the ledger id; processing order). */
  seq: number;
  recordedPoints: number;
}

export interface ReplayRefund {
  orderId: string;
  kind: "refund" | "cancel";
  /** Minor units of the eligible amount refunded (0 for a cancellation). */
  amount: number;
  at: string;
}

/** A recorded ledger change of a replayed member's lifetime points that the replay keeps as is. */
export interface ReplayCredit {
  member: number;
  delta: number;
  at: string;
  seq: number;
  kind: string;
}

/** An order before the window that a spend tier's rolling window can still see. */
export interface PriorOrder {
  id: string;
  member: number;
  eligible: number;
  occurredAt: string;
  processedAt: string;
}

/** A member the replay does not touch: their standing now, for the tier distribution. */
export interface StandingNow {
  tier: string | null;
  lifetimePoints: number;
  /** Whole currency units spent within each window (days) that either program's tiers use. */
  spendByWindow: Record<number, number>;
}

export interface ReplayInput {
  currency: string;
  /** The window: orders that occurred in [start, end). */
  start: string;
  end: string;
  orders: ReplayOrder[];
  /** Refunds and cancellations of the window's orders and of the prior orders. */
  refunds: ReplayRefund[];
  credits: ReplayCredit[];
  /** Lifetime points of each replayed member before the window (credits and orders not replayed). */
  lifetimeBefore: Map<number, number>;
  priorOrders: PriorOrder[];
  /** Positive points credited in the window other than by the replayed orders (all members). */
  otherPoints: number;
  /** Members with no replayed order. */
  others: StandingNow[];
}

export interface ReplayResult {
  orders: number;
  /** Points the replayed orders earn, before refunds. */
  orderPoints: number;
  /** Points their refunds and cancellations claw back. */
  pointsReversed: number;
  otherPoints: number;
  /** orderPoints + otherPoints: what the window credits (as analytics counts pointsIssued). */
  pointsIssued: number;
  /** orderPoints - pointsReversed + otherPoints: what stays with members. */
  netPoints: number;
  /** Net revenue of the replayed orders (eligible amount less refunds, cancelled ones excluded). */
  revenue: number;
  /** The money value of netPoints at the program's pointValue (minor units). */
  cost: number;
  /** cost / revenue; null without revenue. */
  costShare: number | null;
  /** Members per tier at the end of the window, lowest first, "no tier" as null. */
  tiers: { tier: string | null; members: number }[];
  /** Orders whose replayed points equal the points recorded for them. */
  ordersMatchingRecorded: number;
}

/**
 * An order as tiers by spend see it at a moment, the way the worker's readSpendSince() does: only once
 * processed, net of the refunds applied by then, nothing once cancelled.
 */
interface Spend {
  occurred: number;
  processed: number;
  eligible: number;
  refunds: { at: number; kind: "refund" | "cancel"; amount: number }[];
}

function spendAt(spend: Spend, at: number): number {
  if (spend.processed > at) return 0;
  let refunded = 0;
  for (const refund of spend.refunds) {
    if (refund.at > at) continue;
    if (refund.kind === "cancel") return 0;
    refunded += refund.amount;
  }
  return spend.eligible - Math.min(refunded, spend.eligible);
}

interface MemberState {
  tier: string | null;
  lifetime: number;
  spends: Spend[];
}

interface OrderState {
  order: ReplayOrder;
  points: number;
  reversed: number;
  refunded: number;
  cancelled: boolean;
}

type Event =
  | { type: "order"; at: number; seq: number; order: ReplayOrder; atArrival: ReplayRefund[] }
  | { type: "refund"; at: number; seq: number; refund: ReplayRefund }
  | { type: "credit"; at: number; seq: number; credit: ReplayCredit };

function standingAt(tiers: TierRule[], state: MemberState, atMs: number, currency: string): TierStanding {
  const spendByWindow: Record<number, number> = {};
  for (const tier of tiers) {
    if (tier.basis !== "spend") continue;
    const days = windowOf(tier);
    if (spendByWindow[days] !== undefined) continue;
    const since = atMs - days * DAY_MS;
    let spent = 0;
    for (const spend of state.spends) if (spend.occurred >= since) spent += spendAt(spend, atMs);
    spendByWindow[days] = wholeUnits(spent, currency);
  }
  return { lifetimePoints: state.lifetime, spendByWindow };
}

/** Kinds of points whose batch promotes the member at once (services/engagement.ts). */
const PROMOTING_KINDS = new Set(["referral", "nps", "social", "challenge"]);

/**
 * The credits after which the worker promoted. Entries written together share their instant, so a
 * (member, instant) pair is one batch. A batch with an order promotes right after the order's own
 * entry (challenge points its order earned are not counted until later, as in events.ts); a batch
 * of engagement points promotes after its last entry.
 */
function promotingCredits(input: ReplayInput): Set<number> {
  const batchOf = (member: number, at: string) => `${member}|${Date.parse(at)}`;
  const replayedOrderBatches = new Set(input.orders.map((o) => batchOf(o.member, o.processedAt)));
  const batches = new Map<string, ReplayCredit[]>();
  for (const credit of input.credits) {
    const key = batchOf(credit.member, credit.at);
    batches.set(key, [...(batches.get(key) ?? []), credit]);
  }
  const promoting = new Set<number>();
  for (const [key, credits] of batches) {
    const order = credits.find((c) => c.kind === "order");
    if (order) promoting.add(order.seq);
    else if (!replayedOrderBatches.has(key) && credits.some((c) => PROMOTING_KINDS.has(c.kind))) {
      promoting.add(Math.max(...credits.map((c) => c.seq)));
    }
  }
  return promoting;
}

/** The events in the order the worker processed them: by instant, then by ledger sequence. */
function timeline(input: ReplayInput): Event[] {
  const processed = new Map(input.orders.map((o) => [o.id, Date.parse(o.processedAt)]));
  const atArrival = new Map<string, ReplayRefund[]>();
  const events: Event[] = [];
  for (const refund of input.refunds) {
    const orderAt = processed.get(refund.orderId);
    if (orderAt === undefined) continue;
    const at = Date.parse(refund.at);
    if (at <= orderAt) {
      const list = atArrival.get(refund.orderId) ?? [];
      list.push(refund);
      atArrival.set(refund.orderId, list);
    } else {
      events.push({ type: "refund", at, seq: Number.MAX_SAFE_INTEGER, refund });
    }
  }
  for (const order of input.orders) {
    const early = (atArrival.get(order.id) ?? []).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    events.push({ type: "order", at: Date.parse(order.processedAt), seq: order.seq, order, atArrival: early });
  }
  for (const credit of input.credits) events.push({ type: "credit", at: Date.parse(credit.at), seq: credit.seq, credit });
  return events.sort((a, b) => a.at - b.at || a.seq - b.seq);
}

export function replay(program: Program, input: ReplayInput): ReplayResult {
  const tiers = program.tiers;
  const rounding = program.earning.rounding;
  const startMs = Date.parse(input.start);

  const members = new Map<number, MemberState>();
  for (const order of input.orders) {
    if (!members.has(order.member)) {
      members.set(order.member, { tier: null, lifetime: input.lifetimeBefore.get(order.member) ?? 0, spends: [] });
    }
  }
  const refundsOf = new Map<string, Spend["refunds"]>();
  for (const refund of input.refunds) {
    const list = refundsOf.get(refund.orderId) ?? [];
    list.push({ at: Date.parse(refund.at), kind: refund.kind, amount: refund.amount });
    refundsOf.set(refund.orderId, list);
  }
  for (const order of [...input.priorOrders, ...input.orders]) {
    members.get(order.member)?.spends.push({
      occurred: Date.parse(order.occurredAt),
      processed: Date.parse(order.processedAt),
      eligible: order.eligible,
      refunds: refundsOf.get(order.id) ?? [],
    });
  }
  for (const state of members.values()) {
    state.tier = qualifyingTier(tiers, standingAt(tiers, state, startMs, input.currency))?.name ?? null;
  }

  const promoting = promotingCredits(input);
  const orders = new Map<string, OrderState>();
  let orderPoints = 0;
  let ordersMatchingRecorded = 0;

  const applyRefund = (state: OrderState, refund: ReplayRefund): number => {
    const { order } = state;
    if (state.cancelled) return 0;
    let owed: number;
    if (refund.kind === "cancel") {
      state.cancelled = true;
      owed = state.points;
    } else {
      state.refunded += refund.amount;
      owed = Math.max(
        state.reversed,
        clawbackFor(state.points, order.eligible, Math.min(state.refunded, order.eligible), rounding),
      );
    }
    const delta = owed - state.reversed;
    state.reversed = owed;
    return delta;
  };

  for (const event of timeline(input)) {
    if (event.type === "credit") {
      const state = members.get(event.credit.member);
      if (!state) continue;
      state.lifetime += event.credit.delta;
      if (promoting.has(event.credit.seq)) state.tier = promotedTier(tiers, state.tier, standingAt(tiers, state, event.at, input.currency));
    } else if (event.type === "refund") {
      const orderState = orders.get(event.refund.orderId);
      const member = orderState && members.get(orderState.order.member);
      if (orderState && member) member.lifetime -= applyRefund(orderState, event.refund);
    } else {
      const { order } = event;
      const member = members.get(order.member)!;
      const earning = pointsForOrder(
        program.earning,
        { currency: input.currency, subtotal: order.eligible, discount: 0, shipping: 0, tax: 0, lines: order.lines },
        { tierMultiplier: tierMultiplier(tiers, member.tier), at: new Date(order.occurredAt) },
      );
      const state: OrderState = { order, points: earning.points, reversed: 0, refunded: 0, cancelled: false };
      orders.set(order.id, state);
      orderPoints += earning.points;
      if (earning.points === order.recordedPoints) ordersMatchingRecorded++;
      for (const refund of event.atArrival) applyRefund(state, refund);
      member.lifetime += state.points - state.reversed;
      member.tier = promotedTier(tiers, member.tier, standingAt(tiers, member, event.at, input.currency));
    }
  }

  let pointsReversed = 0;
  let revenue = 0;
  for (const state of orders.values()) {
    pointsReversed += state.reversed;
    if (!state.cancelled) revenue += state.order.eligible - Math.min(state.refunded, state.order.eligible);
  }

  const counts = new Map<string | null, number>([[null, 0], ...tiers.map((t) => [t.name, 0] as [string, number])]);
  const count = (tier: string | null) => counts.set(tier, (counts.get(tier) ?? 0) + 1);
  for (const state of members.values()) count(state.tier);
  for (const other of input.others) {
    count(promotedTier(tiers, other.tier, { lifetimePoints: other.lifetimePoints, spendByWindow: other.spendByWindow }));
  }

  const netPoints = orderPoints - pointsReversed + input.otherPoints;
  const cost = pointsValueMinor(netPoints, program.pointValue, input.currency);
  return {
    orders: input.orders.length,
    orderPoints,
    pointsReversed,
    otherPoints: input.otherPoints,
    pointsIssued: orderPoints + input.otherPoints,
    netPoints,
    revenue,
    cost,
    costShare: ratio(cost, revenue),
    tiers: [...counts].map(([tier, members]) => ({ tier, members })),
    ordersMatchingRecorded,
  };
}

/** Outstanding points under the proposal: today's, moved by the difference the proposal makes. */
export function projectedLiability(outstanding: number, current: ReplayResult, proposed: ReplayResult): number {
  return Math.max(0, outstanding + proposed.netPoints - current.netPoints);
}

/** Every spend window (days) the tiers of either program measure. */
export function spendWindows(...programs: Program[]): number[] {
  const windows = new Set<number>();
  for (const program of programs) for (const tier of program.tiers) if (tier.basis === "spend") windows.add(windowOf(tier));
  return [...windows].sort((a, b) => a - b);
}
