/**
 * Points expiry (DESIGN §3): earned points expire N days after earning, oldest first. Debits
 * (redemptions, claw-backs, negative adjustments, earlier expiries) consume the oldest credits
 * first, so what expires is what is left of each credit whose time has come.
 */
export interface Credit {
  amount: number;
  expiresAt: string | null;
}

/** Credits in the order they were earned; `debits` is the total ever taken (a positive number). */
export function pointsToExpire(credits: Credit[], debits: number, now: Date): number {
  let unconsumed = debits;
  let expiring = 0;
  for (const credit of credits) {
    const consumed = Math.min(credit.amount, unconsumed);
    unconsumed -= consumed;
    const left = credit.amount - consumed;
    if (left > 0 && credit.expiresAt !== null && Date.parse(credit.expiresAt) <= now.getTime()) expiring += left;
  }
  return expiring;
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
