/**
 * Moving a shop's rows from one database to another (services/moves.ts). The tables are read
 * from SQLite's own catalogue rather than listed here, so a table another migration adds moves
 * too. Identifiers are the catalogue's, checked against a plain-name pattern; values are always
 * bound parameters.
 */

/** Tables that are not a shop's rows: the migrations' own, the directory, and what triggers derive. */
const NOT_COPIED = new Set(["d1_migrations", "sqlite_sequence", "write_guards", "shop_origins", "shop_placements", "shop_directory"]);
/**
 * Integer columns that hold another table's row id without declaring a foreign key (the outbox's).
 * Declared foreign keys are found in the catalogue.
 */
const UNDECLARED_POINTERS: Record<string, string> = { customer_id: "customers", ledger_id: "ledger" };
/** Counters the ledger's triggers keep on each member: copied as 0, then moved by the replayed ledger. */
const LEDGER_KEPT = new Set(["balance", "lifetime_points"]);

export interface TableShape {
  name: string;
  columns: string[];
  /** The INTEGER PRIMARY KEY (the rowid): each copied row gets a new one in the other database. */
  rowidKey: string | null;
  /** What the rows are read in: the primary key, else the rowid. */
  orderBy: string;
  /** Integer columns pointing at another table's rowid key, and that table. */
  pointers: { column: string; table: string }[];
  /** Tables its rows point at (foreign keys and pointers): copied before it. */
  after: string[];
  /** Rows the catalogue's triggers insert (the outbox): copied last, over what the copy's own inserts made. */
  triggerWritten: boolean;
}

const q = (name: string) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Unexpected identifier in the catalogue: ${name}`);
  return `"${name}"`;
};

/** The column that says which shop a row belongs to. */
const shopColumn = (table: string) => (table === "shops" ? "id" : "shop_id");

export async function tableShapes(db: D1Database): Promise<TableShape[]> {
  const { results: catalogue } = await db
    .prepare("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'trigger') ORDER BY name")
    .all<{ type: string; name: string; sql: string | null }>();
  const triggerTargets = new Set<string>();
  for (const trigger of catalogue.filter((entry) => entry.type === "trigger")) {
    for (const match of (trigger.sql ?? "").matchAll(/INSERT\s+(?:OR\s+\w+\s+)?INTO\s+"?(\w+)"?/gi)) triggerTargets.add(match[1]!);
  }
  const names = catalogue
    .filter((entry) => entry.type === "table" && !NOT_COPIED.has(entry.name) && !entry.name.startsWith("_cf_") && !entry.name.startsWith("sqlite_"))
    .map((entry) => entry.name);
  const described = await db.batch(
    names.flatMap((name) => [
      db.prepare("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid").bind(name),
      db.prepare('SELECT "table" AS target, "from" AS source FROM pragma_foreign_key_list(?)').bind(name),
    ]),
  );
  const raw = names.map((name, i) => {
    const columns = described[2 * i]!.results as { name: string; type: string; pk: number }[];
    const keys = columns.filter((column) => column.pk > 0).sort((a, b) => a.pk - b.pk);
    const rowidKey = keys.length === 1 && keys[0]!.type.toUpperCase() === "INTEGER" ? keys[0]!.name : null;
    return {
      name,
      columns: columns.map((column) => column.name),
      rowidKey,
      orderBy: keys.length > 0 ? keys.map((key) => q(key.name)).join(", ") : "rowid",
      declared: described[2 * i + 1]!.results as { target: string; source: string }[],
    };
  });
  const withRowid = new Set(raw.filter((shape) => shape.rowidKey).map((shape) => shape.name));
  return raw.map(({ declared, ...shape }) => {
    const pointers = shape.columns.flatMap((column) => {
      const table = declared.find((key) => key.source === column)?.target ?? UNDECLARED_POINTERS[column];
      return table && withRowid.has(table) && table !== shape.name ? [{ column, table }] : [];
    });
    const after = [...new Set([...declared.map((key) => key.target), ...pointers.map((pointer) => pointer.table)])].filter(
      (table) => table !== shape.name && names.includes(table),
    );
    return { ...shape, pointers, after, triggerWritten: triggerTargets.has(shape.name) };
  });
}

/** Tables a move cannot place: no shop column, so their rows would be left behind. */
export const unplaceable = (shapes: TableShape[]) => shapes.filter((shape) => !shape.columns.includes(shopColumn(shape.name)));

/** Tables in copy order: every table after those its rows point at; those that triggers write, last. */
export function copyOrder(shapes: TableShape[]): TableShape[] {
  const ordered: TableShape[] = [];
  const placed = new Set<string>();
  const pending = [...shapes].sort((a, b) => Number(a.triggerWritten) - Number(b.triggerWritten) || rank(a.name) - rank(b.name));
  while (pending.length > 0) {
    const next = pending.findIndex((shape) => shape.after.every((table) => placed.has(table)));
    if (next < 0) throw new Error(`Tables point at each other: ${pending.map((shape) => shape.name).join(", ")}`);
    const [shape] = pending.splice(next, 1);
    ordered.push(shape!);
    placed.add(shape!.name);
  }
  return ordered;
}

const FIRST = ["shops", "customers", "ledger"];
const rank = (name: string) => (FIRST.includes(name) ? FIRST.indexOf(name) : FIRST.length);

/** Old row id -> new row id, per table, as the copy assigns them. */
export type RowIds = Map<string, Map<number, number>>;

const PAGE = 80;

/**
 * Copies one table's rows of the shop, in primary-key order (the ledger in entry order, so its
 * triggers check every balance_after again), mapping row ids the rows point at. A row keeps its
 * id while the target has it free (the API shows ledger entry ids); from the first id taken
 * there on, rows get new ones, which SQLite makes larger than any before, so their order holds.
 * Rows the copy's triggers already made in this table (the outbox) are replaced by the source's.
 */
export async function copyTable(source: D1Database, target: D1Database, shape: TableShape, shopId: string, ids: RowIds): Promise<number> {
  const filter = `${q(shopColumn(shape.name))} = ?`;
  if (shape.triggerWritten) await target.prepare(`DELETE FROM ${q(shape.name)} WHERE ${filter}`).bind(shopId).run();
  const key = shape.rowidKey;
  const columns = shape.columns.filter((column) => column !== key);
  const insertOf = (withKey: boolean) => {
    const listed = withKey && key ? [key, ...columns] : columns;
    return (
      `INSERT INTO ${q(shape.name)} (${listed.map(q).join(", ")}) VALUES (${listed.map(() => "?").join(", ")})` +
      (key ? ` RETURNING ${q(key)} AS key` : "")
    );
  };
  const [keeping, renumbering] = [insertOf(true), insertOf(false)];
  let keep = key !== null;
  const own = key ? new Map<number, number>() : null;
  if (own) ids.set(shape.name, own);
  const pointers = new Map(shape.pointers.map((pointer) => [pointer.column, pointer.table]));
  const values = (row: Record<string, unknown>) =>
    columns.map((column) => {
      if (shape.name === "customers" && LEDGER_KEPT.has(column)) return 0;
      const value = row[column] ?? null;
      const table = pointers.get(column);
      if (!table || value === null) return value;
      const mapped = ids.get(table)?.get(value as number);
      if (mapped === undefined) throw new Error(`${shape.name}.${column} points at ${table} row ${String(value)}, which is not the shop's`);
      return mapped;
    });
  let copied = 0;
  for (;;) {
    const { results } = await source
      .prepare(`SELECT * FROM ${q(shape.name)} WHERE ${filter} ORDER BY ${shape.orderBy} LIMIT ? OFFSET ?`)
      .bind(shopId, PAGE, copied)
      .all<Record<string, unknown>>();
    if (results.length === 0) break;
    let kept = 0;
    if (keep && key) {
      const pageIds = results.map((row) => row[key] as number);
      const { results: taken } = await target
        .prepare(`SELECT ${q(key)} AS key FROM ${q(shape.name)} WHERE ${q(key)} IN (${pageIds.map(() => "?").join(", ")})`)
        .bind(...pageIds)
        .all<{ key: number }>();
      const takenIds = new Set(taken.map((row) => row.key));
      kept = pageIds.findIndex((id) => takenIds.has(id));
      if (kept < 0) kept = results.length;
      else keep = false;
    }
    const statements = results.map((row, i) =>
      i < kept ? target.prepare(keeping).bind(row[key!], ...values(row)) : target.prepare(renumbering).bind(...values(row)),
    );
    const written = await target.batch([target.prepare("PRAGMA defer_foreign_keys = ON"), ...statements]).catch((err: unknown) => {
      throw new Error(`Copying ${shape.name} failed: ${String(err)}`, { cause: err });
    });
    if (own) {
      for (const [i, row] of results.entries()) own.set(row[key!] as number, (written[i + 1]!.results[0] as { key: number }).key);
    }
    copied += results.length;
    if (results.length < PAGE) break;
  }
  return copied;
}

/** After the ledger's replay: every member's other columns as the source has them, the replayed balance kept. */
export async function restoreMembers(source: D1Database, target: D1Database, shape: TableShape, shopId: string, ids: RowIds): Promise<void> {
  const customers = ids.get("customers");
  if (!customers || customers.size === 0) return;
  const columns = shape.columns.filter((column) => column !== shape.rowidKey && column !== "balance");
  const update = `UPDATE customers SET ${columns.map((column) => `${q(column)} = ?`).join(", ")} WHERE id = ?`;
  for (let offset = 0; ; offset += PAGE) {
    const { results } = await source
      .prepare("SELECT * FROM customers WHERE shop_id = ? ORDER BY id LIMIT ? OFFSET ?")
      .bind(shopId, PAGE, offset)
      .all<Record<string, unknown>>();
    if (results.length === 0) break;
    await target.batch(results.map((row) => target.prepare(update).bind(...columns.map((column) => row[column] ?? null), customers.get(row.id as number)!)));
    if (results.length < PAGE) break;
  }
}

/** The shop's row count in each table, and its members' balances by external id: what must match after a copy. */
export async function shopFingerprint(db: D1Database, shapes: TableShape[], shopId: string): Promise<string> {
  const counted = await db.batch([
    ...shapes.map((shape) => db.prepare(`SELECT COUNT(*) AS n FROM ${q(shape.name)} WHERE ${q(shopColumn(shape.name))} = ?`).bind(shopId)),
    db.prepare("SELECT group_concat(external_id || '=' || balance, ',') AS balances FROM (SELECT external_id, balance FROM customers WHERE shop_id = ? ORDER BY external_id)").bind(shopId),
  ]);
  const counts = shapes.map((shape, i) => `${shape.name}:${(counted[i]!.results[0] as { n: number }).n}`);
  return `${counts.join(" ")} | ${(counted[shapes.length]!.results[0] as { balances: string | null }).balances ?? ""}`;
}

/**
 * Every row of the shop in one database, in one atomic batch: the shop row first (the ledger
 * refuses deletes while its shop exists), foreign keys checked when the batch ends.
 */
export async function deleteShopRows(db: D1Database, shapes: TableShape[], shopId: string): Promise<void> {
  const tables = ["shops", ...shapes.map((shape) => shape.name).filter((name) => name !== "shops")];
  await db.batch([
    db.prepare("PRAGMA defer_foreign_keys = ON"),
    ...tables.map((name) => db.prepare(`DELETE FROM ${q(name)} WHERE ${q(shopColumn(name))} = ?`).bind(shopId)),
  ]);
}

/** The shop's row as the directory lists it. */
export async function shopKeysIn(db: D1Database, shopId: string) {
  return db
    .prepare("SELECT id, public_key, secret_key_hash, shopify_domain, origins FROM shops WHERE id = ?")
    .bind(shopId)
    .first<{ id: string; public_key: string; secret_key_hash: string; shopify_domain: string | null; origins: string }>();
}
