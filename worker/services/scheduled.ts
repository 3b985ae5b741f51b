/**
 * The crons (wrangler.toml [triggers]). Daily: points expiry, birthday points and tier downgrades,
 * each idempotent, so a second run on the same day changes nothing. Every few minutes (and daily):
 * the sweep of Shopify codes whose redemption stopped between the debit and the Admin API call.
 */
import { daysAgo } from "../domain/clock";
import { expiresAt } from "../domain/clock";
import { isBirthday, pointsToExpire } from "../domain/expiry";
import { reviewedTier } from "../domain/tiers";
import type { Env } from "../env";
import { commit, StaleWrite, withFreshRead } from "../store/batch";
import { membersWithBirthdayOn, membersWithTier, setCustomerTier } from "../store/customers";
import { dropKeysBefore } from "../store/idempotency";
import { appendEntryOnce, membersWithExpiredCredits, movementsOf, noEntriesAfter } from "../store/ledger";
import { allShops, type Shop } from "../store/shops";
import { tierStanding } from "./members";
import { sweepPendingShopifyCodes } from "./shopify";

export interface ScheduledReport {
  expired: number;
  birthdays: number;
  tierChanges: number;
  /** Pending Shopify codes the sweep confirmed with Shopify, and those it voided (points back). */
  codesConfirmed: number;
  codesVoided: number;
}

/** The frequent cron of wrangler.toml: it runs the Shopify code sweep only. */
export const SWEEP_CRON = "*/5 * * * *";

/**
 * The scheduled handler's work for the cron that fired: the sweep alone for SWEEP_CRON, everything
 * for any other (the daily cron, or a manual run), so a renamed daily cron still runs the daily work.
 */
export async function runScheduledWork(env: Env, now: Date, cron?: string): Promise<ScheduledReport> {
  const report: ScheduledReport = { expired: 0, birthdays: 0, tierChanges: 0, codesConfirmed: 0, codesVoided: 0 };
  const shops = await allShops(env.DB);
  for (const shop of shops) {
    if (shop.platform !== "shopify") continue;
    try {
      const sweep = await sweepPendingShopifyCodes(env, shop, now);
      report.codesConfirmed += sweep.confirmed;
      report.codesVoided += sweep.voided;
    } catch (err) {
      // One shop's Shopify trouble must not stop the others; the next sweep picks it up again.
      console.error(JSON.stringify({ level: "error", message: "code sweep failed", shop: shop.id, error: String(err) }));
    }
  }
  if (cron === SWEEP_CRON) return report;
  for (const shop of shops) {
    try {
      report.expired += await expirePoints(env.DB, shop, now);
      report.birthdays += await awardBirthdays(env.DB, shop, now);
      report.tierChanges += await reviewTiers(env.DB, shop, now);
    } catch (err) {
      // One shop's failure must not stop the others; tomorrow's run picks it up again.
      console.error(JSON.stringify({ level: "error", message: "scheduled work failed", shop: shop.id, error: String(err) }));
    }
  }
  // Idempotency keys live at least 24 h; keep two days.
  await dropKeysBefore(env.DB, daysAgo(now, 2));
  return report;
}

export async function expirePoints(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const at = now.toISOString();
  let total = 0;
  for (const member of await membersWithExpiredCredits(db, shop.id, at)) {
    try {
      // An entry landing between the read and the write changes what FIFO leaves to expire: the
      // guard then refuses the batch and the expiry is planned again from a fresh read.
      total += await withFreshRead(async () => {
        const { movements, lastEntryId } = await movementsOf(db, shop.id, member.externalId);
        const points = pointsToExpire(movements, now);
        if (points <= 0) return 0;
        await commit(db, [
          noEntriesAfter(db, shop.id, member.externalId, lastEntryId),
          appendEntryOnce(db, {
            shopId: shop.id,
            customerExternalId: member.externalId,
            delta: -points,
            kind: "expiry",
            reference: null,
            // Keyed by the member's row, not the merchant's id, which a GDPR redact must erase.
            key: `expiry:${member.rowId}:${at.slice(0, 10)}`,
            createdAt: at,
          }),
        ]);
        return points;
      });
    } catch (err) {
      // Debits kept racing the expiry; the next run expires what is then left.
      if (!(err instanceof StaleWrite)) throw err;
    }
  }
  return total;
}

export async function awardBirthdays(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const points = shop.program.waysToEarn.birthday;
  if (points <= 0) return 0;
  const today = now.toISOString().slice(5, 10);
  const members = (await membersWithBirthdayOn(db, shop.id, [today, "02-29"])).filter((m) => isBirthday(m.birthday, now));
  if (members.length === 0) return 0;
  const at = now.toISOString();
  const year = now.getUTCFullYear();
  const results = await commit(
    db,
    members.map((m) =>
      appendEntryOnce(db, {
        shopId: shop.id,
        customerExternalId: m.external_id,
        delta: points,
        kind: "birthday",
        reference: String(year),
        key: `birthday:${m.id}:${year}`,
        createdAt: at,
        expiresAt: expiresAt(shop.program, now),
      }),
    ),
  );
  return results.reduce((n, r) => n + (r.meta.changes > 0 ? 1 : 0), 0);
}

export async function reviewTiers(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const tiers = shop.program.tiers;
  let changes = 0;
  for (const member of await membersWithTier(db, shop.id)) {
    const standing = await tierStanding(db, shop, member.external_id, member.lifetime_points, now);
    const next = tiers.length ? reviewedTier(tiers, member.tier, member.tier_since, standing, now) : null;
    if (next !== member.tier) {
      await setCustomerTier(db, shop.id, member.external_id, next, now.toISOString()).run();
      changes++;
    }
  }
  return changes;
}
