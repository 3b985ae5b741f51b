import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env";
import { sha256Hex } from "../crypto";
import { StaleWrite } from "../store/batch";
import {
  claimKey,
  completeKey,
  recordRefusal,
  releaseKey,
  storedResponse,
  takeOverKey,
} from "../store/idempotency";
import { ApiError, badRequest, conflict } from "./errors";

/** What a write answers: the status and body stored under its key and replayed to retries. */
export interface WriteOutcome {
  status: ContentfulStatusCode;
  body: unknown;
}

/**
 * The key's claim, for the write's own atomic batch. `reference` names what the write creates
 * there (a redemption id, a ledger key): enough for `recover` to rebuild the answer from it.
 */
export type ClaimKey = (reference: string) => D1PreparedStatement;

/**
 * How long the claiming request keeps its key to itself. Longer than any request runs (a Shopify
 * redemption waits out at most 20 s of throttling); after it, a retry takes the key over.
 */
export const CLAIM_LOCK_MS = 120_000;

const lockUntil = (now: number) => new Date(now + CLAIM_LOCK_MS).toISOString();

/**
 * Runs a write that takes an `Idempotency-Key` exactly once per key: the same key and body
 * replay the first response, the same key with another body is 422 `idempotency_mismatch`.
 * `write` puts the claim into its own atomic batch; an ApiError it throws before that batch
 * commits is a refusal (stored and replayed). After the commit, points have moved and the write
 * must never run again under this key: when it fails before answering (an unexpected error, or the
 * isolate dying), `recover` rebuilds the answer from what was committed, at once or on a retry.
 */
export async function idempotent(
  c: Context<AppEnv>,
  scope: string,
  body: unknown,
  write: (claim: ClaimKey) => Promise<WriteOutcome>,
  recover: (reference: string) => Promise<WriteOutcome>,
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

  const respond = (status: number, text: string, replayed: boolean) =>
    new Response(text, {
      status,
      headers: { "content-type": "application/json", ...(replayed ? { "idempotent-replayed": "true" } : {}) },
    });

  /** Stores and gives the answer of the committed write; null when another request answered first. */
  async function answer(reference: string, outcome: WriteOutcome, replayed: boolean): Promise<Response | null> {
    const text = JSON.stringify(outcome.body);
    try {
      if (!(await completeKey(db, shopId, scope, key!, reference, outcome.status, text))) return null;
    } catch (err) {
      // The answer is known, so give it; once the lock runs out a retry rebuilds the same one.
      logFailure("storing the answer failed", shopId, scope, err);
    }
    return respond(outcome.status, text, replayed);
  }

  /**
   * The write committed under `reference` and then failed (`failure`), or was abandoned (null):
   * answer from what it committed.
   */
  async function recovered(reference: string, failure: unknown, replayed: boolean): Promise<Response | null> {
    let outcome: WriteOutcome;
    try {
      outcome = await recover(reference);
    } catch (err) {
      logFailure("rebuilding the answer failed", shopId, scope, err);
      // Let the next retry try again at once rather than wait for the lock.
      await releaseKey(db, shopId, scope, key!, reference, new Date().toISOString()).catch(() => {});
      throw failure ?? err;
    }
    return answer(reference, outcome, replayed);
  }

  for (let attempt = 0; attempt < 50; attempt++) {
    const stored = await storedResponse(db, shopId, scope, key);
    if (stored) {
      if (stored.requestHash !== requestHash) {
        throw new ApiError(
          "idempotency_mismatch",
          "This Idempotency-Key was used with a different request; use a new key for a new request.",
        );
      }
      if (stored.status !== 0) return respond(stored.status, stored.body, true);
      // The first request with this key is still running, or its write committed and it failed
      // before answering: once its lock runs out, one retry takes over and answers.
      const now = Date.now();
      const abandoned = stored.reference !== null && stored.lockedUntil !== null && stored.lockedUntil <= new Date(now).toISOString();
      if (abandoned) {
        const claim = { reference: stored.reference!, lockedUntil: stored.lockedUntil! };
        if (await takeOverKey(db, shopId, scope, key, claim, new Date(now).toISOString(), lockUntil(now))) {
          const response = await recovered(claim.reference, null, true);
          if (response) return response;
        }
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }

    const now = Date.now();
    const at = new Date(now).toISOString();
    let reference: string | null = null;
    const claim: ClaimKey = (ref) => {
      reference = ref;
      return claimKey(db, { shopId, scope, key, requestHash, reference: ref, at, lockedUntil: lockUntil(now) });
    };
    let outcome: WriteOutcome;
    try {
      outcome = await write(claim);
    } catch (err) {
      // A claim in the database with this request's reference means the write's batch committed.
      const mine = reference === null ? null : await claimOf(db, shopId, scope, key, reference, err);
      if (mine) {
        const response = mine.status === 0 ? await recovered(reference!, err, false) : null;
        if (response) return response;
        continue;
      }
      // Another request claimed the key first (the write's own stale reads are retried by the
      // write pipeline, services/pipeline.ts): read the key again and answer as it says.
      if (err instanceof StaleWrite) continue;
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      if (err.code === "conflict") continue;
      const text = JSON.stringify(err.toBody());
      if (await recordRefusal(db, shopId, scope, key, requestHash, err.status, text, at)) return respond(err.status, text, false);
      // A concurrent request with this key wrote meanwhile: its answer is the one to give.
      continue;
    }
    if (reference === null) {
      // The write committed nothing under the key: its answer is stored like a refusal.
      const text = JSON.stringify(outcome.body);
      if (await recordRefusal(db, shopId, scope, key, requestHash, outcome.status, text, at)) {
        return respond(outcome.status, text, false);
      }
      continue;
    }
    const response = await answer(reference, outcome, false);
    if (response) return response;
  }
  throw conflict("A request with this Idempotency-Key is still in progress; retry shortly.");
}

/** The key's row if it is the claim naming `reference`; when that cannot be read, `failure` stands. */
async function claimOf(db: D1Database, shopId: string, scope: string, key: string, reference: string, failure: unknown) {
  try {
    const stored = await storedResponse(db, shopId, scope, key);
    return stored?.reference === reference ? stored : null;
  } catch {
    // Unknown: if the write did commit, its claim stays locked until a retry takes it over.
    throw failure;
  }
}

function logFailure(message: string, shopId: string, scope: string, err: unknown) {
  console.error(
    JSON.stringify({ level: "error", message: `idempotent write: ${message}`, shop: shopId, scope, error: String(err) }),
  );
}
