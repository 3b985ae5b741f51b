/** Rewards and the redemptions that issue their codes. */
import type { RedemptionStatus } from "../domain/rewards";
import { allRows, firstRow, guard, type Read, readOne } from "./batch";

export interface Reward {
  id: string;
  name: string;
  type: "amount_off" | "percent_off" | "free_shipping" | "free_product" | "store_credit" | "donation";
  cost: number;
  /** Minor units (money types) or a whole percent. */
  value: number | null;
  product: string | null;
  minOrder: number | null;
  active: boolean;
  /** Days a redemption's code stays valid after issue; null: for ever. */
  validityDays: number | null;
  /** A donation's cause; null for other rewards. */
  cause: string | null;
  createdAt: string;
  updatedAt: string;
}

interface RewardRow {
  id: string;
  name: string;
  type: Reward["type"];
  cost: number;
  value: number | null;
  product: string | null;
  min_order: number | null;
  active: number;
  validity_days: number | null;
  cause: string | null;
  created_at: string;
  updated_at: string;
}

const REWARD_COLUMNS = "id, name, type, cost, value, product, min_order, active, validity_days, cause, created_at, updated_at";

function toReward(row: RewardRow): Reward {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    cost: row.cost,
    value: row.value,
    product: row.product,
    minOrder: row.min_order,
    active: row.active === 1,
    validityDays: row.validity_days,
    cause: row.cause,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertReward(db: D1Database, shopId: string, reward: Reward): Promise<void> {
  await db
    .prepare(
      `INSERT INTO rewards (id, shop_id, name, type, cost, value, product, min_order, active, validity_days, created_at,
         updated_at, cause)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      reward.id,
      shopId,
      reward.name,
      reward.type,
      reward.cost,
      reward.value,
      reward.product,
      reward.minOrder,
      reward.active ? 1 : 0,
      reward.validityDays,
      reward.createdAt,
      reward.updatedAt,
      reward.cause,
    )
    .run();
}

export async function updateReward(db: D1Database, shopId: string, reward: Reward): Promise<void> {
  await db
    .prepare(
      `UPDATE rewards SET name = ?, type = ?, cost = ?, value = ?, product = ?, min_order = ?, active = ?, validity_days = ?,
         updated_at = ?, cause = ?
       WHERE shop_id = ? AND id = ? AND deleted_at IS NULL`,
    )
    .bind(
      reward.name,
      reward.type,
      reward.cost,
      reward.value,
      reward.product,
      reward.minOrder,
      reward.active ? 1 : 0,
      reward.validityDays,
      reward.updatedAt,
      reward.cause,
      shopId,
      reward.id,
    )
    .run();
}

/** Rewards are soft-deleted: issued codes keep pointing at them. */
export async function deleteReward(db: D1Database, shopId: string, id: string, at: string): Promise<boolean> {
  const result = await db
    .prepare("UPDATE rewards SET deleted_at = ?, active = 0 WHERE shop_id = ? AND id = ? AND deleted_at IS NULL")
    .bind(at, shopId, id)
    .run();
  return result.meta.changes > 0;
}

export function readReward(db: D1Database, shopId: string, id: string): Read<Reward | null> {
  return firstRow(
    db.prepare(`SELECT ${REWARD_COLUMNS} FROM rewards WHERE shop_id = ? AND id = ? AND deleted_at IS NULL`).bind(shopId, id),
    toReward,
  );
}

export const rewardById = (db: D1Database, shopId: string, id: string) => readOne(db, readReward(db, shopId, id));

export function rewardsStatement(db: D1Database, shopId: string, onlyActive: boolean): D1PreparedStatement {
  return db
    .prepare(
      `SELECT ${REWARD_COLUMNS} FROM rewards WHERE shop_id = ? AND deleted_at IS NULL AND (? = 0 OR active = 1)
       ORDER BY cost, id`,
    )
    .bind(shopId, onlyActive ? 1 : 0);
}

export const rewardRows = (result: D1Result) => (result.results as RewardRow[]).map(toReward);

export async function listRewards(db: D1Database, shopId: string, onlyActive = false): Promise<Reward[]> {
  return rewardRows(await rewardsStatement(db, shopId, onlyActive).all());
}

export interface Redemption {
  id: string;
  customerExternalId: string;
  rewardId: string;
  /** The reward's name now (the reward may have been renamed or deleted since). */
  rewardName: string | null;
  /** null for a donation (it has no code). */
  code: string | null;
  points: number;
  status: RedemptionStatus;
  rewardType: Reward["type"];
  rewardValue: number | null;
  minOrder: number | null;
  createdAt: string;
  /** When the code stops being valid; null: never. */
  expiresAt: string | null;
  usedAt: string | null;
  /** The order that used the code. */
  orderId: string | null;
  voidedAt: string | null;
  voidReason: string | null;
  /** For a Shopify shop: 'pending' until the Admin API has the discount, then 'created'. */
  shopifyStatus: "pending" | "created" | null;
}

interface RedemptionRow {
  id: string;
  customer_external_id: string;
  reward_id: string;
  reward_name: string | null;
  code: string | null;
  points: number;
  status: RedemptionStatus;
  reward_type: Reward["type"];
  reward_value: number | null;
  min_order: number | null;
  created_at: string;
  expires_at: string | null;
  used_at: string | null;
  order_id: string | null;
  voided_at: string | null;
  void_reason: string | null;
  shopify_status: Redemption["shopifyStatus"];
}

const toRedemption = (row: RedemptionRow): Redemption => ({
  id: row.id,
  customerExternalId: row.customer_external_id,
  rewardId: row.reward_id,
  rewardName: row.reward_name,
  code: row.code,
  points: row.points,
  status: row.status,
  rewardType: row.reward_type,
  rewardValue: row.reward_value,
  minOrder: row.min_order,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  usedAt: row.used_at,
  orderId: row.order_id,
  voidedAt: row.voided_at,
  voidReason: row.void_reason,
  shopifyStatus: row.shopify_status,
});

const REDEMPTION_COLUMNS = `r.id, c.external_id AS customer_external_id, r.reward_id, w.name AS reward_name, r.code, r.points,
  r.status, r.reward_type, r.reward_value, r.min_order, r.created_at, r.expires_at, r.used_at, r.order_id, r.voided_at,
  r.void_reason, r.shopify_status`;

const REDEMPTION_SELECT = `SELECT ${REDEMPTION_COLUMNS}
  FROM redemptions r JOIN customers c ON c.id = r.customer_id LEFT JOIN rewards w ON w.id = r.reward_id`;

export type NewRedemption = Omit<Redemption, "status" | "usedAt" | "orderId" | "voidedAt" | "voidReason" | "rewardName">;

/** The redemption row, written in the same batch as its ledger debit. */
export function insertRedemption(db: D1Database, shopId: string, redemption: NewRedemption): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO redemptions (id, shop_id, customer_id, reward_id, code, points, reward_type, reward_value, min_order,
         created_at, shopify_status, expires_at)
       SELECT ?, shop_id, id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM customers WHERE shop_id = ? AND external_id = ?`,
    )
    .bind(
      redemption.id,
      redemption.rewardId,
      redemption.code,
      redemption.points,
      redemption.rewardType,
      redemption.rewardValue,
      redemption.minOrder,
      redemption.createdAt,
      redemption.shopifyStatus,
      redemption.expiresAt,
      shopId,
      redemption.customerExternalId,
    );
}

export function readRedemption(db: D1Database, shopId: string, id: string): Read<Redemption | null> {
  return firstRow(db.prepare(`${REDEMPTION_SELECT} WHERE r.shop_id = ? AND r.id = ?`).bind(shopId, id), toRedemption);
}

export const redemptionById = (db: D1Database, shopId: string, id: string) => readOne(db, readRedemption(db, shopId, id));

/** Codes are stored in capitals (newRedemptionCode); `code` is the normalised form. */
export function readRedemptionByCode(db: D1Database, shopId: string, code: string): Read<Redemption | null> {
  return firstRow(db.prepare(`${REDEMPTION_SELECT} WHERE r.shop_id = ? AND r.code = ?`).bind(shopId, code), toRedemption);
}

export const redemptionByCode = (db: D1Database, shopId: string, code: string) =>
  readOne(db, readRedemptionByCode(db, shopId, code));

export async function listRedemptions(
  db: D1Database,
  shopId: string,
  options: { customerExternalId?: string | undefined; limit: number },
) {
  const { results } = await db
    .prepare(`${REDEMPTION_SELECT} WHERE r.shop_id = ?1 AND (?2 IS NULL OR c.external_id = ?2) ORDER BY r.created_at DESC, r.id LIMIT ?3`)
    .bind(shopId, options.customerExternalId ?? null, options.limit)
    .all<RedemptionRow>();
  return results.map(toRedemption);
}

/** One member's codes, newest first (in issue order within a millisecond), through the member's index. */
export async function redemptionsOfMember(db: D1Database, shopId: string, customerRowId: number, limit: number) {
  const { results } = await db
    .prepare(`${REDEMPTION_SELECT} WHERE r.customer_id = ? AND r.shop_id = ? ORDER BY r.created_at DESC, r.rowid DESC LIMIT ?`)
    .bind(customerRowId, shopId, limit)
    .all<RedemptionRow>();
  return results.map(toRedemption);
}

/**
 * The storefront's list: every issued code (up to `issuedLimit`) and the `othersLimit`
 * newest of the rest, one statement for the state batch (`member` is the member's row id as SQL).
 */
export function memberRedemptionsStatement(
  db: D1Database,
  member: string,
  params: unknown[],
  limits: { issued: number; others: number },
): { statement: D1PreparedStatement; rows: (result: D1Result) => Redemption[] } {
  const select = (where: string, limit: number) =>
    `SELECT * FROM (${REDEMPTION_SELECT} WHERE r.customer_id = ${member} AND ${where} ORDER BY r.created_at DESC, r.rowid DESC LIMIT ${limit})`;
  return {
    statement: db
      .prepare(`${select("r.status = 'issued'", limits.issued)} UNION ALL ${select("r.status <> 'issued'", limits.others)}`)
      .bind(...params),
    rows: (result) => (result.results as RedemptionRow[]).map(toRedemption),
  };
}

/**
 * issued -> used or void, only from `issued` and, unless `evenIfExpired`, only while the code has
 * not expired at `at`; a redemption that moved on (or ran out) meanwhile fails the batch.
 * `onlyIfShopifyPending`: and only while Shopify is not known to have its discount (the voids of a
 * failed or unconfirmed Shopify code never undo a code that another request confirmed; such a code
 * never existed at checkout, so its points come back even after its end date).
 */
export function changeRedemptionStatus(
  db: D1Database,
  shopId: string,
  id: string,
  change: { to: "used"; orderId: string | null } | { to: "void"; reason: string | null },
  at: string,
  onlyIfShopifyPending = false,
): D1PreparedStatement[] {
  return [
    guard(
      db,
      `EXISTS (SELECT 1 FROM redemptions WHERE shop_id = ? AND id = ? AND status = 'issued'
         AND (? = 1 OR expires_at IS NULL OR expires_at > ?) AND (? = 0 OR shopify_status = 'pending'))`,
      shopId,
      id,
      onlyIfShopifyPending ? 1 : 0,
      at,
      onlyIfShopifyPending ? 1 : 0,
    ),
    change.to === "used"
      ? db
          .prepare("UPDATE redemptions SET status = 'used', used_at = ?, order_id = ? WHERE shop_id = ? AND id = ?")
          .bind(at, change.orderId, shopId, id)
      : db
          .prepare("UPDATE redemptions SET status = 'void', voided_at = ?, void_reason = ? WHERE shop_id = ? AND id = ?")
          .bind(at, change.reason, shopId, id),
  ];
}

/**
 * Inside an order's own batch: the issued codes among `codes` (capitals) that were still valid when
 * the order was placed become used by it. A code already used, voided or expired stays as it is
 * (the order still lands), so of an order, the code's expiry and a void racing for one code exactly
 * one changes it, and no code is used twice.
 */
export function useCodesInOrder(
  db: D1Database,
  shopId: string,
  order: { codes: string[]; orderId: string; orderedAt: string; at: string },
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE redemptions SET status = 'used', used_at = ?1, order_id = ?2
       WHERE shop_id = ?3 AND code IN (SELECT value FROM json_each(?4)) AND status = 'issued'
         AND (expires_at IS NULL OR expires_at > ?5)`,
    )
    .bind(order.at, order.orderId, shopId, JSON.stringify(order.codes), order.orderedAt);
}

/** Issued codes of a shop whose end date has come, oldest end first. */
export function readExpiredCodes(db: D1Database, shopId: string, now: string, limit: number): Read<string[]> {
  return allRows(
    db
      .prepare(
        `SELECT id FROM redemptions WHERE shop_id = ? AND status = 'issued' AND expires_at IS NOT NULL AND expires_at <= ?
         ORDER BY expires_at LIMIT ?`,
      )
      .bind(shopId, now, limit),
    (row: { id: string }) => row.id,
  );
}

/** issued -> expired for codes whose end date has come; one used or voided meanwhile stays as it is. */
export function expireCodes(db: D1Database, shopId: string, ids: string[], now: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE redemptions SET status = 'expired'
       WHERE shop_id = ? AND id IN (SELECT value FROM json_each(?)) AND status = 'issued' AND expires_at <= ?`,
    )
    .bind(shopId, JSON.stringify(ids), now);
}

/** Shopify has the code's discount: 'pending' -> 'created'. False when the code was voided meanwhile. */
export async function markShopifyCodeCreated(db: D1Database, shopId: string, id: string): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE redemptions SET shopify_status = 'created'
       WHERE shop_id = ? AND id = ? AND status <> 'void' AND shopify_status IN ('pending', 'created')`,
    )
    .bind(shopId, id)
    .run();
  return result.meta.changes > 0;
}

/** Issued codes of a Shopify shop that Shopify was never confirmed to have, created before `before`, oldest first. */
export async function pendingShopifyRedemptions(db: D1Database, shopId: string, before: string, limit: number) {
  const { results } = await db
    .prepare(
      `${REDEMPTION_SELECT} WHERE r.shop_id = ? AND r.status = 'issued' AND r.shopify_status = 'pending' AND r.created_at < ?
       ORDER BY r.created_at LIMIT ?`,
    )
    .bind(shopId, before, limit)
    .all<RedemptionRow>();
  return results.map(toRedemption);
}
