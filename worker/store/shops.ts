import { defaultProgram, Program } from "../contract/program";
import { Recent } from "./recent";

/** Shops by how they were looked up ("public_key:pk_...", "secret_key_hash:..."); only shops found. */
const recentShops = new Recent<Shop>();

/** This isolate forgets every shop it read (store/cache.ts forgetCachedShop, after any write to a shop). */
export function forgetRecentShops(): void {
  recentShops.clear();
}

/** A shop as the worker uses it. Secrets other than the secret key's hash stay server-side. */
export interface Shop {
  id: string;
  name: string;
  currency: string;
  publicKey: string;
  origins: string[];
  platform: "custom" | "shopify";
  shopifyDomain: string | null;
  webhookSecret: string;
  widgetSecret: string;
  program: Program;
  createdAt: string;
}

interface ShopRow {
  id: string;
  name: string;
  currency: string;
  public_key: string;
  origins: string;
  platform: "custom" | "shopify";
  shopify_domain: string | null;
  webhook_secret: string;
  widget_secret: string;
  program: string;
  created_at: string;
}

const COLUMNS =
  "id, name, currency, public_key, origins, platform, shopify_domain, webhook_secret, widget_secret, program, created_at";

function toShop(row: ShopRow): Shop {
  // Programs are validated on write; parsing again fills defaults added by later versions.
  const parsed = Program.safeParse(JSON.parse(row.program));
  return {
    id: row.id,
    name: row.name,
    currency: row.currency,
    publicKey: row.public_key,
    origins: JSON.parse(row.origins) as string[],
    platform: row.platform,
    shopifyDomain: row.shopify_domain,
    webhookSecret: row.webhook_secret,
    widgetSecret: row.widget_secret,
    program: parsed.success ? parsed.data : defaultProgram(),
    createdAt: row.created_at,
  };
}

export interface NewShop {
  id: string;
  name: string;
  currency: string;
  publicKey: string;
  origins: string[];
  platform: "custom" | "shopify";
  shopifyDomain: string | null;
  secretKeyHash: string;
  webhookSecret: string;
  widgetSecret: string;
  program: Program;
  createdAt: string;
}

/** A plain INSERT: a Shopify domain another shop has fails it on the unique key. */
export function insertShop(db: D1Database, shop: NewShop): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO shops (id, name, currency, public_key, origins, platform, shopify_domain, secret_key_hash,
         webhook_secret, widget_secret, program, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      shop.id,
      shop.name,
      shop.currency,
      shop.publicKey,
      JSON.stringify(shop.origins),
      shop.platform,
      shop.shopifyDomain,
      shop.secretKeyHash,
      shop.webhookSecret,
      shop.widgetSecret,
      JSON.stringify(shop.program),
      shop.createdAt,
    );
}

async function shopWhere(db: D1Database, where: string, value: string): Promise<Shop | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM shops WHERE ${where} = ?`).bind(value).first<ShopRow>();
  return row ? toShop(row) : null;
}

/** Shops the isolate read in the last few seconds (store/cache.ts), else D1. */
async function recentShopWhere(db: D1Database, where: string, value: string): Promise<Shop | null> {
  const key = `${where}:${value}`;
  const recent = recentShops.get(key);
  if (recent) return recent;
  const shop = await shopWhere(db, where, value);
  if (shop) recentShops.set(key, shop);
  return shop;
}

/** Read through the isolate's recent shops: callers that write a shop call forgetCachedShop. */
export const shopById = (db: D1Database, id: string) => recentShopWhere(db, "id", id);
export const shopBySecretKeyHash = (db: D1Database, hash: string) => recentShopWhere(db, "secret_key_hash", hash);
export const shopByPublicKey = (db: D1Database, publicKey: string) => recentShopWhere(db, "public_key", publicKey);
export const shopByShopifyDomain = (db: D1Database, domain: string) => shopWhere(db, "shopify_domain", domain);

export async function updateProgram(db: D1Database, shopId: string, program: Program): Promise<void> {
  await db.prepare("UPDATE shops SET program = ? WHERE id = ?").bind(JSON.stringify(program), shopId).run();
}

/**
 * Whether any shop lists `origin` among its storefront origins (CORS before the shop is known).
 * shop_origins is kept equal to every shop's list by triggers (0007_indexes.sql): one index search,
 * where json_each over all shops read and parsed every shop's list.
 */
export async function originBelongsToAShop(db: D1Database, origin: string): Promise<boolean> {
  const row = await db
    .prepare("SELECT 1 AS found FROM shop_origins WHERE origin = ? LIMIT 1")
    .bind(origin)
    .first();
  return row !== null;
}

/** Every shop, for the scheduled handler. */
export async function allShops(db: D1Database): Promise<Shop[]> {
  const { results } = await db.prepare(`SELECT ${COLUMNS} FROM shops ORDER BY id`).all<ShopRow>();
  return results.map(toShop);
}
