import { createRoute, z } from "@hono/zod-openapi";
import { issueConsoleToken } from "../auth/console";
import { hashSecretKey } from "../auth/keys";
import { requireMerchant } from "../auth/middleware";
import {
  Analytics,
  ANALYTICS_DEFINITIONS,
  AnalyticsQuery,
  ConsoleSession,
  ConsoleSessionRequest,
  MemberEngagement,
  SimulateRequest,
  Simulation,
} from "../contract/analytics";
import { ExternalIdParam } from "../contract/merchant";
import { resolvePeriod } from "../domain/analytics";
import { formatMoney } from "../domain/money";
import { badRequest, unauthorized } from "../http/errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { clientAddress, spend } from "../http/rate-limit";
import { newRouter } from "../http/validation";
import { analyticsFor, csvStream, simulate } from "../services/analytics";
import { requireCustomer } from "../services/customers";
import { shopView } from "../services/shops";
import { badgesOfCustomer } from "../store/challenges";
import { customersAfter, ledgerAfter, referralsOfMember } from "../store/exports";
import { shopBySecretKeyHash } from "../store/shops";

/** The merchant console's API: sessions, analytics, the simulator and CSV exports. */
export const consoleRoutes = newRouter();

for (const path of ["/v1/analytics", "/v1/program/simulate", "/v1/exports/*", "/v1/console/customers/*"]) {
  consoleRoutes.use(path, requireMerchant);
}

const security: { [scheme: string]: string[] }[] = [{ secretKey: [] }, { consoleToken: [] }];

consoleRoutes.openAPIRegistry.registerComponent("securitySchemes", "consoleToken", {
  type: "http",
  scheme: "bearer",
  description: "A console session token from POST /v1/console/sessions; accepted wherever the secret key is.",
});

consoleRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/console/sessions",
    tags: ["Console"],
    summary: "Start a console session",
    description:
      "Trades the secret key for a token that lasts 30 minutes and is accepted by every merchant route. The console " +
      "keeps the token in memory only; the key is never stored.",
    request: { body: jsonBody(ConsoleSessionRequest) },
    responses: { 200: jsonResponse(ConsoleSession, "The session"), ...problems(400, 401, 415, 429) },
  }),
  async (c) => {
    await spend(c.env.SESSION_LIMITER, `console:${clientAddress(c)}`);
    const { secretKey } = c.req.valid("json");
    const shop = secretKey.startsWith("sk_") ? await shopBySecretKeyHash(c.env.DB, await hashSecretKey(secretKey)) : null;
    if (!shop) throw unauthorized("That secret key does not belong to any shop.");
    const session = await issueConsoleToken(c.env, shop.id);
    return c.json({ ...session, shop: shopView(shop) }, 200);
  },
);

consoleRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/analytics",
    tags: ["Analytics"],
    summary: "Program analytics for a period",
    description: ANALYTICS_DEFINITIONS,
    security,
    request: { query: AnalyticsQuery },
    responses: { 200: jsonResponse(Analytics, "The figures"), ...problems(400, 401) },
  }),
  async (c) => {
    const { from, to } = c.req.valid("query");
    const resolved = resolvePeriod(from, to, new Date());
    if (!resolved.period) throw badRequest("The period is not valid.", resolved.errors);
    return c.json(await analyticsFor(c.env.DB, c.var.shop, resolved.period), 200);
  },
);

consoleRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/program/simulate",
    tags: ["Program"],
    summary: "Simulate a program on the shop's recent orders",
    description:
      "Replays the orders of the last `days` days (default 90) under the proposed program and under the current one, " +
      "with the real earning rules, and returns both side by side: points issued, liability, cost as a share of " +
      "revenue (a ratio, not capped at 1) and the tier distribution. Nothing is saved. The response lists the " +
      "model's assumptions.",
    security,
    request: { body: jsonBody(SimulateRequest) },
    responses: { 200: jsonResponse(Simulation, "Current and proposed, side by side"), ...problems(400, 401, 413, 415) },
  }),
  async (c) => {
    const { program, days } = c.req.valid("json");
    return c.json(await simulate(c.env.DB, c.var.shop, program, days), 200);
  },
);

const csvResponse = (description: string) => ({
  content: { "text/csv": { schema: z.string() } },
  description,
});

function csvHeaders(name: string) {
  return {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${name}-${new Date().toISOString().slice(0, 10)}.csv"`,
    "cache-control": "no-store",
  };
}

consoleRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/exports/customers.csv",
    tags: ["Exports"],
    summary: "Export all members as CSV",
    description:
      "Streamed, any size (RFC 4180, CRLF). Text cells starting with = + - @ are prefixed with an apostrophe so " +
      "spreadsheets never run them. Money columns are decimal strings in the shop's currency.",
    security,
    responses: { 200: csvResponse("All members, oldest first"), ...problems(401) },
  }),
  (c) => {
    const shop = c.var.shop;
    const db = c.env.DB;
    const body = csvStream(
      [
        "id",
        "email",
        "first_name",
        "birthday",
        "balance",
        "lifetime_points",
        "tier",
        "referral_code",
        "order_count",
        "total_spent",
        "last_order_at",
        "created_at",
        "redacted_at",
      ],
      (after, limit) => customersAfter(db, shop.id, after, limit),
      (row) => row.id,
      (row) => [
        row.external_id,
        row.email,
        row.first_name,
        row.birthday,
        row.balance,
        row.lifetime_points,
        row.tier,
        row.referral_code,
        row.order_count,
        formatMoney(row.total_spent, shop.currency),
        row.last_order_at,
        row.created_at,
        row.redacted_at,
      ],
    );
    return c.body(body, 200, csvHeaders("customers")) as never;
  },
);

consoleRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/exports/ledger.csv",
    tags: ["Exports"],
    summary: "Export the whole ledger as CSV",
    description: "Streamed, any size, oldest entry first; the same quoting rules as the members export.",
    security,
    responses: { 200: csvResponse("Every ledger entry"), ...problems(401) },
  }),
  (c) => {
    const db = c.env.DB;
    const shopId = c.var.shop.id;
    const body = csvStream(
      ["entry_id", "customer_id", "delta", "kind", "reference", "balance_after", "shortfall", "note", "created_at", "expires_at"],
      (after, limit) => ledgerAfter(db, shopId, after, limit),
      (row) => row.id,
      (row) => [
        row.id,
        row.customer_id,
        row.delta,
        row.kind,
        row.reference,
        row.balance_after,
        row.shortfall,
        row.note,
        row.created_at,
        row.expires_at,
      ],
    );
    return c.body(body, 200, csvHeaders("ledger")) as never;
  },
);

consoleRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/console/customers/{externalId}/engagement",
    tags: ["Console"],
    summary: "A member's badges and referrals",
    security,
    request: { params: ExternalIdParam },
    responses: { 200: jsonResponse(MemberEngagement, "Badges, referrals made, and who referred them"), ...problems(401, 404) },
  }),
  async (c) => {
    const shop = c.var.shop;
    const customer = await requireCustomer(c.env.DB, shop, c.req.valid("param").externalId);
    const [badges, referrals] = await Promise.all([
      badgesOfCustomer(c.env.DB, shop.id, customer.rowId),
      referralsOfMember(c.env.DB, shop.id, customer.rowId, 100),
    ]);
    return c.json(
      {
        badges,
        referralsMade: referrals.made.map((r) => ({
          id: r.id,
          refereeEmail: r.referee_email,
          refereeId: r.referee_id,
          status: r.status,
          rejectionReason: r.rejection_reason,
          createdAt: r.created_at,
          completedAt: r.completed_at,
        })),
        referredBy: referrals.by
          ? { customerId: referrals.by.referrer_id, status: referrals.by.status, createdAt: referrals.by.created_at }
          : null,
      },
      200,
    );
  },
);
