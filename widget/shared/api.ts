/**
 * The storefront API client. The session token lives in this closure only: never in storage or
 * cookies. A 401 renews the session once, silently; errors become one ApiError with the
 * contract's code, plus "offline" when the network is gone and the wait a 429 asks for.
 */
import type { StorefrontSession, StorefrontState } from "../../worker/contract/types";

export interface Identity {
  id: string;
  ts: string | number;
  digest: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    /** Seconds to wait, from Retry-After, on 429. */
    readonly retryAfter = 0,
    /** The contract's `details` (a referral rejection's `reason`, for one). */
    readonly details: { reason?: string } | undefined = undefined,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Idempotency-Key for write endpoints marked (I). */
  key?: string;
}

export interface Client {
  /** Opens a session for `identity` (null: a guest) and keeps its token. */
  open(identity: Identity | null, withState?: boolean): Promise<StorefrontSession & { state?: StorefrontState }>;
  /** An authenticated call; opens the session first when needed and renews it once on 401. */
  call<T>(path: string, options?: RequestOptions): Promise<T>;
  /** A call without a session (the public referral endpoints); `token` is sent when given. */
  send<T>(path: string, options?: RequestOptions, token?: string): Promise<T>;
  /** The current session token ("" when none), for public calls that recognise a signed-in shopper. */
  token(): string;
}

/** A fresh Idempotency-Key; getRandomValues works on plain-http pages too, unlike randomUUID. */
export function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function createClient(api: string, shop: string, fetcher: typeof fetch = fetch): Client {
  let token = "";
  let identity: Identity | null = null;
  let opening: Promise<StorefrontSession> | null = null;

  async function send<T>(path: string, { method = "GET", body, key }: RequestOptions = {}, bearer?: string) {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (key) headers["idempotency-key"] = key;
    let response: Response;
    try {
      response = await fetcher(api + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        credentials: "omit",
      });
    } catch {
      throw new ApiError("offline", "network unavailable");
    }
    const payload = await response.json().catch(() => null);
    if (response.ok) return payload as T;
    const error = payload?.error ?? {};
    throw new ApiError(
      error.code ?? `http_${response.status}`,
      error.message ?? response.statusText,
      response.status,
      response.status === 429 ? Math.max(1, Math.ceil(Number(response.headers.get("retry-after")) || 1)) : 0,
      error.details,
    );
  }

  /** `withState` asks for the state in the same answer: the first paint needs one request. */
  function open(next: Identity | null, withState = false) {
    identity = next;
    token = "";
    const body: Record<string, unknown> = next ? { shop, customer: next } : { shop };
    if (withState) body.include = ["state"];
    const session = send<StorefrontSession & { state?: StorefrontState }>("/v1/storefront/sessions", {
      method: "POST",
      body,
    }).then((s) => {
      // A later identify() wins over a session still in flight.
      if (identity === next) token = s.token;
      return s;
    });
    opening = session;
    session.finally(() => {
      if (opening === session) opening = null;
    }).catch(() => {});
    return session;
  }

  async function call<T>(path: string, options?: RequestOptions): Promise<T> {
    if (!token) await (opening ?? open(identity));
    try {
      return await send<T>(path, options, token);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      await open(identity);
      return send<T>(path, options, token);
    }
  }

  return { open, call, send, token: () => token };
}
