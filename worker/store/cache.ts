/**
 * Caches, never anything that must be exact. Two levels:
 * - each isolate keeps the shops it read for a few seconds (RECENT_MS): the shop is read, and its
 *   program parsed, by every authenticated request, and changes rarely;
 * - KV keeps a shop's public program (~60 s eventual consistency, 300 s TTL) for the storefront.
 * A write to a shop calls forgetCachedShop: this isolate forgets at once, KV within its
 * consistency window, other isolates within RECENT_MS. Every KV key Laurel uses is built here.
 */
import type { Shop } from "./shops";

const RECENT_MS = 5_000;
const RECENT_LIMIT = 256;

/** A small map whose entries live RECENT_MS; the oldest entry makes room when it is full. */
class Recent<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    if (hit) this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= RECENT_LIMIT) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: Date.now() + RECENT_MS });
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Shops by how they were looked up ("public_key:pk_...", "secret_key_hash:..."); only shops found. */
export const recentShops = new Recent<Shop>();
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
  recentShops.clear();
  recentPublicPrograms.clear();
  await kv.delete(programKey(shopId));
}
