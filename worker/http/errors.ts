import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error code the API answers with, and its status: one closed table, so a code always means
 * the same status (the general ones first; the rest are the rules' own names).
 */
const STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  already_answered: 409,
  already_reported: 409,
  redemption_not_issued: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  insufficient_points: 422,
  idempotency_mismatch: 422,
  rule_violation: 422,
  currency_mismatch: 422,
  customer_redacted: 422,
  not_self_reported: 422,
  challenge_not_running: 422,
  referral_rejected: 422,
  referral_offer_not_configured: 422,
  url_not_allowed: 422,
  rate_limited: 429,
  internal_error: 500,
  upstream_failed: 502,
  not_configured: 503,
  shop_moving: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof STATUS;

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface ErrorOptions {
  /** Machine-readable particulars (validation issues, the balance that fell short, ...). */
  details?: unknown;
  /** Extra response headers (Retry-After). */
  headers?: Record<string, string>;
}

/** The one error type: every refusal is an ApiError, turned into the contract's body by onError. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly details: unknown;
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: ErrorOptions = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = STATUS[code];
    this.details = options.details;
    this.headers = options.headers;
  }

  toBody(): ErrorBody {
    const error: ErrorBody["error"] = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export const badRequest = (message: string, details?: unknown) => new ApiError("invalid_request", message, { details });
export const notFound = (what: string) => new ApiError("not_found", `${what} was not found.`);
export const unauthorized = (message = "Missing or invalid credentials.") => new ApiError("unauthorized", message);
export const conflict = (message: string) => new ApiError("conflict", message);
export const insufficientPoints = (balance: number, needed: number) =>
  new ApiError("insufficient_points", `The balance of ${balance} points does not cover ${needed} points.`, {
    details: { balance, needed },
  });
