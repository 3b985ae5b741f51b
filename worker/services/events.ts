/**
 * Event ingestion: every event type of DESIGN §4, exactly once per event id, per order and per
 * refund. Each event is read, planned by the pure rules in domain/, and committed as ONE atomic
 * batch; a batch refused by a unique key or a write guard means a concurrent delivery won, and the
 * event is read and planned again (where it will usually turn out to be a duplicate).
 */
import type {
  CustomerCreatedEvent,
  EventResult,
  LoyaltyEvent,
  OrderCancelledEvent,
  OrderPaidEvent,
  OrderRefundedEvent,
} from "../contract/events";
import { daysAgo, expiresAt } from "../domain/clock";
import { clawbackFor, pointsForOrder } from "../domain/earning";
import { parseMoney } from "../domain/money";
import { orderAmounts, statusAfterRefunds } from "../domain/orders";
import { tierMultiplier } from "../domain/tiers";
import { ApiError, badRequest } from "../http/errors";
import { commit, type Read, readTogether, withFreshRead } from "../store/batch";
import { readCustomer, recordCustomerOrder, updateCustomerProfile } from "../store/customers";
import { eventReceived, recordEvent } from "../store/events";
import { appendClawback, appendEntry, balanceOf, countEntriesSince, type LedgerKind, underLimit } from "../store/ledger";
import {
  insertOrder,
  insertRefund,
  markRefundsApplied,
  orderStillAbsent,
  readOrder,
  readRefunds,
  refundsStillNumber,
  updateOrderReversal,
} from "../store/orders";
import type { Shop } from "../store/shops";
import {
  planActivityEngagement,
  planChallengeTakeBack,
  planOrderEngagement,
  planReferralReversal,
  planSignupReferral,
  readOrderEngagement,
} from "./engagement";
import { memberPlan, planPromotion, promotionOf, readTierSpend } from "./members";

/** What one event's plan does: its statements and what the response reports. */
interface EventPlan {
  statements: D1PreparedStatement[];
  customerId: string | null;
  points: number;
  /** The order or refund it carries was already processed under another event id. */
  duplicate?: boolean;
  /** This very event id was processed before. */
  received?: boolean;
}

const RECEIVED: EventPlan = { statements: [], customerId: null, points: 0, received: true };

export async function ingestEvent(
  db: D1Database,
  shop: Shop,
  source: string,
  event: LoyaltyEvent,
  now = new Date(),
): Promise<EventResult> {
  return withFreshRead(async () => {
    // Each plan reads whether the event was received in the same batch as its own first reads.
    const received = eventReceived(db, shop.id, source, event.id);
    const plan = await planEvent(db, shop, event, received, now);
    if (plan.received) {
      return { status: "duplicate", eventId: event.id, customerId: null, points: 0, balance: null };
    }
    // The balance is read first and last inside the same atomic batch, so `points` is what the
    // event really moved (a claw-back clamped at zero moves less than it owed).
    const statements = [
      ...(plan.customerId ? [balanceOf(db, shop.id, plan.customerId)] : []),
      ...plan.statements,
      recordEvent(db, shop.id, { source, id: event.id, type: event.type, receivedAt: now.toISOString() }),
    ];
    if (plan.customerId) statements.push(balanceOf(db, shop.id, plan.customerId));
    const results = await commit(db, statements);
    const balanceIn = (result: D1Result | undefined) =>
      (result?.results[0] as { balance: number } | undefined)?.balance ?? null;
    const balance = plan.customerId ? balanceIn(results[results.length - 1]) : null;
    const moved = balance === null ? plan.points : balance - (balanceIn(results[0]) ?? 0);
    return {
      status: plan.duplicate ? "duplicate" : "processed",
      eventId: event.id,
      customerId: plan.customerId,
      points: plan.duplicate ? 0 : moved,
      balance,
    };
  });
}

function planEvent(db: D1Database, shop: Shop, event: LoyaltyEvent, received: Read<boolean>, now: Date): Promise<EventPlan> {
  switch (event.type) {
    case "order.paid":
      return planOrderPaid(db, shop, event, received, now);
    case "order.refunded":
      return planOrderRefunded(db, shop, event, received, now);
    case "order.cancelled":
      return planOrderCancelled(db, shop, event, received, now);
    case "customer.created":
      return planCustomerCreated(db, shop, event, received, now);
    case "review.created":
      return planWayToEarn(db, shop, event.customerId, "review", "review", event, received, now);
    case "custom":
      return planWayToEarn(db, shop, event.customerId, "custom", event.name, event, received, now);
  }
}

/**
 * A paid order: ONE batch reads everything the plan needs (the event id, the order, the member,
 * refunds that came first, challenges, claimed referrals, tier spend), then ONE batch writes.
 */
async function planOrderPaid(
  db: D1Database,
  shop: Shop,
  event: OrderPaidEvent,
  received: Read<boolean>,
  now: Date,
): Promise<EventPlan> {
  const input = event.order;
  if (input.currency !== shop.currency) {
    throw new ApiError(
      "currency_mismatch",
      `Amounts must be in the shop's currency (${shop.currency}); this order is in ${input.currency}.`,
      undefined,
      422,
    );
  }
  const parsed = orderAmounts(input, shop.currency);
  if (!parsed.amounts) throw badRequest("The order's amounts are not valid.", parsed.errors);
  const amounts = parsed.amounts;

  const order = { email: input.email ?? null, discountCodes: input.discountCodes ?? [] };
  const [seen, known, existing, refunds, engagementRows, spend] = await readTogether(db, [
    received,
    readOrder(db, shop.id, input.id),
    readCustomer(db, shop.id, input.customerId),
    readRefunds(db, shop.id, input.id),
    readOrderEngagement(db, shop, input.customerId, order),
    readTierSpend(db, shop, input.customerId, now),
  ]);
  if (seen) return RECEIVED;
  const member = memberPlan(db, shop, input.customerId, existing, { email: input.email }, now);
  if (known) {
    return { statements: [], customerId: input.customerId, points: 0, duplicate: true };
  }

  const currentTier = member.existing?.tier ?? null;
  const orderedAt = event.occurredAt ? new Date(event.occurredAt) : now;
  const earning = pointsForOrder(shop.program.earning, amounts, {
    tierMultiplier: tierMultiplier(shop.program.tiers, currentTier),
    at: orderedAt,
  });
  if (!Number.isSafeInteger(earning.points + (member.existing?.balance ?? 0) + member.points)) {
    // Absurd amounts times large rates: points are exact integers or the order is refused.
    throw badRequest("This order would earn more points than a balance can hold.", [
      { path: "order.subtotal", message: "too large for the program's earning rates" },
    ]);
  }
  const at = now.toISOString();
  const customerId = input.customerId;
  const ledger = { shopId: shop.id, customerExternalId: customerId, reference: input.id, createdAt: at };

  // Refunds and a cancellation that arrived before the order apply now, each as it would have.
  const pending = refunds.filter((r) => !r.applied);
  const reversals: D1PreparedStatement[] = [];
  let refunded = 0;
  let reversed = 0;
  let cancelled = false;
  for (const refund of pending) {
    if (refund.kind === "refund") {
      refunded += refund.amount;
      if (cancelled) continue;
      const owed = clawbackFor(earning.points, earning.eligible, Math.min(refunded, earning.eligible), earning.rounding);
      if (owed > reversed) {
        reversals.push(
          appendClawback(db, { ...ledger, kind: "refund", key: `refund:${input.id}:${refund.refundId}`, points: owed - reversed }),
        );
        reversed = owed;
      }
    } else if (!cancelled) {
      cancelled = true;
      if (earning.points > reversed) {
        reversals.push(appendClawback(db, { ...ledger, kind: "cancel", key: `cancel:${input.id}`, points: earning.points - reversed }));
      }
      reversed = earning.points;
    }
  }

  // Challenge progress and the referral this order may complete, in the same batch; the order
  // records what it added, for a refund to take back.
  const netEligible = earning.eligible - Math.min(refunded, earning.eligible);
  const engagementInput = {
    customerId,
    existing: member.existing,
    order: {
      id: input.id,
      ...order,
      lines: amounts.lines,
      eligible: netEligible,
      counts: !cancelled && statusAfterRefunds(earning.eligible, refunded) !== "refunded",
    },
    orderedAt,
  };
  const engagement = await planOrderEngagement(db, shop, engagementInput, engagementRows, now);

  const statements = [
    ...member.statements,
    insertOrder(db, shop.id, {
      externalId: input.id,
      customerExternalId: customerId,
      currency: shop.currency,
      eligibleAmount: earning.eligible,
      totalAmount: amounts.subtotal - amounts.discount + amounts.shipping + amounts.tax,
      pointsAwarded: earning.points,
      pointsReversed: reversed,
      refundedAmount: refunded,
      rounding: earning.rounding,
      status: cancelled ? "cancelled" : statusAfterRefunds(earning.eligible, refunded),
      email: input.email ?? null,
      lines: input.lines,
      discountCodes: input.discountCodes ?? [],
      challengeSteps: engagement.steps,
      createdAt: orderedAt.toISOString(),
    }),
  ];
  if (input.email && member.existing && !member.existing.email) {
    statements.push(updateCustomerProfile(db, shop.id, customerId, { email: input.email }));
  }
  if (earning.points > 0) {
    statements.push(
      appendEntry(db, {
        ...ledger,
        kind: "order",
        key: `order:${input.id}`,
        delta: earning.points,
        expiresAt: expiresAt(shop.program, now),
      }),
    );
  }
  statements.push(...reversals);
  // A refund or cancel recorded since the read would be left unapplied: re-plan instead.
  statements.push(refundsStillNumber(db, shop.id, input.id, refunds.length));
  if (pending.length) statements.push(markRefundsApplied(db, shop.id, input.id));
  if (!cancelled) {
    statements.push(recordCustomerOrder(db, shop.id, customerId, netEligible, orderedAt.toISOString()));
  }
  statements.push(...engagement.statements);
  const lifetime = (member.existing?.lifetimePoints ?? 0) + member.points + earning.points - reversed + engagement.points;
  statements.push(
    ...promotionOf(db, shop, { externalId: customerId, tier: currentTier, lifetimePoints: lifetime }, spend, now, cancelled ? 0 : netEligible),
  );
  return { statements, customerId, points: member.points + earning.points - reversed + engagement.points };
}

async function planOrderRefunded(
  db: D1Database,
  shop: Shop,
  event: OrderRefundedEvent,
  received: Read<boolean>,
  now: Date,
): Promise<EventPlan> {
  const amount = parseMoney(event.refund.amount, shop.currency);
  if (amount === null) {
    throw badRequest("The refund amount is not valid.", [
      { path: "refund.amount", message: `not an amount in ${shop.currency}` },
    ]);
  }
  const orderId = event.order.id;
  const refundId = event.refund.id;
  const [seen, known, order] = await readTogether(db, [
    received,
    readRefunds(db, shop.id, orderId),
    readOrder(db, shop.id, orderId),
  ]);
  if (seen) return RECEIVED;
  if (known.some((r) => r.kind === "refund" && r.refundId === refundId)) {
    return { statements: [], customerId: null, points: 0, duplicate: true };
  }
  const at = now.toISOString();
  if (!order) {
    // The order has not arrived yet: keep the refund; it applies when the order does.
    return {
      statements: [
        orderStillAbsent(db, shop.id, orderId),
        insertRefund(db, shop.id, orderId, { refundId, kind: "refund", amount, applied: false, createdAt: at }),
      ],
      customerId: null,
      points: 0,
    };
  }
  const refunded = order.refundedAmount + amount;
  const owed =
    order.status === "cancelled"
      ? order.pointsReversed
      : Math.max(
          order.pointsReversed,
          clawbackFor(order.pointsAwarded, order.eligibleAmount, Math.min(refunded, order.eligibleAmount), order.rounding),
        );
  const delta = owed - order.pointsReversed;
  const customerId = order.customerExternalId;
  const statements = [
    insertRefund(db, shop.id, orderId, { refundId, kind: "refund", amount, applied: true, createdAt: at }),
    ...updateOrderReversal(db, shop.id, order, {
      refundedAmount: refunded,
      pointsReversed: owed,
      status: order.status === "cancelled" ? "cancelled" : statusAfterRefunds(order.eligibleAmount, refunded),
    }),
  ];
  if (delta > 0 && customerId) {
    statements.push(
      appendClawback(db, {
        shopId: shop.id,
        customerExternalId: customerId,
        kind: "refund",
        reference: orderId,
        key: `refund:${orderId}:${refundId}`,
        createdAt: at,
        points: delta,
      }),
    );
  }
  statements.push(...planChallengeTakeBack(db, shop, order, { refunded, cancelled: order.status === "cancelled" }, now));
  if (statusAfterRefunds(order.eligibleAmount, refunded) === "refunded") {
    statements.push(...planReferralReversal(db, shop, orderId, now));
  }
  return { statements, customerId, points: -delta };
}

async function planOrderCancelled(
  db: D1Database,
  shop: Shop,
  event: OrderCancelledEvent,
  received: Read<boolean>,
  now: Date,
): Promise<EventPlan> {
  const orderId = event.order.id;
  const at = now.toISOString();
  const [seen, order, known] = await readTogether(db, [
    received,
    readOrder(db, shop.id, orderId),
    readRefunds(db, shop.id, orderId),
  ]);
  if (seen) return RECEIVED;
  if (known.some((r) => r.kind === "cancel") || order?.status === "cancelled") {
    return { statements: [], customerId: order?.customerExternalId ?? null, points: 0, duplicate: true };
  }
  // Refund ids are never empty (the schema says min 1), so "" cannot collide with a real refund's id.
  const cancellation = { refundId: "", kind: "cancel" as const, amount: 0, createdAt: at };
  if (!order) {
    return {
      statements: [orderStillAbsent(db, shop.id, orderId), insertRefund(db, shop.id, orderId, { ...cancellation, applied: false })],
      customerId: null,
      points: 0,
    };
  }
  const delta = order.pointsAwarded - order.pointsReversed;
  const customerId = order.customerExternalId;
  const statements = [
    insertRefund(db, shop.id, orderId, { ...cancellation, applied: true }),
    ...updateOrderReversal(db, shop.id, order, {
      refundedAmount: order.refundedAmount,
      pointsReversed: order.pointsAwarded,
      status: "cancelled",
    }),
  ];
  if (delta > 0 && customerId) {
    statements.push(
      appendClawback(db, {
        shopId: shop.id,
        customerExternalId: customerId,
        kind: "cancel",
        reference: orderId,
        key: `cancel:${orderId}`,
        createdAt: at,
        points: delta,
      }),
    );
  }
  statements.push(...planChallengeTakeBack(db, shop, order, { refunded: order.refundedAmount, cancelled: true }, now));
  statements.push(...planReferralReversal(db, shop, orderId, now));
  return { statements, customerId, points: -delta };
}

async function planCustomerCreated(
  db: D1Database,
  shop: Shop,
  event: CustomerCreatedEvent,
  received: Read<boolean>,
  now: Date,
): Promise<EventPlan> {
  const { id, email, firstName, birthday } = event.customer;
  const [seen, existing] = await readTogether(db, [received, readCustomer(db, shop.id, id)]);
  if (seen) return RECEIVED;
  const member = memberPlan(db, shop, id, existing, { email, firstName, birthday }, now);
  const statements = member.existing
    ? [updateCustomerProfile(db, shop.id, id, { email, firstName, birthday })]
    : member.statements;
  const referral = { customerId: id, email: email ?? null, referralCode: event.customer.referralCode, existing: member.existing };
  statements.push(...(await planSignupReferral(db, shop, referral, now)));
  return { statements, customerId: id, points: member.points };
}

/** Reviews and custom events: points as configured, within the per-customer limit per period. */
async function planWayToEarn(
  db: D1Database,
  shop: Shop,
  customerId: string,
  kind: Extract<LedgerKind, "review" | "custom">,
  name: string,
  event: { id: string },
  received: Read<boolean>,
  now: Date,
): Promise<EventPlan> {
  const ways = shop.program.waysToEarn;
  const rule =
    kind === "review"
      ? { points: ways.review, limit: ways.reviewLimitPerDay, periodDays: 1 }
      : ways.custom[name];
  const [seen, existing] = await readTogether(db, [received, readCustomer(db, shop.id, customerId)]);
  if (seen) return RECEIVED;
  const member = memberPlan(db, shop, customerId, existing, {}, now);
  const statements = [...member.statements];
  let points = 0;
  if (rule && rule.points > 0) {
    const since = daysAgo(now, rule.periodDays ?? 36_500);
    const withinLimit =
      rule.limit === undefined || (await countEntriesSince(db, shop.id, customerId, kind, name, since)) < rule.limit;
    if (withinLimit) {
      if (rule.limit !== undefined) statements.push(underLimit(db, shop.id, customerId, kind, name, since, rule.limit));
      statements.push(
        appendEntry(db, {
          shopId: shop.id,
          customerExternalId: customerId,
          delta: rule.points,
          kind,
          reference: name,
          key: `${kind}:${event.id}`,
          createdAt: now.toISOString(),
          expiresAt: expiresAt(shop.program, now),
        }),
      );
      points = rule.points;
    }
  }
  if (kind === "review") {
    const engagement = await planActivityEngagement(db, shop, customerId, "review", now);
    statements.push(...engagement.statements);
    points += engagement.points;
  }
  if (points > 0) {
    // Points from any way to earn count toward lifetime-point tiers at once.
    const lifetime = (member.existing?.lifetimePoints ?? 0) + member.points + points;
    statements.push(...(await planPromotion(db, shop, customerId, member.existing?.tier ?? null, lifetime, now)));
  }
  return { statements, customerId, points: member.points + points };
}
