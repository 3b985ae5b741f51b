/**
 * Stored responses for `Idempotency-Key`. A key is claimed by a row with status 0 in
 * the same batch as the write it guards, and completed with the response right after. The claim
 * names what the write created (`reference`), so that when the request fails between its commit
 * and its answer, the answer is rebuilt from the committed write instead of the write running
 * twice; `locked_until` says how long the claiming request keeps the key to itself.
 */

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: string;
  /** What the write created, for a claim (status 0); null for refusals and older claims. */
  reference: string | null;
  /** Until when the claiming request works on the key (ISO time), for a claim. */
  lockedUntil: string | null;
}

interface KeyRow {
  request_hash: string;
  status: number;
  response: string;
  reference: string | null;
  locked_until: string | null;
}

export async function storedResponse(db: D1Database, shopId: string, scope: string, key: string) {
  const row = await db
    .prepare(
      `SELECT request_hash, status, response, reference, locked_until FROM idempotency_keys
       WHERE shop_id = ? AND scope = ? AND key = ?`,
    )
    .bind(shopId, scope, key)
    .first<KeyRow>();
  return row
    ? ({
        requestHash: row.request_hash,
        status: row.status,
        body: row.response,
        reference: row.reference,
        lockedUntil: row.locked_until,
      } as StoredResponse)
    : null;
}

/** The claim that goes into the write's own batch; a second claim of the key fails that batch. */
export function claimKey(
  db: D1Database,
  claim: { shopId: string; scope: string; key: string; requestHash: string; reference: string; at: string; lockedUntil: string },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO idempotency_keys (shop_id, scope, key, request_hash, status, response, created_at, reference, locked_until)
       VALUES (?, ?, ?, ?, 0, '', ?, ?, ?)`,
    )
    .bind(claim.shopId, claim.scope, claim.key, claim.requestHash, claim.at, claim.reference, claim.lockedUntil);
}

/**
 * Stores the answer of the claim naming `reference`, once: false when the key holds an answer
 * already (a request that took the key over answered first; that answer is the one to give).
 */
export async function completeKey(
  db: D1Database,
  shopId: string,
  scope: string,
  key: string,
  reference: string,
  status: number,
  body: string,
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE idempotency_keys SET status = ?, response = ?, locked_until = NULL
       WHERE shop_id = ? AND scope = ? AND key = ? AND status = 0 AND reference = ?`,
    )
    .bind(status, body, shopId, scope, key, reference)
    .run();
  return result.meta.changes > 0;
}

/**
 * Takes over a claim whose request stopped working on it (its lock ran out): true for exactly one
 * of any number of concurrent retries, which then answers from the committed write.
 */
export async function takeOverKey(
  db: D1Database,
  shopId: string,
  scope: string,
  key: string,
  claim: { reference: string; lockedUntil: string },
  now: string,
  lockedUntil: string,
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE idempotency_keys SET locked_until = ?
       WHERE shop_id = ? AND scope = ? AND key = ? AND status = 0 AND reference = ? AND locked_until = ? AND locked_until <= ?`,
    )
    .bind(lockedUntil, shopId, scope, key, claim.reference, claim.lockedUntil, now)
    .run();
  return result.meta.changes > 0;
}

/** The claiming request gave up on answering: the next retry may take the key over at once. */
export async function releaseKey(
  db: D1Database,
  shopId: string,
  scope: string,
  key: string,
  reference: string,
  now: string,
): Promise<void> {
  await db
    .prepare(
      `UPDATE idempotency_keys SET locked_until = ?
       WHERE shop_id = ? AND scope = ? AND key = ? AND status = 0 AND reference = ?`,
    )
    .bind(now, shopId, scope, key, reference)
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

/**
 * GDPR: the stored answers of adjustments to an erased member lose their note, as the ledger
 * entries do (the answers are kept, so a retry still replays instead of writing twice). Answers
 * are linked to the member through the ledger key their claim recorded.
 */
export function eraseNotesInAnswers(db: D1Database, shopId: string, customerRowId: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE idempotency_keys SET response = json_set(response, '$.entry.note', NULL)
       WHERE shop_id = ?1 AND json_valid(response) AND json_extract(response, '$.entry.note') IS NOT NULL
         AND reference IN (SELECT idempotency_key FROM ledger WHERE shop_id = ?1 AND customer_id = ?2)`,
    )
    .bind(shopId, customerRowId);
}
