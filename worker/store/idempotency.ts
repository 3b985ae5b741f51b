/**
 * Stored responses for `Idempotency-Key` (DESIGN §4). A key is claimed by a row with status 0 in
 * the same batch as the write it guards, and completed with the response right after.
 */

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: string;
}

export async function storedResponse(db: D1Database, shopId: string, scope: string, key: string) {
  const row = await db
    .prepare("SELECT request_hash, status, response FROM idempotency_keys WHERE shop_id = ? AND scope = ? AND key = ?")
    .bind(shopId, scope, key)
    .first<{ request_hash: string; status: number; response: string }>();
  return row ? ({ requestHash: row.request_hash, status: row.status, body: row.response } as StoredResponse) : null;
}

/** The claim that goes into the write's own batch; a second claim of the key fails that batch. */
export function claimKey(
  db: D1Database,
  shopId: string,
  scope: string,
  key: string,
  requestHash: string,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO idempotency_keys (shop_id, scope, key, request_hash, status, response, created_at)
       VALUES (?, ?, ?, ?, 0, '', ?)`,
    )
    .bind(shopId, scope, key, requestHash, at);
}

export async function completeKey(
  db: D1Database,
  shopId: string,
  scope: string,
  key: string,
  requestHash: string,
  status: number,
  body: string,
  at: string,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO idempotency_keys (shop_id, scope, key, request_hash, status, response, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (shop_id, scope, key) DO UPDATE SET status = excluded.status, response = excluded.response
       WHERE idempotency_keys.status = 0 AND idempotency_keys.request_hash = excluded.request_hash`,
    )
    .bind(shopId, scope, key, requestHash, status, body, at)
    .run();
}

/**
 * Stores a refusal (a request whose write committed nothing) under the key, unless a request whose
 * write did commit claimed the key meanwhile: that claim is never overwritten. False when the key
 * was taken, and the caller then answers with what is stored.
 */
export async function recordRefusal(
  db: D1Database,
  shopId: string,
  scope: string,
  key: string,
  requestHash: string,
  status: number,
  body: string,
  at: string,
): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO idempotency_keys (shop_id, scope, key, request_hash, status, response, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (shop_id, scope, key) DO NOTHING`,
    )
    .bind(shopId, scope, key, requestHash, status, body, at)
    .run();
  return result.meta.changes > 0;
}

/** Keys live at least 24 h; the scheduled handler drops older ones. */
export async function dropKeysBefore(db: D1Database, before: string): Promise<void> {
  await db.prepare("DELETE FROM idempotency_keys WHERE created_at < ?").bind(before).run();
}
