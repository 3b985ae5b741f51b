/**
 * Rewards and redemptions (DESIGN §3). A redemption debits exactly its cost and issues exactly one
 * code in ONE batch, or does neither: the balance CHECK refuses an overdraft, so concurrent
 * redemptions are serialised by the database and only those the balance covers land.
 */
import { groupedCode } from "../auth/crypto";
import { newId } from "../auth/keys";
import type { z } from "@hono/zod-openapi";
import type { CreateReward, UpdateReward } from "../contract/rewards";
import { formatMoney, parseMoney } from "../domain/money";
import { ApiError, badRequest, conflict, insufficientPoints, notFound } from "../http/errors";
import { commit, StaleWrite } from "../store/batch";
import { customerByExternalId } from "../store/customers";
import { appendEntry, balanceOf, entryByKey } from "../store/ledger";
import {
  changeRedemptionStatus,
  insertRedemption,
  insertReward,
  type Redemption,
  type Reward,
  redemptionByCode,
  redemptionById,
  rewardById,
  updateReward,
} from "../store/rewards";
import type { Shop } from "../store/shops";

type RewardInput = z.infer<typeof CreateReward>;

/** Redemption codes: 12 unambiguous characters in groups of four ("7KQM-X3PA-RT9C"), ~59 bits. */
export const newRedemptionCode = () => groupedCode(3);

function toStoredValue(shop: Shop, type: Reward["type"], value: string | number | undefined): number | null {
  if (value === undefined) return null;
  if (type === "percent_off") return value as number;
  const minor = parseMoney(String(value), shop.currency);
  if (minor === null || minor <= 0) {
    throw badRequest("The reward's value is not valid.", [
      { path: "value", message: `a positive amount in ${shop.currency}` },
    ]);
  }
  return minor;
}

function toStoredMinOrder(shop: Shop, minOrder: string | undefined): number | null {
  if (minOrder === undefined) return null;
  const minor = parseMoney(minOrder, shop.currency);
  if (minor === null) throw badRequest("minOrder is not valid.", [{ path: "minOrder", message: `an amount in ${shop.currency}` }]);
  return minor;
}

export function rewardValueView(currency: string, type: Reward["type"], value: number | null): string | number | null {
  if (value === null) return null;
  return type === "percent_off" ? value : formatMoney(value, currency);
}

export function rewardView(shop: Shop, reward: Reward) {
  return {
    id: reward.id,
    name: reward.name,
    type: reward.type,
    cost: reward.cost,
    value: rewardValueView(shop.currency, reward.type, reward.value),
    product: reward.product,
    minOrder: reward.minOrder === null ? null : formatMoney(reward.minOrder, shop.currency),
    active: reward.active,
    createdAt: reward.createdAt,
    updatedAt: reward.updatedAt,
  };
}

export function redemptionView(shop: Shop, redemption: Redemption) {
  return {
    id: redemption.id,
    code: redemption.code,
    rewardId: redemption.rewardId,
    customerId: redemption.customerExternalId,
    points: redemption.points,
    status: redemption.status,
    type: redemption.rewardType,
    value: rewardValueView(shop.currency, redemption.rewardType, redemption.rewardValue),
    minOrder: redemption.minOrder === null ? null : formatMoney(redemption.minOrder, shop.currency),
    createdAt: redemption.createdAt,
    usedAt: redemption.usedAt,
    voidedAt: redemption.voidedAt,
    voidReason: redemption.voidReason,
  };
}

export async function createReward(db: D1Database, shop: Shop, input: RewardInput, now = new Date()) {
  const at = now.toISOString();
  const reward: Reward = {
    id: newId("rwd"),
    name: input.name,
    type: input.type,
    cost: input.cost,
    value: toStoredValue(shop, input.type, input.value),
    product: input.product ?? null,
    minOrder: toStoredMinOrder(shop, input.minOrder),
    active: input.active ?? true,
    createdAt: at,
    updatedAt: at,
  };
  await insertReward(db, shop.id, reward);
  return reward;
}

export async function requireReward(db: D1Database, shop: Shop, id: string): Promise<Reward> {
  const reward = await rewardById(db, shop.id, id);
  if (!reward) throw notFound("Reward");
  return reward;
}

/** PATCH: the fields given replace the stored ones; the result must still be a valid reward. */
export async function patchReward(
  db: D1Database,
  shop: Shop,
  id: string,
  patch: z.infer<typeof UpdateReward>,
  validate: (merged: unknown) => RewardInput,
  now = new Date(),
) {
  const current = await requireReward(db, shop, id);
  const currentView = rewardView(shop, current);
  const merged = validate({
    name: patch.name ?? current.name,
    type: patch.type ?? current.type,
    cost: patch.cost ?? current.cost,
    value: "value" in patch ? patch.value : patch.type && patch.type !== current.type ? undefined : (currentView.value ?? undefined),
    product: patch.product ?? current.product ?? undefined,
    minOrder: patch.minOrder ?? currentView.minOrder ?? undefined,
    active: patch.active ?? current.active,
  });
  const reward: Reward = {
    ...current,
    name: merged.name,
    type: merged.type,
    cost: merged.cost,
    value: toStoredValue(shop, merged.type, merged.value),
    product: merged.product ?? null,
    minOrder: toStoredMinOrder(shop, merged.minOrder),
    active: merged.active ?? true,
    updatedAt: now.toISOString(),
  };
  await updateReward(db, shop.id, reward);
  return reward;
}

/** Debit, record and issue a code in one batch; 422 when the balance is short. */
export async function redeemReward(
  db: D1Database,
  shop: Shop,
  customerId: string,
  rewardId: string,
  /** The Idempotency-Key's claim, naming the redemption's id (see committedRedemption). */
  claim: (reference: string) => D1PreparedStatement,
  now = new Date(),
) {
  const reward = await rewardById(db, shop.id, rewardId);
  if (!reward?.active) throw notFound("Reward");
  const customer = await customerByExternalId(db, shop.id, customerId);
  if (!customer) throw notFound("Customer");
  if (customer.balance < reward.cost) throw insufficientPoints(customer.balance, reward.cost);
  const at = now.toISOString();
  const redemption = {
    id: newId("rdm"),
    customerExternalId: customerId,
    rewardId: reward.id,
    code: newRedemptionCode(),
    points: reward.cost,
    rewardType: reward.type,
    rewardValue: reward.value,
    minOrder: reward.minOrder,
    createdAt: at,
    // A Shopify shop's code is valid at checkout only once the Admin API has it (services/shopify.ts).
    shopifyStatus: shop.platform === "shopify" ? ("pending" as const) : null,
  };
  const results = await commit(db, [
    claim(redemption.id),
    appendEntry(db, {
      shopId: shop.id,
      customerExternalId: customerId,
      delta: -reward.cost,
      kind: "redemption",
      reference: redemption.id,
      key: `redemption:${redemption.id}`,
      createdAt: at,
    }),
    insertRedemption(db, shop.id, redemption),
    balanceOf(db, shop.id, customerId),
  ]);
  const balance = (results[3]!.results[0] as { balance: number }).balance;
  return { redemption: { ...redemption, status: "issued" as const, usedAt: null, voidedAt: null, voidReason: null }, balance };
}

/**
 * A committed redemption with the balance right after its debit: the answer of a redemption
 * request that failed after its batch committed, rebuilt for a retry of its Idempotency-Key.
 */
export async function committedRedemption(db: D1Database, shop: Shop, id: string) {
  const redemption = await requireRedemption(db, shop, id);
  const debit = await entryByKey(db, shop.id, `redemption:${id}`);
  if (!debit) throw new Error(`redemption ${id} has no debit`);
  return { redemption, balance: debit.balanceAfter };
}

export async function requireRedemption(db: D1Database, shop: Shop, id: string) {
  const redemption = await redemptionById(db, shop.id, id);
  if (!redemption) throw notFound("Redemption");
  return redemption;
}

function refuseUnlessIssued(redemption: Redemption) {
  if (redemption.status !== "issued") {
    throw new ApiError("redemption_not_issued", `This code is already ${redemption.status}.`, { status: redemption.status }, 409);
  }
}

/** A code used at checkout. Only an issued code can be used, once. */
export async function markRedemptionUsed(db: D1Database, shop: Shop, redemption: Redemption, now = new Date()) {
  refuseUnlessIssued(redemption);
  try {
    await commit(db, changeRedemptionStatus(db, shop.id, redemption.id, "used", now.toISOString(), null));
  } catch (err) {
    if (err instanceof StaleWrite) throw conflict("This code changed meanwhile; read it again.");
    throw err;
  }
  return (await redemptionById(db, shop.id, redemption.id))!;
}

/**
 * Voiding an issued code gives its points back as a `redemption_reversal`, in the same batch, once
 * (the status guard and the reversal's ledger key). `onlyIfShopifyPending`: the void of a Shopify
 * code that failed or was never confirmed, refused (409) once Shopify is known to have the code.
 */
export async function voidRedemption(
  db: D1Database,
  shop: Shop,
  redemption: Redemption,
  reason: string,
  now = new Date(),
  onlyIfShopifyPending = false,
) {
  refuseUnlessIssued(redemption);
  const at = now.toISOString();
  try {
    await commit(db, [
      ...changeRedemptionStatus(db, shop.id, redemption.id, "void", at, reason || null, onlyIfShopifyPending),
      appendEntry(db, {
        shopId: shop.id,
        customerExternalId: redemption.customerExternalId,
        delta: redemption.points,
        kind: "redemption_reversal",
        reference: redemption.id,
        key: `redemption_reversal:${redemption.id}`,
        createdAt: at,
      }),
    ]);
  } catch (err) {
    if (err instanceof StaleWrite) throw conflict("This code changed meanwhile; read it again.");
    throw err;
  }
  return (await redemptionById(db, shop.id, redemption.id))!;
}

export async function requireCode(db: D1Database, shop: Shop, code: string) {
  const redemption = await redemptionByCode(db, shop.id, code.trim().toUpperCase());
  if (!redemption) throw notFound("Code");
  return redemption;
}
