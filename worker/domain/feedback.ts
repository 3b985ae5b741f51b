/**
 * Feedback, the pure part: the kinds and their scales, score bands, the figures computed from
 * answers (CES, CSAT, the Customer Loyalty Index) and the keyword themes of comments.
 */
import { type NpsCounts, npsScore } from "./nps";

export const FEEDBACK_KINDS = ["ces", "csat", "program"] as const;
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];
/** Every kind an answer can have in the merchant's list: NPS answers are listed with the rest. */
export type AnswerKind = FeedbackKind | "nps";

/** The scale of each kind's score; `required` when an answer without a score is refused. */
export const SCALES: Record<AnswerKind, { min: number; max: number; required: boolean }> = {
  nps: { min: 0, max: 10, required: true },
  ces: { min: 1, max: 7, required: true },
  csat: { min: 1, max: 5, required: true },
  program: { min: 1, max: 5, required: false },
};

export type Band = "low" | "mid" | "high";

/**
 * A score's band on its kind's scale: NPS detractor / passive / promoter (0-6, 7-8, 9-10); CES
 * 1-3 hard, 4 neutral, 5-7 easy; CSAT and program 1-2, 3, 4-5.
 */
export function bandOf(kind: AnswerKind, score: number | null): Band | null {
  if (score === null) return null;
  const [low, high] = kind === "nps" ? [6, 9] : kind === "ces" ? [3, 5] : [2, 4];
  if (score <= low) return "low";
  return score >= high ? "high" : "mid";
}

/** The scores of a band, inclusive, for the store's filter. */
export function bandRange(kind: AnswerKind, band: Band): [number, number] {
  const scale = SCALES[kind];
  const [low, high] = kind === "nps" ? [6, 9] : kind === "ces" ? [3, 5] : [2, 4];
  if (band === "low") return [scale.min, low];
  if (band === "high") return [high, scale.max];
  return [low + 1, high - 1];
}

/** A percentage with one decimal, rounded half up, from integer counts; null for no answers. */
export function percentOneDecimal(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.floor((2000 * part + whole) / (2 * whole)) / 10;
}

/** CES: the share of answers 5..7 (agreeing it was easy), in percent with one decimal. */
export const cesScore = (counts: { positive: number; answers: number }) => percentOneDecimal(counts.positive, counts.answers);

/** CSAT: the share of answers 4..5 (satisfied), in percent with one decimal. */
export const csatScore = (counts: { positive: number; answers: number }) => percentOneDecimal(counts.positive, counts.answers);

/**
 * Customer Loyalty Index: the mean of the NPS-style scores (% 9-10 minus % 0-6) of the three
 * questions (recommend, repurchase, upsell), each over its own answers, one decimal. A question
 * nobody answered is left out of the mean; null when none was answered.
 */
export function cliScore(questions: NpsCounts[]): number | null {
  const scores: number[] = [];
  for (const counts of questions) {
    const n = counts.promoters + counts.passives + counts.detractors;
    if (n > 0) scores.push((100 * (counts.promoters - counts.detractors)) / n);
  }
  if (scores.length === 0) return null;
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  return Math.round(mean * 10) / 10;
}

/** The NPS of one question's counts (whole points), as the NPS figure computes it. */
export const questionScore = (counts: NpsCounts) => npsScore(counts).score;

/**
 * Themes: each comment is lowercased and split into words; a theme matches when one of its words
 * starts with one of the theme's stems ("deliver" matches "delivery", "delivered"). A comment can
 * match several themes; one that matches none is "other". The list is fixed, so the same comments
 * always group the same way.
 */
export const THEMES: { theme: string; stems: string[] }[] = [
  { theme: "shipping", stems: ["ship", "deliver", "arriv", "late", "package", "parcel", "courier", "wait"] },
  { theme: "price", stems: ["price", "expensiv", "cheap", "cost", "value", "money", "afford", "discount"] },
  { theme: "rewards", stems: ["reward", "point", "redeem", "code", "tier", "voucher", "coupon", "loyal", "perk"] },
  { theme: "quality", stems: ["quality", "broke", "broken", "defect", "damag", "fit", "size", "material"] },
  { theme: "service", stems: ["support", "service", "help", "staff", "repl", "answer", "rude", "friendly", "refund"] },
  { theme: "ease", stems: ["easy", "easi", "simple", "confus", "hard", "difficult", "complicat", "clear", "understand"] },
  { theme: "website", stems: ["site", "website", "app", "checkout", "page", "login", "account", "slow", "bug"] },
];

export const OTHER_THEME = "other";

/** The themes of one comment, in the list's order; ["other"] when none matches, [] without text. */
export function themesOf(comment: string | null): string[] {
  if (!comment?.trim()) return [];
  const words = comment.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const found = THEMES.filter(({ stems }) => words.some((word) => stems.some((stem) => word.startsWith(stem)))).map((t) => t.theme);
  return found.length ? found : [OTHER_THEME];
}

/** Counts of themes over comments, most frequent first (ties in the list's order), with one example each. */
export function themeCounts(comments: (string | null)[]): { theme: string; count: number; example: string }[] {
  const order = [...THEMES.map((t) => t.theme), OTHER_THEME];
  const counts = new Map<string, { count: number; example: string }>();
  for (const comment of comments) {
    for (const theme of themesOf(comment)) {
      const seen = counts.get(theme);
      if (seen) seen.count++;
      else counts.set(theme, { count: 1, example: comment!.trim().slice(0, 200) });
    }
  }
  return [...counts]
    .map(([theme, v]) => ({ theme, ...v }))
    .sort((a, b) => b.count - a.count || order.indexOf(a.theme) - order.indexOf(b.theme));
}
