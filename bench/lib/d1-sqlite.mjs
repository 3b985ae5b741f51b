/**
 * Just enough of the D1 and KV binding APIs over node:sqlite and a Map to run the worker's own
 * code in Node, so the bench can EXPLAIN QUERY PLAN exactly the statements a request executes
 * (bench/lib/explain.mjs). D1 is SQLite; the planner decides the same way for the same schema.
 * `onStatement(sql, params)` sees every statement before it runs; `stats` adds up SQLite's time.
 */
import { DatabaseSync } from "node:sqlite";

const toParam = (value) => {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return value;
};

export function createD1(onStatement = () => {}) {
  const sqlite = new DatabaseSync(":memory:");
  sqlite.exec("PRAGMA foreign_keys = ON");
  const cache = new Map();
  const prepared = (sql) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = sqlite.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };

  // Time spent inside SQLite, per statement: D1 runs a database's statements one at a time.
  const stats = { us: 0, statements: 0 };
  function execute(sql, params) {
    onStatement(sql, params);
    const started = performance.now();
    const rows = prepared(sql).all(...params);
    stats.us += (performance.now() - started) * 1000;
    stats.statements++;
    const { c: changes, r: lastRowId } = prepared("SELECT changes() AS c, last_insert_rowid() AS r").get();
    return { results: rows.map((row) => ({ ...row })), success: true, meta: { changes, last_row_id: lastRowId, duration: 0 } };
  }

  class Statement {
    constructor(sql, params = []) {
      this.sql = sql;
      this.params = params;
    }
    bind(...values) {
      return new Statement(this.sql, values.map(toParam));
    }
    async all() {
      return execute(this.sql, this.params);
    }
    async run() {
      return execute(this.sql, this.params);
    }
    async first(column) {
      const row = execute(this.sql, this.params).results[0];
      if (row === undefined) return null;
      return column === undefined ? row : row[column];
    }
    async raw() {
      return execute(this.sql, this.params).results.map((row) => Object.values(row));
    }
  }

  const db = {
    prepare: (sql) => new Statement(sql),
    async batch(statements) {
      sqlite.exec("BEGIN");
      try {
        const results = statements.map((s) => execute(s.sql, s.params));
        sqlite.exec("COMMIT");
        return results;
      } catch (err) {
        sqlite.exec("ROLLBACK");
        // D1 reports constraint failures with SQLite's message in the error text.
        throw new Error(`D1_ERROR: ${err.message}`);
      }
    },
    async exec(sql) {
      sqlite.exec(sql);
      return { count: 0, duration: 0 };
    },
  };
  return { db, sqlite, stats };
}

export function createKV() {
  const store = new Map();
  return {
    async get(key, type) {
      const value = store.get(key);
      if (value === undefined) return null;
      const format = typeof type === "string" ? type : type?.type;
      return format === "json" ? JSON.parse(value) : value;
    },
    async put(key, value) {
      store.set(key, typeof value === "string" ? value : String(value));
    },
    async delete(key) {
      store.delete(key);
    },
    async list() {
      return { keys: [...store.keys()].map((name) => ({ name })), list_complete: true };
    },
  };
}
