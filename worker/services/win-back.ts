/**
 * Win-back offers: the daily run grants each member at risk (the `atRisk` rule of analytics), once
 * per at-risk episode, a personal multiplier on order points for `program.winBack.days`; the
 * merchant grants one by hand from the customer's page. Members of the holdout group get none.
 */
import { AT_RISK_FACTOR, MIN_CADENCE_DAYS } from "../domain/analytics";
import { inHoldout } from "../domain/holdout";
import { episodeOf, offerEnd } from "../domain/win-back";
import { ApiError, notFound } from "../http/errors";
import type { ClaimKey } from "../http/idempotency";
import { membersAtRisk } from "../store/analytics";
import { commit } from "../store/batch";
import { customerByExternalId } from "../store/customers";
import { insertOffer } from "../store/offers";
import type { Shop } from "../store/shops";

/** How many members at risk one daily run looks at per shop (the most overdue first). */
const AT_RISK_PER_RUN = 5000;
const OFFERS_PER_BATCH = 100;

/** The daily run's part: offers for members at risk as of `now`; returns how many were granted. */
export async function grantWinBackOffers(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const rule = shop.program.winBack;
  if (!rule.enabled) return 0;
  const at = now.toISOString();
  const { members } = await membersAtRisk(db, shop.id, at, AT_RISK_FACTOR, MIN_CADENCE_DAYS, AT_RISK_PER_RUN);
  const statements = members
    .filter((m) => !inHoldout(shop.program.holdout.percent, shop.id, m.externalId))
    .map((m) =>
      insertOffer(db, shop.id, {
        customerExternalId: m.externalId,
        source: "win_back",
        multiplier: rule.multiplier,
        startsAt: at,
        expiresAt: offerEnd(now, rule.days),
        episode: episodeOf(m.lastOrderAt),
        note: null,
      }),
    );
  let granted = 0;
  for (let i = 0; i < statements.length; i += OFFERS_PER_BATCH) {
    const results = await commit(db, statements.slice(i, i + OFFERS_PER_BATCH));
    granted += results.reduce((sum, r) => sum + (r.meta.changes ?? 0), 0);
  }
  return granted;
}

export interface ManualOffer {
  multiplier: number;
  days: number;
  note?: string | undefined;
}

/** The answer of a manual grant, as the idempotency record keeps it (its reference). */
const answerOf = (offer: { multiplier: number; expiresAt: string }) => ({ offer });

/** A merchant's offer for one member. Unknown members are 404; a member of the holdout group is 422. */
export async function grantOffer(db: D1Database, shop: Shop, externalId: string, input: ManualOffer, claim: ClaimKey, now = new Date()) {
  const customer = await customerByExternalId(db, shop.id, externalId);
  if (!customer || customer.redactedAt) throw notFound("Customer");
  if (inHoldout(shop.program.holdout.percent, shop.id, externalId)) {
    throw new ApiError("rule_violation", "This customer is in the holdout group: they get no offers, so the comparison stays fair.");
  }
  const at = now.toISOString();
  const offer = { multiplier: input.multiplier, expiresAt: offerEnd(now, input.days) };
  await commit(db, [
    claim(JSON.stringify(offer)),
    insertOffer(db, shop.id, {
      customerExternalId: externalId,
      source: "manual",
      multiplier: input.multiplier,
      startsAt: at,
      expiresAt: offer.expiresAt,
      episode: null,
      note: input.note ?? null,
    }),
  ]);
  return answerOf(offer);
}

/** The answer of a grant that committed before its request could answer (rebuilt from its reference). */
export const recordedOffer = (reference: string) => answerOf(JSON.parse(reference) as { multiplier: number; expiresAt: string });
