import { requireOperator } from "../auth/middleware";
import { ApiError } from "../http/errors";
import { newRouter } from "../http/validation";
import { writeCounts } from "../services/pipeline";

/**
 * What `npm run bench` reads from the worker itself, only when the BENCH var is "on" (the bench
 * starts its server so; a deployed worker answers 404). The counts are this isolate's since it
 * started: `wrangler dev` runs one isolate, so the bench's deltas around a run are exact there.
 * Not in the OpenAPI document: it is no part of the contract.
 */
export const benchRoutes = newRouter();

benchRoutes.use("/v1/bench/*", async (c, next) => {
  if (c.env.BENCH !== "on") throw new ApiError("not_found", "The bench counters are off in this deployment.");
  await next();
});

/** Writes planned and re-planned (a stale read refused the batch) and calls that gave up. */
benchRoutes.get("/v1/bench/counters", requireOperator, (c) => c.json({ writes: { ...writeCounts } }));
