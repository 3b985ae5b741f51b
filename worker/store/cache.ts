/**
 * KV holds caches only (eventually consistent, ~60 s): never anything that must be exact.
 * Every KV key Laurel uses is built here.
 */

const programKey = (shopId: string) => `storefront-program:v1:${shopId}`;

export async function cachedPublicProgram<T>(kv: KVNamespace, shopId: string): Promise<T | null> {
  return kv.get<T>(programKey(shopId), "json");
}

export async function cachePublicProgram(kv: KVNamespace, shopId: string, value: unknown): Promise<void> {
  await kv.put(programKey(shopId), JSON.stringify(value), { expirationTtl: 300 });
}

export async function forgetPublicProgram(kv: KVNamespace, shopId: string): Promise<void> {
  await kv.delete(programKey(shopId));
}
