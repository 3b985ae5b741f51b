/**
 * Importing members from another program. The upload checks every row of the file
 * (domain/imports.ts) and stores them; processing then runs in the background, a chunk of lines at
 * a time through the write pipeline: read the chunk and the members it names (one snapshot), plan
 * the members to create or fill in, the credits and the tiers, commit it as one batch that also
 * moves the import's progress on. A chunk is processed once (the progress guard), a row lands once
 * (its credit's ledger key), and a bad row is skipped and reported with its line.
 *
 * Processing starts right after the upload (waitUntil) and goes on for a while; a read of the
 * import that finds it waiting (GET /v1/imports/:id, the console polling it) carries it further,
 * and the 5-minute cron resumes whatever nobody carries, so an import finishes even when no request
 * is left to drive it. A lease keeps two workers from processing one import at once.
 */
import { newId } from "../auth/keys";
import { expiresAt } from "../domain/clock";
import { importColumns, importRows, MAX_IMPORT_ROWS, parseCsv, type ImportRow } from "../domain/imports";
import { promotedTier, rankOf, standingFromSpend } from "../domain/tiers";
import type { Env } from "../env";
import { ApiError, badRequest, notFound } from "../http/errors";
import { commit, readOne, together } from "../store/batch";
import {
  advanceImport,
  allImportErrors,
  changeImportedTiers,
  failImport,
  fillImportedProfiles,
  type ImportChunk,
  type ImportRecord,
  importStillAt,
  insertImport,
  insertImportedMembers,
  insertImportRows,
  leaseImport,
  markImportRows,
  type NewImportedMember,
  queueImport,
  readImport,
  readImportChunk,
  readImportErrors,
  releaseImport,
  type StagedRow,
  unfinishedImports,
} from "../store/imports";
import { appendImportCredits } from "../store/ledger";
import { type Shop, shopById } from "../store/shops";
import { newReferralCode } from "./members";
import { planOf, write } from "./pipeline";

/** Lines of the file one batch processes. */
const CHUNK_LINES = 500;
/** Rows per staging statement, statements per staging batch. */
const STAGE_ROWS = 500;
const STAGE_STATEMENTS = 8;
/** A worker holds an import this long after each chunk; a worker that died frees it after that. */
const LEASE_MS = 60_000;
/** How long one trigger processes before it leaves the rest to the next. */
export const REQUEST_BUDGET_MS = 20_000;
export const CRON_BUDGET_MS = 120_000;
/** Errors an import's answer lists (all of them: GET /v1/imports/:id/errors). */
const ERRORS_LISTED = 1000;
/** An upload that stopped while its rows were being stored is given up after this. */
const STAGING_ABANDONED_MS = 10 * 60_000;

export interface ImportUpload {
  csv: ArrayBuffer;
  dryRun: boolean;
}

/** The file as text: UTF-8 (a spreadsheet's "CSV UTF-8"); binary data is no CSV at all. */
function csvText(bytes: ArrayBuffer): string {
  if (bytes.byteLength === 0) throw badRequest("The file is empty: send the CSV export, its first row naming the columns.");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badRequest("The file is not UTF-8 text. Save it as \"CSV UTF-8\" (comma delimited) and upload it again.");
  }
  if (text.includes("\u0000")) {
    throw new ApiError("unsupported_media_type", "This is not a CSV file (it holds binary data). Export the members as CSV and upload that.");
  }
  return text;
}

/** The request hash basis of an upload: the file's digest and the options, not 10 MB of JSON. */
export async function uploadFingerprint(upload: ImportUpload) {
  const digest = await crypto.subtle.digest("SHA-256", upload.csv);
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { sha256: hex, dryRun: upload.dryRun };
}

/**
 * Checks the file and stores the import with its rows; `claim` (the Idempotency-Key's) joins the
 * first batch. A bad header is 400 and stores nothing. Large files take several batches: the import
 * stays `staging` until its last row is stored, so nothing is processed from half a file.
 */
export async function uploadImport(
  db: D1Database,
  shop: Shop,
  upload: ImportUpload,
  claim: (reference: string) => D1PreparedStatement,
  now = new Date(),
): Promise<ImportRecord> {
  const { records, unclosedAt } = parseCsv(csvText(upload.csv));
  const [header, ...body] = records;
  if (!header) throw badRequest("The first line must name the columns (customer_id or email, points, ...).");
  const parsed = importColumns(header.cells);
  if (!parsed.ok) throw badRequest(parsed.message, parsed.details);
  if (body.length === 0 && unclosedAt === null) throw badRequest("The file has a header but no rows to import.");
  if (body.length > MAX_IMPORT_ROWS) {
    throw new ApiError("payload_too_large", `A file holds at most ${MAX_IMPORT_ROWS} rows; this one has ${body.length}. Split it.`);
  }
  const results = importRows(body, parsed.columns, { tiers: shop.program.tiers.map((t) => t.name), shopify: shop.platform === "shopify" });
  const staged: StagedRow[] = results.map((r) => (r.ok ? { line: r.row.line, row: r.row } : { line: r.line, message: r.message }));
  if (unclosedAt !== null) staged.push({ line: unclosedAt, message: "opens a quote (\") that is never closed: everything from here on was not read" });
  const errors = staged.filter((r) => !("row" in r)).length;
  const at = now.toISOString();
  const id = newId("imp");
  const lastLine = staged.reduce((max, r) => Math.max(max, r.line), 1);
  // A dry run keeps only the errors (for the answer and the download); nothing else is written.
  const stored = upload.dryRun ? staged.filter((r) => !("row" in r)) : staged;
  const record = {
    id,
    status: upload.dryRun ? ("done" as const) : ("staging" as const),
    dryRun: upload.dryRun,
    source: parsed.columns.source,
    columns: parsed.columns.used as Record<string, string>,
    ignored: parsed.columns.ignored,
    total: staged.length,
    skipped: errors,
    errorCount: errors,
    lastLine,
    createdAt: at,
  };
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < stored.length; i += STAGE_ROWS) statements.push(insertImportRows(db, shop.id, id, stored.slice(i, i + STAGE_ROWS)));
  if (!upload.dryRun) statements.push(queueImport(db, shop.id, id, at));
  const [first, ...rest] = chunks(statements, STAGE_STATEMENTS);
  await commit(db, [claim(id), insertImport(db, shop.id, record), ...(first ?? [])]);
  for (const batch of rest) await commit(db, batch);
  return (await readOne(db, readImport(db, shop.id, id)))!;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The answer for an upload whose request died after its first batch: as far as it got. */
export async function recordedImport(db: D1Database, shop: Shop, id: string, now = new Date()): Promise<ImportRecord> {
  const record = await readOne(db, readImport(db, shop.id, id));
  if (!record) throw new Error(`import ${id} has no record for a committed upload`);
  if (record.status !== "staging") return record;
  await failImport(db, shop.id, id, "The upload stopped before the whole file was stored. Upload the file again with a new Idempotency-Key.", now.toISOString());
  return (await readOne(db, readImport(db, shop.id, id)))!;
}

export async function requireImport(db: D1Database, shop: Shop, id: string) {
  const [record, errors] = await readOne(db, together([readImport(db, shop.id, id), readImportErrors(db, shop.id, id, ERRORS_LISTED)] as const));
  if (!record) throw notFound("Import");
  return { record, errors };
}

/** An import as the API answers it, with its first errors by line. */
export function importView(record: ImportRecord, errors: { row: number; message: string }[]) {
  return {
    id: record.id,
    status: record.status === "staging" ? ("queued" as const) : record.status,
    dryRun: record.dryRun,
    source: record.source,
    total: record.total,
    imported: record.imported,
    skipped: record.skipped,
    processed: record.processed,
    errors,
    errorCount: record.errorCount,
    columns: record.columns,
    ignoredColumns: record.ignored,
    failure: record.failure,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    finishedAt: record.finishedAt,
  };
}

/** The refused rows as CSV (`row,message`), for the merchant to fix and upload again. */
export async function importErrorsCsv(db: D1Database, shop: Shop, id: string): Promise<string> {
  await requireImport(db, shop, id);
  const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
  const rows = await allImportErrors(db, shop.id, id);
  return `row,message\n${rows.map((r) => `${r.line},${quote(r.message)}`).join("\n")}${rows.length ? "\n" : ""}`;
}

/** What one chunk's batch writes, and the outcome of each of its rows. */
function planChunk(db: D1Database, shop: Shop, record: ImportRecord, chunk: ImportChunk, now: Date) {
  const at = now.toISOString();
  const tiers = shop.program.tiers;
  const byId = new Map(chunk.byId.map((m) => [m.line, m]));
  const byEmail = new Map<number, ImportChunk["byEmail"]>();
  for (const m of chunk.byEmail) byEmail.set(m.line, [...(byEmail.get(m.line) ?? []), m]);

  const created: NewImportedMember[] = [];
  const profiles: Parameters<typeof fillImportedProfiles>[2] = [];
  const credits: { rowId: number | null; externalId: string; points: number; digest: string }[] = [];
  const tierChanges: Parameters<typeof changeImportedTiers>[2] = [];
  const outcomes: Parameters<typeof markImportRows>[3] = [];
  const membersSeen = new Map<string, number>();
  const tierFor = (current: string | null, imported: string | null, lifetime: number) => {
    const start = rankOf(tiers, imported) > rankOf(tiers, current) ? imported : current;
    return promotedTier(tiers, start, standingFromSpend(lifetime, {}, shop.currency));
  };
  const refuse = (row: ImportRow, message: string) => outcomes.push({ line: row.line, outcome: "error", message });

  for (const row of chunk.rows) {
    let member = row.customerId !== null ? (byId.get(row.line) ?? null) : null;
    if (row.customerId === null) {
      const matches = byEmail.get(row.line) ?? [];
      if (matches.length === 0) {
        refuse(row, `no member has the email ${row.email} yet: add a customer_id column (the customer's id in your shop) or import once the member exists`);
        continue;
      }
      if (matches.length > 1) {
        refuse(row, `${matches.length} members have the email ${row.email}: add a customer_id column to say which one`);
        continue;
      }
      member = matches[0]!;
    }
    const who = member ? `row:${member.rowId}` : `id:${row.customerId}`;
    const earlier = membersSeen.get(who);
    if (earlier !== undefined) {
      refuse(row, `names the same member as line ${earlier}: keep one row per member`);
      continue;
    }
    membersSeen.set(who, row.line);
    if (member?.already) {
      outcomes.push({ line: row.line, outcome: "skipped", message: "already imported (the same member and points, from an earlier upload)" });
      continue;
    }
    if (member) {
      profiles.push({ rowId: member.rowId, email: row.email, firstName: row.firstName, birthday: row.birthday });
      const tier = tierFor(member.tier, row.tier, member.lifetimePoints + row.points);
      if (tier !== member.tier) tierChanges.push({ rowId: member.rowId, from: member.tier, to: tier });
    } else {
      created.push({
        externalId: row.customerId!,
        email: row.email,
        firstName: row.firstName,
        birthday: row.birthday,
        referralCode: newReferralCode(),
        tier: tierFor(null, row.tier, row.points),
      });
    }
    credits.push({ rowId: member?.rowId ?? null, externalId: member?.externalId ?? row.customerId!, points: row.points, digest: row.digest });
    outcomes.push({ line: row.line, outcome: "imported", message: null });
  }

  const count = (outcome: string) => outcomes.filter((o) => o.outcome === outcome).length;
  const step = {
    to: record.nextLine + CHUNK_LINES,
    processed: outcomes.length + chunk.refused,
    imported: count("imported"),
    skipped: count("skipped") + count("error"),
    errors: count("error"),
    at,
    leaseUntil: new Date(Date.now() + LEASE_MS).toISOString(),
  };
  const statements = [importStillAt(db, record.id, record.nextLine)];
  if (created.length) statements.push(insertImportedMembers(db, shop.id, created, at));
  if (profiles.length) statements.push(fillImportedProfiles(db, shop.id, profiles));
  const credit = { shopId: shop.id, importId: record.id, createdAt: at, expiresAt: expiresAt(shop.program, now) };
  const existing = credits.filter((c) => c.points > 0 && c.rowId !== null);
  const fresh = credits.filter((c) => c.points > 0 && c.rowId === null);
  if (existing.length) {
    const rows = existing.map((c) => ({ member: c.rowId!, points: c.points, digest: c.digest }));
    statements.push(appendImportCredits(db, { ...credit, byExternalId: false, rows }));
  }
  if (fresh.length) {
    const rows = fresh.map((c) => ({ member: c.externalId, points: c.points, digest: c.digest }));
    statements.push(appendImportCredits(db, { ...credit, byExternalId: true, rows }));
  }
  if (tierChanges.length) statements.push(changeImportedTiers(db, shop.id, tierChanges, at));
  if (outcomes.length) statements.push(markImportRows(db, shop.id, record.id, outcomes));
  statements.push(advanceImport(db, shop.id, record.id, step));
  return planOf({ done: step.to > record.lastLine, leaseUntil: step.leaseUntil }, { statements });
}

/**
 * Processes an import for up to `budgetMs`, a chunk per batch, if no other worker holds it. `now`
 * dates what it writes (the scheduled handler passes its scheduledTime); leases use the clock.
 */
export async function advanceImportWork(env: Env, shop: Shop, id: string, budgetMs: number, now = new Date()): Promise<void> {
  const db = env.DB;
  const started = Date.now();
  let held = new Date(started + LEASE_MS).toISOString();
  if (!(await leaseImport(db, shop.id, id, new Date(started).toISOString(), held))) return;
  try {
    for (;;) {
      const { value } = await write(
        db,
        shop,
        together([readImport(db, shop.id, id), readImportChunk(db, shop.id, id, CHUNK_LINES)] as const),
        ([record, chunk]) =>
          record?.status === "running" ? planChunk(db, shop, record, chunk, now) : planOf({ done: true, leaseUntil: held }, {}),
        now,
      );
      held = value.leaseUntil;
      if (value.done) return;
      if (Date.now() - started > budgetMs) break;
    }
    await releaseImport(db, shop.id, id, held);
  } catch (err) {
    const line = (await readOne(db, readImport(db, shop.id, id)))?.nextLine ?? 0;
    console.error(JSON.stringify({ level: "error", message: "import processing failed", shop: shop.id, import: id, error: String(err) }));
    await failImport(
      db,
      shop.id,
      id,
      `Processing stopped at line ${line}: ${err instanceof ApiError ? err.message : "an unexpected error"}. The rows before it are imported; upload the rest again.`,
      new Date().toISOString(),
    );
  }
}

/** An import a read found waiting for a worker (or whose worker died), worth carrying further. */
export function waitingForWork(record: ImportRecord, now = Date.now()): boolean {
  return (record.status === "queued" || record.status === "running") && (record.leaseUntil === null || Date.parse(record.leaseUntil) <= now);
}

/** The cron's part: every unfinished import nobody carries, and uploads that stopped half-way given up. */
export async function resumeImports(env: Env, now: Date): Promise<number> {
  let resumed = 0;
  for (const waiting of await unfinishedImports(env.DB, new Date().toISOString(), 20)) {
    const shop = await shopById(env.DB, waiting.shop_id);
    if (!shop) continue;
    if (waiting.status === "staging") {
      if (Date.now() - Date.parse(waiting.created_at) > STAGING_ABANDONED_MS) await recordedImport(env.DB, shop, waiting.id, now);
      continue;
    }
    await advanceImportWork(env, shop, waiting.id, CRON_BUDGET_MS, now);
    resumed++;
  }
  return resumed;
}
