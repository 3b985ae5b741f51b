import { z } from "@hono/zod-openapi";

/**
 * Ids (customers, orders, events, rewards, codes) arrive as JSON strings and URL paths. A lone
 * UTF-16 surrogate ("x\ud800y") is not text: D1 stores it as U+FFFD, so two different ids become
 * the same row, and no URL can name it afterwards (it cannot be percent-encoded as UTF-8). Such
 * an id is refused at the edge, on every route that takes one.
 */
export function isWellFormed(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}

const LONE_SURROGATE = "must be well-formed Unicode text (it holds a lone surrogate)";

/** An id of 1..max characters of well-formed text. */
export function idText(max: number) {
  return z.string().min(1).max(max).refine(isWellFormed, LONE_SURROGATE);
}
