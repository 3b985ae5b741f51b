/**
 * Net Promoter Score, pure. Scores 9-10 are promoters, 7-8 passives, 0-6
 * detractors; NPS = % promoters - % detractors, from -100 to 100.
 */

const DAY_MS = 86_400_000;

/** The NPS period an answer at `at` falls in: one answer per customer per period. */
export function npsPeriod(at: Date, periodDays: number): number {
  return Math.floor(at.getTime() / DAY_MS / periodDays);
}

/** When the period after `period` starts (the next time the question is asked). */
export function npsPeriodEnd(period: number, periodDays: number): Date {
  return new Date((period + 1) * periodDays * DAY_MS);
}

export type NpsGroup = "promoter" | "passive" | "detractor";

export function npsGroup(score: number): NpsGroup {
  if (score >= 9) return "promoter";
  if (score >= 7) return "passive";
  return "detractor";
}

export interface NpsCounts {
  promoters: number;
  passives: number;
  detractors: number;
}

export interface NpsSummary extends NpsCounts {
  responses: number;
  /** Whole points, rounded half away from zero; null without responses. */
  score: number | null;
}

/** The score from counts, in integer arithmetic: round(100 x (P - D) / N), halves away from zero. */
export function npsScore(counts: NpsCounts): NpsSummary {
  const responses = counts.promoters + counts.passives + counts.detractors;
  if (responses === 0) return { ...counts, responses, score: null };
  const numerator = 100 * (counts.promoters - counts.detractors);
  const magnitude = Math.floor((2 * Math.abs(numerator) + responses) / (2 * responses));
  return { ...counts, responses, score: numerator < 0 ? -magnitude : magnitude };
}

/** Counts of a list of scores (tests and small sets; the store counts in SQL). */
export function countScores(scores: number[]): NpsCounts {
  const counts: NpsCounts = { promoters: 0, passives: 0, detractors: 0 };
  for (const score of scores) {
    const group = npsGroup(score);
    if (group === "promoter") counts.promoters++;
    else if (group === "passive") counts.passives++;
    else counts.detractors++;
  }
  return counts;
}
