import { z } from "@hono/zod-openapi";
import { idText } from "./ids";
import { Money } from "./program";

export const RewardType = z.enum(["amount_off", "percent_off", "free_shipping", "free_product", "store_credit", "donation"]);

const RewardFields = {
  name: z.string().min(1).max(120),
  type: RewardType,
  cost: z.number().int().min(1).max(100_000_000).describe("Points the reward costs."),
  value: z
    .union([Money, z.number().int().min(1).max(100)])
    .optional()
    .describe("A decimal string for amount_off, store_credit and donation (the money given), a whole percent for percent_off."),
  cause: z.string().trim().min(1).max(200).optional().describe("donation only: the cause the gift goes to."),
  product: z.string().min(1).max(255).optional().describe("The SKU or product id for free_product."),
  minOrder: Money.optional().describe("The order subtotal the code needs, in the shop's currency."),
  active: z.boolean().optional(),
  validityDays: z
    .number({ error: "a whole number of days, 1-3650, or null (codes never expire)" })
    .int("a whole number of days, 1-3650, or null (codes never expire)")
    .min(1, "at least 1 day, or null (codes never expire)")
    .max(3650, "at most 3650 days (10 years)")
    .nullable()
    .optional()
    .describe("Days a redemption's code stays valid after it is issued; absent or null: it never expires."),
};

/** Each type says which value it takes; checked here so the error names the field. */
function checkValue(reward: { type?: string; value?: string | number; product?: string; cause?: string }, ctx: z.RefinementCtx) {
  const { type, value } = reward;
  if (type === undefined) return;
  if (type === "donation" && !reward.cause) {
    ctx.addIssue({ code: "custom", path: ["cause"], message: "a donation needs the cause it goes to" });
  }
  if (type !== "donation" && reward.cause !== undefined) {
    ctx.addIssue({ code: "custom", path: ["cause"], message: "only donation rewards take a cause" });
  }
  if ((type === "amount_off" || type === "store_credit" || type === "donation") && typeof value !== "string") {
    ctx.addIssue({ code: "custom", path: ["value"], message: `${type} needs value as a decimal string, e.g. "5.00"` });
  }
  if (type === "percent_off" && typeof value !== "number") {
    ctx.addIssue({ code: "custom", path: ["value"], message: "percent_off needs value as a whole percent, 1-100" });
  }
  if ((type === "free_shipping" || type === "free_product") && value !== undefined) {
    ctx.addIssue({ code: "custom", path: ["value"], message: `${type} takes no value` });
  }
}

export const CreateReward = z.object(RewardFields).superRefine(checkValue).openapi("CreateReward");
export const UpdateReward = z.object(RewardFields).partial().openapi("UpdateReward");

export const RewardView = z
  .object({
    id: z.string(),
    name: z.string(),
    type: RewardType,
    cost: z.number().int(),
    value: z.union([z.string(), z.number()]).nullable(),
    product: z.string().nullable(),
    minOrder: z.string().nullable(),
    active: z.boolean(),
    validityDays: z.number().int().nullable(),
    cause: z.string().nullable().describe("donation: the cause the gift goes to."),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Reward");

export const RedemptionStatus = z.enum(["issued", "used", "void", "expired"]);

export const RedemptionView = z
  .object({
    id: z.string(),
    code: z.string().nullable().describe("null for a donation (it has no code)."),
    rewardId: z.string(),
    rewardName: z.string().nullable(),
    customerId: z.string(),
    points: z.number().int(),
    status: RedemptionStatus.describe("As of now: an issued code past its end date reads as expired."),
    type: RewardType,
    value: z.union([z.string(), z.number()]).nullable(),
    minOrder: z.string().nullable(),
    createdAt: z.string(),
    expiresAt: z.string().nullable().describe("When the code stops being valid; null: never."),
    usedAt: z.string().nullable(),
    orderId: z.string().nullable().describe("The order that used the code."),
    voidedAt: z.string().nullable(),
    voidReason: z.string().nullable(),
  })
  .openapi("RedemptionDetail");

/** A member's code as the member sees it, in the storefront state. */
export const MemberRedemption = z
  .object({
    id: z.string(),
    code: z.string().nullable().describe("null for a donation (it has no code)."),
    rewardId: z.string(),
    rewardName: z.string().nullable(),
    points: z.number().int(),
    status: RedemptionStatus,
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    usedAt: z.string().nullable(),
    orderId: z.string().nullable(),
    type: RewardType,
    value: z.union([z.string(), z.number()]).nullable(),
  })
  .openapi("MemberRedemption");

export const RedeemRequest = z.object({ rewardId: idText(64) }).openapi("RedeemRequest");
export const IdParam = z.object({ id: idText(64) });
export const CodeParam = z.object({ code: idText(64) });
export const VoidRequest = z.object({ reason: z.string().max(200).default("") });
export const ConsumeRequest = z.object({
  orderId: idText(255).optional().describe("The order that uses the code: kept on the redemption."),
});
