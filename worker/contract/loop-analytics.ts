import { z } from "@hono/zod-openapi";

/** The analytics figures of closing the loop (their definitions: LOOP_DEFINITIONS below). */

const Percent = z.number().min(0).max(100).nullable();
const MoneyOut = z.string().openapi({ example: "123.45" });
const Pair = <T extends z.ZodType>(schema: T) => z.object({ program: schema, holdout: schema });

export const LoopAnalytics = z.object({
  ces: Percent.describe("% of CES answers 5-7, one decimal."),
  csat: Percent.describe("% of CSAT answers 4-5, one decimal."),
  cli: z.number().min(-100).max(100).nullable().describe("Customer Loyalty Index, one decimal."),
  feedbackCount: z.number().int().describe("CES, CSAT and program answers in the period (NPS answers count apart)."),
  feedbackResponses: z.object({ ces: z.number().int(), csat: z.number().int(), program: z.number().int() }),
  feedbackTrend: z.array(
    z.object({
      month: z.string().describe("YYYY-MM"),
      ces: Percent,
      csat: Percent,
      cli: z.number().nullable(),
      feedbackCount: z.number().int(),
    }),
  ),
  winBack: z.object({
    offered: z.number().int().describe("Offers that started in the period (win-back and by hand)."),
    converted: z.number().int().describe("Of those, offers whose member ordered while the offer ran."),
    revenue: MoneyOut.describe("Net amount of the orders placed while those offers ran."),
  }),
  donations: z.object({
    count: z.number().int().describe("Donations made in the period (not voided)."),
    value: MoneyOut.describe("The money they promise to their causes."),
  }),
  incrementality: z.object({
    holdoutPercent: z.number(),
    programMembers: z.number().int(),
    holdoutMembers: z.number().int(),
    buyers: Pair(z.number().int()).describe("Members of each group who ordered in the period."),
    repeatPurchaseRate: Pair(z.number().min(0).max(1).nullable()),
    averageOrderValue: Pair(MoneyOut.nullable()),
    averageLifetimeValue: Pair(MoneyOut.nullable()),
    significance: z.object({
      test: z.string(),
      z: z.number().nullable(),
      significant: z.boolean(),
      warning: z.string().nullable().describe("A plain sentence when the groups are too small or too close to conclude anything."),
    }),
  }),
});

export const LOOP_DEFINITIONS = `
- **ces**: Customer Effort Score, the % of CES answers (1-7, "how easy was it", after a redemption)
  of 5, 6 or 7, one decimal; null without answers. **csat**: the % of CSAT answers (1-5) of 4 or 5.
- **cli**: Customer Loyalty Index, the mean of three NPS-style scores (% 9-10 minus % 0-6), one for
  each NPS question (recommend, repurchase, upsell) over the answers to it in the period, one
  decimal; a question nobody answered is left out; null without answers.
- **feedbackCount**: CES, CSAT and program answers given in the period (NPS answers count apart,
  in npsResponses). **feedbackTrend** gives ces, csat, cli and feedbackCount for each of the 12
  calendar months ending with the period's last month.
- **winBack**: personal offers that started in the period (**offered**), those whose member placed
  an order (not cancelled) while the offer ran (**converted**), and the net amount of those orders
  (**revenue**).
- **donations**: donation rewards redeemed in the period (not voided) and the money they promise
  (each donation's value); per cause in GET /v1/donations.
- **incrementality**: members who joined before the period's end, split by the holdout hash
  (program.holdout.percent) into the program and the control group, which earns and sees nothing;
  for each: **repeatPurchaseRate** (as above, within the group), **averageOrderValue** (net amount
  of the orders placed in the period / their number) and **averageLifetimeValue** (as above,
  within the group). **significance** is a two-proportion z-test on the repeat purchase rates
  (significant when |z| >= 1.96); its **warning** says so when a group has fewer than 30 buyers
  or the difference is not significant.
`.trim();
