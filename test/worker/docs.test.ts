import { describe, expect, it } from "vitest";
import { call } from "./helpers";

describe("API reference", () => {
  it("serves the OpenAPI document generated from the route schemas", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    const paths = Object.keys(res.body.paths);
    for (const path of [
      "/v1/shops",
      "/v1/program",
      "/v1/customers",
      "/v1/customers/{externalId}",
      "/v1/customers/{externalId}/ledger",
      "/v1/customers/{externalId}/adjustments",
      "/v1/customers/{externalId}/export",
      "/v1/events",
      "/v1/rewards",
      "/v1/rewards/{id}",
      "/v1/storefront/sessions",
      "/v1/storefront/state",
      "/v1/storefront/redemptions",
    ]) {
      expect(paths, path).toContain(path);
    }
    // The event body documents every event type.
    const schemas = JSON.stringify(res.body.components.schemas.LoyaltyEvent);
    for (const type of ["order.paid", "order.refunded", "order.cancelled", "customer.created", "review.created", "custom"]) {
      expect(schemas).toContain(type);
    }
  });

  it("renders /docs from our own script, with no CDN", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    const html = res.body as string;
    expect(html).toContain('src="/docs/scalar.js"');
    expect(html).toContain("/v1/openapi.json");
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg|fonts)\./);
  });

  it("answers unknown routes with the error shape", async () => {
    const res = await call("GET", "/v1/nope");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});
