import { z } from "@hono/zod-openapi";
import { idText } from "./ids";
import { LedgerEntry } from "./storefront";

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "invalid_request" }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

export const CreateShop = z
  .object({
    name: z.string().min(1).max(120),
    currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code such as EUR"),
    origins: z
      .array(
        z
          .string()
          .regex(/^https?:\/\/[^/\s]+$/, "an origin like https://shop.example (no path)")
          .refine((o) => URL.canParse(o), "an origin like https://shop.example (no path)")
          // As browsers send it in the Origin header (lower-case host, no default port), or CORS never matches.
          .transform((o) => new URL(o).origin),
      )
      .max(20)
      .default([]),
    platform: z.enum(["custom", "shopify"]).default("custom"),
    shopifyDomain: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, "a domain like my-shop.myshopify.com")
      .optional(),
  })
  .openapi("CreateShop");

export const ShopView = z
  .object({
    id: z.string(),
    name: z.string(),
    currency: z.string(),
    publicKey: z.string(),
    origins: z.array(z.string()),
    platform: z.enum(["custom", "shopify"]),
    shopifyDomain: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Shop");

export const CreatedShop = z
  .object({
    shop: ShopView,
    secretKey: z.string().describe("Shown once; authenticates the merchant API."),
    webhookSecret: z.string().describe("Shown once; `whsec_` + base64 of 32 random bytes."),
    widgetSecret: z.string().describe("Shown once; signs customer digests for the widget."),
  })
  .openapi("CreatedShop");

export const CustomerView = z
  .object({
    id: z.string().describe("The merchant's own customer id."),
    email: z.string().nullable(),
    firstName: z.string().nullable(),
    birthday: z.string().nullable(),
    balance: z.number().int(),
    lifetimePoints: z.number().int(),
    pendingPoints: z
      .number()
      .int()
      .describe("Points of orders still in the program's holding period (pendingDays): not in the balance yet."),
    tier: z.string().nullable().describe("The tier the current program gives the member."),
    referralCode: z.string(),
    orderCount: z.number().int(),
    totalSpent: z.string().describe("Decimal string in the shop's currency."),
    lastOrderAt: z.string().nullable(),
    createdAt: z.string(),
    redactedAt: z.string().nullable(),
  })
  .openapi("Customer");

export const MerchantLedgerEntry = LedgerEntry.extend({
  shortfall: z.number().int().describe("Points a claw-back could not take (balance already spent)."),
  note: z.string().nullable(),
}).openapi("MerchantLedgerEntry");

export const Adjustment = z
  .object({
    points: z
      .number()
      .int()
      .min(-1_000_000_000)
      .max(1_000_000_000)
      .refine((n) => n !== 0, "must not be zero"),
    note: z.string().max(500).default(""),
  })
  .openapi("Adjustment");

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, "a cursor from a previous page")
    .optional(),
});

export const CustomerListQuery = PageQuery.extend({ q: z.string().max(200).optional() });
export const ExternalIdParam = z.object({ externalId: idText(255) });
