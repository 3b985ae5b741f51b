import { createRoute, z } from "@hono/zod-openapi";
import { requireMerchant } from "../auth/middleware";
import { requireStorefrontSession } from "../auth/storefront";
import { FeedbackFilter, FeedbackPage, FeedbackQuery, FeedbackReceipt, FeedbackRequest, FeedbackThemes } from "../contract/feedback";
import { AnalyticsQuery } from "../contract/analytics";
import { ExternalIdParam } from "../contract/merchant";
import { OfferRequest, OfferView } from "../contract/offers";
import { resolvePeriod } from "../domain/analytics";
import { badRequest, unauthorized } from "../http/errors";
import { idempotent } from "../http/idempotency";
import { idempotencyHeader, jsonBody, jsonResponse, problems } from "../http/openapi";
import { spend } from "../http/rate-limit";
import { newRouter } from "../http/validation";
import { csvRow } from "../services/analytics";
import { donationRows, donationsReport } from "../services/donations";
import { allAnswers, answerFeedback, answerThemes, answerView, listAnswers } from "../services/feedback";
import { grantOffer, recordedOffer } from "../services/win-back";

/** Closing the loop: feedback (storefront answers, the merchant's list), win-back offers, donations. */
export const loopRoutes = newRouter();

// /v1/customers/* is authenticated by the merchant router's middleware (mounted before this one).
for (const path of ["/v1/feedback", "/v1/feedback/*", "/v1/donations", "/v1/donations/*"]) loopRoutes.use(path, requireMerchant);
loopRoutes.use("/v1/storefront/feedback", requireStorefrontSession);

const merchant: { [scheme: string]: string[] }[] = [{ secretKey: [] }, { consoleToken: [] }];
const storefront = [{ storefrontToken: [] }];

loopRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/storefront/feedback",
    tags: ["Storefront"],
    summary: "Answer a feedback question",
    description:
      "ces (1-7, how easy it was, about one of the member's own redemptions), csat (1-5) or program (free text about " +
      "the rewards program, score optional 1-5). One answer per kind and redemption: a second is 409 " +
      "`already_answered`; a redemption that is not the member's is 404; a score off its kind's scale is 400. " +
      "Announced as `feedback.received`.",
    security: storefront,
    request: { body: jsonBody(FeedbackRequest) },
    responses: { 201: jsonResponse(FeedbackReceipt, "Stored"), ...problems(400, 401, 404, 409, 415, 429) },
  }),
  async (c) => {
    const customerId = c.var.customerId;
    if (!customerId) throw unauthorized("Sign in to answer.");
    await spend(c.env.WRITE_LIMITER, `write:${c.var.shop.id}:${customerId}`);
    return c.json(await answerFeedback(c.env.DB, c.var.shop, customerId, c.req.valid("json")), 201);
  },
);

loopRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/feedback",
    tags: ["Feedback"],
    summary: "Every feedback answer",
    description:
      "NPS (with its \"why\" comment and the repurchase and upsell answers), CES, CSAT and program answers, newest " +
      "first; filter by kind, by score band (with kind) and by period.",
    security: merchant,
    request: { query: FeedbackQuery },
    responses: { 200: jsonResponse(FeedbackPage, "A page of answers"), ...problems(400, 401) },
  }),
  async (c) => c.json(await listAnswers(c.env.DB, c.var.shop, c.req.valid("query")), 200),
);

loopRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/feedback/themes",
    tags: ["Feedback"],
    summary: "Feedback comments grouped into themes",
    description:
      "A fixed list of themes, each a few word stems; a comment belongs to every theme one of its words starts " +
      "with a stem of, or to `other` (README, Feedback). Over the newest 5,000 answers matching the filter.",
    security: merchant,
    request: { query: FeedbackFilter },
    responses: { 200: jsonResponse(FeedbackThemes, "Themes, most frequent first"), ...problems(400, 401) },
  }),
  async (c) => c.json(await answerThemes(c.env.DB, c.var.shop, c.req.valid("query")), 200),
);

loopRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/feedback/export.csv",
    tags: ["Feedback"],
    summary: "Export feedback as CSV",
    description: "Every answer matching the filter, newest first, with the quoting rules of the other exports.",
    security: merchant,
    request: { query: FeedbackFilter },
    responses: { 200: { content: { "text/csv": { schema: z.string() } }, description: "The answers" }, ...problems(400, 401) },
  }),
  async (c) => {
    const pages = allAnswers(c.env.DB, c.var.shop, c.req.valid("query"));
    // The first page is read before answering, so a bad filter is still a 400.
    const first = await pages.next();
    const encoder = new TextEncoder();
    const header = ["id", "kind", "score", "band", "comment", "themes", "customer_id", "redemption_id", "repurchase", "upsell", "created_at"];
    const cells = (rows: Parameters<typeof answerView>[0][]) =>
      rows
        .map(answerView)
        .map((a) =>
          csvRow([a.id, a.kind, a.score, a.band, a.comment, a.themes.join(" "), a.customerId, a.redemptionId, a.repurchase, a.upsell, a.createdAt]),
        )
        .join("");
    let pending: IteratorResult<Parameters<typeof answerView>[0][], void> | null = first;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(csvRow(header)));
      },
      async pull(controller) {
        const next = pending ?? (await pages.next());
        pending = null;
        if (next.done) return controller.close();
        controller.enqueue(encoder.encode(cells(next.value)));
      },
    });
    return c.body(body, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="feedback-${new Date().toISOString().slice(0, 10)}.csv"`,
      "cache-control": "no-store",
    }) as never;
  },
);

loopRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/customers/{externalId}/offers",
    tags: ["Customers"],
    summary: "Grant a personal offer (I)",
    description:
      "Orders the member places within `days` earn `multiplier` times their points (as the daily run's win-back " +
      "offers do). An unknown member is 404; a member of the holdout group is 422 `rule_violation`.",
    security: merchant,
    request: { params: ExternalIdParam, body: jsonBody(OfferRequest) },
    parameters: [idempotencyHeader],
    responses: { 201: jsonResponse(OfferView, "The offer"), ...problems(400, 401, 404, 415, 422) },
  }),
  async (c) => {
    const { externalId } = c.req.valid("param");
    const body = c.req.valid("json");
    const response = await idempotent(
      c,
      "offer",
      body,
      async (claim) => ({ status: 201, body: await grantOffer(c.env.DB, c.var.shop, externalId, body, claim) }),
      async (reference) => ({ status: 201, body: recordedOffer(reference) }),
    );
    return response as never;
  },
);

const Donations = z
  .object({
    period: z.object({ from: z.string(), to: z.string(), start: z.string(), end: z.string() }),
    currency: z.string(),
    causes: z.array(
      z.object({
        cause: z.string(),
        count: z.number().int().describe("Donations made to the cause in the period."),
        points: z.number().int().describe("Points members gave."),
        value: z.string().describe("The money promised to the cause, in the shop's currency."),
      }),
    ),
  })
  .openapi("Donations");

/** The period of a donations request: the analytics rules (default the last 30 days). */
function periodOf(query: { from?: string | undefined; to?: string | undefined }) {
  const resolved = resolvePeriod(query.from, query.to, new Date());
  if (!resolved.period) throw badRequest("The period is not valid.", resolved.errors);
  return resolved.period;
}

loopRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/donations",
    tags: ["Donations"],
    summary: "Donations per cause",
    description:
      "What members gave by redeeming donation rewards in the period (the analytics period rules), per cause, largest " +
      "first: for the merchant to pay out. Voided donations are left out.",
    security: merchant,
    request: { query: AnalyticsQuery },
    responses: { 200: jsonResponse(Donations, "Totals per cause"), ...problems(400, 401) },
  }),
  async (c) => c.json(await donationsReport(c.env.DB, c.var.shop, periodOf(c.req.valid("query"))), 200),
);

loopRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/donations/export.csv",
    tags: ["Donations"],
    summary: "Export donations as CSV",
    description: "One row per donation of the period, oldest first, with its cause, member, points and value.",
    security: merchant,
    request: { query: AnalyticsQuery },
    responses: { 200: { content: { "text/csv": { schema: z.string() } }, description: "The donations" }, ...problems(400, 401) },
  }),
  async (c) => {
    const rows = await donationRows(c.env.DB, c.var.shop, periodOf(c.req.valid("query")));
    const text = [["donation_id", "created_at", "cause", "customer_id", "points", "value", "currency"], ...rows].map(csvRow).join("");
    return c.body(text, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="donations-${new Date().toISOString().slice(0, 10)}.csv"`,
      "cache-control": "no-store",
    }) as never;
  },
);
