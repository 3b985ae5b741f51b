import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { ApiError } from "./errors";

/** The caller's address as Cloudflare reports it ("local" in tests and dev without one). */
export function clientAddress(c: Context<AppEnv>): string {
  return c.req.header("cf-connecting-ip") ?? "local";
}

/**
 * Spends one request from `limiter` for `key`; over the limit is 429 `rate_limited` with
 * Retry-After (the limiter's windows are whole minutes).
 */
export async function spend(limiter: RateLimit, key: string): Promise<void> {
  const { success } = await limiter.limit({ key });
  if (!success) {
    const retryAfter = String(60 - (Math.floor(Date.now() / 1000) % 60));
    throw new ApiError(
      "rate_limited",
      `Too many requests; try again in ${retryAfter} seconds.`,
      { details: { retryAfter: Number(retryAfter) }, headers: { "Retry-After": retryAfter } },
    );
  }
}
