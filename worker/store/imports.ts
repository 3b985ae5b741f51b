/**
 * Member imports (0016_imports.sql): the import, its file's rows, and the set-based statements a
 * chunk of rows is committed with (one statement per kind of change for the whole chunk, its rows
 * passed as one JSON array, so 500 rows cost a handful of statements, not a thousand).
 */
import type { ImportRow, ImportSource } from "../domain/imports";
import { allRows, firstRow, guard, type Read } from "./batch";

export type ImportStatus = "staging" | "queued" | "running" | "done" | "failed";

export interface ImportRecord {
  id: string;
  status: ImportStatus;
  dryRun: boolean;
  source: ImportSource;
  columns: Record<string, string>;
  ignored: string[];
  total: number;
  processed: number;
  imported: number;
  skipped: number;
  errorCount: number;
  nextLine: number;
  lastLine: number;
  leaseUntil: string | null;
  failure: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

interface ImportDbRow {
  id: string;
  status: ImportStatus;
  dry_run: number;
  source: ImportSource;
  columns: string;
  ignored: string;
  total: number;
  processed: number;
  imported: number;
  skipped: number;
  error_count: number;
  next_line: number;
  last_line: number;
  lease_until: string | null;
  failure: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

const toImport = (row: ImportDbRow): ImportRecord => ({
  id: row.id,
  status: row.status,
  dryRun: row.dry_run === 1,
  source: row.source,
  columns: JSON.parse(row.columns) as Record<string, string>,
  ignored: JSON.parse(row.ignored) as string[],
  total: row.total,
  processed: row.processed,
  imported: row.imported,
  skipped: row.skipped,
  errorCount: row.error_count,
  nextLine: row.next_line,
  lastLine: row.last_line,
  leaseUntil: row.lease_until,
  failure: row.failure,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  finishedAt: row.finished_at,
});

export type NewImport = Omit<ImportRecord, "processed" | "imported" | "nextLine" | "leaseUntil" | "failure" | "updatedAt" | "finishedAt">;

export function insertImport(db: D1Database, shopId: string, record: NewImport): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO imports (id, shop_id, status, dry_run, source, columns, ignored, total, processed, skipped, error_count,
         last_line, created_at, updated_at, finished_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN ?3 = 'done' THEN ?8 ELSE 0 END, ?9, ?10, ?11, ?12, ?12,
         CASE WHEN ?3 = 'done' THEN ?12 END)`,
    )
    .bind(
      record.id,
      shopId,
      record.status,
      record.dryRun ? 1 : 0,
      record.source,
      JSON.stringify(record.columns),
      JSON.stringify(record.ignored),
      record.total,
      record.skipped,
      record.errorCount,
      record.lastLine,
      record.createdAt,
    );
}

/** A stored row of the file: to import (`data`), or refused with its message. */
export type StagedRow = { line: number; row: ImportRow } | { line: number; message: string };

/** Up to a few hundred of the file's rows in one statement. */
export function insertImportRows(db: D1Database, shopId: string, importId: string, rows: StagedRow[]): D1PreparedStatement {
  const json = rows.map((r) =>
    "row" in r ? { line: r.line, data: r.row, outcome: "pending", message: null } : { line: r.line, data: null, outcome: "error", message: r.message },
  );
  return db
    .prepare(
      `INSERT INTO import_rows (shop_id, import_id, line, data, outcome, message)
       SELECT ?1, ?2, json_extract(value, '$.line'), json_extract(value, '$.data'), json_extract(value, '$.outcome'),
         json_extract(value, '$.message')
       FROM json_each(?3)`,
    )
    .bind(shopId, importId, JSON.stringify(json));
}

/** The upload is complete: processing may start. */
export function queueImport(db: D1Database, shopId: string, id: string, at: string): D1PreparedStatement {
  return db
    .prepare("UPDATE imports SET status = 'queued', updated_at = ? WHERE shop_id = ? AND id = ? AND status = 'staging'")
    .bind(at, shopId, id);
}

export function readImport(db: D1Database, shopId: string, id: string): Read<ImportRecord | null> {
  return firstRow(db.prepare("SELECT * FROM imports WHERE shop_id = ? AND id = ?").bind(shopId, id), toImport);
}

/** The import's refused rows by line, first `limit`. */
export function readImportErrors(db: D1Database, shopId: string, id: string, limit: number): Read<{ row: number; message: string }[]> {
  return allRows(
    db
      .prepare(
        "SELECT line, message FROM import_rows WHERE import_id = ? AND shop_id = ? AND outcome = 'error' ORDER BY line LIMIT ?",
      )
      .bind(id, shopId, limit),
    (r: { line: number; message: string }) => ({ row: r.line, message: r.message }),
  );
}

export async function listImports(db: D1Database, shopId: string, limit: number): Promise<ImportRecord[]> {
  const { results } = await db
    .prepare("SELECT * FROM imports WHERE shop_id = ? ORDER BY created_at DESC, id LIMIT ?")
    .bind(shopId, limit)
    .all<ImportDbRow>();
  return results.map(toImport);
}

/** Takes the import for one worker until `until`, if no other holds it; false when one does. */
export async function leaseImport(db: D1Database, shopId: string, id: string, now: string, until: string): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE imports SET status = 'running', lease_until = ?1, updated_at = ?2
       WHERE shop_id = ?3 AND id = ?4 AND status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until <= ?2)`,
    )
    .bind(until, now, shopId, id)
    .run();
  return result.meta.changes > 0;
}

/** Gives the import back (another worker may take it at once), if this worker still holds it. */
export async function releaseImport(db: D1Database, shopId: string, id: string, heldUntil: string): Promise<void> {
  await db.prepare("UPDATE imports SET lease_until = NULL WHERE shop_id = ? AND id = ? AND lease_until = ?").bind(shopId, id, heldUntil).run();
}

export async function failImport(db: D1Database, shopId: string, id: string, failure: string, at: string): Promise<void> {
  await db
    .prepare(
      `UPDATE imports SET status = 'failed', failure = ?, lease_until = NULL, updated_at = ?, finished_at = ?
       WHERE shop_id = ? AND id = ? AND status IN ('staging', 'queued', 'running')`,
    )
    .bind(failure, at, at, shopId, id)
    .run();
}

/** Imports of any shop that no worker holds and that are not finished, oldest first (the cron resumes them). */
export async function unfinishedImports(db: D1Database, now: string, limit: number) {
  const { results } = await db
    .prepare(
      `SELECT id, shop_id, status, created_at FROM imports
       WHERE status IN ('staging', 'queued', 'running') AND (lease_until IS NULL OR lease_until <= ?) ORDER BY created_at LIMIT ?`,
    )
    .bind(now, limit)
    .all<{ id: string; shop_id: string; status: ImportStatus; created_at: string }>();
  return results;
}

/** A member a row of the chunk names, as read with the chunk. */
export interface ImportedMember {
  line: number;
  rowId: number;
  externalId: string;
  lifetimePoints: number;
  tier: string | null;
  /** The row's credit is in the ledger already (the same member and content, imported before). */
  already: boolean;
}

/** Rows of the chunk with `outcome`: the next ?3 lines from where processing stands. */
const inChunk = (outcome: "pending" | "error") => `r.import_id = ?1 AND r.shop_id = ?2 AND r.outcome = '${outcome}'
  AND r.line >= (SELECT next_line FROM imports WHERE id = ?1) AND r.line < (SELECT next_line FROM imports WHERE id = ?1) + ?3`;
const CHUNK = inChunk("pending");

const MEMBER_COLUMNS = `r.line, c.id AS row_id, c.external_id, c.lifetime_points, c.tier,
  EXISTS (SELECT 1 FROM ledger l WHERE l.shop_id = ?2
    AND l.idempotency_key = 'import:' || c.id || ':' || json_extract(r.data, '$.digest')) AS already`;

const toMember = (r: { line: number; row_id: number; external_id: string; lifetime_points: number; tier: string | null; already: number }) => ({
  line: r.line,
  rowId: r.row_id,
  externalId: r.external_id,
  lifetimePoints: r.lifetime_points,
  tier: r.tier,
  already: r.already === 1,
});

export interface ImportChunk {
  rows: ImportRow[];
  /** Rows of the chunk's lines refused when the file was checked (counted as processed now). */
  refused: number;
  /** Members named by a row's customer id, by line. */
  byId: ImportedMember[];
  /** Members whose email a row without a customer id names, by line (more than one: ambiguous). */
  byEmail: ImportedMember[];
}

/**
 * The next `lines` lines of the file from where processing stands, and the members they name, in
 * one snapshot: which chunk it is comes from the import row itself, so a plan never mixes two.
 */
export function readImportChunk(db: D1Database, shopId: string, id: string, lines: number): Read<ImportChunk> {
  return {
    statements: [
      db.prepare(`SELECT r.data FROM import_rows r WHERE ${CHUNK} ORDER BY r.line`).bind(id, shopId, lines),
      db.prepare(`SELECT COUNT(*) AS n FROM import_rows r WHERE ${inChunk("error")}`).bind(id, shopId, lines),
      db
        .prepare(
          `SELECT ${MEMBER_COLUMNS} FROM import_rows r
           JOIN customers c ON c.shop_id = ?2 AND c.external_id = json_extract(r.data, '$.customerId')
           WHERE ${CHUNK}`,
        )
        .bind(id, shopId, lines),
      db
        .prepare(
          `SELECT ${MEMBER_COLUMNS} FROM import_rows r
           JOIN customers c ON c.shop_id = ?2 AND lower(c.email) = json_extract(r.data, '$.email')
           WHERE ${CHUNK} AND json_extract(r.data, '$.customerId') IS NULL AND c.redacted_at IS NULL`,
        )
        .bind(id, shopId, lines),
    ],
    parse: ([rows, refused, byId, byEmail]) => ({
      rows: ((rows?.results ?? []) as { data: string }[]).map((r) => JSON.parse(r.data) as ImportRow),
      refused: (refused?.results[0] as { n: number } | undefined)?.n ?? 0,
      byId: ((byId?.results ?? []) as Parameters<typeof toMember>[0][]).map(toMember),
      byEmail: ((byEmail?.results ?? []) as Parameters<typeof toMember>[0][]).map(toMember),
    }),
  };
}

/** Fails the batch unless processing still stands at `line` (another worker took this chunk). */
export function importStillAt(db: D1Database, id: string, line: number): D1PreparedStatement {
  return guard(db, "EXISTS (SELECT 1 FROM imports WHERE id = ? AND next_line = ? AND status = 'running')", id, line);
}

export interface NewImportedMember {
  externalId: string;
  email: string | null;
  firstName: string | null;
  birthday: string | null;
  referralCode: string;
  tier: string | null;
}

/** The chunk's new members, in one statement (a member created meanwhile fails the batch on its unique key). */
export function insertImportedMembers(db: D1Database, shopId: string, members: NewImportedMember[], at: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO customers (shop_id, external_id, email, first_name, birthday, referral_code, tier, tier_since, created_at)
       SELECT ?1, json_extract(value, '$.externalId'), json_extract(value, '$.email'), json_extract(value, '$.firstName'),
         json_extract(value, '$.birthday'), json_extract(value, '$.referralCode'), json_extract(value, '$.tier'),
         CASE WHEN json_extract(value, '$.tier') IS NOT NULL THEN ?2 END, ?2
       FROM json_each(?3)`,
    )
    .bind(shopId, at, JSON.stringify(members));
}

/** What the file knows of existing members fills in what Laurel does not know yet (it never overwrites). */
export function fillImportedProfiles(
  db: D1Database,
  shopId: string,
  profiles: { rowId: number; email: string | null; firstName: string | null; birthday: string | null }[],
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE customers SET email = COALESCE(customers.email, j.email), first_name = COALESCE(customers.first_name, j.first_name),
         birthday = COALESCE(customers.birthday, j.birthday)
       FROM (SELECT json_extract(value, '$.rowId') AS row_id, json_extract(value, '$.email') AS email,
               json_extract(value, '$.firstName') AS first_name, json_extract(value, '$.birthday') AS birthday
             FROM json_each(?2)) AS j
       WHERE customers.id = j.row_id AND +customers.shop_id = ?1 AND customers.redacted_at IS NULL`,
    )
    .bind(shopId, JSON.stringify(profiles));
}

/**
 * Tier changes of existing members, each only from the tier it was read at (tier.changed fires per
 * member). In these set-based updates the rows drive (`+shop_id` keeps the shop check out of index
 * choice): one primary-key search per row, not a walk over the shop's members per row.
 */
export function changeImportedTiers(
  db: D1Database,
  shopId: string,
  changes: { rowId: number; from: string | null; to: string | null }[],
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE customers SET tier = j.to_tier, tier_since = ?2
       FROM (SELECT json_extract(value, '$.rowId') AS row_id, json_extract(value, '$.from') AS from_tier,
               json_extract(value, '$.to') AS to_tier FROM json_each(?3)) AS j
       WHERE customers.id = j.row_id AND +customers.shop_id = ?1 AND customers.tier IS j.from_tier`,
    )
    .bind(shopId, at, JSON.stringify(changes));
}

/**
 * Each processed row's outcome; its data goes (the email and name it carried are no longer needed).
 * Written as an upsert of existing rows so the chunk's rows drive: one primary-key search each.
 */
export function markImportRows(
  db: D1Database,
  shopId: string,
  id: string,
  outcomes: { line: number; outcome: "imported" | "skipped" | "error"; message: string | null }[],
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO import_rows (shop_id, import_id, line, data, outcome, message)
       SELECT ?1, ?2, json_extract(value, '$.line'), NULL, json_extract(value, '$.outcome'), json_extract(value, '$.message')
       FROM json_each(?3) WHERE true
       ON CONFLICT (import_id, line) DO UPDATE SET outcome = excluded.outcome, message = excluded.message, data = NULL
         WHERE import_rows.shop_id = excluded.shop_id`,
    )
    .bind(shopId, id, JSON.stringify(outcomes));
}

/** Processing moves past the chunk: its counts added, done after the last line, the lease extended. */
export function advanceImport(
  db: D1Database,
  shopId: string,
  id: string,
  step: { to: number; processed: number; imported: number; skipped: number; errors: number; at: string; leaseUntil: string },
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE imports SET next_line = ?1, imported = imported + ?2, skipped = skipped + ?3, error_count = error_count + ?4,
         updated_at = ?5, processed = processed + ?9,
         status = CASE WHEN ?1 > last_line THEN 'done' ELSE status END,
         finished_at = CASE WHEN ?1 > last_line THEN ?5 ELSE finished_at END,
         lease_until = CASE WHEN ?1 > last_line THEN NULL ELSE ?6 END
       WHERE shop_id = ?7 AND id = ?8`,
    )
    .bind(step.to, step.imported, step.skipped, step.errors, step.at, step.leaseUntil, shopId, id, step.processed);
}

/** Every refused row of an import, by line (the download). */
export async function allImportErrors(db: D1Database, shopId: string, id: string) {
  const { results } = await db
    .prepare("SELECT line, message FROM import_rows WHERE import_id = ? AND shop_id = ? AND outcome = 'error' ORDER BY line")
    .bind(id, shopId)
    .all<{ line: number; message: string }>();
  return results;
}
