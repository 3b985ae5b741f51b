/**
 * Win-back offers, pure: a member at risk (domain/analytics.ts `overdue`) gets a personal,
 * time-limited multiplier on order points. One offer per at-risk episode: an episode is named by
 * the member's last order before it, so a member who orders again and later drifts away again
 * starts a new episode.
 */

export interface Offer {
  multiplier: number;
  startsAt: string;
  expiresAt: string;
}

/** When an offer of `days` granted at `now` ends. */
export function offerEnd(now: Date, days: number): string {
  return new Date(now.getTime() + days * 86_400_000).toISOString();
}

/** The episode an automatic offer belongs to: the member's last order when they were found at risk. */
export const episodeOf = (lastOrderAt: string) => `at_risk:${lastOrderAt}`;

/** The multiplier running at `at` among a member's offers (the highest of overlapping ones), or 1. */
export function offerMultiplierAt(offers: Offer[], at: Date): number {
  let best = 1;
  for (const offer of offers) {
    if (Date.parse(offer.startsAt) <= at.getTime() && at.getTime() < Date.parse(offer.expiresAt)) best = Math.max(best, offer.multiplier);
  }
  return best;
}

/** The offer the widget shows at `now`: the running one that ends last among the highest, or null. */
export function currentOffer(offers: Offer[], now: Date): { multiplier: number; expiresAt: string } | null {
  let shown: Offer | null = null;
  for (const offer of offers) {
    if (!(Date.parse(offer.startsAt) <= now.getTime() && now.getTime() < Date.parse(offer.expiresAt))) continue;
    if (!shown || offer.multiplier > shown.multiplier || (offer.multiplier === shown.multiplier && offer.expiresAt > shown.expiresAt)) {
      shown = offer;
    }
  }
  return shown ? { multiplier: shown.multiplier, expiresAt: shown.expiresAt } : null;
}
