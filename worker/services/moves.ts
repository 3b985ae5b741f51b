/**
 * The operator's move of a shop to another database (README "Scaling"): the shop's writes are
 * paused, its rows copied (the ledger in entry order, so the target's triggers re-check every
 * balance), the copy compared with the source, the directory switched, writes resumed, and the
 * source's rows deleted. Reads keep being served from the source until the switch.
 */
import type { Env } from "../env";
import { badRequest, conflict, notFound } from "../http/errors";
import { commit } from "../store/batch";
import { forgetCachedShop } from "../store/cache";
import { lookupsOfShop, placementsOf, placeShopStatements, setMoving } from "../store/directory";
import { copyOrder, copyTable, deleteShopRows, type RowIds, restoreMembers, shopFingerprint, shopKeysIn, tableShapes, unplaceable } from "../store/moves";
import { RECENT_MS } from "../store/recent";
import { databaseNamed, forgetRecentPlacements, HOME, homeDatabase } from "./databases";

export interface MoveReport {
  shopId: string;
  from: string;
  to: string;
  /** Rows copied, per table. */
  rows: Record<string, number>;
}

/**
 * How long isolates may act on what they read before a change of placement: their directory and
 * shop caches live RECENT_MS (store/recent.ts). `MOVE_SETTLE_MS` shortens it where one isolate
 * serves everything (tests).
 */
const settleMs = (env: Env) => (env.MOVE_SETTLE_MS === undefined ? RECENT_MS + 500 : Number(env.MOVE_SETTLE_MS));
const settle = (env: Env) => new Promise((resolve) => setTimeout(resolve, settleMs(env)));

export async function moveShop(env: Env, shopId: string, to: string): Promise<MoveReport> {
  const home = homeDatabase(env);
  const target = databaseNamed(env, to);
  const placement = (await placementsOf(home, { kind: "id", value: shopId }))[0];
  const from = placement?.binding ?? HOME;
  const source = databaseNamed(env, from);
  if (from === to) throw badRequest(`The shop is in ${to} already.`);
  if (placement?.movingTo && placement.movingTo !== to) throw conflict(`The shop is moving to ${placement.movingTo} already.`);
  const keys = await shopKeysIn(source, shopId);
  if (!keys) throw notFound("Shop");
  const shapes = await tableShapes(source);
  const left = unplaceable(shapes);
  if (left.length > 0) throw conflict(`Tables without a shop_id cannot move: ${left.map((shape) => shape.name).join(", ")}.`);
  const targetTables = new Set((await tableShapes(target)).map((shape) => shape.name));
  const missing = shapes.map((shape) => shape.name).filter((name) => !targetTables.has(name));
  if (missing.length > 0) throw conflict(`${to} lacks tables (${missing.join(", ")}): apply the migrations to it first.`);

  // Pause: every lookup of the shop now leads to a placement marked as moving.
  const lookups = lookupsOfShop(keys);
  const now = () => new Date().toISOString();
  await commit(home, placeShopStatements(home, { shopId, binding: from, movingTo: to }, lookups, now()));
  forgetRecentPlacements();
  await settle(env);

  const rows: Record<string, number> = {};
  try {
    await deleteShopRows(target, shapes, shopId); // what an interrupted attempt left
    const ids: RowIds = new Map();
    for (const shape of copyOrder(shapes)) {
      rows[shape.name] = await copyTable(source, target, shape, shopId, ids);
      if (shape.name === "ledger") await restoreMembers(source, target, shapes.find((s) => s.name === "customers")!, shopId, ids);
    }
    const [before, after] = await Promise.all([shopFingerprint(source, shapes, shopId), shopFingerprint(target, shapes, shopId)]);
    if (before !== after) throw new Error(`The copy in ${to} differs from ${from}: ${after} against ${before}`);
  } catch (err) {
    await deleteShopRows(target, shapes, shopId).catch(() => undefined);
    await setMoving(home, shopId, from, null, now());
    forgetRecentPlacements();
    throw err;
  }

  // Switch: the directory names the target; writes resume there.
  await commit(home, placeShopStatements(home, { shopId, binding: to, movingTo: null }, lookups, now()));
  forgetRecentPlacements();
  await forgetCachedShop(env.KV, shopId);
  // Isolates that still read the source finish before its rows go.
  await settle(env);
  await deleteShopRows(source, shapes, shopId);
  return { shopId, from, to, rows };
}
