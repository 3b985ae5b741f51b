/**
 * Caches, never anything that must be exact. Two levels:
 * - each isolate keeps the shops it read for a few seconds (store/recent.ts, in store/shops.ts):
 *   the shop is read, and its program parsed, by every authenticated request, and changes rarely;
 * - KV keeps a shop's public program (~60 s eventual consistency, 300 s TTL) for the storefront.
 * A write to a shop calls forgetCachedShop: this isolate forgets at once, KV within its
 * consistency window, other isolates within RECENT_MS. Every KV key Laurel uses is built here.
 */
import { Recent } from "./recent";
import { forgetRecentShops } from "./shops";

const recentPublicPrograms = new Recent<unknown>();

const programKey = (shopId: string) => `storefront-program:v1:${shopId}`;

export async function cachedPublicProgram<T>(kv: KVNamespace, shopId: string): Promise<T | null> {
  const recent = recentPublicPrograms.get(shopId);
  if (recent !== undefined) return recent as T;
  const stored = await kv.get<T>(programKey(shopId), "json");
  if (stored !== null) recentPublicPrograms.set(shopId, stored);
  return stored;
}

export async function cachePublicProgram(kv: KVNamespace, shopId: string, value: unknown): Promise<void> {
  recentPublicPrograms.set(shopId, value);
  await kv.put(programKey(shopId), JSON.stringify(value), { expirationTtl: 300 });
}

/** After any write to a shop row: its program, keys, platform, or its erasure. */
export async function forgetCachedShop(kv: KVNamespace, shopId: string): Promise<void> {
  // Shops are cached under several keys; writes are rare, so this isolate forgets them all.
  forgetRecentShops();
  recentPublicPrograms.clear();
  await kv.delete(programKey(shopId));
}
