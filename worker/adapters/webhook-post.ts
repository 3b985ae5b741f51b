/**
 * One delivery attempt over HTTP: the payload POSTed with Standard Webhooks headers, signed anew
 * with the attempt's own timestamp. A 2xx within the timeout delivers it. Redirects are not
 * followed (a redirect could lead to an address the endpoint's URL was checked against), and no
 * more than the first couple of KB of the answer is read, so a slow or huge answer cannot hold
 * the consumer.
 */
import { signStandardWebhook } from "../auth/standard-webhooks";
import { DELIVERY_TIMEOUT_MS, RESPONSE_KEPT_BYTES } from "../domain/webhooks";

export interface PostResult {
  delivered: boolean;
  status: number | null;
  error: string | null;
  response: string | null;
}

export async function postSignedEvent(
  url: string,
  secret: string,
  event: { id: string; body: string },
  now: Date,
  fetcher: typeof fetch = fetch,
): Promise<PostResult> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": "Laurel-Webhooks/1",
    "webhook-id": event.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signStandardWebhook(secret, event.id, timestamp, event.body),
  };
  const signal = AbortSignal.timeout(DELIVERY_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetcher(url, { method: "POST", headers, body: event.body, redirect: "manual", signal });
  } catch (err) {
    const timedOut = (err as Error)?.name === "TimeoutError" || signal.aborted;
    return { delivered: false, status: null, error: timedOut ? "no answer within 10 s" : `could not connect: ${String((err as Error)?.message ?? err).slice(0, 200)}`, response: null };
  }
  const text = await readStart(response);
  const delivered = response.status >= 200 && response.status < 300;
  let error: string | null = null;
  if (!delivered) {
    error = response.status >= 300 && response.status < 400 ? `answered ${response.status} (redirects are not followed)` : `answered ${response.status}`;
  }
  return { delivered, status: response.status, error, response: text };
}

/** The first RESPONSE_KEPT_BYTES of a body as text; the rest is never read. */
async function readStart(response: Response): Promise<string | null> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_KEPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut off (or timed out) keeps what came.
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, RESPONSE_KEPT_BYTES));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.byteLength - at);
    bytes.set(part, at);
    at += part.byteLength;
    if (at >= bytes.byteLength) break;
  }
  return new TextDecoder().decode(bytes).slice(0, 500);
}
