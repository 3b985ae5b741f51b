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
 * Plans and commits until a plan lands on fresh data. Each attempt re-reads, so a duplicate
 * delivery that lost the race is seen as a duplicate on its next read.
 */
export async function withFreshRead<T>(attempt: () => Promise<T>, tries = 8): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof StaleWrite) || i >= tries) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * i));
    }
  }
}
