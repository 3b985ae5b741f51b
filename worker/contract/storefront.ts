import { z } from "@hono/zod-openapi";
import { Program } from "./program";
import { MemberRedemption } from "./rewards";

/** What a shopper's widget learns in one round trip: `GET /v1/storefront/state`. */

export const LedgerEntry = z
  .object({
    id: z.number().int(),
    delta: z.number().int(),
    kind: z.string(),
    reference: z.string().nullable(),
    balanceAfter: z.number().int(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
  })
  .openapi("LedgerEntry");

export const PendingRelease = z
  .object({ points: z.number().int(), availableAt: z.string() })
  .openapi("PendingRelease", { description: "Held points becoming available on a day (the time is that day's last release)." });

export const Badge = z.object({
  challengeId: z.string(),
  name: z.string(),
  badge: z.string(),
  earnedAt: z.string(),
});

export const StorefrontCustomer = z
  .object({
    id: z.string().describe("The merchant's own customer id."),
    firstName: z.string().nullable(),
    balance: z.number().int(),
    lifetimePoints: z.number().int(),
    pendingPoints: z
      .number()
      .int()
      .describe("Points of orders still in the program's holding period (pendingDays): not in the balance yet."),
    pendingReleases: z
      .array(PendingRelease)
      .describe("When the pending points become available: per day, earliest first."),
    tier: z.string().nullable().describe("The tier the current program gives the member."),
    nextTier: z
      .object({ name: z.string(), threshold: z.number().int(), basis: z.enum(["lifetime_points", "spend"]) })
      .nullable(),
    /** 0..1 toward the next tier (1 at the top tier). */
    progress: z.number().min(0).max(1),
    /** Points (or whole currency units of spend) still needed for the next tier. */
    remainingToNextTier: z.number().int().nullable(),
    referralCode: z.string(),
    referralLink: z.string(),
    badges: z.array(Badge),
    npsDue: z.boolean().describe("Whether the NPS question should be asked now."),
    offer: z
      .object({ multiplier: z.number(), expiresAt: z.string() })
      .nullable()
      .describe("A personal offer running now (win-back): orders until expiresAt earn multiplier times."),
    holdout: z
      .boolean()
      .describe("The member is in the program's control group: they earn nothing and the widget stays hidden."),
  })
  .openapi("StorefrontCustomer");

export const StorefrontReward = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(["amount_off", "percent_off", "free_shipping", "free_product", "store_credit", "donation"]),
    cost: z.number().int(),
    value: z.union([z.string(), z.number()]).nullable(),
    minOrder: z.string().nullable(),
    affordable: z.boolean(),
    cause: z.string().nullable().optional().describe("donation: the cause the points go to."),
  })
  .openapi("StorefrontReward");

export const StorefrontChallenge = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.string(),
    goal: z.number().int(),
    progress: z.number().int(),
    completed: z.boolean(),
    badge: z.string().nullable(),
    rewardPoints: z.number().int(),
    endsAt: z.string().nullable(),
  })
  .openapi("StorefrontChallenge");

export const StorefrontProgram = z.object({
  shopName: z.string(),
  currency: z.string(),
  earning: Program.shape.earning,
  waysToEarn: Program.shape.waysToEarn,
  referral: z.object({ referrerPoints: z.number().int(), refereeOffer: Program.shape.referral.shape.refereeOffer }),
  tiers: Program.shape.tiers,
  branding: Program.shape.branding,
  texts: Program.shape.texts,
});

export const StorefrontState = z
  .object({
    program: StorefrontProgram,
    customer: StorefrontCustomer.nullable(),
    rewards: z.array(StorefrontReward),
    challenges: z.array(StorefrontChallenge),
    activity: z.array(LedgerEntry),
    redemptions: z
      .array(MemberRedemption)
      .describe("The member's codes: every issued one first (newest first), then up to 10 others; [] for a guest."),
  })
  .openapi("StorefrontState");

export const StorefrontSession = z
  .object({
    token: z.string(),
    expiresAt: z.string(),
    customer: z.object({ id: z.string(), balance: z.number().int() }).nullable(),
  })
  .openapi("StorefrontSession");

export const Redemption = z
  .object({
    id: z.string(),
    code: z.string().nullable().describe("null for a donation (it has no code)."),
    rewardId: z.string(),
    points: z.number().int(),
    status: z.enum(["issued", "used", "void"]).optional(),
    createdAt: z.string().optional(),
  })
  .openapi("Redemption");

export type StorefrontState = z.infer<typeof StorefrontState>;
export type StorefrontCustomer = z.infer<typeof StorefrontCustomer>;
export type StorefrontReward = z.infer<typeof StorefrontReward>;
export type StorefrontChallenge = z.infer<typeof StorefrontChallenge>;
export type StorefrontSession = z.infer<typeof StorefrontSession>;
export type LedgerEntry = z.infer<typeof LedgerEntry>;
export type Redemption = z.infer<typeof Redemption>;
