/**
 * The crons (wrangler.toml [triggers]). Daily: points expiry, birthday points and tier downgrades,
 * each idempotent, so a second run on the same day changes nothing. Every few minutes (and daily):
 * the sweep of Shopify codes whose redemption stopped between the debit and the Admin API call,
 * and (daily) the reconciliation of each Shopify store through the Admin API.
 */
import { daysAgo, expiresAt } from "../domain/clock";
import { isBirthday, pointsToExpire } from "../domain/expiry";
import { reviewedTier, standingFromSpend } from "../domain/tiers";
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import { commit, readOne, together } from "../store/batch";
import { membersWithBirthdayOn, membersWithTier, setCustomerTier } from "../store/customers";
import { dropKeysBefore } from "../store/idempotency";
import { appendEntryOnce, appendOrderRelease, membersWithExpiredCredits, noEntriesAfter, readMovements } from "../store/ledger";
import { readDuePendingOrders, readOrder, releaseOrder } from "../store/orders";
import { expireCodes, readExpiredCodes } from "../store/rewards";
import { allShops, type Shop } from "../store/shops";
import { sweepPendingShopifyCodes } from "./codes";
import { expireGuestHoldings } from "./guests";
import { resumeImports } from "./imports";
import { isHoldout, readMember, readTierSpend } from "./members";
import { nothingToDo, planOf, write } from "./pipeline";
import { reconcileShopifyStore } from "./shopify-reconciliation";
import { grantWinBackOffers } from "./win-back";
import { runWebhookWork } from "./webhook-delivery";

export interface ScheduledReport {
  expired: number;
  birthdays: number;
  tierChanges: number;
  /** Pending Shopify codes the sweep confirmed with Shopify, and those it voided (points back). */
  codesConfirmed: number;
  codesVoided: number;
  /** Shopify orders the daily reconciliation credited (their webhooks never came). */
  ordersReconciled: number;
  /** Issued reward codes past their end date, now `expired`. */
  codesExpired: number;
  /** Pending points that became available. */
  pointsReleased: number;
  /** Member imports carried further. */
  importsResumed: number;
  /** Guest orders whose 30 days passed without a member claiming them. */
  guestOrdersExpired: number;
  /** Win-back offers granted to members found at risk. */
  winBackOffers: number;
}

/** The frequent cron of wrangler.toml: it runs the Shopify code sweep only. */
export const SWEEP_CRON = "*/5 * * * *";

/**
 * The scheduled handler's work for the cron that fired: the sweep alone for SWEEP_CRON, everything
 * for any other (the daily cron, or a manual run), so a renamed daily cron still runs the daily work.
 */
export async function runScheduledWork(env: Env, now: Date, cron?: string): Promise<ScheduledReport> {
  const report: ScheduledReport = {
    expired: 0,
    birthdays: 0,
    tierChanges: 0,
    codesConfirmed: 0,
    codesVoided: 0,
    ordersReconciled: 0,
    codesExpired: 0,
    pointsReleased: 0,
    importsResumed: 0,
    guestOrdersExpired: 0,
    winBackOffers: 0,
  };
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
  // Imports nobody is carrying (their upload's request and their readers are gone) go on.
  try {
    report.importsResumed = await resumeImports(env, now);
  } catch (err) {
    console.error(JSON.stringify({ level: "error", message: "resuming imports failed", error: String(err) }));
  }
  if (cron === SWEEP_CRON) {
    await runWebhookWork(env, now);
    return report;
  }
  for (const shop of shops) {
    if (shop.platform !== "shopify") continue;
    try {
      report.ordersReconciled += (await reconcileShopifyStore(env, shop, now)).credited;
    } catch (err) {
      console.error(JSON.stringify({ level: "error", message: "Shopify reconciliation failed", shop: shop.id, error: String(err) }));
    }
  }
  for (const shop of shops) {
    try {
      // Held points first: once available they count for today's tier review.
      report.pointsReleased += await releasePendingPoints(env.DB, shop, now);
      report.expired += await expirePoints(env.DB, shop, now);
      report.birthdays += await awardBirthdays(env.DB, shop, now);
      report.tierChanges += await reviewTiers(env.DB, shop, now);
      report.codesExpired += await expireRewardCodes(env.DB, shop, now);
      report.guestOrdersExpired += await expireGuestHoldings(env.DB, shop, now);
      report.winBackOffers += await grantWinBackOffers(env.DB, shop, now);
    } catch (err) {
      // One shop's failure must not stop the others; tomorrow's run picks it up again.
      console.error(JSON.stringify({ level: "error", message: "scheduled work failed", shop: shop.id, error: String(err) }));
    }
  }
  // Idempotency keys live at least 24 h; keep two days.
  await dropKeysBefore(env.DB, daysAgo(now, 2));
  // What the day's work announced goes out now, with anything a crash left behind.
  await runWebhookWork(env, now);
  return report;
}

/** A member's daily write that kept losing to concurrent writes is left for tomorrow's run, and logged. */
async function orTomorrow(shop: Shop, what: string, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== "conflict") throw err;
    console.warn(JSON.stringify({ level: "warn", message: `${what} deferred to the next run`, shop: shop.id }));
    return 0;
  }
}

/**
 * Expiry, member by member (oldest credits first, domain/expiry.ts). An entry landing between the
 * read and the write changes what FIFO leaves to expire: the guard then refuses the batch and the
 * expiry is planned again from a fresh read.
 */
export async function expirePoints(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const at = now.toISOString();
  let total = 0;
  for (const member of await membersWithExpiredCredits(db, shop.id, at)) {
    total += await orTomorrow(shop, "expiry", async () => {
      const { value } = await write(
        db,
        shop,
        readMovements(db, shop.id, member.externalId),
        ({ movements, lastEntryId }) => {
          const points = pointsToExpire(movements, now);
          if (points <= 0) return nothingToDo(0);
          const entry = appendEntryOnce(db, {
            shopId: shop.id,
            customerExternalId: member.externalId,
            delta: -points,
            kind: "expiry",
            reference: null,
            // Keyed by the member's row, not the merchant's id, which a GDPR redact must erase.
            key: `expiry:${member.rowId}:${at.slice(0, 10)}`,
            createdAt: at,
          });
          return planOf(points, { statements: [noEntriesAfter(db, shop.id, member.externalId, lastEntryId), entry], member: member.externalId });
        },
        now,
      );
      return value;
    });
  }
  return total;
}

/** Birthday points once a year (the ledger key holds the year), each member in their own batch. */
export async function awardBirthdays(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const points = shop.program.waysToEarn.birthday;
  if (points <= 0) return 0;
  const today = now.toISOString().slice(5, 10);
  const members = (await membersWithBirthdayOn(db, shop.id, [today, "02-29"])).filter((m) => isBirthday(m.birthday, now) && !isHoldout(shop, m.external_id));
  const at = now.toISOString();
  const year = now.getUTCFullYear();
  let awarded = 0;
  for (const m of members) {
    awarded += await orTomorrow(shop, "birthday points", async () => {
      const { moved } = await write(
        db,
        shop,
        readMember(db, shop, m.external_id, now),
        (read) =>
          planOf(null, {
            statements: [
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
            ],
            member: m.external_id,
            standings: [{ standing: read.standing, lifetime: points }],
          }),
        now,
      );
      return moved > 0 ? 1 : 0;
    });
  }
  return awarded;
}

/** How many due orders the daily run lists at a time. */
const RELEASES_PER_READ = 200;

/**
 * Pending points whose holding period has ended become available, order by order: the order's own
 * ledger entry (kind `order`, once: key `order:<id>`) for what refunds left of them, counted for
 * lifetime points and tiers from now on. A refund landing between the read and the write changes
 * the order's version: the guard refuses the batch and the release is planned again.
 */
export async function releasePendingPoints(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const at = now.toISOString();
  let released = 0;
  // An order deferred to tomorrow (it kept losing to concurrent writes) is listed again: skip it.
  const seen = new Set<string>();
  for (;;) {
    const listed = await readOne(db, readDuePendingOrders(db, shop.id, at, RELEASES_PER_READ));
    const fresh = listed.filter((o) => !seen.has(o.orderId));
    for (const due of fresh) {
      seen.add(due.orderId);
      released += await orTomorrow(shop, "pending points", async () => {
        const { moved } = await write(
          db,
          shop,
          together([readOrder(db, shop.id, due.orderId), readMember(db, shop, due.customerId, now)] as const),
          ([order, member]) => {
            if (!order?.pending || order.customerExternalId !== due.customerId) return nothingToDo(null);
            const points = order.pointsAwarded - order.pointsReversed;
            const statements = [
              ...(points > 0
                ? [appendOrderRelease(db, { shopId: shop.id, orderRowId: order.rowId, points, createdAt: at, expiresAt: expiresAt(shop.program, now) })]
                : []),
              ...releaseOrder(db, shop.id, order),
            ];
            return planOf(null, {
              statements,
              member: due.customerId,
              standings: points > 0 ? [{ standing: member.standing, lifetime: points }] : [],
            });
          },
          now,
        );
        return moved;
      });
    }
    if (listed.length < RELEASES_PER_READ || fresh.length === 0) return released;
  }
}

/** How many codes one batch of the daily code expiry marks. */
const CODES_PER_BATCH = 500;

/**
 * Reward codes past their end date become `expired` (their points are not returned), a batch at a
 * time. A code that an order or a void changed meanwhile keeps what happened to it: the update is
 * conditional on the code still being issued, so exactly one of them wins.
 */
export async function expireRewardCodes(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const at = now.toISOString();
  let total = 0;
  for (;;) {
    const { value } = await write(
      db,
      shop,
      readExpiredCodes(db, shop.id, at, CODES_PER_BATCH),
      (ids) => (ids.length ? planOf(ids.length, { statements: [expireCodes(db, shop.id, ids, at)] }) : nothingToDo(0)),
      now,
    );
    total += value;
    if (value < CODES_PER_BATCH) return total;
  }
}

/** Downgrades at the end of a tier's window (and members of a tier the program no longer has). */
export async function reviewTiers(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const tiers = shop.program.tiers;
  let changes = 0;
  for (const member of await membersWithTier(db, shop.id)) {
    const spend = await readOne(db, readTierSpend(db, shop, member.external_id, now));
    const standing = standingFromSpend(member.lifetime_points, spend, shop.currency);
    const next = tiers.length ? reviewedTier(tiers, member.tier, member.tier_since, standing, now) : null;
    if (next !== member.tier) {
      await commit(db, [setCustomerTier(db, shop.id, member.external_id, next, now.toISOString())]);
      changes++;
    }
  }
  return changes;
}
