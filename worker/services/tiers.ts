/**
 * Tiers that follow the program. Reads already show the tier the current program
 * gives (services/members.ts currentTier); after `PUT /v1/program` this stores it for every member,
 * a page at a time, so the tier.changed events are sent and the stored tier is what reads show.
 * Promotion is at once; a tier the program no longer has is dropped at once (as the daily review
 * does); a lower tier of the same program waits for the window's end (services/scheduled.ts).
 */
import { readOne, together } from "../store/batch";
import { changeTierFrom, readMembersAfter } from "../store/customers";
import type { Shop } from "../store/shops";
import { currentTier, readTierSpendOf } from "./members";
import { planOf, standingFrom, write } from "./pipeline";

const MEMBERS_PER_BATCH = 200;

/** Stores the tier the shop's (new) program gives each member; returns how many changed. */
export async function applyProgramTiers(db: D1Database, shop: Shop, now: Date): Promise<number> {
  const at = now.toISOString();
  let changed = 0;
  let after = 0;
  for (;;) {
    const page = await readOne(db, readMembersAfter(db, shop.id, after, MEMBERS_PER_BATCH));
    if (page.length === 0) return changed;
    after = page[page.length - 1]!.rowId;
    const ids = page.map((c) => c.rowId);
    const { value } = await write(
      db,
      shop,
      together([readMembersAfter(db, shop.id, ids[0]! - 1, MEMBERS_PER_BATCH), readTierSpendOf(db, shop, ids, now)] as const),
      ([members, spend]) => {
        const statements = members
          .filter((c) => c.rowId <= after)
          .flatMap((c) => {
            const tier = currentTier(shop, standingFrom(c.externalId, c, spend.get(c.rowId) ?? {}));
            return tier === c.tier ? [] : [changeTierFrom(db, shop.id, c.rowId, { from: c.tier, to: tier, at })];
          });
        return planOf(statements.length, { statements });
      },
      now,
    );
    changed += value;
    if (page.length < MEMBERS_PER_BATCH) return changed;
  }
}
