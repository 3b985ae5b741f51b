/**
 * Rewards and redemptions. A redemption debits exactly its cost and issues exactly one
 * code in ONE batch, or does neither: the balance CHECK refuses an overdraft, so concurrent
 * redemptions are serialised by the database and only those the balance covers land.
 */
import { groupedCode } from "../crypto";
import { newId } from "../auth/keys";
import type { z } from "@hono/zod-openapi";
import type { CreateReward, UpdateReward } from "../contract/rewards";
import { formatMoney, parseMoney } from "../domain/money";
import { codeExpiresAt, normalizeCode, statusAt } from "../domain/rewards";
import { ApiError, badRequest, insufficientPoints, notFound } from "../http/errors";
import { together } from "../store/batch";
import { readCustomer } from "../store/customers";
import { insertDonation } from "../store/donations";
import { appendEntry, entryByKey } from "../store/ledger";
import {
  changeRedemptionStatus,
  insertRedemption,
  insertReward,
  type Redemption,
  type Reward,
  readRedemption,
  readReward,
  redemptionByCode,
  redemptionById,
  rewardById,
  updateReward,
} from "../store/rewards";
import type { Shop } from "../store/shops";
import type { CodeIssuer } from "./codes";
import { type Plan, planOf, write } from "./pipeline";

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
    validityDays: reward.validityDays,
    cause: reward.cause,
    createdAt: reward.createdAt,
    updatedAt: reward.updatedAt,
  };
}

/** A redemption as the merchant reads it, with its status as of `now`. */
export function redemptionView(shop: Shop, redemption: Redemption, now = new Date()) {
  return {
    id: redemption.id,
    code: redemption.code,
    rewardId: redemption.rewardId,
    rewardName: redemption.rewardName,
    customerId: redemption.customerExternalId,
    points: redemption.points,
    status: statusAt(redemption, now),
    type: redemption.rewardType,
    value: rewardValueView(shop.currency, redemption.rewardType, redemption.rewardValue),
    minOrder: redemption.minOrder === null ? null : formatMoney(redemption.minOrder, shop.currency),
    createdAt: redemption.createdAt,
    expiresAt: redemption.expiresAt,
    usedAt: redemption.usedAt,
    orderId: redemption.orderId,
    voidedAt: redemption.voidedAt,
    voidReason: redemption.voidReason,
  };
}

/** A code as its member sees it; `status` as the storefront list decided it. */
export function memberRedemptionView(currency: string, redemption: Redemption) {
  return {
    id: redemption.id,
    code: redemption.code,
    rewardId: redemption.rewardId,
    rewardName: redemption.rewardName,
    points: redemption.points,
    status: redemption.status,
    createdAt: redemption.createdAt,
    expiresAt: redemption.expiresAt,
    usedAt: redemption.usedAt,
    orderId: redemption.orderId,
    type: redemption.rewardType,
    value: rewardValueView(currency, redemption.rewardType, redemption.rewardValue),
  };
}

/** A validated reward as it is stored: money in the shop's minor units, absent fields as null. */
function storedFields(shop: Shop, input: RewardInput) {
  return {
    name: input.name,
    type: input.type,
    cost: input.cost,
    value: toStoredValue(shop, input.type, input.value),
    product: input.product ?? null,
    minOrder: toStoredMinOrder(shop, input.minOrder),
    active: input.active ?? true,
    validityDays: input.validityDays ?? null,
    cause: input.type === "donation" ? (input.cause ?? null) : null,
  };
}

export async function createReward(db: D1Database, shop: Shop, input: RewardInput, now = new Date()) {
  const at = now.toISOString();
  const reward: Reward = { id: newId("rwd"), ...storedFields(shop, input), createdAt: at, updatedAt: at };
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
    validityDays: "validityDays" in patch ? patch.validityDays : current.validityDays,
    cause: "cause" in patch ? patch.cause : patch.type && patch.type !== current.type ? undefined : (current.cause ?? undefined),
  });
  const reward: Reward = { ...current, ...storedFields(shop, merged), updatedAt: now.toISOString() };
  await updateReward(db, shop.id, reward);
  return reward;
}

/**
 * Debit, record and issue a code in one batch; 422 when the balance is short (also when a
 * concurrent debit got there first: the plan is made again and refuses). Then the shop's checkout
 * is told about the code; `failure` is the answer when it could not be (voided, points back).
 */
export async function redeemReward(
  db: D1Database,
  shop: Shop,
  customerId: string,
  rewardId: string,
  /** The Idempotency-Key's claim, naming the redemption's id (see committedRedemption). */
  claim: (reference: string) => D1PreparedStatement,
  codes: CodeIssuer,
  now = new Date(),
) {
  const read = together([readReward(db, shop.id, rewardId), readCustomer(db, shop.id, customerId)] as const);
  const { value: redemption, balance } = await write(
    db,
    shop,
    read,
    ([reward, customer]) => {
      if (!reward?.active) throw notFound("Reward");
      if (!customer) throw notFound("Customer");
      if (customer.balance < reward.cost) throw insufficientPoints(customer.balance, reward.cost);
      const at = now.toISOString();
      const donation = reward.type === "donation" && reward.cause !== null ? reward.cause : null;
      const redemption: Redemption = {
        id: newId("rdm"),
        customerExternalId: customerId,
        rewardId: reward.id,
        rewardName: reward.name,
        // A donation has no code: it is given (used) at once.
        code: donation === null ? newRedemptionCode() : null,
        points: reward.cost,
        status: donation === null ? "issued" : "used",
        rewardType: reward.type,
        rewardValue: reward.value,
        minOrder: reward.minOrder,
        createdAt: at,
        expiresAt: donation === null ? codeExpiresAt(reward.validityDays, now) : null,
        usedAt: donation === null ? null : at,
        orderId: null,
        voidedAt: null,
        voidReason: null,
        // A Shopify shop's code is valid at checkout only once the Admin API has it (services/codes.ts).
        shopifyStatus: shop.platform === "shopify" && donation === null ? "pending" : null,
      };
      const statements = [
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
        donation === null ? insertRedemption(db, shop.id, redemption) : insertDonation(db, shop.id, { ...redemption, cause: donation }),
      ];
      return planOf(redemption, { statements, member: customerId });
    },
    now,
  );
  const failure = redemption.code === null ? null : await codes.issueRedemptionCode(redemption);
  return { redemption, balance: balance ?? 0, failure };
}

/**
 * A committed redemption with the balance right after its debit, for a retry of the Idempotency-Key
 * of a request that failed after its batch committed: its code is finished first (a Shopify code
 * whose request died before Shopify answered is created, confirmed or voided).
 */
export async function resumeRedemption(db: D1Database, shop: Shop, id: string, codes: CodeIssuer) {
  const redemption = await requireRedemption(db, shop, id);
  const debit = await entryByKey(db, shop.id, `redemption:${id}`);
  if (!debit) throw new Error(`redemption ${id} has no debit`);
  return { redemption, balance: debit.balanceAfter, failure: await codes.resumeRedemptionCode(redemption) };
}

export async function requireRedemption(db: D1Database, shop: Shop, id: string) {
  const redemption = await redemptionById(db, shop.id, id);
  if (!redemption) throw notFound("Redemption");
  return redemption;
}

const NOT_ISSUED: Record<string, string> = {
  used: "This code has already been used.",
  void: "This code was voided; it can no longer be used.",
  expired: "This code has expired; it can no longer be used.",
};

/** The redemption if its code is still issued and valid at `now`; else 409 with what it is. */
function issuedOnly(redemption: Redemption | null, now: Date, evenIfExpired = false): Redemption {
  if (!redemption) throw notFound("Redemption");
  const status = evenIfExpired ? redemption.status : statusAt(redemption, now);
  if (status !== "issued") {
    const ended = status === "expired" && redemption.expiresAt ? ` It was valid until ${redemption.expiresAt}.` : "";
    throw new ApiError("redemption_not_issued", `${NOT_ISSUED[status] ?? `This code is ${status}.`}${ended}`, {
      details: { status, ...(redemption.orderId ? { orderId: redemption.orderId } : {}) },
    });
  }
  return redemption;
}

/**
 * A change of an issued code, planned from the code as read: only an issued code that is still
 * valid at `now` moves on, once (a code that moved on meanwhile fails the batch's status guard, and
 * the plan, made again, refuses). `evenIfExpired`: the code's end date does not stop the change.
 */
async function changeIssued(
  db: D1Database,
  shop: Shop,
  id: string,
  plan: (redemption: Redemption) => Plan<null>,
  now: Date,
  evenIfExpired = false,
) {
  await write(db, shop, readRedemption(db, shop.id, id), (read) => plan(issuedOnly(read, now, evenIfExpired)), now);
  return requireRedemption(db, shop, id);
}

/** A code used at checkout (by `orderId`, when the checkout names it). */
export function markRedemptionUsed(db: D1Database, shop: Shop, id: string, now = new Date(), orderId: string | null = null) {
  return changeIssued(
    db,
    shop,
    id,
    (redemption) =>
      planOf(null, { statements: changeRedemptionStatus(db, shop.id, redemption.id, { to: "used", orderId }, now.toISOString()) }),
    now,
  );
}

/**
 * Voiding an issued code gives its points back as a `redemption_reversal`, in the same batch, once
 * (the status guard and the reversal's ledger key). `onlyIfShopifyPending`: the void of a Shopify
 * code that failed or was never confirmed, refused (409) once Shopify is known to have the code.
 */
export function voidRedemption(db: D1Database, shop: Shop, id: string, reason: string, now = new Date(), onlyIfShopifyPending = false) {
  return changeIssued(
    db,
    shop,
    id,
    (redemption) => {
      if (onlyIfShopifyPending && redemption.shopifyStatus !== "pending") {
        throw new ApiError("redemption_not_issued", "Shopify has this code, so it stands.", { details: { status: "issued" } });
      }
      const at = now.toISOString();
      const statements = [
        ...changeRedemptionStatus(db, shop.id, redemption.id, { to: "void", reason: reason || null }, at, onlyIfShopifyPending),
        appendEntry(db, {
          shopId: shop.id,
          customerExternalId: redemption.customerExternalId,
          delta: redemption.points,
          kind: "redemption_reversal",
          reference: redemption.id,
          key: `redemption_reversal:${redemption.id}`,
          createdAt: at,
        }),
      ];
      return planOf(null, { statements, member: redemption.customerExternalId });
    },
    now,
    // An expired code's points are not returned; a Shopify code that never reached Shopify's
    // checkout is voided with its points back whatever its end date.
    onlyIfShopifyPending,
  );
}

export async function requireCode(db: D1Database, shop: Shop, code: string) {
  const redemption = await redemptionByCode(db, shop.id, normalizeCode(code));
  if (!redemption) throw notFound("Code");
  return redemption;
}
