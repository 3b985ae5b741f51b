/**
 * D1 has no interactive transactions: a multi-statement write is one atomic `batch()`. Writes are
 * planned from a read; when the read went stale (a unique key, the balance CHECK or a write guard
 * refuses the batch), nothing was written and the caller reads again and re-plans
 * (services/pipeline.ts is the one place that does).
 */

/** What refused a batch: a unique key of `table`, a CHECK (by its name or expression), NOT NULL. */
export interface Refusal {
  kind: "unique" | "check" | "not_null";
  /** The table of a unique or NOT NULL constraint; null for a CHECK. */
  table: string | null;
  /** The constrained columns (unique, NOT NULL) or the CHECK's name or expression. */
  target: string;
}

export class StaleWrite extends Error {
  constructor(readonly refusal: Refusal) {
    super(`write refused by ${refusal.kind} constraint ${refusal.table ? `${refusal.table}: ` : ""}${refusal.target}`);
    this.name = "StaleWrite";
  }

  /** Whether a unique key of `table` (on `column`, when given) refused the batch: someone else wrote that row first. */
  uniqueOn(table: string, column?: string): boolean {
    const { kind, table: refused, target } = this.refusal;
    return kind === "unique" && refused === table && (column === undefined || target.split(", ").includes(column));
  }
}

// SQLite's own wording of the constraint that refused a statement; the only place it is parsed.
const UNIQUE = /UNIQUE constraint failed: ([\w]+)\.([\w., ]+)/;
const CHECK = /CHECK constraint failed: ([\w ><=!()']+)/;
const NOT_NULL = /NOT NULL constraint failed: ([\w]+)\.([\w]+)/;

/** The constraint behind a D1 error, or null when the error is something else. */
export function refusalOf(err: unknown): Refusal | null {
  const message = String((err as Error)?.message ?? err);
  let match = UNIQUE.exec(message);
  if (match) return { kind: "unique", table: match[1]!, target: match[2]!.replace(new RegExp(`${match[1]}\\.`, "g"), "") };
  match = CHECK.exec(message);
  if (match) return { kind: "check", table: null, target: match[1]!.trim() };
  match = NOT_NULL.exec(message);
  if (match) return { kind: "not_null", table: match[1]!, target: match[2]! };
  return null;
}

/** Runs one atomic batch; constraint refusals become StaleWrite, anything else is rethrown. */
export async function commit(db: D1Database, statements: D1PreparedStatement[]): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  try {
    return await db.batch(statements);
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) throw new StaleWrite(refusal);
    throw err;
  }
}

/**
 * The one way to write a version guard: a statement that fails the batch (CHECK `stale_read` of
 * write_guards) unless `condition` (SQL with bound params) still holds when the batch runs.
 */
export function guard(db: D1Database, condition: string, ...params: unknown[]): D1PreparedStatement {
  return db.prepare(`INSERT INTO write_guards (ok) SELECT 0 WHERE NOT (${condition})`).bind(...params);
}

/**
 * A read that runs alone or together with others in ONE batch (one round trip, one snapshot):
 * its statements, and how their results become a value.
 */
export interface Read<T> {
  statements: D1PreparedStatement[];
  parse(results: D1Result[]): T;
}

/** The value a Read gives. */
export type ReadValue<T> = T extends Read<infer V> ? V : never;

/** A read that needs no statement (a plan's input that is known without asking). */
export const known = <T>(value: T): Read<T> => ({ statements: [], parse: () => value });

type Values<R extends readonly Read<unknown>[]> = { -readonly [K in keyof R]: R[K] extends Read<infer T> ? T : never };

/** Runs the reads as one batch and parses each one's results. */
export async function readTogether<const R extends readonly Read<unknown>[]>(db: D1Database, reads: R): Promise<Values<R>> {
  return readOne(db, together(reads));
}

/** Several reads as one Read (their statements in one batch). */
export function together<const R extends readonly Read<unknown>[]>(reads: R): Read<Values<R>> {
  return {
    statements: reads.flatMap((read) => read.statements),
    parse: (results) => {
      let at = 0;
      return reads.map((read) => {
        const mine = results.slice(at, at + read.statements.length);
        at += read.statements.length;
        return read.parse(mine);
      }) as Values<R>;
    },
  };
}

/** A read whose value is derived from another's. */
export function mapRead<A, B>(read: Read<A>, map: (value: A) => B): Read<B> {
  return { statements: read.statements, parse: (results) => map(read.parse(results)) };
}

/** One read on its own. */
export async function readOne<T>(db: D1Database, read: Read<T>): Promise<T> {
  const results = read.statements.length ? await db.batch(read.statements) : [];
  return read.parse(results);
}

/** A read of the first row of one statement, or null. */
export function firstRow<Row, T>(statement: D1PreparedStatement, map: (row: Row) => T): Read<T | null> {
  return {
    statements: [statement],
    parse: ([result]) => {
      const row = result?.results[0] as Row | undefined;
      return row === undefined ? null : map(row);
    },
  };
}

/** A read of every row of one statement. */
export function allRows<Row, T>(statement: D1PreparedStatement, map: (row: Row) => T): Read<T[]> {
  return { statements: [statement], parse: ([result]) => ((result?.results ?? []) as Row[]).map(map) };
}

/** Whether one statement returns a row. */
export function exists(statement: D1PreparedStatement): Read<boolean> {
  return mapRead(firstRow(statement, () => true), (found) => found ?? false);
}
