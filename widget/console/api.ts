/**
 * The console's API client. The session token lives in this module's memory only: never in
 * localStorage, sessionStorage or a cookie, and the secret key is sent once and then forgotten.
 * A 401 on any call means the session ended: `onExpired` signs the merchant out.
 */
import type { ConsoleSession } from "../../worker/contract/analytics";

export class ConsoleError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** Idempotency-Key for writes marked (I). */
  key?: string;
}

let token: string | null = null;
let expired: () => void = () => {};
/** Inside the Shopify admin: a fresh App Bridge session token for every call, no console session. */
let sessionTokens: (() => Promise<string>) | null = null;

/** Switches the client to Shopify session tokens (the embedded console, see embedded.ts). */
export function useShopifySessionTokens(source: () => Promise<string>): void {
  sessionTokens = source;
}

export function embedded(): boolean {
  return sessionTokens !== null;
}

export function onExpired(handler: () => void): void {
  expired = handler;
}

export function signedIn(): boolean {
  return token !== null;
}

export function signOut(): void {
  token = null;
}

async function send(path: string, { method = "GET", body, key }: CallOptions, bearer: string | null): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (key) headers["idempotency-key"] = key;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ConsoleError("offline", "The network is unavailable. Check your connection and try again.", 0);
  }
}

async function failure(response: Response): Promise<ConsoleError> {
  const payload = (await response.json().catch(() => null)) as {
    error?: { code?: string; message?: string; details?: unknown };
  } | null;
  const error = payload?.error ?? {};
  const details = Array.isArray(error.details) ? (error.details as { path: string; message: string }[]) : [];
  return new ConsoleError(error.code ?? `http_${response.status}`, error.message ?? response.statusText, response.status, details);
}

/** Trades the secret key for a console session; the key is not kept anywhere. */
export async function startSession(secretKey: string): Promise<ConsoleSession> {
  const response = await send("/v1/console/sessions", { method: "POST", body: { secretKey } }, null);
  if (!response.ok) throw await failure(response);
  const session = (await response.json()) as ConsoleSession;
  token = session.token;
  return session;
}

/** A session token from App Bridge; when it cannot give one, the error says what to do. */
async function shopifySessionToken(): Promise<string> {
  try {
    return await sessionTokens!();
  } catch {
    throw new ConsoleError("unauthorized", "Shopify did not give this page a session. Reload the app from your Shopify admin.", 401);
  }
}

/** The embedded console's first call: the shop, and its Shopify connection (set up if need be). */
export async function openEmbeddedSession<T>(): Promise<T> {
  const response = await send("/v1/shopify/session", { method: "POST" }, await shopifySessionToken());
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

async function authorized(path: string, options: CallOptions = {}): Promise<Response> {
  const bearer = sessionTokens ? await shopifySessionToken() : token;
  if (!bearer) {
    expired();
    throw new ConsoleError("unauthorized", "Sign in to continue.", 401);
  }
  const response = await send(path, options, bearer);
  if (response.status === 401) {
    token = null;
    expired();
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  return (await (await authorized(path, options)).json()) as T;
}

/** Downloads a CSV export through the session (a plain link could not carry the token). */
export async function download(path: string, fallbackName: string): Promise<void> {
  const response = await authorized(path);
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A fresh Idempotency-Key (getRandomValues works on plain-http pages too, unlike randomUUID). */
export function newKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
