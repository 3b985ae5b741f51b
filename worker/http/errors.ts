import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The contract's error codes (DESIGN §4) and the status each one answers with. */
const statusOf = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  insufficient_points: 422,
  idempotency_mismatch: 422,
  rule_violation: 422,
  rate_limited: 429,
  upstream_failed: 502,
  internal_error: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof statusOf;

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** The one error type: every refusal is an ApiError, turned into the contract's body by onError. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode | (string & {}),
    message: string,
    readonly details?: unknown,
    status?: ContentfulStatusCode,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status ?? (statusOf as Record<string, ContentfulStatusCode>)[code] ?? 422;
  }

  toBody(): ErrorBody {
    const error: ErrorBody["error"] = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new ApiError("invalid_request", message, details);
export const notFound = (what: string) => new ApiError("not_found", `${what} was not found.`);
export const unauthorized = (message = "Missing or invalid credentials.") =>
  new ApiError("unauthorized", message);
export const conflict = (message: string) => new ApiError("conflict", message);
export const insufficientPoints = (balance: number, needed: number) =>
  new ApiError(
    "insufficient_points",
    `The balance of ${balance} points does not cover ${needed} points.`,
    { balance, needed },
  );
