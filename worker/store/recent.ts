/** What an isolate keeps for a few seconds: entries live RECENT_MS (see store/cache.ts). */

export const RECENT_MS = 5_000;
const RECENT_LIMIT = 256;

/** A small map whose entries live RECENT_MS; the oldest entry makes room when it is full. */
export class Recent<V> {
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
