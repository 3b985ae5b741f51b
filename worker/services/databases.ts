/**
 * Many databases (README "Scaling"): shops spread over the D1 bindings that `DATABASES` lists
 * (`DB`, the home database, plus `DB_1`, `DB_2`, ...). The home database holds the directory
 * (store/directory.ts); a request's shop is resolved once, and the request's `env.DB` becomes the
 * database holding it, so every store function keeps taking `env.DB`. With one database (the
 * default, and `npm start`) nothing here runs a query.
 */
import { hashSecretKey } from "../auth/keys";
import type { Env } from "../env";
import { ApiError, conflict } from "../http/errors";
import { commit } from "../store/batch";
import {
  databaseLoad,
  type Lookup,
  lookupKey,
  lookupsOfShop,
  type Placement,
  placeShopStatements,
  placementsOf,
  rememberLookup,
  shopIdIn,
} from "../store/directory";
import { Recent } from "../store/recent";
import { originBelongsToAShop } from "../store/shops";
import { createShop, type ShopInput } from "./shops";

/** The home database's binding: it holds the directory, and every shop the directory does not place elsewhere. */
export const HOME = "DB";

/** The bindings shops are spread over, home first. */
export function databaseNames(env: Env): string[] {
  const listed = (env.DATABASES ?? HOME)
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "" && name !== HOME);
  return [HOME, ...new Set(listed)];
}

export const spreadsShops = (env: Env) => databaseNames(env).length > 1;

/** The home database, also from an env whose `DB` is already a shop's database. */
export const homeDatabase = (env: Env): D1Database => env.HOME_DB ?? env.DB;

export function databaseNamed(env: Env, name: string): D1Database {
  if (name === HOME) return homeDatabase(env);
  const binding = (env as unknown as Record<string, unknown>)[name];
  if (!databaseNames(env).includes(name) || typeof (binding as D1Database | undefined)?.prepare !== "function") {
    throw new ApiError("invalid_request", `${name} is not one of the databases this worker spreads shops over.`);
  }
  return binding as D1Database;
}

/** The env of work on one database: `DB` is that database; the home database stays reachable. */
export function envOn(env: Env, name: string): Env {
  if (name === (env.DB_NAME ?? HOME)) return env;
  return { ...env, DB: databaseNamed(env, name), HOME_DB: homeDatabase(env), DB_NAME: name };
}

/**
 * Where each lookup led, for RECENT_MS (store/recent.ts): `null` is the home database. A move waits
 * that long after marking a shop and after switching it, so no isolate acts on an older answer.
 */
const recentPlacements = new Recent<Placement | null>();

export function forgetRecentPlacements(): void {
  recentPlacements.clear();
}

/** The placement of the first lookup that names a shop placed outside home (or moving), else null: home. */
export async function resolvePlacement(env: Env, lookups: Lookup[]): Promise<Placement | null> {
  for (const lookup of lookups) {
    const key = lookupKey(lookup);
    let placement = recentPlacements.get(key);
    if (placement === undefined) {
      placement = await lookUp(env, lookup);
      recentPlacements.set(key, placement);
    }
    if (placement) return placement;
  }
  return null;
}

async function lookUp(env: Env, lookup: Lookup): Promise<Placement | null> {
  const home = homeDatabase(env);
  const listed = await placementsOf(home, lookup);
  if (listed.length > 0) {
    // An origin two shops list: only one answer if both live in the same database.
    const bindings = new Set(listed.map((placement) => placement.binding));
    return bindings.size === 1 ? listed[0]! : null;
  }
  // Not listed: a shop of the home database, or a key its shop gained after it was placed (a
  // Shopify connection, a new origin): the other databases answer from their own indexes.
  const others = databaseNames(env).filter((name) => name !== HOME);
  const found = await Promise.all(others.map(async (name) => ({ name, shopId: await shopIdIn(databaseNamed(env, name), lookup) })));
  const hits = found.filter((hit) => hit.shopId !== null);
  if (hits.length !== 1) return null;
  const hit = hits[0]!;
  await rememberLookup(home, lookup, hit.shopId!, hit.name, new Date().toISOString());
  return { shopId: hit.shopId!, binding: hit.name, movingTo: null };
}

/** The env for work on one shop outside a request (a queue consumer's message). */
export async function envForShop(env: Env, shopId: string): Promise<Env> {
  if (!spreadsShops(env)) return env;
  const placement = await resolvePlacement(env, [{ kind: "id", value: shopId }]);
  return envOn(env, placement?.binding ?? HOME);
}

/** Runs `work` once per database, each with its own env, one after another; one failing does not stop the rest. */
export async function forEachDatabase<T>(env: Env, work: (env: Env, name: string) => Promise<T>): Promise<T[]> {
  const done: T[] = [];
  for (const name of databaseNames(env)) {
    try {
      done.push(await work(envOn(env, name), name));
    } catch (err) {
      console.error(JSON.stringify({ level: "error", message: "work on a database failed", database: name, error: String(err) }));
    }
  }
  return done;
}

const recentOrigins = new Recent<boolean>();

/** Whether any shop in any database lists `origin` (CORS before the shop is known). */
export async function originListedAnywhere(env: Env, origin: string): Promise<boolean> {
  if (!spreadsShops(env)) return originBelongsToAShop(env.DB, origin);
  const recent = recentOrigins.get(origin);
  if (recent !== undefined) return recent;
  const answers = await Promise.all(databaseNames(env).map((name) => originBelongsToAShop(databaseNamed(env, name), origin)));
  const listed = answers.includes(true);
  recentOrigins.set(origin, listed);
  return listed;
}

/** The database a new shop goes to: the smallest (D1 reports each one's size), then the one with fewest shops. */
export async function leastLoadedDatabase(env: Env): Promise<string> {
  const names = databaseNames(env);
  if (names.length === 1) return HOME;
  const loads = await Promise.all(names.map(async (name, order) => ({ name, order, ...(await databaseLoad(databaseNamed(env, name))) })));
  loads.sort((a, b) => a.bytes - b.bytes || a.shops - b.shops || a.order - b.order);
  return loads[0]!.name;
}

/** A new shop, on the least-loaded database, listed in the directory when that is not home. */
export async function createPlacedShop(env: Env, input: ShopInput) {
  if (!spreadsShops(env)) return createShop(env.DB, input);
  const domain = input.shopifyDomain;
  if (domain) {
    // Each database's unique key sees only its own shops.
    const holders = await Promise.all(
      databaseNames(env).map((name) => shopIdIn(databaseNamed(env, name), { kind: "shopify_domain", value: domain })),
    );
    if (holders.some((id) => id !== null)) throw conflict(`A shop for ${domain} exists already.`);
  }
  const name = await leastLoadedDatabase(env);
  const created = await createShop(databaseNamed(env, name), input);
  if (name !== HOME) {
    const { shop } = created;
    const lookups = lookupsOfShop({
      public_key: shop.publicKey,
      secret_key_hash: await hashSecretKey(created.secretKey),
      shopify_domain: shop.shopifyDomain,
      origins: JSON.stringify(shop.origins),
    });
    const home = homeDatabase(env);
    await commit(home, placeShopStatements(home, { shopId: shop.id, binding: name, movingTo: null }, lookups, shop.createdAt));
  }
  // A lookup this isolate asked before the shop existed (an origin) is asked again.
  forgetRecentPlacements();
  recentOrigins.clear();
  return { ...created, database: name };
}

/** Each database's size and shops, for the operator. */
export async function databaseLoads(env: Env) {
  return Promise.all(databaseNames(env).map(async (binding) => ({ binding, ...(await databaseLoad(databaseNamed(env, binding))) })));
}

/** The env for work on the shop of a Shopify domain outside a request; a shop mid-move refuses it (503) so the work is retried. */
export async function envForShopifyDomain(env: Env, domain: string): Promise<Env> {
  if (!spreadsShops(env)) return env;
  const placement = await resolvePlacement(env, [{ kind: "shopify_domain", value: domain }]);
  if (placement?.movingTo) {
    throw new ApiError("shop_moving", "The shop is moving to another database.", { headers: { "Retry-After": "5" } });
  }
  return envOn(env, placement?.binding ?? HOME);
}
