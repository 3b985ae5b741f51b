/**
 * Console sessions: the merchant types the secret key once, the console trades it for a short-lived
 * signed token held in memory, and the key itself is never kept by the browser.
 */
import { sign, verify } from "hono/jwt";
import type { Env } from "../env";
import { type Shop, shopById } from "../store/shops";
import { hmacSha256, toBase64Url } from "../crypto";

/** Half an hour: long enough for a working session, short enough that a leaked token soon dies. */
export const CONSOLE_SESSION_TTL_SECONDS = 30 * 60;

const AUDIENCE = "laurel-console";

/** Derived from the operator secret (a different label from storefront sessions), nothing stored. */
async function consoleKey(env: Env): Promise<string> {
  return toBase64Url(await hmacSha256(env.ADMIN_TOKEN, "laurel-console-session-v1"));
}

export async function issueConsoleToken(env: Env, shopId: string, now = new Date()) {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + CONSOLE_SESSION_TTL_SECONDS;
  const token = await sign({ shop: shopId, iat, exp, aud: AUDIENCE }, await consoleKey(env), "HS256");
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

/** The shop a console token was issued for, or null when the token is forged, expired or not ours. */
export async function shopByConsoleToken(env: Env, token: string): Promise<Shop | null> {
  if (!env.ADMIN_TOKEN) return null;
  try {
    const payload = await verify(token, await consoleKey(env), { alg: "HS256", aud: AUDIENCE });
    return typeof payload.shop === "string" ? await shopById(env.DB, payload.shop) : null;
  } catch {
    return null;
  }
}
