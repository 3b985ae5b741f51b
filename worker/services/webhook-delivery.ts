/**
 * From the outbox to the merchant's endpoints, through the WEBHOOKS_QUEUE:
 *
 *   dispatch  after every write request (and from the crons) the dispatcher claims committed
 *             events, writes their deliveries and enqueues them; an event whose change was
 *             refused was never in the outbox, and one left by a crash is taken by the next run;
 *   attempt   the consumer leases a delivery, signs and POSTs it, and records the outcome; a
 *             failure is retried by the queue itself (`message.retry({delaySeconds})`) on the
 *             schedule of domain/webhooks.ts;
 *   give up   after the last attempt the queue moves the message to the dead-letter queue, whose
 *             consumer marks the delivery `failed` (kept in the log; the retry route sends it again).
 */
import { resolvedAddressProblem } from "../adapters/dns";
import { postSignedEvent } from "../adapters/webhook-post";
import { openWebhookSecret } from "../auth/webhook-secrets";
import { toHex, randomBytes } from "../crypto";
import { hostProblem, PAUSE_AFTER_FAILING_MS, retryDelaySeconds, webhookUrlProblem } from "../domain/webhooks";
import type { Env } from "../env";
import { commit, readOne } from "../store/batch";
import {
  type Attempt,
  claimAndPlanDeliveries,
  type DeliveryMessage,
  failUnsent,
  leaseAttempt,
  markDispatched,
  markDue,
  markFailed,
  overdueDeliveries,
  recordAttempt,
} from "../store/webhook-dispatch";

/** The queue names of wrangler.toml. */
export const WEBHOOKS_QUEUE_NAME = "laurel-webhooks";
export const WEBHOOKS_DLQ_NAME = "laurel-webhooks-dlq";

/** Events one dispatcher claims at a time, and how long its claim holds if it dies. */
const CLAIM_SIZE = 100;
const CLAIM_MS = 60_000;
/** A delivery's lease: longer than the receiver's timeout plus the bookkeeping. */
const LEASE_MS = 30_000;
/** A pending delivery this much past its due time lost its message: the sweep enqueues it again. */
const LOST_AFTER_MS = 10 * 60_000;

const newToken = () => toHex(randomBytes(12));

export async function enqueueDeliveries(env: Env, messages: DeliveryMessage[]): Promise<void> {
  if (!env.WEBHOOKS_QUEUE) return;
  for (let at = 0; at < messages.length; at += 100) {
    await env.WEBHOOKS_QUEUE.sendBatch(messages.slice(at, at + 100).map((body) => ({ body, contentType: "json" as const })));
  }
}

/**
 * Moves committed events to the queue until none is left unclaimed (or `rounds` claims were
 * made). Returns the deliveries it enqueued.
 */
export async function dispatchOutbox(env: Env, now = new Date(), rounds = 10): Promise<number> {
  if (!env.WEBHOOKS_QUEUE) return 0;
  let enqueued = 0;
  for (let round = 0; round < rounds; round++) {
    const token = newToken();
    const at = new Date(Math.max(now.getTime(), Date.now())).toISOString();
    const claim = await readOne(
      env.DB,
      claimAndPlanDeliveries(env.DB, { token, until: new Date(Date.parse(at) + CLAIM_MS).toISOString(), now: at, limit: CLAIM_SIZE }),
    );
    if (claim.claimed === 0) break;
    await enqueueDeliveries(env, claim.toEnqueue);
    await commit(env.DB, [markDispatched(env.DB, token, at)]);
    enqueued += claim.toEnqueue.length;
    if (claim.claimed < CLAIM_SIZE) break;
  }
  return enqueued;
}

/** Pending deliveries whose queue message was lost are enqueued again (from the crons). */
export async function sweepLostDeliveries(env: Env, now: Date): Promise<number> {
  if (!env.WEBHOOKS_QUEUE) return 0;
  const lost = await readOne(env.DB, overdueDeliveries(env.DB, new Date(now.getTime() - LOST_AFTER_MS).toISOString(), 500));
  if (lost.length === 0) return 0;
  await commit(env.DB, [markDue(env.DB, lost.map((m) => m.deliveryId), now.toISOString())]);
  await enqueueDeliveries(env, lost);
  return lost.length;
}

/** The crons' part: events left undispatched, and deliveries whose message was lost. Never throws. */
export async function runWebhookWork(env: Env, now: Date): Promise<void> {
  try {
    await dispatchOutbox(env, now);
    await sweepLostDeliveries(env, now);
  } catch (err) {
    console.error(JSON.stringify({ level: "error", message: "webhook dispatch (scheduled) failed", error: String(err) }));
  }
}

/** The delay the queue waits before retrying, after the message's `attempt`-th attempt failed. */
function queueDelay(env: Env, attempt: number): number | null {
  const delay = retryDelaySeconds(attempt);
  if (delay === null) return null;
  const scale = env.WEBHOOK_RETRY_SCALE === undefined ? 1 : Number(env.WEBHOOK_RETRY_SCALE);
  return Math.round(delay * (Number.isFinite(scale) && scale >= 0 ? scale : 1));
}

/** The queue consumer of WEBHOOKS_QUEUE: each message is one attempt of one delivery. */
export async function deliverBatch(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const retryIn = await attemptDelivery(env, message.body, message.attempts);
        if (retryIn === "done") message.ack();
        else message.retry(retryIn === null ? {} : { delaySeconds: retryIn });
      } catch (err) {
        // Our own trouble (D1 unavailable): the queue tries the message again shortly.
        console.error(JSON.stringify({ level: "error", message: "webhook attempt failed", delivery: message.body?.deliveryId, error: String(err) }));
        message.retry({ delaySeconds: queueDelay(env, 1) ?? 30 });
      }
    }),
  );
}

/** The dead-letter queue's consumer: these deliveries used all their attempts. */
export async function failDeadLetters(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const at = new Date().toISOString();
  const valid = batch.messages.filter((m) => typeof m.body?.deliveryId === "string" && typeof m.body?.shopId === "string");
  if (valid.length) await commit(env.DB, valid.map((m) => markFailed(env.DB, m.body, at)));
  batch.ackAll();
}

/**
 * One attempt. "done" when the message is finished with (delivered, or nothing to do: a stale
 * copy, a deleted endpoint); otherwise the delay before the queue's next attempt (null: this was
 * the last one, the retry sends it to the dead-letter queue).
 */
async function attemptDelivery(env: Env, message: DeliveryMessage, messageAttempt: number): Promise<"done" | number | null> {
  if (typeof message?.deliveryId !== "string" || typeof message.shopId !== "string" || !Number.isInteger(message.base)) return "done";
  const now = new Date();
  const token = newToken();
  const attempt = await readOne(
    env.DB,
    leaseAttempt(env.DB, {
      deliveryId: message.deliveryId,
      shopId: message.shopId,
      expected: message.base + messageAttempt - 1,
      token,
      until: new Date(now.getTime() + LEASE_MS).toISOString(),
      now: now.toISOString(),
    }),
  );
  if (!attempt) return "done";
  const held = { id: attempt.id, shopId: attempt.shopId, endpointId: attempt.endpointId, token };
  const isTest = attempt.testPayload !== null;
  if (!attempt.enabled && !isTest) {
    await commit(env.DB, [failUnsent(env.DB, held, "not sent: the endpoint is paused", now.toISOString())]);
    return "done";
  }
  const secret = await openWebhookSecret(env, attempt.sealedSecret);
  const body = payloadOf(attempt);
  const blocked = await destinationProblem(env, attempt.url);
  const result =
    !secret || body === null || blocked
      ? {
          delivered: false,
          status: null,
          response: null,
          error: blocked ?? (secret ? "the event is no longer in the outbox" : "the endpoint's secret cannot be opened (WEBHOOK_SECRETS_KEY changed)"),
        }
      : await postSignedEvent(attempt.url, secret, { id: attempt.eventId, body }, now);
  const at = new Date().toISOString();
  const delay = result.delivered ? null : queueDelay(env, messageAttempt);
  await commit(
    env.DB,
    recordAttempt(
      env.DB,
      held,
      { ...result, at, nextAttemptAt: delay === null ? null : new Date(Date.parse(at) + delay * 1000).toISOString() },
      new Date(Date.parse(at) - PAUSE_AFTER_FAILING_MS).toISOString(),
    ),
  );
  return result.delivered ? "done" : delay;
}

/** The JSON body every attempt sends: the same bytes each time, only the signature's timestamp moves. */
function payloadOf(attempt: Attempt): string | null {
  if (attempt.testPayload !== null) return attempt.testPayload;
  if (attempt.data === null || attempt.occurredAt === null) return null;
  return JSON.stringify({ id: attempt.eventId, type: attempt.type, occurredAt: attempt.occurredAt, shopId: attempt.shopId, data: attempt.data });
}

/** Checked again at each attempt: the rules (and DNS) may say otherwise than when the URL was saved. */
async function destinationProblem(env: Env, url: string): Promise<string | null> {
  const problem = webhookUrlProblem(url, { demo: env.DEMO === "on" });
  if (problem) return `not sent: the URL ${problem}`;
  const host = new URL(url).hostname;
  if (env.DEMO === "on" && (host === "127.0.0.1" || host === "localhost")) return null;
  const named = hostProblem(host) ?? (await resolvedAddressProblem(env.WEBHOOK_DNS_RESOLVER, host));
  return named ? `not sent: the host ${named}` : null;
}
