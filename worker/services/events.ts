/**
 * Event ingestion: every inbound event type, exactly once per event id, per order and per refund.
 * Each event is read (one batch, with whether its id was received), planned by the pure rules in
 * domain/ and committed as ONE atomic batch that also records the event id (services/pipeline.ts);
 * a batch refused by a unique key or a write guard means a concurrent delivery won, and the event
 * is read and planned again (where it usually turns out to be a duplicate).
 */
import type {
  CustomerCreatedEvent,
  EventResult,
  LoyaltyEvent,
  OrderPaidEvent,
} from "../contract/events";
import { daysAgo, expiresAt } from "../domain/clock";
import { pointsForOrder } from "../domain/earning";
import { orderAmounts, orderTotal, pointsHeldUntil, reversalsBeforeOrder, statusAfterRefunds } from "../domain/orders";
import { orderCodes } from "../domain/rewards";
import { offerMultiplierAt } from "../domain/win-back";
import { tierMultiplier } from "../domain/tiers";
import { ApiError, badRequest } from "../http/errors";
import { known, type Read, type ReadValue, together } from "../store/batch";
import { recordCustomerOrder, updateCustomerProfile } from "../store/customers";
import { eventReceived, recordEvent } from "../store/events";
import { appendClawback, appendEntry, type LedgerKind, readEntriesSince, underLimit } from "../store/ledger";
import {
  insertOrder,
  markRefundsApplied,
  readOrder,
  readRefunds,
  refundsStillNumber,
} from "../store/orders";
import { guestOrderStillAbsent, readGuestClaims, readHeldForEmail } from "../store/guest-orders";
import { readOffersOf } from "../store/offers";
import { useCodesInOrder } from "../store/rewards";
import type { Shop } from "../store/shops";
import {
  planActivitySteps,
  planOrderSteps,
  readActivityChallenges,
  readOrderChallenges,
} from "./challenges";
import { guestEmailHash, guestOrderPaid, planGuestClaims } from "./guests";
import { currentTier, isHoldout, memberWithChange, readMember } from "./members";
import { nothingToDo, type Plan, planOf, write } from "./pipeline";
import { planReferralOutcome, planSignupReferral, readOrderReferrals, readSignupReferral } from "./referrals";
import { orderCancelled, orderRefunded } from "./reversals";

/** What an event's plan answers with. */
export interface EventOutcome {
  customerId: string | null;
  /** The order or refund it carries was already processed under another event id. */
  duplicate?: boolean;
  /** This very event id was processed before. */
  received?: boolean;
  /** Points the order holds until they become available (program.earning.pendingDays). */
  pendingPoints?: number;
  /** A guest order: points kept for its email until a member with it appears (services/guests.ts). */
  heldPoints?: number;
}

/** One event's read and its plan over what was read. */
export interface EventWrite<R> {
  read: Read<R>;
  plan(reads: R): Plan<EventOutcome>;
}

export async function ingestEvent(
  db: D1Database,
  shop: Shop,
  source: string,
  event: LoyaltyEvent,
  now = new Date(),
): Promise<EventResult> {
  const received = eventReceived(db, shop.id, source, event.id);
  const record = recordEvent(db, shop.id, { source, id: event.id, type: event.type, receivedAt: now.toISOString() });
  const run = async <R>(inner: EventWrite<R>) => {
    // The event id is read with the plan's own reads and recorded in its batch.
    const read = together([received, inner.read] as const);
    return write(
      db,
      shop,
      read,
      ([seen, reads]) => {
        if (seen) return nothingToDo<EventOutcome>({ customerId: null, received: true });
        const plan = inner.plan(reads);
        return { ...plan, statements: [...plan.statements, record] };
      },
      now,
    );
  };
  const committed = await (() => {
    switch (event.type) {
      case "order.paid":
        return emailHashOf(shop, event.order.email).then((hash) => {
          const customerId = event.order.customerId;
          return customerId === undefined ? run(guestOrderPaid(db, shop, event, hash, now)) : run(orderPaid(db, shop, event, customerId, hash, now));
        });
      case "order.refunded":
        return run(orderRefunded(db, shop, event, now));
      case "order.cancelled":
        return run(orderCancelled(db, shop, event, now));
      case "customer.created":
        return emailHashOf(shop, event.customer.email).then((hash) => run(customerCreated(db, shop, event, hash, now)));
      case "review.created":
        return run(wayToEarn(db, shop, event.customerId, "review", "review", event, now));
      case "custom":
        return run(wayToEarn(db, shop, event.customerId, "custom", event.name, event, now));
    }
  })();
  const outcome = committed.value;
  if (outcome.received) return { status: "duplicate", eventId: event.id, customerId: null, points: 0, balance: null };
  return {
    status: outcome.duplicate ? "duplicate" : "processed",
    eventId: event.id,
    customerId: outcome.customerId,
    points: outcome.duplicate ? 0 : committed.moved,
    balance: committed.balance,
    ...(outcome.pendingPoints ? { pendingPoints: outcome.pendingPoints } : {}),
    ...(outcome.heldPoints ? { heldPoints: outcome.heldPoints } : {}),
  };
}

/** The key of an address's guest holdings (computed before the write: hashing is asynchronous). */
const emailHashOf = (shop: Shop, email: string | undefined) => (email ? guestEmailHash(shop, email) : Promise.resolve(null));

/**
 * A paid order: the order, the member and their standing, refunds that came first, challenges and
 * claimed referrals are read together; the plan writes the order, its points, the claw-backs of
 * refunds that arrived before it, challenge progress and the referral it completes.
 */
/** An order's amounts in minor units of the shop's currency, or the refusal (another currency, bad amounts). */
export function checkedOrderAmounts(shop: Shop, input: OrderPaidEvent["order"]) {
  if (input.currency !== shop.currency) {
    throw new ApiError(
      "currency_mismatch",
      `Amounts must be in the shop's currency (${shop.currency}); this order is in ${input.currency}.`,
    );
  }
  const parsed = orderAmounts(input, shop.currency);
  if (!parsed.amounts) throw badRequest("The order's amounts are not valid.", parsed.errors);
  return parsed.amounts;
}

function orderPaid(db: D1Database, shop: Shop, event: OrderPaidEvent, customerId: string, emailHash: string | null, now: Date) {
  const input = event.order;
  const amounts = checkedOrderAmounts(shop, input);
  const order = { id: input.id, email: input.email ?? null, discountCodes: input.discountCodes ?? [] };
  const orderedAt = event.occurredAt ? new Date(event.occurredAt) : now;
  const read = together([
    readOrder(db, shop.id, input.id),
    readMember(db, shop, customerId, now),
    readRefunds(db, shop.id, input.id),
    readOrderChallenges(db, shop, customerId),
    readOrderReferrals(db, shop, customerId, order),
    readGuestClaims(db, shop.id, input.id, emailHash),
    readOffersOf(db, shop.id, customerId, orderedAt.toISOString()),
  ] as const);

  const plan = ([known, memberRead, refunds, challenges, referrals, guests, offers]: ReadValue<typeof read>) => {
    if (known) return nothingToDo<EventOutcome>({ customerId, duplicate: true }, customerId);
    const member = memberWithChange(db, shop, memberRead, { email: input.email }, now);
    if (guests.sameOrder) {
      // The order came first as a guest's (no customer): its holding, and the others of its
      // email, go to this customer; the order itself earns nothing twice.
      const claim = planGuestClaims(db, shop, customerId, [guests.sameOrder, ...guests.held], now);
      if (claim.statements.length === 0) return nothingToDo<EventOutcome>({ customerId, duplicate: true }, customerId);
      return planOf<EventOutcome>(
        { customerId },
        { statements: [...member.statements, ...claim.statements], member: customerId, standings: [member.change(claim.points, claim.spend)] },
      );
    }
    // A later order of a customer with a guest's address claims what that address holds.
    const claim = planGuestClaims(db, shop, customerId, guests.held, now);
    const existing = member.existing;
    const earned = pointsForOrder(shop.program.earning, amounts, {
      // The tier the program gives the member now (a tier added since their last order counts).
      tierMultiplier: tierMultiplier(shop.program.tiers, currentTier(shop, memberRead.standing)),
      // A win-back (or hand-granted) offer running when the order was placed.
      offerMultiplier: offerMultiplierAt(offers, orderedAt),
      at: orderedAt,
    });
    // The holdout group earns nothing: their orders are recorded (the comparison needs them), with no points.
    const holdout = isHoldout(shop, customerId);
    const earning = holdout ? { ...earned, points: 0 } : earned;
    if (!Number.isSafeInteger(earning.points + (existing?.balance ?? 0) + member.points)) {
      // Absurd amounts times large rates: points are exact integers or the order is refused.
      throw badRequest("This order would earn more points than a balance can hold.", [
        { path: "order.subtotal", message: "too large for the program's earning rates" },
      ]);
    }
    const at = now.toISOString();
    const ledger = { shopId: shop.id, customerExternalId: customerId, reference: input.id, createdAt: at };

    // Refunds and a cancellation that arrived before the order apply now, each as it would have.
    const pending = refunds.filter((r) => !r.applied);
    const early = reversalsBeforeOrder(earning, pending);
    const status = early.cancelled ? "cancelled" : statusAfterRefunds(earning.eligible, early.refunded);
    const netEligible = earning.eligible - Math.min(early.refunded, earning.eligible);
    // Pending points: while the program holds them (the return window) they are on the order, not
    // in the balance; the daily run credits what is left of them when they become available.
    const heldUntil = pointsHeldUntil(shop.program.earning.pendingDays, orderedAt, now);
    const held = heldUntil !== null && earning.points > early.reversed;

    // Challenge progress and the referral this order may complete, in the same batch; the order
    // records what it added, for a refund to take back.
    const counts = status !== "cancelled" && status !== "refunded";
    const progress = planOrderSteps(db, shop, customerId, { eligible: netEligible, lines: amounts.lines, orderedAt, counts }, holdout ? [] : challenges, now);
    const referral = counts ? planReferralOutcome(db, shop, { customerId, existing, order }, referrals, now) : { statements: [], standings: [] };

    const statements = [
      ...member.statements,
      insertOrder(db, shop.id, {
        externalId: input.id,
        customerExternalId: customerId,
        currency: shop.currency,
        eligibleAmount: earning.eligible,
        totalAmount: orderTotal(amounts),
        pointsAwarded: earning.points,
        pointsReversed: early.reversed,
        refundedAmount: early.refunded,
        rounding: earning.rounding,
        status,
        email: input.email ?? null,
        lines: input.lines,
        discountCodes: input.discountCodes ?? [],
        challengeSteps: progress.steps,
        pending: held,
        availableAt: held ? heldUntil : null,
        createdAt: orderedAt.toISOString(),
      }),
    ];
    // The member's reward codes this order carries are used by it, in this same batch (once each).
    const codes = orderCodes(order.discountCodes);
    if (codes.length) {
      statements.push(useCodesInOrder(db, shop.id, { codes, orderId: input.id, orderedAt: orderedAt.toISOString(), at }));
    }
    if (input.email && existing && !existing.email) {
      statements.push(updateCustomerProfile(db, shop.id, customerId, { email: input.email }));
    }
    if (earning.points > 0 && !held) {
      statements.push(
        appendEntry(db, { ...ledger, kind: "order", key: `order:${input.id}`, delta: earning.points, expiresAt: expiresAt(shop.program, now) }),
      );
    }
    // Held points were never credited, so early refunds only lower what is held (pointsReversed).
    for (const back of held ? [] : early.clawbacks) {
      const key = back.kind === "refund" ? `refund:${input.id}:${back.refundId}` : `cancel:${input.id}`;
      statements.push(appendClawback(db, { ...ledger, kind: back.kind, key, points: back.points }));
    }
    // A refund or cancel recorded since the read would be left unapplied: re-plan instead.
    statements.push(refundsStillNumber(db, shop.id, input.id, refunds.length));
    if (pending.length) statements.push(markRefundsApplied(db, shop.id, input.id));
    if (!early.cancelled) statements.push(recordCustomerOrder(db, shop.id, customerId, netEligible, orderedAt.toISOString()));
    statements.push(...progress.statements, ...referral.statements);
    // The same order recorded as a guest's meanwhile: one of the two batches wins.
    statements.push(guestOrderStillAbsent(db, shop.id, input.id), ...claim.statements);
    return planOf<EventOutcome>(
      { customerId, pendingPoints: held ? earning.points - early.reversed : 0 },
      {
        statements,
        member: customerId,
        standings: [
          member.change(
            (held ? 0 : earning.points - early.reversed) + progress.points + claim.points,
            (early.cancelled ? 0 : netEligible) + claim.spend,
          ),
          ...referral.standings,
        ],
      },
    );
  };
  return { read, plan } satisfies EventWrite<ReadValue<typeof read>>;
}

function customerCreated(db: D1Database, shop: Shop, event: CustomerCreatedEvent, emailHash: string | null, now: Date) {
  const { id, email, firstName, birthday, referralCode } = event.customer;
  const read = together([
    readMember(db, shop, id, now),
    readSignupReferral(db, shop, { customerId: id, email: email ?? null, referralCode }, now),
    readHeldForEmail(db, shop.id, emailHash),
  ] as const);
  return {
    read,
    plan: ([memberRead, referralReads, holdings]): Plan<EventOutcome> => {
      const member = memberWithChange(db, shop, memberRead, { email, firstName, birthday }, now);
      const statements = member.existing
        ? [updateCustomerProfile(db, shop.id, id, { email, firstName, birthday })]
        : member.statements;
      const referral = { customerId: id, email: email ?? null, existing: member.existing };
      statements.push(...planSignupReferral(db, shop, referral, referralReads, now));
      // Guest orders of the same address become the new member's orders.
      const claim = planGuestClaims(db, shop, id, holdings, now);
      statements.push(...claim.statements);
      return planOf<EventOutcome>({ customerId: id }, { statements, member: id, standings: [member.change(claim.points, claim.spend)] });
    },
  } satisfies EventWrite<ReadValue<typeof read>>;
}

/** Reviews and custom events: points as configured, within the per-customer limit per period. */
function wayToEarn(
  db: D1Database,
  shop: Shop,
  customerId: string,
  kind: Extract<LedgerKind, "review" | "custom">,
  name: string,
  event: { id: string },
  now: Date,
) {
  const ways = shop.program.waysToEarn;
  const rule = kind === "review" ? { points: ways.review, limit: ways.reviewLimitPerDay, periodDays: 1 } : ways.custom[name];
  const since = daysAgo(now, rule?.periodDays ?? 36_500);
  const limited = rule !== undefined && rule.points > 0 && rule.limit !== undefined;
  const read = together([
    readMember(db, shop, customerId, now),
    limited ? readEntriesSince(db, shop.id, customerId, kind, name, since) : known(0),
    kind === "review" ? readActivityChallenges(db, shop, customerId, "review") : known([]),
  ] as const);
  return {
    read,
    plan: ([memberRead, earnedInPeriod, challenges]): Plan<EventOutcome> => {
      const member = memberWithChange(db, shop, memberRead, {}, now);
      const statements = [...member.statements];
      let points = 0;
      if (rule && rule.points > 0 && !isHoldout(shop, customerId) && (rule.limit === undefined || earnedInPeriod < rule.limit)) {
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
      const steps = planActivitySteps(db, shop, customerId, isHoldout(shop, customerId) ? [] : challenges, now);
      statements.push(...steps.statements);
      return planOf<EventOutcome>(
        { customerId },
        { statements, member: customerId, standings: [member.change(points + steps.points)] },
      );
    },
  } satisfies EventWrite<ReadValue<typeof read>>;
}
