import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { StaleWrite } from "../store/batch";
import { ApiError } from "./errors";

/** The single exit for errors: the contract's body for known ones, a generic 500 for the rest. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    return c.json(err.toBody(), err.status, err.headers);
  }
  if (err instanceof StaleWrite) {
    return c.json({ error: { code: "conflict", message: "Too many concurrent changes to the same records; retry the request." } }, 409);
  }
  if (err instanceof HTTPException) {
    // Hono's own refusals (malformed JSON from its validator, mostly).
    const status = err.status;
    const code =
      status === 400 ? "invalid_request" : status === 401 ? "unauthorized" : status === 413 ? "payload_too_large" : "invalid_request";
    const message = status === 400 ? "The request body is not valid JSON." : err.message || "Request refused.";
    return c.json({ error: { code, message } }, status >= 500 ? 400 : status);
  }
  console.error(
    JSON.stringify({
      level: "error",
      message: "unhandled error",
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      error: err?.message,
      stack: err?.stack,
    }),
  );
  return c.json(
    { error: { code: "internal_error", message: "Something went wrong on our side; it has been logged. Please retry." } },
    500,
  );
}
