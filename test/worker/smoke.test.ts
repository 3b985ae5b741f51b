import { describe, expect, it } from "vitest";
import { call, customer, makeShop, orderPaid } from "./helpers";

describe("smoke", () => {
  it("creates a shop and earns points on an order", async () => {
    const shop = await makeShop();
    const res = await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "49.99" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "processed", points: 49, balance: 49 });
    expect((await customer(shop, "c1")).balance).toBe(49);
    const docs = await call("GET", "/v1/openapi.json");
    expect(docs.status).toBe(200);
  });
});
