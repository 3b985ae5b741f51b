import type { z } from "@hono/zod-openapi";
import { ErrorResponse } from "../contract/merchant";

/** Small builders so route definitions read as the contract does. */

export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { content: { "application/json": { schema } }, required: true, ...(description ? { description } : {}) };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

const meaning: Record<number, string> = {
  400: "invalid_request: malformed JSON, wrong types or values (see details)",
  401: "unauthorized: missing or invalid credentials",
  403: "forbidden",
  404: "not_found (also for another shop's ids)",
  409: "conflict",
  413: "payload_too_large: bodies over 64 KB",
  415: "unsupported_media_type: send application/json",
  422: "a rule refused the request (insufficient_points, idempotency_mismatch, ...)",
  429: "rate_limited: see Retry-After",
  502: "upstream_failed: the platform (Shopify) refused; nothing was charged",
};

export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { content: { "application/json": { schema: ErrorResponse } }, description: meaning[s] ?? "error" }]),
  ) as Record<number, { content: { "application/json": { schema: typeof ErrorResponse } }; description: string }>;
}

export const idempotencyHeader = {
  name: "Idempotency-Key",
  in: "header" as const,
  required: true,
  description: "Required. The same key and body replay the first response; another body is 422.",
  schema: { type: "string" as const, maxLength: 255 },
};
