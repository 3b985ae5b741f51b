import { type Program, refereeOfferIssues } from "../contract/program";
import type { Env } from "../env";
import { ApiError, badRequest } from "../http/errors";
import { forgetCachedShop } from "../store/cache";
import { type Shop, updateProgram } from "../store/shops";
import { applyProgramTiers } from "./tiers";

/**
 * Saves a validated program and forgets the cached shop, so requests and shoppers see it at once.
 * The referee offer is checked against the shop's currency first: a refused program changes nothing.
 */
export async function saveProgram(env: Env, shop: Shop, program: Program): Promise<void> {
  const issues = refereeOfferIssues(program.referral.refereeOffer, shop.currency);
  if (issues.length > 0) {
    throw badRequest(
      "The referral offer is not valid; see details.",
      issues.map((issue) => ({ path: `program.referral.refereeOffer.${issue.path}`, message: issue.message })),
    );
  }
  await updateProgram(env.DB, shop.id, program);
  await forgetCachedShop(env.KV, shop.id);
}

/**
 * Referral lookups and claims need a real offer to give the referee. A shop whose stored offer is
 * worthless (a program saved before offers were checked, such as the old default of 0 off) answers
 * 422 until the merchant sets one, instead of issuing a code worth nothing (or Shopify's refusal).
 */
export function requireRefereeOffer(shop: Shop): void {
  if (refereeOfferIssues(shop.program.referral.refereeOffer, shop.currency).length > 0) {
    throw new ApiError(
      "referral_offer_not_configured",
      "This shop has not set up the offer for referred friends yet, so no referral code can be issued.",
    );
  }
}

/** The members' stored tiers brought to the saved program; a failure is logged (reads are right anyway). */
export async function storeProgramTiers(db: D1Database, shop: Shop, now = new Date()): Promise<void> {
  try {
    await applyProgramTiers(db, shop, now);
  } catch (err) {
    console.error(JSON.stringify({ level: "error", message: "storing tiers after a program change failed", shop: shop.id, error: String(err) }));
  }
}
