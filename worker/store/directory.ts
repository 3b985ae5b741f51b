/**
 * The directory of many databases (0040_shop_directory.sql), kept in the home database: which
 * database holds a shop, and the shop behind each public key, secret-key hash, Shopify domain and
 * origin. A shop without a placement row lives in the home database.
 */

/** What a request can name its shop by. */
export type LookupKind = "id" | "public_key" | "secret_key_hash" | "shopify_domain" | "origin";

export interface Lookup {
  kind: LookupKind;
  value: string;
}

export interface Placement {
  shopId: string;
  binding: string;
  movingTo: string | null;
}

interface PlacementRow {
  shop_id: string;
  binding: string;
  moving_to: string | null;
}

const toPlacement = (row: PlacementRow): Placement => ({ shopId: row.shop_id, binding: row.binding, movingTo: row.moving_to });

export const lookupKey = (lookup: Lookup) => `${lookup.kind}:${lookup.value}`;

/** The placements of the shops a lookup names (an origin may name several; the others one or none). */
export async function placementsOf(home: D1Database, lookup: Lookup): Promise<Placement[]> {
  const statement =
    lookup.kind === "id"
      ? home.prepare("SELECT shop_id, binding, moving_to FROM shop_placements WHERE shop_id = ?").bind(lookup.value)
      : home
          .prepare(
            `SELECT p.shop_id, p.binding, p.moving_to FROM shop_directory d
             JOIN shop_placements p ON p.shop_id = d.shop_id WHERE d.lookup = ? LIMIT 8`,
          )
          .bind(lookupKey(lookup));
  const { results } = await statement.all<PlacementRow>();
  return results.map(toPlacement);
}

/** The shop in `db` that a lookup names, read from the shop's own tables (no directory). */
export async function shopIdIn(db: D1Database, lookup: Lookup): Promise<string | null> {
  const statements: Record<LookupKind, string> = {
    id: "SELECT id FROM shops WHERE id = ?",
    public_key: "SELECT id FROM shops WHERE public_key = ?",
    secret_key_hash: "SELECT id FROM shops WHERE secret_key_hash = ?",
    shopify_domain: "SELECT id FROM shops WHERE shopify_domain = ?",
    origin: "SELECT shop_id AS id FROM shop_origins WHERE origin = ? LIMIT 1",
  };
  const row = await db.prepare(statements[lookup.kind]).bind(lookup.value).first<{ id: string }>();
  return row?.id ?? null;
}

/** The statements that place a shop in `binding` and list the lookups that lead to it. */
export function placeShopStatements(home: D1Database, placement: Placement, lookups: Lookup[], now: string): D1PreparedStatement[] {
  return [
    home
      .prepare(
        `INSERT INTO shop_placements (shop_id, binding, moving_to, placed_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (shop_id) DO UPDATE SET binding = excluded.binding, moving_to = excluded.moving_to, placed_at = excluded.placed_at`,
      )
      .bind(placement.shopId, placement.binding, placement.movingTo, now),
    ...lookups
      .filter((lookup) => lookup.kind !== "id")
      .map((lookup) =>
        home.prepare("INSERT OR IGNORE INTO shop_directory (lookup, shop_id) VALUES (?, ?)").bind(lookupKey(lookup), placement.shopId),
      ),
  ];
}

/**
 * Remembers a lookup found by asking the databases (a key the shop gained after it was placed),
 * and the shop's placement when it had none; a placement already there is left as it is.
 */
export async function rememberLookup(home: D1Database, lookup: Lookup, shopId: string, binding: string, now: string): Promise<void> {
  const statements = [
    home
      .prepare("INSERT OR IGNORE INTO shop_placements (shop_id, binding, moving_to, placed_at) VALUES (?, ?, NULL, ?)")
      .bind(shopId, binding, now),
  ];
  if (lookup.kind !== "id") {
    statements.push(home.prepare("INSERT OR IGNORE INTO shop_directory (lookup, shop_id) VALUES (?, ?)").bind(lookupKey(lookup), shopId));
  }
  await home.batch(statements);
}

/** Marks a shop as moving (writes refused) or clears the mark; false when it was not in the expected state. */
export async function setMoving(home: D1Database, shopId: string, from: string, movingTo: string | null, now: string): Promise<boolean> {
  const result = await home
    .prepare(
      `INSERT INTO shop_placements (shop_id, binding, moving_to, placed_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (shop_id) DO UPDATE SET moving_to = excluded.moving_to
       WHERE shop_placements.binding = excluded.binding`,
    )
    .bind(shopId, from, movingTo, now)
    .run();
  return result.meta.changes === 1;
}

/** How full a database is: its size in bytes (D1 reports it with every result) and its shops. */
export async function databaseLoad(db: D1Database): Promise<{ bytes: number; shops: number }> {
  const result = await db.prepare("SELECT COUNT(*) AS shops FROM shops").all<{ shops: number }>();
  return { bytes: Number(result.meta.size_after ?? 0), shops: result.results[0]?.shops ?? 0 };
}

export function lookupsOfShop(shop: {
  public_key: string;
  secret_key_hash: string;
  shopify_domain: string | null;
  origins: string;
}): Lookup[] {
  const lookups: Lookup[] = [
    { kind: "public_key", value: shop.public_key },
    { kind: "secret_key_hash", value: shop.secret_key_hash },
  ];
  if (shop.shopify_domain) lookups.push({ kind: "shopify_domain", value: shop.shopify_domain });
  for (const origin of JSON.parse(shop.origins) as string[]) lookups.push({ kind: "origin", value: origin });
  return lookups;
}

/** Drops a shop's directory lookups (before they are listed again after a move). */
export function forgetLookupsStatement(home: D1Database, shopId: string): D1PreparedStatement {
  return home.prepare("DELETE FROM shop_directory WHERE shop_id = ?").bind(shopId);
}
