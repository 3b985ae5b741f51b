/**
 * D1 has no interactive transactions: a multi-statement write is one atomic `batch()`. Writes are
 * planned from a read; when the read went stale (a unique key, the balance CHECK or a write guard
 * refuses the batch), nothing was written and the caller reads again and re-plans.
 */

export class StaleWrite extends Error {
  constructor(readonly constraint: string) {
    super(`write refused by ${constraint}`);
    this.name = "StaleWrite";
  }
}

const CONSTRAINT = /(UNIQUE constraint failed[^:]*: [\w., ]+|CHECK constraint failed: [\w ]+|stale_read|NOT NULL constraint failed[^:]*: [\w.]+)/i;

/** Runs one atomic batch; constraint refusals become StaleWrite, anything else is rethrown. */
export async function commit(db: D1Database, statements: D1PreparedStatement[]): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  try {
    return await db.batch(statements);
  } catch (err) {
    const match = CONSTRAINT.exec(String((err as Error)?.message ?? err));
    if (match) throw new StaleWrite(match[1]!);
    throw err;
  }
}

/** A statement that fails the batch unless `condition` (SQL with bound params) still holds. */
export function guard(db: D1Database, condition: string, ...params: unknown[]): D1PreparedStatement {
  return db.prepare(`INSERT INTO write_guards (ok) SELECT 0 WHERE NOT (${condition})`).bind(...params);
}

/**
 * What withFreshRead did since the isolate started: calls, plans (a call's first plan and every
 * re-plan after a stale read) and calls that gave up. Reported only by the bench's counters route
 * (worker/routes/bench.ts, behind the BENCH var), so contention's retries are measured, not guessed.
 */
export const freshReadCounts = { calls: 0, attempts: 0, exhausted: 0 };

/**
 * Plans and commits until a plan lands on fresh data. Each attempt re-reads, so a duplicate
 * delivery that lost the race is seen as a duplicate on its next read.
 */
export async function withFreshRead<T>(attempt: () => Promise<T>, tries = 8): Promise<T> {
  freshReadCounts.calls++;
  for (let i = 1; ; i++) {
    freshReadCounts.attempts++;
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof StaleWrite && i >= tries) freshReadCounts.exhausted++;
      if (!(err instanceof StaleWrite) || i >= tries) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * i));
    }
  }
}

/**
 * A read that runs alone or together with others in ONE batch (one round trip, one snapshot):
 * its statements, and how their results become a value.
 */
export interface Read<T> {
  statements: D1PreparedStatement[];
  parse(results: D1Result[]): T;
}

type Values<R extends readonly Read<unknown>[]> = { -readonly [K in keyof R]: R[K] extends Read<infer T> ? T : never };

/** Runs the reads as one batch and parses each one's results. */
export async function readTogether<const R extends readonly Read<unknown>[]>(db: D1Database, reads: R): Promise<Values<R>> {
  const statements = reads.flatMap((read) => read.statements);
  const results = statements.length ? await db.batch(statements) : [];
  let at = 0;
  return reads.map((read) => {
    const mine = results.slice(at, at + read.statements.length);
    at += read.statements.length;
    return read.parse(mine);
  }) as Values<R>;
}

/** One read on its own. */
export async function readOne<T>(db: D1Database, read: Read<T>): Promise<T> {
  const [value] = await readTogether(db, [read] as const);
  return value as T;
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
