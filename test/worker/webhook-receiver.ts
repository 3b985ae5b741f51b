/**
 * A merchant's webhook receiver for the tests: it stands in for `https://hooks.example/...`
 * (globalThis.fetch is wrapped, so the queue consumer's POSTs reach it) and checks every
 * delivery the way the Standard Webhooks reference library does, with its own code, not the
 * worker's: `webhook-signature` holds `v1,<base64 HMAC-SHA256(base64-decoded secret after
 * whsec_, "{webhook-id}.{webhook-timestamp}.{body}")>`, the timestamp within 5 minutes.
 */
import { vi } from "vitest";

export interface Received {
  url: string;
  id: string;
  timestamp: number;
  signatureValid: boolean;
  body: string;
  payload: { id: string; type: string; occurredAt: string; shopId: string; data: Record<string, any>; test?: boolean };
}

/** A status (and body), or a function that makes the whole answer. */
export type Answer = number | [number, string] | (() => Response | Promise<Response>);

export interface Receiver {
  received: Received[];
  /** Registers the secret of an endpoint (by its URL), as the merchant would store it. */
  secretFor(url: string, secret: string): void;
  /** How the receiver answers each request to `url` (default 200), in order; the last one repeats. */
  answers(url: string, ...answers: Answer[]): void;
  /** Every request to the receiver's host, whatever it was. */
  requests: { url: string; method: string }[];
  /** Waits until `test` holds for what was received (polling; generous by default). */
  until<T>(test: (received: Received[]) => T, timeoutMs?: number): Promise<NonNullable<T>>;
}

const decoder = new TextDecoder();

async function verify(secret: string, id: string, timestamp: string, body: string, header: string): Promise<boolean> {
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (ch) => ch.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)));
  const expected = btoa(String.fromCharCode(...mac));
  return header.split(" ").some((part) => part === `v1,${expected}`);
}

export function startReceiver(host = "hooks.example"): Receiver {
  const secrets = new Map<string, string>();
  const scripted = new Map<string, Answer[]>();
  const received: Received[] = [];
  const requests: { url: string; method: string }[] = [];
  const passThrough = globalThis.fetch.bind(globalThis);
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname !== host) return passThrough(input, init);
    requests.push({ url: request.url, method: request.method });
    const body = decoder.decode(await request.arrayBuffer());
    const id = request.headers.get("webhook-id") ?? "";
    const timestamp = request.headers.get("webhook-timestamp") ?? "";
    const secret = secrets.get(request.url);
    received.push({
      url: request.url,
      id,
      timestamp: Number(timestamp),
      signatureValid: secret ? await verify(secret, id, timestamp, body, request.headers.get("webhook-signature") ?? "") : false,
      body,
      payload: JSON.parse(body),
    });
    const queue = scripted.get(request.url) ?? [];
    const answer = queue.length > 1 ? queue.shift()! : queue[0];
    if (answer === undefined) return new Response("ok", { status: 200 });
    if (typeof answer === "function") return answer();
    const [status, text] = typeof answer === "number" ? [answer, "ok"] : answer;
    return new Response(text, { status });
  });
  return {
    received,
    requests,
    secretFor: (url, secret) => void secrets.set(url, secret),
    answers: (url, ...answers) => void scripted.set(url, answers),
    async until(test, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = test(received);
        if (value) return value as NonNullable<typeof value>;
        if (Date.now() > deadline) throw new Error(`receiver: condition not met; got ${JSON.stringify(received.map((r) => r.payload.type))}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}
