/**
 * The one shape of a write that moves points (or must announce what changed):
 *
 *   read   one batch of reads (`Read`, gathered with `together`), one round trip, one snapshot;
 *   plan   a synchronous function of those reads: the statements, whose standing rises, what to
 *          announce, and the answer; it decides nothing by awaiting more reads;
 *   commit `commitPlan`: ONE atomic batch with the member's balance read before and after it,
 *          the tier promotions the new standings give, and the announcements.
 *
 * `write` runs the three and, when a concurrent request got there first (a unique key, the
 * balance CHECK or a version guard refuses the batch: nothing was written), reads and plans again,
 * a bounded number of times with jitter; a duplicate delivery then sees itself as a duplicate and
 * a debit that no longer fits is refused by its plan with the contract's error.
 */
import { promotedTier, standingFromSpend } from "../domain/tiers";
import { conflict } from "../http/errors";
import { commit, type Read, readOne, StaleWrite } from "../store/batch";
import { type Customer, setCustomerTier } from "../store/customers";
import { balanceOf } from "../store/ledger";
import { type Announcement, announce } from "../store/outbox";
import type { Shop } from "../store/shops";
import type { SpendByWindow } from "./members";

/** A member's standing as read: what tiers measure. */
export interface Standing {
  externalId: string;
  tier: string | null;
  lifetimePoints: number;
  /** Spend per window of the program's spend tiers; null when the plan did not read it (its
   * change moves no spend, so only lifetime-point tiers can be reached). */
  spend: SpendByWindow | null;
}

/** What a plan adds to a member's standing; commitPlan promotes them if a higher tier is reached. */
export interface StandingChange {
  standing: Standing;
  /** Lifetime points the plan's entries add (credits minus claw-backs). */
  lifetime: number;
  /** Spend (minor units) the plan adds. */
  spend?: number;
}

export interface Plan<T> {
  /** The change, in order. */
  statements: D1PreparedStatement[];
  /** The member whose balance the answer reports (read back before and after, inside the batch). */
  member: string | null;
  /** Members whose standing the plan raises. */
  standings: StandingChange[];
  /** Announcements beyond those the outbox's triggers record for the rows written. */
  events: Announcement[];
  /** What the use case answers with. */
  value: T;
}

export interface Committed<T> {
  value: T;
  /** The member's balance after the batch (null without a member). */
  balance: number | null;
  /** What the batch really moved on the member's balance (a clamped claw-back moves less than it owed). */
  moved: number;
}

/** A plan with nothing but an answer (a duplicate, nothing to change). */
export function nothingToDo<T>(value: T, member: string | null = null): Plan<T> {
  return { statements: [], member, standings: [], events: [], value };
}

export function planOf<T>(value: T, parts: Partial<Omit<Plan<T>, "value">>): Plan<T> {
  return { statements: [], member: null, standings: [], events: [], ...parts, value };
}

/** The standing of a member as read, or of one the plan creates (nothing yet). */
export function standingFrom(externalId: string, customer: Customer | null, spend: SpendByWindow | null): Standing {
  return { externalId, tier: customer?.tier ?? null, lifetimePoints: customer?.lifetimePoints ?? 0, spend };
}

/** The statements that promote each member whose new standing reaches a higher tier. */
function promotions(db: D1Database, shop: Shop, changes: StandingChange[], at: string): D1PreparedStatement[] {
  const tiers = shop.program.tiers;
  if (tiers.length === 0) return [];
  const statements: D1PreparedStatement[] = [];
  for (const { standing, lifetime, spend = 0 } of changes) {
    const spendByWindow = Object.fromEntries(Object.entries(standing.spend ?? {}).map(([days, spent]) => [days, spent + spend]));
    const measured = standingFromSpend(standing.lifetimePoints + lifetime, spendByWindow, shop.currency);
    const next = promotedTier(tiers, standing.tier, measured);
    if (next !== standing.tier) statements.push(setCustomerTier(db, shop.id, standing.externalId, next, at));
  }
  return statements;
}

const balanceIn = (result: D1Result | undefined) => (result?.results[0] as { balance: number } | undefined)?.balance ?? null;

/** Commits a plan as ONE atomic batch. A refusal throws StaleWrite (see `write`). */
export async function commitPlan<T>(db: D1Database, shop: Shop, plan: Plan<T>, now: Date): Promise<Committed<T>> {
  const writes = [
    ...plan.statements,
    ...promotions(db, shop, plan.standings, now.toISOString()),
    ...plan.events.map((event) => announce(db, shop.id, event)),
  ];
  if (writes.length === 0) return { value: plan.value, balance: null, moved: 0 };
  if (!plan.member) {
    await commit(db, writes);
    return { value: plan.value, balance: null, moved: 0 };
  }
  const results = await commit(db, [balanceOf(db, shop.id, plan.member), ...writes, balanceOf(db, shop.id, plan.member)]);
  const balance = balanceIn(results[results.length - 1]);
  return { value: plan.value, balance, moved: (balance ?? 0) - (balanceIn(results[0]) ?? 0) };
}

/** How many times a write is read and planned again before it gives up with 409 `conflict`. */
export const WRITE_ATTEMPTS = 8;

/**
 * What `write` did since the isolate started: calls, plans (a call's first and every re-plan
 * after a stale read) and calls that gave up. Reported only by the bench's counters route
 * (routes/bench.ts, behind the BENCH var), so contention's retries are measured, not guessed.
 */
export const writeCounts = { calls: 0, attempts: 0, exhausted: 0 };

/**
 * Read -> plan -> commit, again from a fresh read while concurrent writes refuse the batch. A
 * batch refused by an Idempotency-Key's claim is not retried here: another request holds the key
 * (http/idempotency.ts answers with its outcome).
 */
export async function write<R, T>(
  db: D1Database,
  shop: Shop,
  read: Read<R>,
  plan: (reads: R) => Plan<T>,
  now: Date,
): Promise<Committed<T>> {
  writeCounts.calls++;
  for (let attempt = 1; ; attempt++) {
    writeCounts.attempts++;
    try {
      return await commitPlan(db, shop, plan(await readOne(db, read)), now);
    } catch (err) {
      if (!(err instanceof StaleWrite) || err.uniqueOn("idempotency_keys")) throw err;
      if (attempt >= WRITE_ATTEMPTS) {
        writeCounts.exhausted++;
        throw conflict("Too many concurrent changes to the same records; retry the request.");
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}
