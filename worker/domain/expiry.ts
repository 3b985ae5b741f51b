/**
 * Points expiry: earned points expire N days after earning, oldest first. The ledger is
 * replayed in order as lots: a credit adds a lot; an expiry entry takes the lots that had expired
 * by its time; any other debit (redemptions, claw-backs, negative adjustments) takes the oldest
 * lots first. What is left of each lot whose time has come expires now. Credits that never expire
 * (reversals, adjustments, points earned while expiry was off) are lots like any other.
 */
export interface LedgerMovement {
  delta: number;
  kind: string;
  createdAt: string;
  expiresAt: string | null;
}

interface Lot {
  left: number;
  expiresAt: number | null;
}

function take(lots: Lot[], amount: number, eligible: (lot: Lot) => boolean): number {
  let owed = amount;
  for (const lot of lots) {
    if (owed === 0) break;
    if (lot.left === 0 || !eligible(lot)) continue;
    const taken = Math.min(lot.left, owed);
    lot.left -= taken;
    owed -= taken;
  }
  return owed;
}

/** Points to expire at `now`, from a member's ledger entries in insertion order. */
export function pointsToExpire(entries: LedgerMovement[], now: Date): number {
  const lots: Lot[] = [];
  for (const entry of entries) {
    if (entry.delta > 0) {
      lots.push({ left: entry.delta, expiresAt: entry.expiresAt === null ? null : Date.parse(entry.expiresAt) });
    } else if (entry.delta < 0) {
      const at = Date.parse(entry.createdAt);
      const expired = (lot: Lot) => lot.expiresAt !== null && lot.expiresAt <= at;
      // An expiry entry took expired lots; whatever it could not find there came from the oldest.
      const rest = entry.kind === "expiry" ? take(lots, -entry.delta, expired) : -entry.delta;
      take(lots, rest, () => true);
    }
  }
  const cutoff = now.getTime();
  return lots.reduce((sum, lot) => sum + (lot.expiresAt !== null && lot.expiresAt <= cutoff ? lot.left : 0), 0);
}

/** Whether a stored birthday ("YYYY-MM-DD" or "MM-DD") falls on `now` (UTC); Feb 29 is Feb 28 off leap years. */
export function isBirthday(birthday: string, now: Date): boolean {
  const monthDay = birthday.slice(-5);
  const today = now.toISOString().slice(5, 10);
  if (monthDay === today) return true;
  const year = now.getUTCFullYear();
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return monthDay === "02-29" && !leap && today === "02-28";
}
