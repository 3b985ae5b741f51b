/**
 * A redemption's life: issued, then used by an order, voided (points back) or expired
 * (points not back). A code's end date is fixed when it is issued, from the reward's validityDays.
 */

export type RedemptionStatus = "issued" | "used" | "void" | "expired";

const DAY_MS = 86_400_000;

/** When a code issued at `issuedAt` stops being valid; null: it never does. */
export function codeExpiresAt(validityDays: number | null, issuedAt: Date): string | null {
  return validityDays ? new Date(issuedAt.getTime() + validityDays * DAY_MS).toISOString() : null;
}

/**
 * The status as of `now`: an issued code whose end date has passed is expired even before the
 * daily run marks it so (a checkout asking about it, a shopper's list).
 */
export function statusAt(redemption: { status: RedemptionStatus; expiresAt: string | null }, now: Date): RedemptionStatus {
  if (redemption.status === "issued" && redemption.expiresAt !== null && Date.parse(redemption.expiresAt) <= now.getTime()) {
    return "expired";
  }
  return redemption.status;
}

/** A code as the shopper or checkout types it, as it is stored (capitals, no surrounding space). */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}

/** An order's discount codes, normalised and without repeats, for the codes it uses. */
export function orderCodes(codes: readonly string[]): string[] {
  return [...new Set(codes.map(normalizeCode).filter((code) => code.length > 0))];
}

/**
 * The member's codes as the storefront lists them: every code still usable first (newest first),
 * then up to `othersLimit` others (newest first). `now` decides which issued codes have run out.
 */
export function memberCodeList<T extends { status: RedemptionStatus; expiresAt: string | null; createdAt: string }>(
  redemptions: T[],
  now: Date,
  othersLimit: number,
): (T & { status: RedemptionStatus })[] {
  const withStatus = redemptions.map((r) => ({ ...r, status: statusAt(r, now) }));
  const newestFirst = (a: { createdAt: string }, b: { createdAt: string }) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);
  const usable = withStatus.filter((r) => r.status === "issued").sort(newestFirst);
  const others = withStatus.filter((r) => r.status !== "issued").sort(newestFirst).slice(0, othersLimit);
  return [...usable, ...others];
}
