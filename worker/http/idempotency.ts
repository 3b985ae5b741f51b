import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env";
import { sha256Hex } from "../auth/crypto";
import { StaleWrite } from "../store/batch";
import { claimKey, completeKey, recordRefusal, storedResponse } from "../store/idempotency";
import { ApiError, badRequest, conflict } from "./errors";

/**
 * Runs a write marked (I) in DESIGN §4 exactly once per `Idempotency-Key`: the same key and body
 * replay the first response, the same key with another body is 422 `idempotency_mismatch`.
 * `write` receives the claim statement and must commit it in its own atomic batch; an ApiError it
 * throws is a refusal, so it throws only before that batch commits (after it, it returns the error).
 */
export async function idempotent(
  c: Context<AppEnv>,
  scope: string,
  body: unknown,
  write: (claim: D1PreparedStatement) => Promise<{ status: ContentfulStatusCode; body: unknown }>,
): Promise<Response> {
  const key = c.req.header("idempotency-key");
  if (!key || key.length > 255) {
    throw badRequest("Send an Idempotency-Key header (1-255 characters) with this request.", [
      { path: "Idempotency-Key", message: "required" },
    ]);
  }
  const shopId = c.var.shop.id;
  const requestHash = await sha256Hex(`${c.req.method} ${new URL(c.req.url).pathname} ${JSON.stringify(body)}`);
  const db = c.env.DB;

  for (let attempt = 0; attempt < 50; attempt++) {
    const stored = await storedResponse(db, shopId, scope, key);
    if (stored) {
      if (stored.requestHash !== requestHash) {
        throw new ApiError(
          "idempotency_mismatch",
          "This Idempotency-Key was used with a different request; use a new key for a new request.",
        );
      }
      if (stored.status !== 0) {
        return new Response(stored.body, {
          status: stored.status,
          headers: { "content-type": "application/json", "idempotent-replayed": "true" },
        });
      }
      // The first request with this key is still running: wait for its response.
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    const at = new Date().toISOString();
    let result: { status: ContentfulStatusCode; body: unknown };
    let refused = false;
    try {
      result = await write(claimKey(db, shopId, scope, key, requestHash, at));
    } catch (err) {
      // Another request claimed the key, or the read behind the write went stale: read again.
      if (err instanceof StaleWrite) continue;
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      if (err.code === "conflict") continue;
      result = { status: err.status, body: err.toBody() };
      refused = true;
    }
    const text = JSON.stringify(result.body);
    if (!refused) {
      await completeKey(db, shopId, scope, key, requestHash, result.status, text, at);
    } else if (!(await recordRefusal(db, shopId, scope, key, requestHash, result.status, text, at))) {
      // A concurrent request with this key wrote meanwhile: its answer is the one to give.
      continue;
    }
    return new Response(text, { status: result.status, headers: { "content-type": "application/json" } });
  }
  throw conflict("A request with this Idempotency-Key is still in progress; retry shortly.");
}
