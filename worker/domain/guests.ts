/**
 * Guest orders: an order without a customer, only an email, earns points that are held for that
 * email (not in any balance) for GUEST_HOLD_DAYS after the order, and become the order of the
 * first member with the same address. Pure: no I/O, no clock.
 */

/** How long a guest order's points wait for a member with its email. */
export const GUEST_HOLD_DAYS = 30;

/**
 * The address as guest holdings compare it: spaces trimmed, ASCII lower-cased (exactly SQLite's
 * trim() and lower(), which the member lookup uses). Unlike the referral rules' key, +tags and
 * Gmail dots stay: points go only to the very address that ordered.
 */
export function guestAddress(email: string): string {
  return email.replace(/^ +| +$/g, "").replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

/** The end of an order's holding: GUEST_HOLD_DAYS after it was placed. */
export function guestHeldUntil(orderedAt: Date): string {
  return new Date(orderedAt.getTime() + GUEST_HOLD_DAYS * 86_400_000).toISOString();
}

/** What a holding still keeps for its email: what the order earned less what refunds took back. */
export function heldPointsOf(order: { pointsAwarded: number; pointsReversed: number }): number {
  return Math.max(0, order.pointsAwarded - order.pointsReversed);
}

/** The spend a claimed order adds to its member: the eligible amount net of refunds (none if cancelled). */
export function claimedSpendOf(order: { eligibleAmount: number; refundedAmount: number; orderStatus: string }): number {
  if (order.orderStatus === "cancelled") return 0;
  return order.eligibleAmount - Math.min(order.refundedAmount, order.eligibleAmount);
}
