import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "../auth/middleware";
import { DatabaseLoads, MovedShop, MoveShop } from "../contract/databases";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { newRouter } from "../http/validation";
import { databaseLoads } from "../services/databases";
import { moveShop } from "../services/moves";

/** The operator's view of the databases shops are spread over, and the move of a shop between them. */
export const databaseRoutes = newRouter();

databaseRoutes.use("/v1/operator/*", requireOperator);

databaseRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/operator/databases",
    tags: ["Operator"],
    summary: "The databases shops are spread over, with their size and shops",
    security: [{ operatorToken: [] }],
    responses: { 200: jsonResponse(DatabaseLoads, "Each database, home (DB) first"), ...problems(401) },
  }),
  async (c) => c.json({ databases: await databaseLoads(c.env) }, 200),
);

databaseRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/operator/shops/{id}/move",
    tags: ["Operator"],
    summary: "Move a shop to another database",
    description:
      "Pauses the shop's writes (503 with Retry-After), copies its rows (the ledger in entry order, re-checked by the " +
      "target's triggers), compares the copy, switches the directory, resumes writes and deletes the source's rows. " +
      "Reads keep being answered from the source until the switch.",
    security: [{ operatorToken: [] }],
    request: { params: z.object({ id: z.string().min(1).max(100) }), body: jsonBody(MoveShop) },
    responses: { 200: jsonResponse(MovedShop, "The shop now lives in `to`"), ...problems(400, 401, 404, 409) },
  }),
  async (c) => c.json(await moveShop(c.env, c.req.valid("param").id, c.req.valid("json").to), 200),
);
