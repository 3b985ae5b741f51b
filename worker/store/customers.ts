/** Customers (members) of a shop. Balances change only through ledger inserts (see ledger.ts). */
import { allRows, firstRow, type Read, readOne } from "./batch";
import { eraseNotesInAnswers } from "./idempotency";
import { redactFeedbackStatements } from "./feedback";
import { redactNpsStatements } from "./nps";
import { redactReferralStatements } from "./referrals";

export interface Customer {
  rowId: number;
  externalId: string;
  email: string | null;
  firstName: string | null;
  birthday: string | null;
  referralCode: string;
  balance: number;
  lifetimePoints: number;
  tier: string | null;
  tierSince: string | null;
  orderCount: number;
  totalSpent: number;
  lastOrderAt: string | null;
  createdAt: string;
  redactedAt: string | null;
}

interface CustomerRow {
  id: number;
  external_id: string;
  email: string | null;
  first_name: string | null;
  birthday: string | null;
  referral_code: string;
  balance: number;
  lifetime_points: number;
  tier: string | null;
  tier_since: string | null;
  order_count: number;
  total_spent: number;
  last_order_at: string | null;
  created_at: string;
  redacted_at: string | null;
}

const COLUMNS =
  "id, external_id, email, first_name, birthday, referral_code, balance, lifetime_points, tier, tier_since, order_count, total_spent, last_order_at, created_at, redacted_at";

function toCustomer(row: CustomerRow): Customer {
  return {
    rowId: row.id,
    externalId: row.external_id,
    email: row.email,
    firstName: row.first_name,
    birthday: row.birthday,
    referralCode: row.referral_code,
    balance: row.balance,
    lifetimePoints: row.lifetime_points,
    tier: row.tier,
    tierSince: row.tier_since,
    orderCount: row.order_count,
    totalSpent: row.total_spent,
    lastOrderAt: row.last_order_at,
    createdAt: row.created_at,
    redactedAt: row.redacted_at,
  };
}

export function readCustomer(db: D1Database, shopId: string, externalId: string): Read<Customer | null> {
  return firstRow(
    db.prepare(`SELECT ${COLUMNS} FROM customers WHERE shop_id = ? AND external_id = ?`).bind(shopId, externalId),
    toCustomer,
  );
}

export const customerByExternalId = (db: D1Database, shopId: string, externalId: string) =>
  readOne(db, readCustomer(db, shopId, externalId));

export function readCustomerByReferralCode(db: D1Database, shopId: string, code: string): Read<Customer | null> {
  return firstRow(db.prepare(`SELECT ${COLUMNS} FROM customers WHERE shop_id = ? AND referral_code = ?`).bind(shopId, code), toCustomer);
}

export const customerByReferralCode = (db: D1Database, shopId: string, code: string) =>
  readOne(db, readCustomerByReferralCode(db, shopId, code));

export interface NewCustomer {
  externalId: string;
  email?: string | null | undefined;
  firstName?: string | null | undefined;
  birthday?: string | null | undefined;
  referralCode: string;
  createdAt: string;
}

/** A plain INSERT: a concurrent creation of the same customer fails the batch, which then re-reads. */
export function insertCustomer(db: D1Database, shopId: string, customer: NewCustomer): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO customers (shop_id, external_id, email, first_name, birthday, referral_code, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      shopId,
      customer.externalId,
      customer.email ?? null,
      customer.firstName ?? null,
      customer.birthday ?? null,
      customer.referralCode,
      customer.createdAt,
    );
}

/** Fills in profile fields that arrive later (a customer first seen through an order). */
export function updateCustomerProfile(
  db: D1Database,
  shopId: string,
  externalId: string,
  profile: { email?: string | undefined; firstName?: string | undefined; birthday?: string | undefined },
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE customers SET email = COALESCE(?, email), first_name = COALESCE(?, first_name),
         birthday = COALESCE(?, birthday)
       WHERE shop_id = ? AND external_id = ? AND redacted_at IS NULL`,
    )
    .bind(profile.email ?? null, profile.firstName ?? null, profile.birthday ?? null, shopId, externalId);
}

/** The order counters behind tiers by spend, repeat-purchase rate and members at risk. */
export function recordCustomerOrder(
  db: D1Database,
  shopId: string,
  externalId: string,
  spent: number,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE customers SET order_count = order_count + 1, total_spent = total_spent + ?,
         last_order_at = MAX(COALESCE(last_order_at, ''), ?)
       WHERE shop_id = ? AND external_id = ?`,
    )
    .bind(spent, at, shopId, externalId);
}

/** Sets the tier; `tier_since` restarts only when the tier actually changes. */
export function setCustomerTier(
  db: D1Database,
  shopId: string,
  externalId: string,
  tier: string | null,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE customers SET tier_since = CASE WHEN tier IS ?1 THEN tier_since ELSE ?2 END, tier = ?1
       WHERE shop_id = ?3 AND external_id = ?4`,
    )
    .bind(tier, at, shopId, externalId);
}

/** A page of a shop's members in row order (after `afterRowId`), for work over every member. */
export function readMembersAfter(db: D1Database, shopId: string, afterRowId: number, limit: number): Read<Customer[]> {
  return allRows(
    db.prepare(`SELECT ${COLUMNS} FROM customers WHERE shop_id = ? AND id > ? ORDER BY id LIMIT ?`).bind(shopId, afterRowId, limit),
    toCustomer,
  );
}

/** Moves a member from tier `from` to `to`; a member whose tier changed meanwhile is left as it is. */
export function changeTierFrom(
  db: D1Database,
  shopId: string,
  rowId: number,
  change: { from: string | null; to: string | null; at: string },
): D1PreparedStatement {
  return db
    .prepare("UPDATE customers SET tier = ?, tier_since = ? WHERE shop_id = ? AND id = ? AND tier IS ?")
    .bind(change.to, change.at, shopId, rowId, change.from);
}

export interface CustomerPage {
  customers: Customer[];
  nextCursor: string | null;
}

/** Newest first, keyset-paginated on the row id; `q` matches id, email or first name. */
export async function listCustomers(
  db: D1Database,
  shopId: string,
  options: { limit: number; cursor?: number | undefined; q?: string | undefined },
): Promise<CustomerPage> {
  const pattern = options.q ? `%${options.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM customers
       WHERE shop_id = ?1 AND (?2 IS NULL OR id < ?2)
         AND (?3 IS NULL OR external_id LIKE ?3 ESCAPE '\\' OR email LIKE ?3 ESCAPE '\\' OR first_name LIKE ?3 ESCAPE '\\')
       ORDER BY id DESC LIMIT ?4`,
    )
    .bind(shopId, options.cursor ?? null, pattern, options.limit + 1)
    .all<CustomerRow>();
  const page = results.slice(0, options.limit).map(toCustomer);
  const more = results.length > options.limit;
  return { customers: page, nextCursor: more ? String(page[page.length - 1]!.rowId) : null };
}

/**
 * GDPR erasure of one customer: personal fields cleared, the external id replaced, amounts kept.
 * Ledger notes and order emails go too; balances and ledger amounts stay, so invariants hold.
 */
export function redactCustomerStatements(
  db: D1Database,
  shopId: string,
  rowId: number,
  at: string,
): D1PreparedStatement[] {
  return [
    // Referral claims are found by the customer's email, so they go before it does.
    ...redactReferralStatements(db, shopId, rowId),
    ...redactNpsStatements(db, shopId, rowId),
    ...redactFeedbackStatements(db, shopId, rowId),
    db
      .prepare(
        `UPDATE customers SET email = NULL, first_name = NULL, birthday = NULL,
           external_id = 'redacted_' || id || '_' || lower(hex(randomblob(6))), redacted_at = ?
         WHERE shop_id = ? AND id = ?`,
      )
      .bind(at, shopId, rowId),
    db.prepare("UPDATE ledger SET note = NULL WHERE shop_id = ? AND customer_id = ?").bind(shopId, rowId),
    eraseNotesInAnswers(db, shopId, rowId),
    db.prepare("UPDATE orders SET email = NULL WHERE shop_id = ? AND customer_id = ?").bind(shopId, rowId),
  ];
}

/** Members whose birthday is on one of `monthDays` ("MM-DD"). */
export async function membersWithBirthdayOn(db: D1Database, shopId: string, monthDays: string[]) {
  const { results } = await db
    .prepare(
      `SELECT id, external_id, birthday FROM customers
       WHERE shop_id = ? AND redacted_at IS NULL AND birthday IS NOT NULL AND substr(birthday, -5) IN (SELECT value FROM json_each(?))`,
    )
    .bind(shopId, JSON.stringify(monthDays))
    .all<{ id: number; external_id: string; birthday: string }>();
  return results;
}

/** Members holding a tier, for the scheduled review. */
export async function membersWithTier(db: D1Database, shopId: string) {
  const { results } = await db
    .prepare("SELECT external_id, tier, tier_since, lifetime_points FROM customers WHERE shop_id = ? AND tier IS NOT NULL")
    .bind(shopId)
    .all<{ external_id: string; tier: string; tier_since: string | null; lifetime_points: number }>();
  return results;
}

/**
 * The member (not redacted) whose address is `email`, trimmed and compared case-insensitively;
 * the oldest when several share it. `emailKey` is the address's referral key (domain/referrals.ts),
 * only to use the email_key index: the match itself is on the address.
 */
export function readMemberByEmail(db: D1Database, shopId: string, email: string | null, emailKey: string | null): Read<Customer | null> {
  if (email === null || emailKey === null) return { statements: [], parse: () => null };
  return firstRow(
    db
      .prepare(
        `SELECT ${COLUMNS} FROM customers
         WHERE shop_id = ? AND email_key = ? AND redacted_at IS NULL AND lower(trim(email)) = ? ORDER BY id LIMIT 1`,
      )
      .bind(shopId, emailKey, email),
    toCustomer,
  );
}
