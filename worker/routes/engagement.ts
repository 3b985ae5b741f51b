import { createRoute, z } from "@hono/zod-openapi";
import { bearerToken, requireMerchant } from "../auth/middleware";
import { idText } from "../contract/ids";
import { readSessionToken, requireStorefrontSession } from "../auth/storefront";
import {
  ActionReceipt,
  ChallengeIdParam,
  ChallengeView,
  CreateChallenge,
  NpsAnswer,
  NpsReceipt,
  ReferralClaim,
  ReferralClaimRequest,
  ReferralCodeParam,
  ReferralListQuery,
  ReferralLookup,
  ReferralView,
  ShopQuery,
  UpdateChallenge,
} from "../contract/engagement";
import { unauthorized } from "../http/errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { clientAddress, spend } from "../http/rate-limit";
import { newRouter } from "../http/validation";
import {
  challengeView,
  createChallenge,
  patchChallenge,
  removeChallenge,
  reportSocialAction,
  requireChallenge,
} from "../services/challenges";
import { codeIssuerFor } from "../services/codes";
import { answerNps } from "../services/nps";
import { claimReferral, lookupReferral, referralView } from "../services/referrals";
import { listChallenges } from "../store/challenges";
import { listReferrals } from "../store/referrals";

/** Challenges, referrals and NPS: the merchant's CRUD and lists, the storefront's actions. */
export const engagementRoutes = newRouter();

for (const path of ["/v1/challenges", "/v1/challenges/*", "/v1/referrals"]) engagementRoutes.use(path, requireMerchant);
// CORS for every /v1/storefront/* path (these included) is the storefront router's middleware
// (routes/storefront.ts); applying it twice would repeat its headers. Tests here check the grants.
for (const path of ["/v1/storefront/actions/*", "/v1/storefront/nps"]) engagementRoutes.use(path, requireStorefrontSession);

const merchant = [{ secretKey: [] }];
const storefront = [{ storefrontToken: [] }];
const ChallengeEnvelope = z.object({ challenge: ChallengeView });

engagementRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/challenges",
    tags: ["Challenges"],
    summary: "List challenges",
    security: merchant,
    responses: {
      200: jsonResponse(z.object({ challenges: z.array(ChallengeView) }), "All challenges"),
      ...problems(401),
    },
  }),
  async (c) => {
    const challenges = await listChallenges(c.env.DB, c.var.shop.id);
    return c.json({ challenges: challenges.map(challengeView) }, 200);
  },
);

engagementRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/challenges",
    tags: ["Challenges"],
    summary: "Create a challenge",
    description:
      "Progress is moved by the same events that move points, in the same atomic write; on completion the " +
      "reward points and the badge are given once.",
    security: merchant,
    request: { body: jsonBody(CreateChallenge) },
    responses: { 201: jsonResponse(ChallengeEnvelope, "The new challenge"), ...problems(400, 401, 415) },
  }),
  async (c) => {
    const challenge = await createChallenge(c.env.DB, c.var.shop, c.req.valid("json"));
    return c.json({ challenge: challengeView(challenge) }, 201);
  },
);

engagementRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/challenges/{id}",
    tags: ["Challenges"],
    summary: "Read a challenge",
    security: merchant,
    request: { params: ChallengeIdParam },
    responses: { 200: jsonResponse(ChallengeEnvelope, "The challenge"), ...problems(401, 404) },
  }),
  async (c) => {
    const challenge = await requireChallenge(c.env.DB, c.var.shop, c.req.valid("param").id);
    return c.json({ challenge: challengeView(challenge) }, 200);
  },
);

engagementRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/challenges/{id}",
    tags: ["Challenges"],
    summary: "Change a challenge",
    description: "Any field but `kind`. Completions already paid stay paid.",
    security: merchant,
    request: { params: ChallengeIdParam, body: jsonBody(UpdateChallenge) },
    responses: { 200: jsonResponse(ChallengeEnvelope, "The changed challenge"), ...problems(400, 401, 404, 415) },
  }),
  async (c) => {
    const challenge = await patchChallenge(c.env.DB, c.var.shop, c.req.valid("param").id, c.req.valid("json"));
    return c.json({ challenge: challengeView(challenge) }, 200);
  },
);

engagementRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/challenges/{id}",
    tags: ["Challenges"],
    summary: "Delete a challenge",
    description: "Badges and points already earned stay.",
    security: merchant,
    request: { params: ChallengeIdParam },
    responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) }), "Deleted"), ...problems(401, 404) },
  }),
  async (c) => {
    await removeChallenge(c.env.DB, c.var.shop, c.req.valid("param").id);
    return c.json({ deleted: true as const }, 200);
  },
);

engagementRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/referrals",
    tags: ["Referrals"],
    summary: "List referrals",
    description:
      "Newest first, with their status (`claimed`, `completed`, `rejected`, `reversed`) and, for rejected ones, " +
      "the reason: `self_referral`, `email_already_claimed`, `referee_ordered_before`, `address_burst`.",
    security: merchant,
    request: { query: ReferralListQuery },
    responses: {
      200: jsonResponse(
        z.object({ referrals: z.array(ReferralView), nextCursor: z.string().nullable() }),
        "A page of referrals",
      ),
      ...problems(400, 401),
    },
  }),
  async (c) => {
    const { limit, cursor, status } = c.req.valid("query");
    const page = await listReferrals(c.env.DB, c.var.shop.id, {
      limit,
      cursor: cursor ? Number(cursor) : undefined,
      status,
    });
    return c.json({ referrals: page.referrals.map(referralView), nextCursor: page.nextCursor }, 200);
  },
);

engagementRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/storefront/referrals/{code}",
    tags: ["Storefront"],
    summary: "Look up a referral code",
    description:
      "Public. The referrer's first name and the referee's offer; never an email. Unknown codes are 404; a shop " +
      "whose referee offer is not set to a real one yet is 422 `referral_offer_not_configured`.",
    request: { params: ReferralCodeParam, query: ShopQuery },
    responses: { 200: jsonResponse(ReferralLookup, "The referral"), ...problems(400, 404, 422) },
  }),
  async (c) => {
    const { shop, body } = await lookupReferral(c.env.DB, c.req.valid("query").shop, c.req.valid("param").code);
    c.set("shop", shop);
    return c.json(body, 200);
  },
);

engagementRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/storefront/referrals/{code}/claim",
    tags: ["Storefront"],
    summary: "Claim a referral offer",
    description:
      "Public. Issues the referee's own offer code; the referrer is rewarded on the referee's first paid order. " +
      "Refused, with the reason kept for the merchant: self-referral, an email that already claimed, a referee " +
      "who ordered before (422 `referral_rejected`, `details.reason`), and bursts from one address (more than " +
      "10 claims of existing codes an hour: 429 `rate_limited`). Unknown codes are always 404; a shop whose " +
      "referee offer is not set to a real one yet is 422 `referral_offer_not_configured`. For Shopify " +
      "shops the code is also created in Shopify; when that fails nothing is issued (502 `upstream_failed`).",
    request: { params: ReferralCodeParam, body: jsonBody(ReferralClaimRequest) },
    responses: { 201: jsonResponse(ReferralClaim, "The referee's offer code"), ...problems(400, 404, 415, 422, 429, 502) },
  }),
  async (c) => {
    const { shop: publicKey, email } = c.req.valid("json");
    const address = clientAddress(c);
    // An unknown code (404) or a shop with no real offer (422) is answered before the claim
    // limit: only claims that could issue a code spend it.
    await lookupReferral(c.env.DB, publicKey, c.req.valid("param").code);
    await spend(c.env.WRITE_LIMITER, `claim:${address}`);
    // A shopper signed in to the widget (or to the shop, behind the Shopify app proxy) is
    // recognised, so referring oneself is caught by identity too.
    const token = bearerToken(c.req.header("authorization"));
    const upstream = c.get("shop");
    const session = upstream
      ? { shopId: upstream.id, customerId: c.get("customerId") ?? null }
      : token
        ? await readSessionToken(c.env, token)
        : null;
    const { shop, body } = await claimReferral(
      c.env.DB,
      { publicKey, code: c.req.valid("param").code, email, address, claimant: session },
      (shop) => codeIssuerFor(c.env, shop),
    );
    c.set("shop", shop);
    return c.json(body, 201);
  },
);

engagementRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/storefront/actions/{challengeId}",
    tags: ["Storefront"],
    summary: "Report a social action",
    description:
      "A self-reported action (follow, share) for a `social` challenge: completes it once per member, with the " +
      "program's social points and the challenge's reward. Guests are 401; a second report is 409 `already_reported`; " +
      "a challenge of another kind is 422 `not_self_reported`, one not running 422 `challenge_not_running`.",
    security: storefront,
    request: { params: z.object({ challengeId: idText(64) }) },
    responses: { 201: jsonResponse(ActionReceipt, "Completed"), ...problems(401, 404, 409, 422, 429) },
  }),
  async (c) => {
    const customerId = c.var.customerId;
    if (!customerId) throw unauthorized("Sign in to take part in challenges.");
    await spend(c.env.WRITE_LIMITER, `write:${c.var.shop.id}:${customerId}`);
    const receipt = await reportSocialAction(c.env.DB, c.var.shop, customerId, c.req.valid("param").challengeId);
    return c.json(receipt, 201);
  },
);

engagementRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/storefront/nps",
    tags: ["Storefront"],
    summary: "Answer the NPS question",
    description:
      "0-10 and an optional comment, once per member per period (`waysToEarn.npsPeriodDays`); points " +
      "(`waysToEarn.nps`) once per period. Guests are 401; a second answer in the period is 409 " +
      "`already_answered` with `details.nextAt`.",
    security: storefront,
    request: { body: jsonBody(NpsAnswer) },
    responses: { 201: jsonResponse(NpsReceipt, "Stored"), ...problems(400, 401, 409, 415, 429) },
  }),
  async (c) => {
    const customerId = c.var.customerId;
    if (!customerId) throw unauthorized("Sign in to answer.");
    await spend(c.env.WRITE_LIMITER, `write:${c.var.shop.id}:${customerId}`);
    return c.json(await answerNps(c.env.DB, c.var.shop, customerId, c.req.valid("json")), 201);
  },
);
