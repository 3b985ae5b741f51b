/**
 * Guest orders (0029_guest_orders.sql): the points of an order that names no customer, only an
 * email, are held for that email for 30 days and become that order of the first member with the
 * same address: a customer created (Shopify customers/create, customer.created), a later order of
 * a customer with the address, or, when such a member exists already, at once. Refunds and a
 * cancellation before the claim lower what is held; the daily run lets unclaimed holdings expire.
 * Every step is a plan of the write pipeline (read -> plan -> one batch, services/pipeline.ts).
 */
import type { OrderPaidEvent } from "../contract/events";
import { hmacSha256, toHex } from "../crypto";
import { expiresAt } from "../domain/clock";
import { pointsForOrder } from "../domain/earning";
import { claimedSpendOf, guestAddress, guestHeldUntil, heldPointsOf } from "../domain/guests";
import { clawbackAfterRefund, orderTotal, pointsHeldUntil, reversalsBeforeOrder, statusAfterRefunds } from "../domain/orders";
import { emailKey } from "../domain/referrals";
import { tierMultiplier } from "../domain/tiers";
import { badRequest } from "../http/errors";
import { commit, type ReadValue, together } from "../store/batch";
import { readMemberByEmail, recordCustomerOrder } from "../store/customers";
import {
  claimGuestOrder,
  expireGuestOrders,
  forgetGuestEmail,
  type GuestOrder,
  type NewGuestOrder,
  insertGuestOrder,
  readGuestOrder,
  updateGuestReversal,
} from "../store/guest-orders";
import { appendEntry } from "../store/ledger";
import { insertOrder, insertRefund, markRefundsApplied, orderStillAbsent, readOrder, readRefunds, refundsStillNumber } from "../store/orders";
import type { Shop } from "../store/shops";
import { checkedOrderAmounts, type EventOutcome, type EventWrite } from "./events";
import { nothingToDo, type Plan, planOf, standingFrom } from "./pipeline";

/**
 * The key a guest's address is kept under: HMAC-SHA256 of the address (guestAddress) keyed by the
 * shop's webhook secret, so the table alone names no one and a hash means nothing in another shop.
 */
export async function guestEmailHash(shop: Shop, email: string): Promise<string> {
  return toHex(await hmacSha256(shop.webhookSecret, `laurel:guest-order-email:${guestAddress(email)}`));
}

/** A holding's facts, as read or as just planned. */
type Holding = Pick<
  GuestOrder,
  "externalId" | "currency" | "eligibleAmount" | "totalAmount" | "pointsAwarded" | "pointsReversed" | "refundedAmount" | "rounding" | "orderStatus" | "orderedAt"
>;

export interface ClaimPlan {
  statements: D1PreparedStatement[];
  /** Points the claim credits now (held points still in a pending window wait for the daily run). */
  points: number;
  /** Spend (minor units) the claimed orders add to the member. */
  spend: number;
}

/**
 * A holding becomes the member's order: the order row (with what refunds took meanwhile), its
 * points as the order's own ledger entry (key `order:<id>`, so at most once), and the order in the
 * member's counters. When the program holds order points for a return window that has not ended,
 * they wait as pending points, like any order's.
 */
function memberOrderOf(db: D1Database, shop: Shop, memberId: string, holding: Holding, now: Date): ClaimPlan {
  const net = heldPointsOf(holding);
  const availableAt = pointsHeldUntil(shop.program.earning.pendingDays, new Date(holding.orderedAt), now);
  const pending = availableAt !== null && net > 0;
  const spend = claimedSpendOf(holding);
  const statements = [
    insertOrder(db, shop.id, {
      externalId: holding.externalId,
      customerExternalId: memberId,
      currency: holding.currency,
      eligibleAmount: holding.eligibleAmount,
      totalAmount: holding.totalAmount,
      pointsAwarded: holding.pointsAwarded,
      pointsReversed: holding.pointsReversed,
      refundedAmount: holding.refundedAmount,
      rounding: holding.rounding,
      status: holding.orderStatus,
      email: null,
      lines: [],
      discountCodes: [],
      challengeSteps: [],
      pending,
      availableAt: pending ? availableAt : null,
      createdAt: holding.orderedAt,
    }),
  ];
  if (net > 0 && !pending) {
    statements.push(
      appendEntry(db, {
        shopId: shop.id,
        customerExternalId: memberId,
        kind: "order",
        reference: holding.externalId,
        key: `order:${holding.externalId}`,
        delta: net,
        createdAt: now.toISOString(),
        expiresAt: expiresAt(shop.program, now),
      }),
    );
  }
  if (holding.orderStatus !== "cancelled") statements.push(recordCustomerOrder(db, shop.id, memberId, spend, holding.orderedAt));
  return { statements, points: pending ? 0 : net, spend };
}

/**
 * The member (created earlier in the same plan, or already there) claims every holding read for
 * their address; each claim is guarded by the holding's version, so a refund or another claim
 * landing meanwhile refuses the batch and the write is planned again.
 */
export function planGuestClaims(db: D1Database, shop: Shop, memberId: string, holdings: GuestOrder[], now: Date): ClaimPlan {
  const plan: ClaimPlan = { statements: [], points: 0, spend: 0 };
  for (const holding of holdings) {
    if (holding.status !== "held") continue;
    const order = memberOrderOf(db, shop, memberId, holding, now);
    plan.statements.push(...claimGuestOrder(db, shop.id, holding, memberId, now.toISOString()), ...order.statements);
    plan.points += order.points;
    plan.spend += order.spend;
  }
  return plan;
}

/**
 * A paid order without a customer: its points are held for its email. Refunds and a cancellation
 * that came before it apply first, as they would to any order. When a member with the address
 * exists, the order is theirs at once (the holding is recorded as claimed by them).
 */
export function guestOrderPaid(db: D1Database, shop: Shop, event: OrderPaidEvent, emailHash: string | null, now: Date) {
  const input = event.order;
  if (!input.email || emailHash === null) {
    throw badRequest("An order without a customer needs the buyer's email.", [{ path: "order.email", message: "required when customerId is absent" }]);
  }
  const amounts = checkedOrderAmounts(shop, input);
  const address = guestAddress(input.email);
  const read = together([
    readOrder(db, shop.id, input.id),
    readGuestOrder(db, shop.id, input.id),
    readRefunds(db, shop.id, input.id),
    readMemberByEmail(db, shop.id, address, emailKey(address)),
  ] as const);
  const plan = ([order, known, refunds, member]: ReadValue<typeof read>): Plan<EventOutcome> => {
    if (order || known) return nothingToDo({ customerId: order?.customerExternalId ?? null, duplicate: true });
    const orderedAt = event.occurredAt ? new Date(event.occurredAt) : now;
    const earning = pointsForOrder(shop.program.earning, amounts, {
      tierMultiplier: tierMultiplier(shop.program.tiers, member?.tier ?? null),
      at: orderedAt,
    });
    if (!Number.isSafeInteger(earning.points + (member?.balance ?? 0))) {
      throw badRequest("This order would earn more points than a balance can hold.", [
        { path: "order.subtotal", message: "too large for the program's earning rates" },
      ]);
    }
    const early = reversalsBeforeOrder(earning, refunds.filter((r) => !r.applied));
    const holding: NewGuestOrder = {
      externalId: input.id,
      emailHash,
      currency: shop.currency,
      eligibleAmount: earning.eligible,
      totalAmount: orderTotal(amounts),
      pointsAwarded: earning.points,
      pointsReversed: early.reversed,
      refundedAmount: early.refunded,
      rounding: earning.rounding,
      orderStatus: early.cancelled ? "cancelled" : statusAfterRefunds(earning.eligible, early.refunded),
      orderedAt: orderedAt.toISOString(),
      heldUntil: guestHeldUntil(orderedAt),
      createdAt: now.toISOString(),
    };
    const statements = [
      // The same order arriving with its customer at the same time: one of the two batches wins.
      orderStillAbsent(db, shop.id, input.id),
      refundsStillNumber(db, shop.id, input.id, refunds.length),
      insertGuestOrder(db, shop.id, holding, member?.externalId ?? null),
    ];
    if (refunds.some((r) => !r.applied)) statements.push(markRefundsApplied(db, shop.id, input.id));
    if (!member) return planOf<EventOutcome>({ customerId: null, heldPoints: heldPointsOf(holding) }, { statements });
    const claim = memberOrderOf(db, shop, member.externalId, holding, now);
    return planOf<EventOutcome>(
      { customerId: member.externalId },
      {
        statements: [...statements, ...claim.statements],
        member: member.externalId,
        // Spend windows were not read: only lifetime-point tiers are reached by this write.
        standings: [{ standing: standingFrom(member.externalId, member, null), lifetime: claim.points, spend: claim.spend }],
      },
    );
  };
  return { read, plan } satisfies EventWrite<ReadValue<typeof read>>;
}

/** A refund of a guest order not yet claimed: it lowers what is held, by the order's own rule. */
export function planGuestRefund(
  db: D1Database,
  shop: Shop,
  holding: GuestOrder,
  refund: { refundId: string; amount: number },
  now: Date,
): Plan<EventOutcome> {
  const cancelled = holding.orderStatus === "cancelled";
  const refunded = holding.refundedAmount + refund.amount;
  const owed = clawbackAfterRefund({ ...holding, cancelled }, refunded);
  const statements = [
    insertRefund(db, shop.id, holding.externalId, { refundId: refund.refundId, kind: "refund", amount: refund.amount, applied: true, createdAt: now.toISOString() }),
    ...updateGuestReversal(db, shop.id, holding, {
      refundedAmount: refunded,
      pointsReversed: owed,
      orderStatus: cancelled ? "cancelled" : statusAfterRefunds(holding.eligibleAmount, refunded),
    }),
  ];
  const heldPoints = holding.status === "held" ? heldPointsOf({ pointsAwarded: holding.pointsAwarded, pointsReversed: owed }) : 0;
  return planOf<EventOutcome>({ customerId: null, heldPoints }, { statements });
}

/** A cancellation of a guest order not yet claimed: nothing is held for it any more. */
export function planGuestCancel(db: D1Database, shop: Shop, holding: GuestOrder, now: Date): Plan<EventOutcome> {
  const statements = [
    insertRefund(db, shop.id, holding.externalId, { refundId: "", kind: "cancel", amount: 0, applied: true, createdAt: now.toISOString() }),
    ...updateGuestReversal(db, shop.id, holding, {
      refundedAmount: holding.refundedAmount,
      pointsReversed: holding.pointsAwarded,
      orderStatus: "cancelled",
    }),
  ];
  return planOf<EventOutcome>({ customerId: null }, { statements });
}

/** customers/redact of an address: its holdings can no longer be claimed, and their hash goes. */
export async function forgetGuestAddress(db: D1Database, shop: Shop, email: string): Promise<void> {
  await commit(db, [forgetGuestEmail(db, shop.id, await guestEmailHash(shop, email))]);
}

/** The daily run: holdings past their 30 days are no longer claimable (their points were never a balance). */
export async function expireGuestHoldings(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const [result] = await commit(db, [expireGuestOrders(db, shop.id, now.toISOString())]);
  return result?.meta.changes ?? 0;
}
