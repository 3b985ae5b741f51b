import { z } from "@hono/zod-openapi";
import { hasAtMostFourPlaces } from "../domain/decimal";

/** Personal offers (win-back), granted by the daily run or by hand. */

export const OfferRequest = z
  .object({
    multiplier: z.number().min(1.1).max(10).refine(hasAtMostFourPlaces, "at most four decimal places"),
    days: z.number().int().min(1).max(90),
    note: z.string().trim().max(500).optional(),
  })
  .openapi("OfferRequest");

export const OfferView = z
  .object({
    offer: z.object({
      multiplier: z.number().describe("Orders until expiresAt earn this many times their points."),
      expiresAt: z.string(),
    }),
  })
  .openapi("Offer");
