import { z } from "@hono/zod-openapi";
import { CHALLENGE_KINDS } from "../domain/challenges";
import { idText } from "./ids";
import { StorefrontChallenge } from "./storefront";

/** Challenges, referrals and NPS: the merchant's and the storefront's shapes. */

export const ChallengeKind = z.enum(CHALLENGE_KINDS);

const When = z.iso.datetime({ offset: true });

const ChallengeFields = {
  name: z.string().trim().min(1).max(120),
  kind: ChallengeKind,
  goal: z
    .number()
    .int()
    .min(1)
    .max(1_000_000_000)
    .describe(
      "Orders (order_count), minor units of eligible spend (spend), items of the product type (product_type), " +
        "periods in a row (streak), completed referrals (referrals), reviews (review), NPS answers (nps). " +
        "A social action is reported once and completes the challenge.",
    ),
  rewardPoints: z.number().int().min(0).max(1_000_000_000).describe("Paid once, on completion."),
  badge: z.string().trim().min(1).max(60).nullable().optional().describe("The badge's label (or emoji)."),
  productType: z.string().min(1).max(100).nullable().optional().describe("product_type challenges: the type to count."),
  periodDays: z
    .number()
    .int()
    .min(1)
    .max(365)
    .nullable()
    .optional()
    .describe("streak challenges: the length of one period; an order is needed in each of `goal` periods in a row."),
  startsAt: When.nullable().optional().describe("Events before this moment do not count."),
  endsAt: When.nullable().optional().describe("Events from this moment on do not count."),
  active: z.boolean().optional(),
};

/** Rules across fields (a product type for product_type, a period for streak, end after start). */
function checkKind(
  c: { kind?: string; productType?: string | null; periodDays?: number | null; startsAt?: string | null; endsAt?: string | null },
  ctx: z.RefinementCtx,
) {
  if (c.kind === "product_type" && !c.productType) {
    ctx.addIssue({ code: "custom", path: ["productType"], message: "product_type challenges need the product type" });
  }
  if (c.kind !== undefined && c.kind !== "product_type" && c.productType) {
    ctx.addIssue({ code: "custom", path: ["productType"], message: "only product_type challenges take a product type" });
  }
  if (c.kind === "streak" && !c.periodDays) {
    ctx.addIssue({ code: "custom", path: ["periodDays"], message: "streak challenges need periodDays" });
  }
  if (c.kind !== undefined && c.kind !== "streak" && c.periodDays) {
    ctx.addIssue({ code: "custom", path: ["periodDays"], message: "only streak challenges take periodDays" });
  }
  if (c.startsAt && c.endsAt && Date.parse(c.endsAt) <= Date.parse(c.startsAt)) {
    ctx.addIssue({ code: "custom", path: ["endsAt"], message: "must be after startsAt" });
  }
}

export const CreateChallenge = z.object(ChallengeFields).superRefine(checkKind).openapi("CreateChallenge");
export const UpdateChallenge = z
  .object(ChallengeFields)
  .omit({ kind: true })
  .partial()
  .strict()
  .openapi("UpdateChallenge");

export const ChallengeView = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: ChallengeKind,
    goal: z.number().int(),
    rewardPoints: z.number().int(),
    badge: z.string().nullable(),
    productType: z.string().nullable(),
    periodDays: z.number().int().nullable(),
    startsAt: z.string().nullable(),
    endsAt: z.string().nullable(),
    active: z.boolean(),
    completions: z.number().int().describe("Members who completed it."),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Challenge");

export const ChallengeIdParam = z.object({ id: idText(64) });

export const ReferralStatus = z.enum(["claimed", "completed", "rejected", "reversed"]);
export const RejectionReason = z.enum(["self_referral", "email_already_claimed", "referee_ordered_before", "address_burst"]);

export const ReferralView = z
  .object({
    id: z.string(),
    code: z.string().describe("The referrer's referral code."),
    referrer: z.object({ id: z.string(), firstName: z.string().nullable() }),
    refereeEmail: z.string().nullable(),
    refereeId: z.string().nullable().describe("The referee's customer id, once an order matched."),
    offerCode: z.string().nullable(),
    status: ReferralStatus,
    rejectionReason: RejectionReason.nullable(),
    orderId: z.string().nullable().describe("The order that completed (or was rejected for) the referral."),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .openapi("Referral");

export const ReferralListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, "a cursor from a previous page")
    .optional(),
  status: ReferralStatus.optional(),
});

const Offer = z.object({
  type: z.enum(["amount_off", "percent_off", "free_shipping"]),
  value: z.union([z.string(), z.number()]).nullable(),
});

export const ReferralCodeParam = z.object({ code: idText(64) });
export const ShopQuery = z.object({ shop: z.string().min(1).max(100).describe("The shop's public key.") });

export const ReferralLookup = z
  .object({ referral: z.object({ firstName: z.string().nullable(), offer: Offer }) })
  .openapi("ReferralLookup");

export const ReferralClaimRequest = z
  .object({ shop: z.string().min(1).max(100).describe("The shop's public key."), email: z.email().max(320) })
  .openapi("ReferralClaimRequest");

export const ReferralClaim = z
  .object({
    referral: z.object({ id: z.string(), status: z.literal("claimed") }),
    offerCode: z.string().describe("The referee's own discount code: XXXX-XXXX-XXXX."),
    offer: Offer,
  })
  .openapi("ReferralClaim");

const NpsStyle = z.number().int().min(0).max(10);

export const NpsAnswer = z
  .object({
    score: NpsStyle,
    comment: z.string().trim().max(1000).optional(),
    repurchase: NpsStyle.optional().describe("0-10: how likely the member is to buy again (for the Customer Loyalty Index)."),
    upsell: NpsStyle.optional().describe("0-10: how likely the member is to try other products (for the Customer Loyalty Index)."),
  })
  .openapi("NpsAnswer");

export const NpsReceipt = z
  .object({
    response: z.object({
      score: z.number().int(),
      comment: z.string().nullable(),
      repurchase: z.number().int().nullable(),
      upsell: z.number().int().nullable(),
      createdAt: z.string(),
    }),
    points: z.number().int().describe("Points this answer earned (NPS points and any nps challenge reward)."),
    balance: z.number().int(),
    nextAt: z.string().describe("When the question may be answered again."),
  })
  .openapi("NpsReceipt");

export const ActionReceipt = z
  .object({
    challenge: StorefrontChallenge,
    points: z.number().int().describe("Points the action earned (social points and the challenge reward)."),
    balance: z.number().int(),
  })
  .openapi("ActionReceipt");

export type ChallengeInput = z.infer<typeof CreateChallenge>;
export type ChallengePatch = z.infer<typeof UpdateChallenge>;
export type ReferralClaim = z.infer<typeof ReferralClaim>;
export type ReferralLookup = z.infer<typeof ReferralLookup>;
export type NpsReceipt = z.infer<typeof NpsReceipt>;
export type ActionReceipt = z.infer<typeof ActionReceipt>;
