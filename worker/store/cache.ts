/**
 * KV holds caches only (eventually consistent, ~60 s): never anything that must be exact.
 * Every KV key Laurel uses is built here.
 */

const programKey = (publicKey: string) => `program:v1:${publicKey}`;

export async function cachedPublicProgram<T>(kv: KVNamespace, publicKey: string): Promise<T | null> {
  return kv.get<T>(programKey(publicKey), "json");
}

export async function cachePublicProgram(kv: KVNamespace, publicKey: string, value: unknown): Promise<void> {
  await kv.put(programKey(publicKey), JSON.stringify(value), { expirationTtl: 300 });
}

export async function forgetPublicProgram(kv: KVNamespace, publicKey: string): Promise<void> {
  await kv.delete(programKey(publicKey));
}
