import type { LedgerEntry } from "../contract/storefront";
import { allRows, firstRow, guard, mapRead, type Read } from "./batch";

/**
 * The append-only ledger. Every statement here is an INSERT ... SELECT from the customer row, so
 * `balance_after` is computed from the balance the entry lands on, inside the batch's transaction.
 * The trigger in 0001_ledger.sql then moves `customers.balance`, and its CHECK refuses overdrafts.
 */

export type LedgerKind =
  | "order"
  | "refund"
  | "cancel"
  | "signup"
  | "birthday"
  | "review"
  | "social"
  | "challenge"
  | "referral"
  | "nps"
  | "custom"
  | "redemption"
  | "redemption_reversal"
  | "adjustment"
  | "expiry"
  | "import";

export interface LedgerWrite {
  shopId: string;
  customerExternalId: string;
  kind: LedgerKind;
  reference: string | null;
  /** Unique per shop: the same key never moves points twice (a second insert fails the batch). */
  key: string;
  createdAt: string;
  expiresAt?: string | null | undefined;
  note?: string | null | undefined;
}

/**
 * Every ledger row is written by one of the statements below, and by nothing else. Each is an
 * INSERT ... SELECT from the customer row (by the merchant's id, or joined from the row that
 * decides the entry), so `balance_after` is the balance the entry lands on inside the batch.
 */
const INSERT = `INSERT INTO ledger (shop_id, customer_id, delta, kind, reference, idempotency_key, balance_after, shortfall,
  note, created_at, expires_at)`;

/** Credits or debits exactly `delta`; a debit the balance cannot cover fails the whole batch. */
export function appendEntry(db: D1Database, entry: LedgerWrite & { delta: number }): D1PreparedStatement {
  return entryStatement(db, entry, "");
}

/**
 * Like appendEntry, but an entry whose key exists already, or a debit the balance cannot cover,
 * is skipped instead of failing the batch (scheduled work, where each member stands alone).
 */
export function appendEntryOnce(db: D1Database, entry: LedgerWrite & { delta: number }): D1PreparedStatement {
  return entryStatement(db, entry, " AND balance + ?1 >= 0 ON CONFLICT (shop_id, idempotency_key) DO NOTHING");
}

function entryStatement(db: D1Database, entry: LedgerWrite & { delta: number }, tail: string): D1PreparedStatement {
  return db
    .prepare(
      `${INSERT}
       SELECT shop_id, id, ?1, ?2, ?3, ?4, balance + ?1, 0, ?5, ?6, ?7
       FROM customers WHERE shop_id = ?8 AND external_id = ?9${tail}`,
    )
    .bind(
      entry.delta,
      entry.kind,
      entry.reference,
      entry.key,
      entry.note ?? null,
      entry.createdAt,
      entry.expiresAt ?? null,
      entry.shopId,
      entry.customerExternalId,
    );
}

/**
 * A claw-back of up to `points`: takes what the balance holds (never below zero) and records the
 * rest as the entry's shortfall, so nothing fails silently.
 */
export function appendClawback(db: D1Database, entry: LedgerWrite & { points: number }): D1PreparedStatement {
  return db
    .prepare(
      `${INSERT}
       SELECT shop_id, id, -MIN(?1, balance), ?2, ?3, ?4, balance - MIN(?1, balance), ?1 - MIN(?1, balance), ?5, ?6, NULL
       FROM customers WHERE shop_id = ?7 AND external_id = ?8`,
    )
    .bind(
      entry.points,
      entry.kind,
      entry.reference,
      entry.key,
      entry.note ?? null,
      entry.createdAt,
      entry.shopId,
      entry.customerExternalId,
    );
}

/**
 * A credit keyed by the member's row id (`{prefix}{row id}`), so the ledger never keeps the
 * merchant's customer id, which a GDPR redact frees. A second credit with the same key fails the batch.
 */
export function appendMemberKeyedCredit(
  db: D1Database,
  credit: Omit<LedgerWrite, "key" | "note"> & { keyPrefix: string; delta: number },
): D1PreparedStatement {
  return db
    .prepare(
      `${INSERT}
       SELECT shop_id, id, ?3, ?4, ?5, ?6 || id, balance + ?3, 0, NULL, ?7, ?8 FROM customers
       WHERE shop_id = ?1 AND external_id = ?2`,
    )
    .bind(
      credit.shopId,
      credit.customerExternalId,
      credit.delta,
      credit.kind,
      credit.reference,
      credit.keyPrefix,
      credit.createdAt,
      credit.expiresAt ?? null,
    );
}

/**
 * An order's held (pending) points becoming available: the order's own entry (kind `order`, its id
 * as reference, key `order:<id>`, so an order earns once), for the member the order belongs to,
 * written only while the order still holds them (`pending` is cleared later in the same batch).
 */
export function appendOrderRelease(
  db: D1Database,
  release: { shopId: string; orderRowId: number; points: number; createdAt: string; expiresAt: string | null },
): D1PreparedStatement {
  return db
    .prepare(
      `${INSERT}
       SELECT c.shop_id, c.id, ?3, 'order', o.external_id, 'order:' || o.external_id, c.balance + ?3, 0, NULL, ?4, ?5
       FROM orders o JOIN customers c ON c.id = o.customer_id
       WHERE o.shop_id = ?1 AND o.id = ?2 AND o.pending = 1`,
    )
    .bind(release.shopId, release.orderRowId, release.points, release.createdAt, release.expiresAt);
}

/**
 * A chunk of an import's credits in one statement (kind `import`, reference the import): each row's
 * points for its member, keyed `import:<member row>:<row digest>` so the same row of the same
 * member never lands twice (a second one is skipped, not refused). Members are named by row id, or
 * (`byExternalId`, members created earlier in the batch) by the merchant's id. A chunk names each
 * member once, so every entry's balance_after is its member's balance plus its points.
 */
export function appendImportCredits(
  db: D1Database,
  credits: {
    shopId: string;
    importId: string;
    createdAt: string;
    expiresAt: string | null;
    byExternalId: boolean;
    rows: { member: number | string; points: number; digest: string }[];
  },
): D1PreparedStatement {
  // The rows drive the join (CROSS JOIN keeps them outside): one index search per row. `+c.shop_id`
  // keeps the shop check out of index choice, where it would walk the shop's every member per row.
  const member = credits.byExternalId ? "c.shop_id = ?1 AND c.external_id = j.member" : "c.id = j.member AND +c.shop_id = ?1";
  return db
    .prepare(
      `${INSERT}
       SELECT c.shop_id, c.id, j.points, 'import', ?2, 'import:' || c.id || ':' || j.digest, c.balance + j.points, 0, NULL, ?3, ?4
       FROM (SELECT json_extract(value, '$.member') AS member, json_extract(value, '$.points') AS points,
               json_extract(value, '$.digest') AS digest FROM json_each(?5)) AS j
       CROSS JOIN customers c
       WHERE ${member} AND j.points > 0
       ON CONFLICT (shop_id, idempotency_key) DO NOTHING`,
    )
    .bind(credits.shopId, credits.importId, credits.createdAt, credits.expiresAt, JSON.stringify(credits.rows));
}

/**
 * A challenge's reward (ledger key `challenge:{id}:{member row}`), paid only when the member's
 * progress row, as the batch has left it, has reached `goal` and is not marked complete yet: of
 * two batches racing to the goal, exactly one pays (the other finds it complete).
 */
export function appendChallengeReward(
  db: D1Database,
  reward: { shopId: string; customerExternalId: string; challengeId: string; goal: number; points: number; createdAt: string; expiresAt: string | null },
): D1PreparedStatement {
  return db
    .prepare(
      `${INSERT}
       SELECT c.shop_id, c.id, ?5, 'challenge', ?3, 'challenge:' || ?3 || ':' || c.id, c.balance + ?5, 0, NULL, ?6, ?7
       FROM challenge_progress p JOIN customers c ON c.id = p.customer_id
       WHERE p.challenge_id = ?3 AND p.customer_id = (SELECT id FROM customers WHERE shop_id = ?1 AND external_id = ?2)
         AND p.completed_at IS NULL AND p.progress >= ?4`,
    )
    .bind(
      reward.shopId,
      reward.customerExternalId,
      reward.challengeId,
      reward.goal,
      reward.points,
      reward.createdAt,
      reward.expiresAt,
    );
}

/**
 * Claws back the referrer's reward of the referral an order completed (as the ledger paid it),
 * clamped at zero with the shortfall recorded. Without a completed referral it writes nothing, so
 * it needs no read and cannot go stale.
 */
export function appendReferralReversal(db: D1Database, shopId: string, orderExternalId: string, at: string): D1PreparedStatement {
  return db
    .prepare(
      `${INSERT}
       SELECT c.shop_id, c.id, -MIN(l.delta, c.balance), 'referral', r.id, 'referral_reversal:' || r.id,
         c.balance - MIN(l.delta, c.balance), l.delta - MIN(l.delta, c.balance), NULL, ?3, NULL
       FROM referrals r
       JOIN customers c ON c.id = r.referrer_id
       JOIN ledger l ON l.shop_id = r.shop_id AND l.idempotency_key = 'referral:' || r.id
       WHERE r.shop_id = ?1 AND r.order_external_id = ?2 AND r.status = 'completed' AND l.delta > 0`,
    )
    .bind(shopId, orderExternalId, at);
}

interface LedgerRow {
  id: number;
  delta: number;
  kind: string;
  reference: string | null;
  balance_after: number;
  shortfall: number;
  note: string | null;
  created_at: string;
  expires_at: string | null;
}

export type LedgerEntryView = LedgerEntry & { shortfall: number; note: string | null };

function toEntry(row: LedgerRow): LedgerEntryView {
  return {
    id: row.id,
    delta: row.delta,
    kind: row.kind,
    reference: row.reference,
    balanceAfter: row.balance_after,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    shortfall: row.shortfall,
    note: row.note,
  };
}

/** A customer's entries, newest first, keyset-paginated on the entry id. */
export async function ledgerPage(
  db: D1Database,
  shopId: string,
  customerRowId: number,
  options: { limit: number; cursor?: number | undefined },
): Promise<{ entries: LedgerEntryView[]; nextCursor: string | null }> {
  const { results } = await db
    .prepare(
      `SELECT id, delta, kind, reference, balance_after, shortfall, note, created_at, expires_at FROM ledger
       WHERE shop_id = ?1 AND customer_id = ?2 AND (?3 IS NULL OR id < ?3)
       ORDER BY id DESC LIMIT ?4`,
    )
    .bind(shopId, customerRowId, options.cursor ?? null, options.limit + 1)
    .all<LedgerRow>();
  const entries = results.slice(0, options.limit).map(toEntry);
  return {
    entries,
    nextCursor: results.length > options.limit ? String(entries[entries.length - 1]!.id) : null,
  };
}

/** The entry written under `key` (unique per shop), e.g. to answer with exactly the entry a request wrote. */
export async function entryByKey(db: D1Database, shopId: string, key: string): Promise<LedgerEntryView | null> {
  const row = await db
    .prepare(
      `SELECT id, delta, kind, reference, balance_after, shortfall, note, created_at, expires_at FROM ledger
       WHERE shop_id = ? AND idempotency_key = ?`,
    )
    .bind(shopId, key)
    .first<LedgerRow>();
  return row ? toEntry(row) : null;
}

/** All of a customer's entries, oldest first (exports and audits). */
export async function allEntries(db: D1Database, shopId: string, customerRowId: number) {
  const { results } = await db
    .prepare(
      `SELECT id, delta, kind, reference, balance_after, shortfall, note, created_at, expires_at FROM ledger
       WHERE shop_id = ? AND customer_id = ? ORDER BY id`,
    )
    .bind(shopId, customerRowId)
    .all<LedgerRow>();
  return results.map(toEntry);
}

const ENTRIES_SINCE = `SELECT COUNT(*) AS n FROM ledger l JOIN customers c ON c.id = l.customer_id
  WHERE c.shop_id = ? AND c.external_id = ? AND l.kind = ? AND l.reference = ? AND l.created_at >= ?`;

/** How many entries of `kind` with `reference` a customer got since `since` (per-period limits). */
export function readEntriesSince(
  db: D1Database,
  shopId: string,
  customerExternalId: string,
  kind: LedgerKind,
  reference: string,
  since: string,
): Read<number> {
  return mapRead(
    firstRow(db.prepare(ENTRIES_SINCE).bind(shopId, customerExternalId, kind, reference, since), (row: { n: number }) => row.n),
    (n) => n ?? 0,
  );
}

/** Fails the batch when a customer already has `limit` entries of `kind`/`reference` since `since`. */
export function underLimit(
  db: D1Database,
  shopId: string,
  customerExternalId: string,
  kind: LedgerKind,
  reference: string,
  since: string,
  limit: number,
): D1PreparedStatement {
  return guard(db, `(${ENTRIES_SINCE}) < ?`, shopId, customerExternalId, kind, reference, since, limit);
}

/** Appended last to a batch: the member's balance once the batch's entries have landed. */
export function balanceOf(db: D1Database, shopId: string, customerExternalId: string): D1PreparedStatement {
  return db
    .prepare("SELECT balance FROM customers WHERE shop_id = ? AND external_id = ?")
    .bind(shopId, customerExternalId);
}


/** Members of a shop holding credits whose expiry has come (and a balance to lose). */
export async function membersWithExpiredCredits(
  db: D1Database,
  shopId: string,
  now: string,
): Promise<{ externalId: string; rowId: number }[]> {
  const { results } = await db
    .prepare(
      `SELECT DISTINCT c.external_id, c.id FROM ledger l JOIN customers c ON c.id = l.customer_id
       WHERE l.shop_id = ? AND l.delta > 0 AND l.expires_at IS NOT NULL AND l.expires_at <= ? AND c.balance > 0`,
    )
    .bind(shopId, now)
    .all<{ external_id: string; id: number }>();
  return results.map((r) => ({ externalId: r.external_id, rowId: r.id }));
}

/** Fails the batch when the member's ledger has grown since `lastEntryId` was read. */
export function noEntriesAfter(db: D1Database, shopId: string, customerExternalId: string, lastEntryId: number) {
  return guard(
    db,
    `(SELECT COALESCE(MAX(id), 0) FROM ledger
      WHERE customer_id = (SELECT id FROM customers WHERE shop_id = ? AND external_id = ?)) = ?`,
    shopId,
    customerExternalId,
    lastEntryId,
  );
}

/** A member's entries in insertion order, as expiry replays them, and the last entry's id. */
export function readMovements(db: D1Database, shopId: string, customerExternalId: string) {
  return mapRead(
    allRows(
      db
        .prepare(
          `SELECT id, delta, kind, created_at, expires_at FROM ledger
           WHERE customer_id = (SELECT id FROM customers WHERE shop_id = ? AND external_id = ?) ORDER BY id`,
        )
        .bind(shopId, customerExternalId),
      (r: { id: number; delta: number; kind: string; created_at: string; expires_at: string | null }) => r,
    ),
    (rows) => ({
      movements: rows.map((r) => ({ delta: r.delta, kind: r.kind, createdAt: r.created_at, expiresAt: r.expires_at })),
      lastEntryId: rows.length ? rows[rows.length - 1]!.id : 0,
    }),
  );
}
