import { createRoute, z } from "@hono/zod-openapi";
import { requireMerchant } from "../auth/middleware";
import {
  Adjustment,
  CustomerListQuery,
  CustomerView,
  ExternalIdParam,
  MerchantLedgerEntry,
  PageQuery,
} from "../contract/merchant";
import { Program } from "../contract/program";
import { RedemptionView } from "../contract/rewards";
import { Badge, PendingRelease } from "../contract/storefront";
import { idempotent } from "../http/idempotency";
import { idempotencyHeader, jsonBody, jsonResponse, problems } from "../http/openapi";
import { newRouter } from "../http/validation";
import {
  adjustBalance,
  customerViews,
  exportCustomer,
  ledgerPage,
  memberView,
  recordedAdjustment,
  redactCustomer,
  requireCustomer,
} from "../services/customers";
import { saveProgram, storeProgramTiers } from "../services/program";
import { redemptionView } from "../services/rewards";
import { badgesOfCustomer } from "../store/challenges";
import { listCustomers } from "../store/customers";
import { redemptionsOfMember } from "../store/rewards";

export const merchantRoutes = newRouter();

for (const path of ["/v1/program", "/v1/customers", "/v1/customers/*"]) merchantRoutes.use(path, requireMerchant);

const security = [{ secretKey: [] }];
const ProgramBody = z.object({ program: Program }).openapi("ProgramEnvelope");

merchantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/program",
    tags: ["Program"],
    summary: "Read the loyalty program",
    security,
    responses: { 200: jsonResponse(ProgramBody, "The program"), ...problems(401) },
  }),
  (c) => c.json({ program: c.var.shop.program }, 200),
);

merchantRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/program",
    tags: ["Program"],
    summary: "Replace the loyalty program",
    description:
      "Takes the whole program back, validated; public parts reach widgets at once. Every read shows each member " +
      "in the tier the new program gives (promotion at once; a lower tier only at the end of its window).",
    security,
    request: { body: jsonBody(ProgramBody) },
    responses: { 200: jsonResponse(ProgramBody, "The saved program"), ...problems(400, 401, 413, 415) },
  }),
  async (c) => {
    const { program } = c.req.valid("json");
    await saveProgram(c.env, c.var.shop, program);
    // Reads show each member's tier under the new program at once; storing it (and announcing
    // tier.changed) goes through every member, after the answer.
    c.executionCtx.waitUntil(storeProgramTiers(c.env.DB, { ...c.var.shop, program }));
    return c.json({ program }, 200);
  },
);

merchantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/customers",
    tags: ["Customers"],
    summary: "List members",
    description: "Newest first. `q` matches the customer id, email or first name.",
    security,
    request: { query: CustomerListQuery },
    responses: {
      200: jsonResponse(
        z.object({ customers: z.array(CustomerView), nextCursor: z.string().nullable() }),
        "A page of members",
      ),
      ...problems(400, 401),
    },
  }),
  async (c) => {
    const { limit, cursor, q } = c.req.valid("query");
    const page = await listCustomers(c.env.DB, c.var.shop.id, { limit, cursor: cursor ? Number(cursor) : undefined, q });
    return c.json({ customers: await customerViews(c.env.DB, c.var.shop, page.customers), nextCursor: page.nextCursor }, 200);
  },
);

merchantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/customers/{externalId}",
    tags: ["Customers"],
    summary: "Read one member",
    security,
    request: { params: ExternalIdParam },
    responses: {
      200: jsonResponse(
        z.object({ customer: CustomerView.extend({ badges: z.array(Badge), pendingReleases: z.array(PendingRelease) }) }),
        "The member",
      ),
      ...problems(401, 404),
    },
  }),
  async (c) => {
    const customer = await requireCustomer(c.env.DB, c.var.shop, c.req.valid("param").externalId);
    const badges = await badgesOfCustomer(c.env.DB, c.var.shop.id, customer.rowId);
    return c.json({ customer: { ...(await memberView(c.env.DB, c.var.shop, customer)), badges } }, 200);
  },
);

merchantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/customers/{externalId}/ledger",
    tags: ["Customers"],
    summary: "A member's ledger",
    description: "Newest first; pass `nextCursor` back as `cursor` for the next page.",
    security,
    request: { params: ExternalIdParam, query: PageQuery },
    responses: {
      200: jsonResponse(
        z.object({ entries: z.array(MerchantLedgerEntry), nextCursor: z.string().nullable() }),
        "A page of entries",
      ),
      ...problems(400, 401, 404),
    },
  }),
  async (c) => {
    const customer = await requireCustomer(c.env.DB, c.var.shop, c.req.valid("param").externalId);
    const { limit, cursor } = c.req.valid("query");
    const page = await ledgerPage(c.env.DB, c.var.shop.id, customer.rowId, {
      limit,
      cursor: cursor ? Number(cursor) : undefined,
    });
    return c.json(page, 200);
  },
);

merchantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/customers/{externalId}/redemptions",
    tags: ["Customers"],
    summary: "A member's rewards",
    description:
      "Every code the member redeemed, newest first, with its status as of now (`issued`, `used` with the order that " +
      "used it, `void`, `expired`) and until when it is valid.",
    security,
    request: {
      params: ExternalIdParam,
      query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(100) }),
    },
    responses: {
      200: jsonResponse(z.object({ redemptions: z.array(RedemptionView) }), "Newest first"),
      ...problems(400, 401, 404),
    },
  }),
  async (c) => {
    const customer = await requireCustomer(c.env.DB, c.var.shop, c.req.valid("param").externalId);
    const redemptions = await redemptionsOfMember(c.env.DB, c.var.shop.id, customer.rowId, c.req.valid("query").limit);
    const now = new Date();
    return c.json({ redemptions: redemptions.map((r) => redemptionView(c.var.shop, r, now)) }, 200);
  },
);

merchantRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/customers/{externalId}/adjustments",
    tags: ["Customers"],
    summary: "Adjust a member's balance (I)",
    description: "A debit the balance cannot cover is 422 insufficient_points and changes nothing.",
    security,
    request: { params: ExternalIdParam, body: jsonBody(Adjustment), headers: z.object({}) },
    responses: {
      201: jsonResponse(z.object({ entry: MerchantLedgerEntry, balance: z.number().int() }), "The new entry"),
      ...problems(400, 401, 404, 422),
    },
    parameters: [idempotencyHeader],
  }),
  async (c) => {
    const { externalId } = c.req.valid("param");
    const body = c.req.valid("json");
    // One key space per shop (idempotency keys are unique per shop): the request hash covers the path, so the same
    // key sent for another customer is a mismatch, not a second adjustment.
    const response = await idempotent(
      c,
      "adjustment",
      body,
      async (claim) => ({ status: 201, body: await adjustBalance(c.env.DB, c.var.shop, externalId, body, claim) }),
      async (key) => ({ status: 201, body: await recordedAdjustment(c.env.DB, c.var.shop, key) }),
    );
    // A replay carries the stored status and body, which the typed helpers cannot express.
    return response as never;
  },
);

merchantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/customers/{externalId}/export",
    tags: ["Customers"],
    summary: "Export a member's data (GDPR access)",
    security,
    request: { params: ExternalIdParam },
    responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "Everything held about the member"), ...problems(401, 404) },
  }),
  async (c) => c.json(await exportCustomer(c.env.DB, c.var.shop, c.req.valid("param").externalId), 200),
);

merchantRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/customers/{externalId}",
    tags: ["Customers"],
    summary: "Erase a member's personal data (GDPR)",
    description: "Personal data is removed; ledger amounts and the balance are kept.",
    security,
    request: { params: ExternalIdParam },
    responses: {
      200: jsonResponse(z.object({ status: z.literal("redacted"), balance: z.number().int() }), "Erased"),
      ...problems(401, 404),
    },
  }),
  async (c) => c.json(await redactCustomer(c.env.DB, c.var.shop, c.req.valid("param").externalId), 200),
);
