/**
 * VIP tiers: entry by lifetime points or by spend in a rolling window; promotion at
 * once, downgrade only once the window since the tier was reached has ended.
 */
import type { TierRule } from "../contract/program";
import { currencyExponent } from "./money";

export interface TierStanding {
  lifetimePoints: number;
  /** Whole currency units spent within each tier's window, keyed by window length in days. */
  spendByWindow: Record<number, number>;
}

export const DEFAULT_WINDOW_DAYS = 365;

/** Whole currency units in an amount of minor units (what spend thresholds count), rounded down. */
export function wholeUnits(minor: number, currency: string): number {
  return Math.floor(minor / 10 ** currencyExponent(currency));
}

/** What tiers measure, from lifetime points and the spend (minor units) within each window. */
export function standingFromSpend(lifetimePoints: number, spendByWindow: Record<number, number>, currency: string): TierStanding {
  const units: Record<number, number> = {};
  for (const [days, spent] of Object.entries(spendByWindow)) units[Number(days)] = wholeUnits(spent, currency);
  return { lifetimePoints, spendByWindow: units };
}

export function windowOf(tier: TierRule): number {
  return tier.windowDays ?? DEFAULT_WINDOW_DAYS;
}

function measure(tier: TierRule, standing: TierStanding): number {
  return tier.basis === "lifetime_points" ? standing.lifetimePoints : (standing.spendByWindow[windowOf(tier)] ?? 0);
}

/** Tiers are ranked by their order in the program, lowest first. */
export function qualifyingTier(tiers: TierRule[], standing: TierStanding): TierRule | null {
  let best: TierRule | null = null;
  for (const tier of tiers) if (measure(tier, standing) >= tier.threshold) best = tier;
  return best;
}

export function rankOf(tiers: TierRule[], name: string | null): number {
  return name === null ? -1 : tiers.findIndex((t) => t.name === name);
}

export function tierMultiplier(tiers: TierRule[], name: string | null): number {
  return tiers.find((t) => t.name === name)?.multiplier ?? 1;
}

/** After earning: the tier to hold now, never lower than the current one. */
export function promotedTier(tiers: TierRule[], current: string | null, standing: TierStanding): string | null {
  const qualified = qualifyingTier(tiers, standing);
  const currentRank = rankOf(tiers, current);
  if (qualified && rankOf(tiers, qualified.name) > currentRank) return qualified.name;
  return currentRank >= 0 ? current : null;
}

/**
 * At a scheduled review: drop to the qualifying tier only when the current tier's window since it
 * was reached has ended (a tier that no longer exists is dropped at once).
 */
export function reviewedTier(
  tiers: TierRule[],
  current: string | null,
  since: string | null,
  standing: TierStanding,
  now: Date,
): string | null {
  const qualified = qualifyingTier(tiers, standing)?.name ?? null;
  const currentRank = rankOf(tiers, current);
  if (current !== null && currentRank < 0) return qualified;
  if (rankOf(tiers, qualified) >= currentRank) return qualified;
  const tier = tiers[currentRank]!;
  const reachedAt = since ? Date.parse(since) : 0;
  const windowEnded = now.getTime() >= reachedAt + windowOf(tier) * 86_400_000;
  return windowEnded ? qualified : current;
}

export interface TierProgress {
  nextTier: TierRule | null;
  /** 0..1 toward the next tier (1 at the top), in whole percent, below 1 while anything remains. */
  progress: number;
  remaining: number | null;
}

/**
 * Progress from `current` toward the tier above it. Give it the tier the standing holds under the
 * current program (promotedTier): then the next tier is never already reached. Were it (a tier read
 * as stored after the program changed), there is nothing "to go" and the bar is full; and a bar is
 * never full while points remain (1,699 of 1,700 is 99%, not a rounded 100%).
 */
export function progressToNextTier(tiers: TierRule[], current: string | null, standing: TierStanding): TierProgress {
  const next = tiers[rankOf(tiers, current) + 1];
  if (!next) return { nextTier: null, progress: 1, remaining: null };
  const value = measure(next, standing);
  const remaining = Math.max(0, next.threshold - value);
  if (remaining === 0) return { nextTier: next, progress: 1, remaining: 0 };
  return { nextTier: next, progress: Math.min(0.99, Math.floor((value * 100) / next.threshold) / 100), remaining };
}
