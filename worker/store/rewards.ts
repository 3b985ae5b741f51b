/** Rewards and the redemptions that issue their codes. */
import { firstRow, guard, type Read, readOne } from "./batch";

export interface Reward {
  id: string;
  name: string;
  type: "amount_off" | "percent_off" | "free_shipping" | "free_product" | "store_credit";
  cost: number;
  /** Minor units (money types) or a whole percent. */
  value: number | null;
  product: string | null;
  minOrder: number | null;
  active: boolean;
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
  created_at: string;
  updated_at: string;
}

const REWARD_COLUMNS = "id, name, type, cost, value, product, min_order, active, created_at, updated_at";

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
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertReward(db: D1Database, shopId: string, reward: Reward): Promise<void> {
  await db
    .prepare(
      `INSERT INTO rewards (id, shop_id, name, type, cost, value, product, min_order, active, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      reward.createdAt,
      reward.updatedAt,
    )
    .run();
}

export async function updateReward(db: D1Database, shopId: string, reward: Reward): Promise<void> {
  await db
    .prepare(
      `UPDATE rewards SET name = ?, type = ?, cost = ?, value = ?, product = ?, min_order = ?, active = ?, updated_at = ?
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
      reward.updatedAt,
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
  code: string;
  points: number;
  status: "issued" | "used" | "void";
  rewardType: Reward["type"];
  rewardValue: number | null;
  minOrder: number | null;
  createdAt: string;
  usedAt: string | null;
  voidedAt: string | null;
  voidReason: string | null;
  /** For a Shopify shop: 'pending' until the Admin API has the discount, then 'created'. */
  shopifyStatus: "pending" | "created" | null;
}

interface RedemptionRow {
  id: string;
  customer_external_id: string;
  reward_id: string;
  code: string;
  points: number;
  status: Redemption["status"];
  reward_type: Reward["type"];
  reward_value: number | null;
  min_order: number | null;
  created_at: string;
  used_at: string | null;
  voided_at: string | null;
  void_reason: string | null;
  shopify_status: Redemption["shopifyStatus"];
}

const toRedemption = (row: RedemptionRow): Redemption => ({
  id: row.id,
  customerExternalId: row.customer_external_id,
  rewardId: row.reward_id,
  code: row.code,
  points: row.points,
  status: row.status,
  rewardType: row.reward_type,
  rewardValue: row.reward_value,
  minOrder: row.min_order,
  createdAt: row.created_at,
  usedAt: row.used_at,
  voidedAt: row.voided_at,
  voidReason: row.void_reason,
  shopifyStatus: row.shopify_status,
});

const REDEMPTION_SELECT = `SELECT r.id, c.external_id AS customer_external_id, r.reward_id, r.code, r.points, r.status,
  r.reward_type, r.reward_value, r.min_order, r.created_at, r.used_at, r.voided_at, r.void_reason, r.shopify_status
  FROM redemptions r JOIN customers c ON c.id = r.customer_id`;

/** The redemption row, written in the same batch as its ledger debit. */
export function insertRedemption(
  db: D1Database,
  shopId: string,
  redemption: Omit<Redemption, "status" | "usedAt" | "voidedAt" | "voidReason">,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO redemptions (id, shop_id, customer_id, reward_id, code, points, reward_type, reward_value, min_order,
         created_at, shopify_status)
       SELECT ?, shop_id, id, ?, ?, ?, ?, ?, ?, ?, ? FROM customers WHERE shop_id = ? AND external_id = ?`,
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
      shopId,
      redemption.customerExternalId,
    );
}

export function readRedemption(db: D1Database, shopId: string, id: string): Read<Redemption | null> {
  return firstRow(db.prepare(`${REDEMPTION_SELECT} WHERE r.shop_id = ? AND r.id = ?`).bind(shopId, id), toRedemption);
}

export const redemptionById = (db: D1Database, shopId: string, id: string) => readOne(db, readRedemption(db, shopId, id));

export async function redemptionByCode(db: D1Database, shopId: string, code: string) {
  const row = await db
    .prepare(`${REDEMPTION_SELECT} WHERE r.shop_id = ? AND r.code = ?`)
    .bind(shopId, code)
    .first<RedemptionRow>();
  return row ? toRedemption(row) : null;
}

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

/**
 * issued -> used or void, only from `issued`; a redemption that moved on meanwhile fails the batch.
 * `onlyIfShopifyPending`: and only while Shopify is not known to have its discount (the voids of a
 * failed or unconfirmed Shopify code never undo a code that another request confirmed).
 */
export function changeRedemptionStatus(
  db: D1Database,
  shopId: string,
  id: string,
  to: "used" | "void",
  at: string,
  reason: string | null,
  onlyIfShopifyPending = false,
): D1PreparedStatement[] {
  return [
    guard(
      db,
      "EXISTS (SELECT 1 FROM redemptions WHERE shop_id = ? AND id = ? AND status = 'issued' AND (? = 0 OR shopify_status = 'pending'))",
      shopId,
      id,
      onlyIfShopifyPending ? 1 : 0,
    ),
    to === "used"
      ? db.prepare("UPDATE redemptions SET status = 'used', used_at = ? WHERE shop_id = ? AND id = ?").bind(at, shopId, id)
      : db
          .prepare("UPDATE redemptions SET status = 'void', voided_at = ?, void_reason = ? WHERE shop_id = ? AND id = ?")
          .bind(at, reason, shopId, id),
  ];
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
