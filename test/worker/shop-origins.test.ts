/**
 * CORS origin lookups go through shop_origins (0007_indexes.sql), which triggers keep equal to
 * every shop's `origins` list: created, changed and removed with the shop. The lookup is one index
 * search however many shops share the database (npm run bench measures it).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, makeShop } from "./helpers";

const preflight = (origin: string) =>
  call("OPTIONS", "/v1/storefront/state", {
    headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
  });

const granted = async (origin: string) => (await preflight(origin)).headers.get("access-control-allow-origin") === origin;

const originsOf = async (shopId: string) =>
  (
    await env.DB.prepare("SELECT origin FROM shop_origins WHERE shop_id = ? ORDER BY origin").bind(shopId).all<{
      origin: string;
    }>()
  ).results.map((row) => row.origin);

describe("shop_origins follows the shops' origin lists", () => {
  it("grants a preflight to each origin of a new shop and to no other", async () => {
    const shop = await makeShop({ origins: ["https://tea.example", "https://www.tea.example"] });
    expect(await originsOf(shop.id)).toEqual(["https://tea.example", "https://www.tea.example"]);
    expect(await granted("https://tea.example")).toBe(true);
    expect(await granted("https://www.tea.example")).toBe(true);
    expect(await granted("https://coffee.example")).toBe(false);
  });

  it("moves with a change of the list and leaves other shops' origins alone", async () => {
    const shop = await makeShop({ origins: ["https://old.example", "https://shared.example"] });
    const other = await makeShop({ origins: ["https://shared.example"] });
    await env.DB.prepare("UPDATE shops SET origins = ? WHERE id = ?")
      .bind(JSON.stringify(["https://new.example"]), shop.id)
      .run();
    expect(await originsOf(shop.id)).toEqual(["https://new.example"]);
    expect(await originsOf(other.id)).toEqual(["https://shared.example"]);
    expect(await granted("https://old.example")).toBe(false);
    expect(await granted("https://new.example")).toBe(true);
    // Still listed by the other shop.
    expect(await granted("https://shared.example")).toBe(true);
  });

  it("forgets a deleted shop's origins", async () => {
    const shop = await makeShop({ origins: ["https://gone.example"] });
    expect(await granted("https://gone.example")).toBe(true);
    await env.DB.prepare("DELETE FROM shops WHERE id = ?").bind(shop.id).run();
    expect(await originsOf(shop.id)).toEqual([]);
    expect(await granted("https://gone.example")).toBe(false);
  });

  it("answers from the primary key, not by reading every shop", async () => {
    const plan = await env.DB.prepare("EXPLAIN QUERY PLAN SELECT 1 AS found FROM shop_origins WHERE origin = ? LIMIT 1")
      .bind("https://tea.example")
      .all<{ detail: string }>();
    const details = plan.results.map((row) => row.detail);
    expect(details.some((d) => /^SEARCH shop_origins USING PRIMARY KEY \(origin=\?\)/.test(d))).toBe(true);
    expect(details.some((d) => /^SCAN /.test(d))).toBe(false);
  });
});
