import { z } from "@hono/zod-openapi";
import { Badge } from "./storefront";
import { ShopView } from "./merchant";
import { LOOP_DEFINITIONS, LoopAnalytics } from "./loop-analytics";
import { Program } from "./program";

/** Program analytics, the simulator and console sessions. */

const Ratio = z.number().min(0).nullable();
const MoneyOut = z.string().openapi({ example: "123.45" });

export const AnalyticsQuery = z.object({
  from: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: "First day (YYYY-MM-DD) or instant; default 29 days before `to`.", example: "2026-03-01" }),
  to: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: "Last day, inclusive (YYYY-MM-DD), or an exclusive instant; default today (UTC).", example: "2026-03-30" }),
});

export const AtRiskMember = z.object({
  customerId: z.string().describe("The merchant's own customer id."),
  email: z.string().nullable(),
  firstName: z.string().nullable(),
  orders: z.number().int(),
  lastOrderAt: z.string(),
  cadenceDays: z.number().describe("The member's mean gap between orders, in days."),
  daysSinceLastOrder: z.number(),
  overdueDays: z.number().describe("Days past when their next order was due (last order + cadence)."),
});

export const SeriesPoint = z.object({
  bucket: z.string().describe("The day (YYYY-MM-DD) or month (YYYY-MM)."),
  pointsIssued: z.number().int(),
  pointsRedeemed: z.number().int(),
  newMembers: z.number().int(),
  orders: z.number().int(),
  revenue: MoneyOut.describe("Net eligible amount of the orders placed in the bucket."),
});

export const NpsMonth = z.object({
  month: z.string().describe("YYYY-MM"),
  score: z.number().int().nullable(),
  responses: z.number().int(),
});

export const Analytics = z
  .object({
    period: z.object({
      from: z.string(),
      to: z.string(),
      start: z.string().describe("Inclusive start instant (UTC)."),
      end: z.string().describe("Exclusive end instant (UTC)."),
    }),
    currency: z.string(),
    members: z.number().int(),
    newMembers: z.number().int(),
    activeMembers: z.number().int(),
    pointsIssued: z.number().int(),
    pointsRedeemed: z.number().int(),
    pointsExpired: z.number().int(),
    pointsClawedBack: z.number().int(),
    liability: MoneyOut,
    liabilityPoints: z.number().int(),
    pendingLiability: MoneyOut,
    pendingPoints: z.number().int(),
    pointValue: z.string(),
    redemptionRate: Ratio,
    repeatPurchaseRate: Ratio,
    retentionRate: Ratio,
    retention: z.object({
      start: z.number().int().describe("S: members who ordered in the previous period of the same length."),
      end: z.number().int().describe("E: members who ordered in this period."),
      new: z.number().int().describe("N: members who ordered in this period but not in the previous one."),
    }),
    averageLifetimeValue: MoneyOut.nullable(),
    nps: z.number().int().min(-100).max(100).nullable(),
    npsResponses: z.object({
      responses: z.number().int(),
      promoters: z.number().int(),
      passives: z.number().int(),
      detractors: z.number().int(),
    }),
    npsTrend: z.array(NpsMonth),
    referralConversion: Ratio,
    referrals: z.object({
      claims: z.number().int(),
      completed: z.number().int(),
      rejected: z.number().int(),
      reversed: z.number().int(),
    }),
    challengeCompletion: Ratio,
    challenges: z.object({ participants: z.number().int(), completed: z.number().int() }),
    atRisk: z.array(AtRiskMember),
    atRiskCount: z.number().int(),
    series: z.object({ bucket: z.enum(["day", "month"]), points: z.array(SeriesPoint) }),
    ...LoopAnalytics.shape,
  })
  .openapi("Analytics");

export type Analytics = z.infer<typeof Analytics>;

/** The text of the analytics route's OpenAPI description: what every figure means. */
export const ANALYTICS_DEFINITIONS = `
Figures for the period [from, to]. Dates are UTC days (\`to\` inclusive); instants may be given
instead (\`to\` exclusive). Both are optional: the default is the last 30 days, today included.
\`from\` after \`to\`, or a date that does not exist, is 400 \`invalid_request\`.

Points are integers. Money is a decimal string in the shop's currency (computed in integer minor
units). Ratios are numbers from 0 to 1, rounded to four places, and \`null\` when their denominator
is zero. NPS is a whole number from -100 to 100.

- **members**: members who joined before the period's end (less those erased by then); **newMembers** joined during it.
- **activeMembers**: members who placed an order (not cancelled) or redeemed a reward in the period.
- **pointsIssued**: points credited in the period: every positive ledger entry except redemption reversals.
- **pointsRedeemed**: points spent on rewards in the period, less redemptions voided in it.
- **pointsExpired**: points removed by expiry in the period.
- **pointsClawedBack**: points taken back by refunds, cancellations and debit adjustments.
- **liability**: the money value of the points members held at the period's end
  (**liabilityPoints**, the sum of all balances then) at the program's \`pointValue\`, rounded half up.
- **pendingLiability**: the same for **pendingPoints**, the points orders held at the period's end
  (program.earning.pendingDays) and not yet in any balance, less what refunds took back since.
- **redemptionRate**: pointsRedeemed / (points held at the period's start + pointsIssued): the
  share of the points available in the period that were redeemed.
- **repeatPurchaseRate**: of the members who ordered in the period, the share with at least two
  orders (not cancelled) by its end.
- **retentionRate**: (E - N) / S, where S is the members who ordered in the previous period of
  the same length (the base at the start), E those who ordered in this period, and N those of E
  who did not order in the previous period: the share of the starting base still buying.
- **averageLifetimeValue**: net spend (eligible amount less refunds, cancelled orders excluded) of
  all orders before the period's end, divided by the members who placed them.
- **nps**: % promoters (9-10) - % detractors (0-6) of the answers given in the period, rounded;
  **npsTrend** gives it for each of the 12 calendar months ending with the period's last month.
- **referralConversion**: of the referral claims made in the period that were not rejected, the
  share whose referee's first order completed the referral.
- **challengeCompletion**: of the (challenge, member) participations that moved in the period,
  the share completed in it.
- **atRisk**: members with two or more orders whose time since their last order, at the period's
  end, exceeds 1.5 times their own mean gap between orders (at least a day), most overdue first
  (up to 100 listed; **atRiskCount** counts them all).
- **series**: points, new members, orders and revenue per day (per month for periods over a year).
${LOOP_DEFINITIONS}
`.trim();

export const SimulateRequest = z
  .object({
    program: Program,
    days: z.number().int().min(1).max(365).default(90).describe("Replay the orders of the last N days."),
  })
  .openapi("SimulateRequest");

export const SimulationSide = z.object({
  orderPoints: z.number().int().describe("Points the replayed orders earn, before refunds."),
  pointsReversed: z.number().int().describe("Points their refunds and cancellations claw back."),
  otherPoints: z.number().int().describe("Other points credited in the window, as recorded."),
  pointsIssued: z.number().int().describe("orderPoints + otherPoints."),
  netPoints: z.number().int().describe("orderPoints - pointsReversed + otherPoints."),
  liabilityPoints: z.number().int().describe("Outstanding points now, moved by the difference the program makes."),
  liability: MoneyOut,
  revenue: MoneyOut.describe("Net revenue of the replayed orders."),
  cost: MoneyOut.describe("The money value of netPoints at the program's pointValue."),
  costShare: Ratio.describe("cost / revenue."),
  tiers: z.array(z.object({ tier: z.string().nullable(), members: z.number().int() })),
  ordersMatchingRecorded: z.number().int().describe("Orders whose replayed points equal those recorded."),
});

export const Simulation = z
  .object({
    window: z.object({ days: z.number().int(), start: z.string(), end: z.string() }),
    currency: z.string(),
    orders: z.number().int(),
    members: z.number().int().describe("Members with an order in the window."),
    recordedOrderPoints: z.number().int().describe("The points the window's orders were awarded."),
    current: SimulationSide,
    proposed: SimulationSide,
    assumptions: z.array(z.string()),
  })
  .openapi("Simulation");

export type Simulation = z.infer<typeof Simulation>;

export const ConsoleSessionRequest = z
  .object({ secretKey: z.string().min(1).max(200) })
  .openapi("ConsoleSessionRequest");

export const ConsoleSession = z
  .object({
    token: z.string().describe("Send as Authorization: Bearer <token> to the merchant API."),
    expiresAt: z.string(),
    shop: ShopView,
  })
  .openapi("ConsoleSession");

export type ConsoleSession = z.infer<typeof ConsoleSession>;

export const MemberEngagement = z
  .object({
    badges: z.array(Badge),
    referralsMade: z.array(
      z.object({
        id: z.string(),
        refereeEmail: z.string().nullable(),
        refereeId: z.string().nullable(),
        status: z.enum(["claimed", "completed", "rejected", "reversed"]),
        rejectionReason: z.string().nullable(),
        createdAt: z.string(),
        completedAt: z.string().nullable(),
      }),
    ),
    referredBy: z.object({ customerId: z.string(), status: z.string(), createdAt: z.string() }).nullable(),
  })
  .openapi("MemberEngagement");

export type MemberEngagement = z.infer<typeof MemberEngagement>;
