/**
 * Importing members from another program: a CSV file read as it comes from Laurel's
 * own template, a Smile.io customer export or a LoyaltyLion customer export. The first row names
 * the columns (any case, spaces or underscores); each later row is checked on its own, so a bad row
 * is reported with its line in the file (the header is line 1) and the good rows still land.
 *
 * The exports' column names, from their help centres and APIs: Smile.io's customer export (Customers
 * > Filter and export > Download results) names "Email", "First name", "Last name", "Points
 * balance", "VIP tier", "Date of birth" (a year of 1004 means day and month only) and "Member
 * status"; its import takes "email" and "points". LoyaltyLion's customer export names
 * "Merchant ID" (the customer's id in the shop's platform), "Email", "First name", "Points
 * approved" (what the member can spend), "Points pending", "Points spent", "Tier" and "Birthday".
 * Columns Laurel has no use for (last names, addresses, pending or spent points of the old program)
 * are ignored and listed.
 */

/** What Laurel reads from a row. */
export type ImportField = "customerId" | "email" | "firstName" | "name" | "points" | "tier" | "birthday";

/**
 * Header names per field, normalised (lower case, runs of anything but letters and digits as one
 * "_"), in order of preference: Laurel's own first, then the exports'.
 */
const ALIASES: Record<ImportField, string[]> = {
  customerId: ["customer_id", "id", "merchant_id", "external_id", "shopify_customer_id", "shopify_id", "customerid"],
  email: ["email", "email_address", "customer_email", "e_mail"],
  firstName: ["first_name", "firstname", "given_name", "customer_first_name"],
  name: ["name", "customer_name", "full_name"],
  points: ["points", "points_balance", "points_approved", "balance", "available_points", "point_balance", "current_points", "loyalty_points"],
  tier: ["tier", "vip_tier", "vip_tier_name", "tier_name", "loyalty_tier", "current_tier"],
  birthday: ["birthday", "date_of_birth", "birth_date", "birthdate", "dob"],
};

/** Where a file seems to come from, by the columns only one of them names. */
export type ImportSource = "laurel" | "smile" | "loyaltylion";

export const MAX_IMPORT_ROWS = 200_000;
const MAX_POINTS = 1_000_000_000;

export function normalizeHeader(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

export interface ImportColumns {
  /** The column index of each field found. */
  index: Partial<Record<ImportField, number>>;
  /** The header as written, per field found (what the import shows it used). */
  used: Partial<Record<ImportField, string>>;
  ignored: string[];
  source: ImportSource;
  width: number;
}

export type HeaderResult = { ok: true; columns: ImportColumns } | { ok: false; message: string; details: { path: string; message: string }[] };

/** The columns of the header row, or what is wrong with it (the whole file is then refused). */
export function importColumns(header: string[]): HeaderResult {
  const index: ImportColumns["index"] = {};
  const used: ImportColumns["used"] = {};
  const ignored: string[] = [];
  const details: { path: string; message: string }[] = [];
  const byField = new Map<ImportField, number>();
  header.forEach((raw, i) => {
    const name = normalizeHeader(raw);
    const field = (Object.keys(ALIASES) as ImportField[]).find((f) => ALIASES[f].includes(name));
    if (!field) {
      if (raw.trim()) ignored.push(raw.trim());
      return;
    }
    const earlier = byField.get(field);
    if (earlier !== undefined) {
      details.push({ path: `header.${i + 1}`, message: `"${raw.trim()}" and "${header[earlier]!.trim()}" both give ${field}: keep one` });
      return;
    }
    byField.set(field, i);
    index[field] = i;
    used[field] = raw.trim();
  });
  if (index.customerId === undefined && index.email === undefined) {
    details.push({ path: "header", message: "name a customer_id (or id) column, or an email column, to say whose points each row carries" });
  }
  if (index.points === undefined) {
    details.push({
      path: "header",
      message: 'name a points column (Smile.io exports call it "Points balance", LoyaltyLion "Points approved")',
    });
  }
  if (details.length) {
    const found = header.map((h) => `"${h.trim()}"`).join(", ");
    return { ok: false, message: `The first row must name the columns; it names ${found || "nothing"}. See details.`, details };
  }
  const names = new Set(header.map(normalizeHeader));
  const source: ImportSource = names.has("points_approved") || names.has("merchant_id")
    ? "loyaltylion"
    : names.has("points_balance") || names.has("vip_tier") || names.has("date_of_birth")
      ? "smile"
      : "laurel";
  // A Smile.io export's "ID" is Smile's own number for the customer, not the shop's: such files
  // are matched by email, as Smile's own import does.
  if (source === "smile" && index.email !== undefined && normalizeHeader(used.customerId ?? "") === "id") {
    ignored.push(used.customerId!);
    delete index.customerId;
    delete used.customerId;
  }
  return { ok: true, columns: { index, used, ignored, source, width: header.length } };
}

/** One record of the file: its cells and the line it starts on. */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/**
 * RFC 4180 records: quoted cells may hold the separator, doubled quotes and line breaks; CRLF or LF;
 * a leading byte-order mark is dropped; blank lines are skipped. The separator is "," unless the
 * first line has none and has ";" (spreadsheets in many European locales save CSV that way).
 * A quote that is never closed ends the file with that record marked `unclosed`.
 */
export function parseCsv(text: string): { records: CsvRecord[]; unclosedAt: number | null } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const firstLine = body.slice(0, body.search(/\r?\n|$/));
  const separator = !firstLine.includes(",") && firstLine.includes(";") ? ";" : ",";
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = "";
  let line = 1;
  let start = 1;
  let quoted = false;
  let i = 0;
  const end = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0]!.trim() !== "") records.push({ line: start, cells });
    cells = [];
    cell = "";
  };
  while (i < body.length) {
    const ch = body[i]!;
    if (quoted) {
      if (ch === '"') {
        if (body[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (ch === "\n") line++;
        cell += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && cell.trim() === "") {
      quoted = true;
      cell = "";
    } else if (ch === separator) {
      cells.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && body[i + 1] === "\n") i++;
      end();
      line++;
      start = line;
    } else {
      cell += ch;
    }
    i++;
  }
  if (quoted) return { records, unclosedAt: start };
  if (cell !== "" || cells.length) end();
  return { records, unclosedAt: null };
}

/** A row as it will be imported. */
export interface ImportRow {
  line: number;
  customerId: string | null;
  /** Lower case, for matching members. */
  email: string | null;
  firstName: string | null;
  points: number;
  tier: string | null;
  birthday: string | null;
  /** Identifies the row's content: with the member's row, the key of its ledger credit. */
  digest: string;
}

export type RowResult = { ok: true; row: ImportRow } | { ok: false; line: number; message: string };

export interface RowRules {
  /** The program's tier names. */
  tiers: string[];
  /** Shopify shops: customer ids are Shopify's numeric ids. */
  shopify: boolean;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A birthday as stored ("YYYY-MM-DD" or "MM-DD"); Smile's year 1004 (and 0000) means no year. */
export function importBirthday(text: string): string | null | undefined {
  const match = /^(?:(\d{4})-|--)?(\d{1,2})-(\d{1,2})$/.exec(text.replace(/\//g, "-"));
  if (!match) return undefined;
  const [, yearText, monthText, dayText] = match;
  const month = Number(monthText);
  const day = Number(dayText);
  const year = yearText === undefined || yearText === "1004" || yearText === "0000" ? null : Number(yearText);
  const probe = new Date(Date.UTC(year ?? 2000, month - 1, day));
  if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day || (year !== null && (year < 1900 || year > 2100))) {
    return undefined;
  }
  const monthDay = `${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  return year === null ? monthDay : `${year}-${monthDay}`;
}

/** FNV-1a over two 32-bit lanes: a 64-bit fingerprint of a row's content (not a secret). */
export function rowDigest(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x01000193 + 2) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/** One record checked: the row to import, or what is wrong with it and how to fix it. */
export function importRow(record: CsvRecord, columns: ImportColumns, rules: RowRules): RowResult {
  const { line, cells } = record;
  const bad = (message: string): RowResult => ({ ok: false, line, message });
  if (cells.length > columns.width && cells.slice(columns.width).some((c) => c.trim() !== "")) {
    return bad(`has ${cells.length} values but the first row names ${columns.width} columns (a comma inside a value needs quotes)`);
  }
  const cell = (field: ImportField) => {
    const i = columns.index[field];
    return i === undefined ? "" : (cells[i] ?? "").trim();
  };

  let customerId: string | null = cell("customerId") || null;
  if (customerId !== null) {
    const gid = /^gid:\/\/shopify\/Customer\/(\d+)$/.exec(customerId);
    if (gid) customerId = gid[1]!;
    if (customerId.length > 255 || customerId === "." || customerId === "..") return bad("the customer id must be 1-255 characters");
    if (rules.shopify && !/^\d{1,20}$/.test(customerId)) return bad(`"${customerId}" is not a Shopify customer id (a number)`);
  }
  const emailText = cell("email");
  if (emailText && (emailText.length > 320 || !EMAIL.test(emailText))) return bad(`"${emailText}" is not an email address`);
  const email = emailText ? emailText.toLowerCase() : null;
  if (customerId === null && email === null) return bad("has neither a customer id nor an email: fill in one of them");

  const pointsText = cell("points").replace(/[\s_]/g, "");
  let points = 0;
  if (pointsText !== "") {
    if (/^-\d/.test(pointsText)) return bad(`has ${pointsText} points: a balance carried over cannot be negative`);
    if (!/^\d+$/.test(pointsText)) return bad(`points "${cell("points")}" is not a whole number (write 52620, without separators)`);
    points = Number(pointsText);
    if (points > MAX_POINTS) return bad(`${pointsText} points is more than a balance can hold (at most ${MAX_POINTS})`);
  }

  const tierText = cell("tier");
  let tier: string | null = null;
  if (tierText) {
    tier = rules.tiers.find((name) => name.toLowerCase() === tierText.toLowerCase()) ?? null;
    if (tier === null) {
      return bad(
        rules.tiers.length
          ? `tier "${tierText}" is not one of the program's tiers (${rules.tiers.join(", ")}): rename it or add the tier first`
          : `tier "${tierText}": the program has no tiers yet; add them before importing tiers, or leave the column empty`,
      );
    }
  }

  const birthdayText = cell("birthday");
  let birthday: string | null = null;
  if (birthdayText) {
    const parsed = importBirthday(birthdayText);
    if (!parsed) return bad(`birthday "${birthdayText}" is not a date: write YYYY-MM-DD or MM-DD`);
    birthday = parsed;
  }

  const firstName = (cell("firstName") || cell("name").split(/\s+/)[0] || "").slice(0, 100) || null;
  const digest = rowDigest(`${customerId ?? ""}|${email ?? ""}|${points}`);
  return { ok: true, row: { line, customerId, email, firstName, points, tier, birthday, digest } };
}

/** Every record checked, and a member named twice in one file refused the second time. */
export function importRows(records: CsvRecord[], columns: ImportColumns, rules: RowRules): RowResult[] {
  const seen = new Map<string, number>();
  return records.map((record) => {
    const result = importRow(record, columns, rules);
    if (!result.ok) return result;
    const who = result.row.customerId !== null ? `id:${result.row.customerId}` : `email:${result.row.email}`;
    const earlier = seen.get(who);
    if (earlier !== undefined) {
      return { ok: false, line: record.line, message: `names the same customer as line ${earlier}: keep one row per customer` };
    }
    seen.set(who, record.line);
    return result;
  });
}
