import { z } from "@hono/zod-openapi";
import { idText } from "./ids";

/** Feedback besides NPS (CES, CSAT, the program) and the merchant's list of every answer. */

export const FeedbackRequest = z
  .object({
    kind: z.enum(["ces", "csat", "program"]).describe("ces: how easy was it (1-7, after a redemption); csat: 1-5; program: free text about the rewards program, score optional 1-5."),
    score: z.number().int().min(0).max(10).optional().describe("On the kind's own scale; out of it is 400."),
    comment: z.string().trim().max(1000).optional(),
    redemptionId: idText(64).optional().describe("The member's own redemption the answer is about (required for ces)."),
  })
  .openapi("FeedbackRequest");

export const FeedbackReceipt = z
  .object({
    answer: z.object({
      kind: z.enum(["ces", "csat", "program"]),
      score: z.number().int().nullable(),
      comment: z.string().nullable(),
      redemptionId: z.string().nullable(),
      createdAt: z.string(),
    }),
  })
  .openapi("FeedbackReceipt");

const AnswerKind = z.enum(["nps", "ces", "csat", "program"]);

export const FeedbackAnswer = z
  .object({
    id: z.string(),
    kind: AnswerKind,
    score: z.number().int().nullable(),
    comment: z.string().nullable().describe("For NPS, the \"why\" of the score."),
    customerId: z.string().describe("The merchant's own customer id."),
    createdAt: z.string(),
    redemptionId: z.string().nullable(),
    repurchase: z.number().int().nullable().describe("NPS answers: how likely to buy again, 0-10."),
    upsell: z.number().int().nullable().describe("NPS answers: how likely to try other products, 0-10."),
    band: z.enum(["low", "mid", "high"]).nullable().describe("The score's band on its kind's scale (README, Feedback)."),
    themes: z.array(z.string()).describe("The comment's keyword themes (README, Feedback)."),
  })
  .openapi("FeedbackAnswer");

export const FeedbackFilter = z.object({
  kind: AnswerKind.optional(),
  band: z
    .enum(["low", "mid", "high"])
    .optional()
    .describe("With kind: NPS 0-6 / 7-8 / 9-10, CES 1-3 / 4 / 5-7, CSAT and program 1-2 / 3 / 4-5."),
  from: z.string().max(40).optional().describe("First day (YYYY-MM-DD) or instant of the answers listed."),
  to: z.string().max(40).optional().describe("Last day, inclusive (YYYY-MM-DD), or an exclusive instant."),
});

export const FeedbackQuery = FeedbackFilter.extend({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const FeedbackPage = z
  .object({ answers: z.array(FeedbackAnswer), nextCursor: z.string().nullable() })
  .openapi("FeedbackPage");

export const FeedbackThemes = z
  .object({
    comments: z.number().int().describe("Answers with a comment that were grouped."),
    themes: z.array(z.object({ theme: z.string(), count: z.number().int(), example: z.string() })),
  })
  .openapi("FeedbackThemes");
