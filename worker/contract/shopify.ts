import { z } from "@hono/zod-openapi";
import { ShopView } from "./merchant";

/** `GET /v1/data-requests`: customers/data_request deliveries, each with what Laurel holds. */
export const DataRequestList = z
  .object({
    requests: z.array(
      z.object({
        id: z.string(),
        customerId: z.string().describe("The Shopify customer id (numeric, as a decimal string)."),
        requestedAt: z.string(),
        ordersRequested: z.array(z.string()).describe("Order ids Shopify named in the request."),
        export: z
          .unknown()
          .describe("Everything Laurel held about the customer when asked (as GET /v1/customers/{id}/export); null when nothing."),
      }),
    ),
  })
  .openapi("DataRequests");

export const ShopifyConnectionStatus = z.enum(["connected", "not_connected", "uninstalled", "reconnect_required"]);

/** `GET /v1/shopify/connection`: the shop, and whether Laurel can reach its store. */
export const ShopifyConnectionView = z
  .object({
    shop: ShopView,
    shopify: z.object({
      status: ShopifyConnectionStatus,
      domain: z.string().nullable(),
      tokenExpiresAt: z.string().nullable().describe("When the current access token lapses (it is refreshed before)."),
      message: z.string().describe("What the merchant needs to do, if anything."),
    }),
  })
  .openapi("ShopifyConnectionView");

/** `POST /v1/shopify/session`: the embedded console's start. */
export const ShopifyEmbeddedSession = z
  .object({ shop: ShopView, shopify: ShopifyConnectionView.shape.shopify })
  .openapi("ShopifyEmbeddedSession");

export type ShopifyEmbeddedSession = z.infer<typeof ShopifyEmbeddedSession>;
export type DataRequestList = z.infer<typeof DataRequestList>;
