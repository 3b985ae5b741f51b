import { createRoute, z } from "@hono/zod-openapi";
import { requireMerchant } from "../auth/middleware";
import {
  CodeParam,
  ConsumeRequest,
  CreateReward,
  IdParam,
  RedemptionView,
  RewardView,
  UpdateReward,
  VoidRequest,
} from "../contract/rewards";
import { badRequest, notFound } from "../http/errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { fieldErrors, newRouter } from "../http/validation";
import {
  createReward,
  markRedemptionUsed,
  patchReward,
  redemptionView,
  requireCode,
  requireReward,
  rewardView,
  voidRedemption,
} from "../services/rewards";
import { codeIssuerFor } from "../services/codes";
import { deleteReward, listRedemptions, listRewards } from "../store/rewards";

/** Merchant: the reward catalogue, issued codes, and the checkout look-up for custom platforms. */
export const rewardRoutes = newRouter();

for (const path of ["/v1/rewards", "/v1/rewards/*", "/v1/redemptions", "/v1/redemptions/*", "/v1/codes/*"]) {
  rewardRoutes.use(path, requireMerchant);
}

const security = [{ secretKey: [] }];
const RewardEnvelope = z.object({ reward: RewardView });
const RedemptionEnvelope = z.object({ redemption: RedemptionView });

rewardRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/rewards",
    tags: ["Rewards"],
    summary: "List rewards",
    security,
    responses: { 200: jsonResponse(z.object({ rewards: z.array(RewardView) }), "All rewards"), ...problems(401) },
  }),
  async (c) => {
    const rewards = await listRewards(c.env.DB, c.var.shop.id);
    return c.json({ rewards: rewards.map((r) => rewardView(c.var.shop, r)) }, 200);
  },
);

rewardRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/rewards",
    tags: ["Rewards"],
    summary: "Create a reward",
    security,
    request: { body: jsonBody(CreateReward) },
    responses: { 201: jsonResponse(RewardEnvelope, "The new reward"), ...problems(400, 401, 415) },
  }),
  async (c) => {
    const reward = await createReward(c.env.DB, c.var.shop, c.req.valid("json"));
    return c.json({ reward: rewardView(c.var.shop, reward) }, 201);
  },
);

rewardRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/rewards/{id}",
    tags: ["Rewards"],
    summary: "Read a reward",
    security,
    request: { params: IdParam },
    responses: { 200: jsonResponse(RewardEnvelope, "The reward"), ...problems(401, 404) },
  }),
  async (c) => {
    const reward = await requireReward(c.env.DB, c.var.shop, c.req.valid("param").id);
    return c.json({ reward: rewardView(c.var.shop, reward) }, 200);
  },
);

rewardRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/rewards/{id}",
    tags: ["Rewards"],
    summary: "Change a reward",
    description: "Codes already issued keep the value they were issued with.",
    security,
    request: { params: IdParam, body: jsonBody(UpdateReward) },
    responses: { 200: jsonResponse(RewardEnvelope, "The changed reward"), ...problems(400, 401, 404) },
  }),
  async (c) => {
    const validate = (merged: unknown) => {
      const result = CreateReward.safeParse(merged);
      if (!result.success) throw badRequest("The changed reward would not be valid.", fieldErrors(result.error));
      return result.data;
    };
    const reward = await patchReward(c.env.DB, c.var.shop, c.req.valid("param").id, c.req.valid("json"), validate);
    return c.json({ reward: rewardView(c.var.shop, reward) }, 200);
  },
);

rewardRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/rewards/{id}",
    tags: ["Rewards"],
    summary: "Delete a reward",
    description: "Codes already issued stay valid.",
    security,
    request: { params: IdParam },
    responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) }), "Deleted"), ...problems(401, 404) },
  }),
  async (c) => {
    if (!(await deleteReward(c.env.DB, c.var.shop.id, c.req.valid("param").id, new Date().toISOString()))) {
      throw notFound("Reward");
    }
    return c.json({ deleted: true as const }, 200);
  },
);

rewardRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/redemptions",
    tags: ["Rewards"],
    summary: "List issued codes",
    security,
    request: {
      query: z.object({
        customer: z.string().max(255).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
    },
    responses: { 200: jsonResponse(z.object({ redemptions: z.array(RedemptionView) }), "Newest first"), ...problems(400, 401) },
  }),
  async (c) => {
    const { customer, limit } = c.req.valid("query");
    const redemptions = await listRedemptions(c.env.DB, c.var.shop.id, { customerExternalId: customer, limit });
    return c.json({ redemptions: redemptions.map((r) => redemptionView(c.var.shop, r)) }, 200);
  },
);

rewardRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/redemptions/{id}/use",
    tags: ["Rewards"],
    summary: "Mark a code used",
    security,
    request: { params: IdParam },
    responses: { 200: jsonResponse(RedemptionEnvelope, "Used"), ...problems(401, 404, 409) },
  }),
  async (c) => {
    const redemption = await markRedemptionUsed(c.env.DB, c.var.shop, c.req.valid("param").id);
    return c.json({ redemption: redemptionView(c.var.shop, redemption) }, 200);
  },
);

rewardRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/redemptions/{id}/void",
    tags: ["Rewards"],
    summary: "Void a code",
    description: "The points come back to the member as a `redemption_reversal` entry.",
    security,
    request: { params: IdParam, body: { ...jsonBody(VoidRequest), required: false } },
    responses: { 200: jsonResponse(RedemptionEnvelope, "Voided"), ...problems(401, 404, 409) },
  }),
  async (c) => {
    const body = VoidRequest.safeParse(await c.req.json().catch(() => ({})));
    if (!body.success) throw badRequest("The request is not valid.", fieldErrors(body.error));
    // What the redemption gave at checkout goes first (Shopify store credit); refused, nothing changes.
    await codeIssuerFor(c.env, c.var.shop).revokeRedemption(c.req.valid("param").id);
    const redemption = await voidRedemption(c.env.DB, c.var.shop, c.req.valid("param").id, body.data.reason);
    return c.json({ redemption: redemptionView(c.var.shop, redemption) }, 200);
  },
);

rewardRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/codes/{code}",
    tags: ["Rewards"],
    summary: "Look up a code at checkout",
    description:
      "For custom platforms: what the code is worth and whether it can still be used (`status` `issued`; `expiresAt` " +
      "says until when). A used, void or expired code reads with that status.",
    security,
    request: { params: CodeParam },
    responses: { 200: jsonResponse(RedemptionEnvelope, "The code"), ...problems(401, 404) },
  }),
  async (c) => {
    const redemption = await requireCode(c.env.DB, c.var.shop, c.req.valid("param").code);
    return c.json({ redemption: redemptionView(c.var.shop, redemption) }, 200);
  },
);

rewardRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/codes/{code}/consume",
    tags: ["Rewards"],
    summary: "Consume a code at checkout",
    description:
      "Marks an issued code used, once, by `orderId` when given (an `order.paid` carrying the code then finds it used " +
      "by its own order and changes nothing); a used, void or expired code is 409 `redemption_not_issued`.",
    security,
    request: { params: CodeParam, body: { ...jsonBody(ConsumeRequest), required: false } },
    responses: { 200: jsonResponse(RedemptionEnvelope, "Consumed"), ...problems(400, 401, 404, 409) },
  }),
  async (c) => {
    const body = ConsumeRequest.safeParse(await c.req.json().catch(() => ({})));
    if (!body.success) throw badRequest("The request is not valid.", fieldErrors(body.error));
    const { id } = await requireCode(c.env.DB, c.var.shop, c.req.valid("param").code);
    const used = await markRedemptionUsed(c.env.DB, c.var.shop, id, new Date(), body.data.orderId ?? null);
    return c.json({ redemption: redemptionView(c.var.shop, used) }, 200);
  },
);
