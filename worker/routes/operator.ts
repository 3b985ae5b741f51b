import { createRoute } from "@hono/zod-openapi";
import { requireOperator } from "../auth/middleware";
import { CreatedShop, CreateShop } from "../contract/merchant";
import { isCurrencyCode } from "../domain/money";
import { badRequest } from "../http/errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { newRouter } from "../http/validation";
import { createPlacedShop } from "../services/databases";
import { shopView } from "../services/shops";

export const operatorRoutes = newRouter();

operatorRoutes.use("/v1/shops", requireOperator);

operatorRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/shops",
    tags: ["Operator"],
    summary: "Create a shop",
    description: "Returns the shop and its secrets; the secrets are shown only in this response.",
    security: [{ operatorToken: [] }],
    request: { body: jsonBody(CreateShop) },
    responses: { 201: jsonResponse(CreatedShop, "The new shop and its secrets"), ...problems(400, 401, 409) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    if (!isCurrencyCode(input.currency)) {
      throw badRequest("Unknown currency.", [{ path: "currency", message: "not an ISO 4217 currency" }]);
    }
    if (input.platform === "shopify" && !input.shopifyDomain) {
      throw badRequest("Shopify shops need their shopifyDomain.", [{ path: "shopifyDomain", message: "required" }]);
    }
    const created = await createPlacedShop(c.env, input);
    return c.json({ ...created, shop: shopView(created.shop) }, 201);
  },
);
