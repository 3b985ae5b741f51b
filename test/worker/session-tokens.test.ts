/**
 * Storefront session tokens are verified once per isolate and their claims kept until they
 * expire (auth/storefront.ts): what is kept must never outlive the token or admit a forgery.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { issueSessionToken, readSessionToken, SESSION_TTL_SECONDS } from "../../worker/auth/storefront";
import { call, makeShop, storefrontSession } from "./helpers";

afterEach(() => {
  vi.useRealTimers();
});

describe("session tokens", () => {
  it("a token read before is refused once it expires", async () => {
    const claims = { shopId: "shop_x", customerId: "c-1" };
    const { token } = await issueSessionToken(env, claims);
    expect(await readSessionToken(env, token)).toEqual(claims);
    expect(await readSessionToken(env, token)).toEqual(claims);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + (SESSION_TTL_SECONDS + 1) * 1000);
    expect(await readSessionToken(env, token)).toBeNull();
    expect(await readSessionToken(env, token)).toBeNull();
  });

  it("a token read before does not make its tampered twins pass", async () => {
    const shop = await makeShop();
    const token = await storefrontSession(shop, "c-1");
    expect((await call("GET", "/v1/storefront/state", { token })).status).toBe(200);
    const [header, payload, signature] = token.split(".");
    const other = btoa(JSON.stringify({ ...JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/"))), sub: "c-2" }))
      .replace(/=+$/, "")
      .replace(/\+/g, "-")
      .replace(/\//g, "_");
    for (const bad of [`${header}.${other}.${signature}`, `${token}x`, token.slice(0, -1)]) {
      expect((await call("GET", "/v1/storefront/state", { token: bad })).status).toBe(401);
    }
    expect((await call("GET", "/v1/storefront/state", { token })).status).toBe(200);
  });

  it("a token signed with another operator secret is refused even after the same token verified", async () => {
    const claims = { shopId: "shop_y", customerId: null };
    const { token } = await issueSessionToken(env, claims);
    expect(await readSessionToken(env, token)).toEqual(claims);
    expect(await readSessionToken({ ...env, ADMIN_TOKEN: "another-operator-secret" }, token)).toBeNull();
    expect(await readSessionToken(env, token)).toEqual(claims);
  });
});
