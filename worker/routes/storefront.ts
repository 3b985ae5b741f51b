import { createRoute, z } from "@hono/zod-openapi";
import { requireStorefrontSession, sessionClaims } from "../auth/storefront";
import { RedeemRequest } from "../contract/rewards";
import { ExternalCustomerId } from "../contract/events";
import { Redemption, StorefrontSession, StorefrontState } from "../contract/storefront";
import { storefrontCors as cors } from "../http/cors";
import { ApiError } from "../http/errors";
import { idempotencyHeader, jsonBody, jsonResponse, problems } from "../http/openapi";
import { clientAddress, spend } from "../http/rate-limit";
import { idempotent } from "../http/idempotency";
import { newRouter } from "../http/validation";
import { codeIssuerFor } from "../services/codes";
import { redeemReward, resumeRedemption } from "../services/rewards";
import type { Redemption as RedemptionRow } from "../store/rewards";
import { openSession, publicShop, publicShopOf, storefrontState } from "../services/storefront";

/** The widget's API: sessions, the one-round-trip state, and redemptions. */
export const storefrontRoutes = newRouter();

storefrontRoutes.use("/v1/storefront/*", cors);
storefrontRoutes.use("/v1/storefront/redemptions", requireStorefrontSession);

const security = [{ storefrontToken: [] }];

const SessionRequest = z
  .object({
    shop: z.string().min(1).max(100).describe("The shop's public key."),
    customer: z
      .object({
        id: ExternalCustomerId,
        ts: z.union([z.number().int(), z.string().regex(/^\d{1,12}$/)]),
        digest: z.string().min(1).max(128).describe('hex HMAC-SHA256(widgetSecret, "{id}.{ts}")'),
      })
      .optional(),
    include: z
      .array(z.enum(["state"]))
      .max(1)
      .optional()
      .describe('["state"] answers with the state too, so the widget paints from one request.'),
  })
  .openapi("SessionRequest");

storefrontRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/storefront/sessions",
    tags: ["Storefront"],
    summary: "Open a storefront session",
    description:
      "A guest session, or a customer's proven by a digest signed on the merchant's server. " +
      "A customer seen for the first time becomes a member. Tokens last an hour; keep them in memory.",
    request: { body: jsonBody(SessionRequest) },
    responses: {
      200: jsonResponse(StorefrontSession.extend({ state: StorefrontState.optional() }), "The session"),
      ...problems(400, 401, 404, 429),
    },
  }),
  async (c) => {
    await spend(c.env.SESSION_LIMITER, `session:${clientAddress(c)}`);
    const request = c.req.valid("json");
    const { shop, body } = await openSession(c.env, request);
    c.set("shop", shop);
    if (!request.include?.includes("state")) return c.json(body, 200);
    const state = await storefrontState(c.env, publicShopOf(shop), body.customer?.id ?? null);
    return c.json({ ...body, state }, 200);
  },
);

storefrontRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/storefront/state",
    tags: ["Storefront"],
    summary: "Everything the widget shows",
    description: "Program, member, rewards, challenges and recent activity in one round trip.",
    security,
    responses: { 200: jsonResponse(StorefrontState, "The state"), ...problems(401) },
  }),
  async (c) => {
    const upstream = c.get("shop");
    const shop = upstream ? publicShopOf(upstream) : await publicShop(c.env, (await sessionClaims(c)).shopId);
    c.set("shopOrigins", shop.origins);
    return c.json(await storefrontState(c.env, shop, c.get("customerId")), 200);
  },
);

storefrontRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/storefront/redemptions",
    tags: ["Storefront"],
    summary: "Redeem a reward (I)",
    description:
      "Debits the reward's cost and issues one code, atomically. 422 insufficient_points when the balance is short.",
    security,
    request: { body: jsonBody(RedeemRequest) },
    parameters: [idempotencyHeader],
    responses: {
      201: jsonResponse(z.object({ redemption: Redemption, balance: z.number().int() }), "The code"),
      ...problems(400, 401, 403, 404, 422, 429, 502),
    },
  }),
  async (c) => {
    const customerId = c.var.customerId;
    if (!customerId) throw new ApiError("forbidden", "Sign in to redeem rewards.");
    await spend(c.env.WRITE_LIMITER, `write:${c.var.shop.id}:${customerId}`);
    const body = c.req.valid("json");
    const answer = (result: { redemption: RedemptionRow; balance: number; failure: ApiError | null }) => {
      const { redemption, balance, failure } = result;
      if (failure) return { status: failure.status, body: failure.toBody() };
      return {
        status: 201 as const,
        body: {
          redemption: { id: redemption.id, code: redemption.code, rewardId: redemption.rewardId, points: redemption.points },
          balance,
        },
      };
    };
    const codes = codeIssuerFor(c.env, c.var.shop);
    const response = await idempotent(
      c,
      `redemption:${customerId}`,
      body,
      async (claim) => answer(await redeemReward(c.env.DB, c.var.shop, customerId, body.rewardId, claim, codes)),
      // The redemption committed but its request failed before answering: answer from it.
      async (redemptionId) => answer(await resumeRedemption(c.env.DB, c.var.shop, redemptionId, codes)),
    );
    return response as never;
  },
);
