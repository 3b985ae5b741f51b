import { describe, expect, it } from "vitest";
import { ADMIN, call, makeShop, snapshot, storefrontSession } from "./helpers";

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
