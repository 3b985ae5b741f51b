import { describe, expect, it } from "vitest";
import { ADMIN, call, customer, expectError, makeReward, makeShop, signedEvent, snapshot, storefrontSession } from "./helpers";

/**
 * Every route in the OpenAPI document, fed malformed and hostile bodies with valid credentials:
 * the answer is never a 500, always the contract's error shape when refused, and a refused
 * request changes nothing.
 */
const bodies = [
  "{",
  "null",
  "[]",
  '"text"',
  "123",
  "{}",
  '{"id":{"$ne":1},"points":"1e309","amount":"-5","score":11,"email":"not-an-email"}',
  JSON.stringify({ program: { earning: { pointsPerUnit: -1 } } }),
  JSON.stringify({ name: "x".repeat(5000), cost: 1e308, value: [], type: "__proto__" }),
];

describe("bad input on every route", () => {
  it("never answers 500 and refusals change nothing", async () => {
    const shop = await makeShop();
    const token = await storefrontSession(shop, "c-1");
    const doc = (await call("GET", "/v1/openapi.json")).body;
    const failures: string[] = [];
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(operations)) {
        if (!["post", "put", "patch", "delete", "get"].includes(method)) continue;
        const url = path.replace(/\{[^}]+\}/g, "x%00y");
        const credential = path.startsWith("/v1/shops")
          ? ADMIN
          : path.startsWith("/v1/storefront")
            ? token
            : shop.secretKey;
        const variants = method === "get" || method === "delete" ? [undefined] : bodies;
        for (const raw of variants) {
          const before = await snapshot();
          const res = await call(method.toUpperCase(), `${url}${url.includes("?") ? "&" : "?"}limit=abc&from=nope`, {
            token: credential,
            raw,
            headers: { "idempotency-key": crypto.randomUUID() },
          });
          checked++;
          const where = `${method.toUpperCase()} ${path} ${raw ?? ""} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
          if (res.status >= 500) failures.push(where);
          if (res.status >= 400) {
            const shape = res.body && typeof res.body === "object" && typeof res.body.error?.code === "string";
            if (!shape) failures.push(`not the error shape: ${where}`);
            const after = await snapshot();
            // A refused request may store its answer under its Idempotency-Key, and nothing else.
            if (JSON.stringify({ ...after, idempotency_keys: 0 }) !== JSON.stringify({ ...before, idempotency_keys: 0 })) {
              failures.push(`changed data: ${where}`);
            }
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  }, 120_000);
});

/**
 * A lone UTF-16 surrogate is not text: D1 would store "x\ud800y" as "x\ufffdy", merging it with
 * every other such id, and no URL could name it to read or erase it (issue 17's hostile run).
 * JSON carries it as an escape; every route that takes an id refuses it with 400 and no change.
 */
describe("ids with a lone surrogate", () => {
  const lone = ["x\ud800y", "\udfff", "a\udc00\ud800b"];
  /** JSON text with the id escaped as JSON allows (JSON.stringify escapes lone surrogates). */
  const json = (value: unknown) => JSON.stringify(value);

  it("are refused by /v1/events (secret key and signed), sessions, redemptions and codes", async () => {
    const shop = await makeShop();
    const reward = await makeReward(shop, { cost: 1 });
    const token = await storefrontSession(shop, "plain-member");
    const before = await snapshot();
    for (const id of lone) {
      const events = [
        { id: "evt-lone-1", type: "customer.created", customer: { id } },
        { id: "evt-lone-2", type: "order.paid", order: { id: "o-1", customerId: id, currency: "EUR", subtotal: "40.00", lines: [] } },
        { id: "evt-lone-3", type: "order.paid", order: { id, customerId: "c-1", currency: "EUR", subtotal: "40.00", lines: [] } },
        { id, type: "custom", name: "visit", customerId: "c-1" },
        { id: "evt-lone-4", type: "order.refunded", order: { id: "o-1" }, refund: { id, amount: "1.00" } },
        { id: "evt-lone-5", type: "review.created", customerId: id },
      ];
      for (const event of events) {
        expectError(await call("POST", "/v1/events", { token: shop.secretKey, raw: json(event) }), 400, "invalid_request");
        expectError(await signedEvent(shop, event), 400, "invalid_request");
      }
      const session = await call("POST", "/v1/storefront/sessions", {
        raw: json({ shop: shop.publicKey, customer: { id, ts: Math.floor(Date.now() / 1000), digest: "00" } }),
      });
      expectError(session, 400, "invalid_request");
      const redeem = await call("POST", "/v1/storefront/redemptions", {
        token,
        raw: json({ rewardId: `${reward.id}${id}` }),
        headers: { "idempotency-key": crypto.randomUUID() },
      });
      expectError(redeem, 400, "invalid_request");
      const consume = await call("POST", "/v1/codes/ABCD-EFGH/consume", { token: shop.secretKey, raw: json({ orderId: id }) });
      expectError(consume, 400, "invalid_request");
    }
    expect(await snapshot()).toEqual({ ...before, idempotency_keys: (await snapshot()).idempotency_keys });
  });

  it("while U+FFFD itself is an ordinary, reachable id", async () => {
    const shop = await makeShop();
    const res = await call("POST", "/v1/events", {
      token: shop.secretKey,
      body: { id: "evt-fffd", type: "customer.created", customer: { id: "x\ufffdy" } },
    });
    expect(res.status).toBe(200);
    expect((await customer(shop, "x\ufffdy")).id).toBe("x\ufffdy");
    const erased = await call("DELETE", `/v1/customers/${encodeURIComponent("x\ufffdy")}`, { token: shop.secretKey });
    expect(erased.status).toBeLessThan(300);
  });
});
