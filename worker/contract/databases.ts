import { z } from "@hono/zod-openapi";

export const MoveShop = z
  .object({
    to: z
      .string()
      .regex(/^DB(_\d+)?$/, "a D1 binding the worker spreads shops over: DB, DB_1, ...")
      .describe("The binding of the database the shop moves to."),
  })
  .openapi("MoveShop");

export const MovedShop = z
  .object({
    shopId: z.string(),
    from: z.string(),
    to: z.string(),
    rows: z.record(z.string(), z.number().int()).describe("Rows copied, per table."),
  })
  .openapi("MovedShop");

export const DatabaseLoads = z
  .object({
    databases: z.array(
      z.object({
        binding: z.string(),
        bytes: z.number().int().describe("The database's size as D1 reports it."),
        shops: z.number().int(),
      }),
    ),
  })
  .openapi("DatabaseLoads");
