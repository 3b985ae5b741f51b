/**
 * A small client for Shopify's Admin GraphQL API (version `SHOPIFY_API_VERSION`): one POST per
 * operation to `/admin/api/{version}/graphql.json` with the shop's `X-Shopify-Access-Token`.
 *
 * Shopify throttles in two ways, and both mean "not executed, try later": HTTP 429 (with
 * `Retry-After` in seconds) and a 200 whose `errors` carry `extensions.code = "THROTTLED"`, with
 * the leaky bucket's state in `extensions.cost.throttleStatus`. Both are retried after the wait
 * Shopify asks for (or a capped exponential backoff), a bounded number of times. 5xx answers and
 * network failures are retried too, but flagged `ambiguous`: the mutation may have run.
 */

/**
 * The one Admin API version Laurel speaks, everywhere (GraphQL calls, the webhooks it documents,
 * the example app configuration; a test checks the last two agree). Shopify supports a stable
 * version for at least 12 months and serves an unsupported one as the oldest it still supports
 * (saying so in `X-Shopify-API-Version`), so this moves forward once a year: 2026-10 is supported
 * until October 2027.
 */
export const SHOPIFY_API_VERSION = "2026-10";

/** Where a shop's Admin API lives: `SHOPIFY_ADMIN_ORIGIN` (tests point it at a fake) or the shop. */
export function adminOrigin(env: { SHOPIFY_ADMIN_ORIGIN?: string | undefined }, shopDomain: string): string {
  return (env.SHOPIFY_ADMIN_ORIGIN ?? `https://${shopDomain}`).replace(/\/+$/, "");
}

function adminGraphqlUrl(origin: string): string {
  return `${origin}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`;
}

export interface AdminTarget {
  /** Scheme and host, without a trailing slash. */
  origin: string;
  accessToken: string;
}

export interface AdminClientOptions {
  fetch?: (request: Request) => Promise<Response>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Requests per operation, the first included. */
  maxAttempts?: number;
  /** The longest single wait, whatever Shopify asks for. */
  maxDelayMs?: number;
  /** The longest total wait per operation: a redemption should not hang on a throttled shop. */
  maxTotalDelayMs?: number;
  baseDelayMs?: number;
}

export type AdminFailureKind = "throttled" | "http" | "network" | "graphql" | "user_errors" | "unsupported" | "refused";

export interface ShopifyUserError {
  field: string[] | null;
  message: string;
  code?: string | null;
}

/** The one failure type of the Shopify adapters, typed by what went wrong. */
export class ShopifyAdminError extends Error {
  constructor(
    readonly kind: AdminFailureKind,
    message: string,
    readonly details: {
      status?: number;
      attempts?: number;
      userErrors?: ShopifyUserError[];
      errors?: unknown;
    } = {},
  ) {
    super(message);
    this.name = "ShopifyAdminError";
  }
}

export interface AdminResult<T> {
  data: T;
  attempts: number;
  /** An earlier attempt failed in a way that may have executed the operation anyway. */
  ambiguous: boolean;
}

interface GraphqlError {
  message?: string;
  extensions?: { code?: string };
}

interface GraphqlBody<T> {
  data?: T | null;
  errors?: GraphqlError[] | string;
  extensions?: {
    cost?: {
      requestedQueryCost?: number;
      throttleStatus?: { maximumAvailable?: number; currentlyAvailable?: number; restoreRate?: number };
    };
  };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait a THROTTLED answer implies: the points still missing at the bucket's restore rate. */
export function throttleWaitMs(body: GraphqlBody<unknown>): number | null {
  const cost = body.extensions?.cost;
  const status = cost?.throttleStatus;
  if (!cost || !status?.restoreRate || status.restoreRate <= 0) return null;
  const missing = (cost.requestedQueryCost ?? 0) - (status.currentlyAvailable ?? 0);
  return Math.max(0, Math.ceil((missing / status.restoreRate) * 1000));
}

/** `Retry-After` as seconds (Shopify sends e.g. "2.0") or an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** One GraphQL operation against the Admin API, retried through throttling and transient failures. */
export async function adminGraphql<T>(
  target: AdminTarget,
  query: string,
  variables: Record<string, unknown>,
  options: AdminClientOptions = {},
): Promise<AdminResult<T>> {
  const doFetch = options.fetch ?? ((request: Request) => fetch(request));
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const maxDelay = options.maxDelayMs ?? 10_000;
  const maxTotal = options.maxTotalDelayMs ?? 20_000;
  const base = options.baseDelayMs ?? 250;
  const body = JSON.stringify({ query, variables });

  let waited = 0;
  let ambiguous = false;
  let last: ShopifyAdminError | null = null;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    // Exponential backoff with full jitter, used when Shopify gives no better hint.
    const backoff = Math.round(Math.min(maxDelay, base * 2 ** (attempt - 1)) * (0.5 + random() / 2));
    let hint: number | null = null;

    let response: Response | null = null;
    try {
      response = await doFetch(
        new Request(adminGraphqlUrl(target.origin), {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "X-Shopify-Access-Token": target.accessToken,
          },
          body,
        }),
      );
    } catch (err) {
      ambiguous = true;
      last = new ShopifyAdminError("network", `Shopify could not be reached: ${String(err)}`, { attempts: attempt });
    }

    if (response) {
      if (response.status === 429) {
        hint = retryAfterMs(response.headers.get("Retry-After"));
        last = new ShopifyAdminError("throttled", "Shopify throttled the request (HTTP 429).", {
          status: 429,
          attempts: attempt,
        });
      } else if (response.status >= 500) {
        ambiguous = true;
        last = new ShopifyAdminError("http", `Shopify answered HTTP ${response.status}.`, {
          status: response.status,
          attempts: attempt,
        });
      } else if (!response.ok) {
        throw new ShopifyAdminError("http", `Shopify refused the request (HTTP ${response.status}).`, {
          status: response.status,
          attempts: attempt,
          errors: await response.text().catch(() => ""),
        });
      } else {
        let parsed: GraphqlBody<T>;
        try {
          parsed = (await response.json()) as GraphqlBody<T>;
        } catch {
          throw new ShopifyAdminError("http", "Shopify answered with a body that is not JSON.", {
            status: response.status,
            attempts: attempt,
          });
        }
        const errors = Array.isArray(parsed.errors) ? parsed.errors : parsed.errors ? [{ message: parsed.errors }] : [];
        if (errors.some((e) => e.extensions?.code === "THROTTLED")) {
          hint = throttleWaitMs(parsed);
          last = new ShopifyAdminError("throttled", "Shopify throttled the query (THROTTLED).", {
            status: response.status,
            attempts: attempt,
            errors,
          });
        } else if (errors.length > 0 || !parsed.data) {
          throw new ShopifyAdminError("graphql", errors[0]?.message ?? "Shopify returned no data.", {
            status: response.status,
            attempts: attempt,
            errors,
          });
        } else {
          return { data: parsed.data, attempts: attempt, ambiguous };
        }
      }
    }

    if (attempt === maxAttempts) break;
    const delay = Math.min(maxDelay, hint ?? backoff);
    if (waited + delay > maxTotal) break;
    waited += delay;
    await sleep(delay);
  }
  throw last ?? new ShopifyAdminError("network", "Shopify request failed.");
}

const INSTALLATION_QUERY = `query LaurelCurrentAppInstallation { currentAppInstallation { id } }`;

const METAFIELDS_SET = `mutation LaurelMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { namespace key }
    userErrors { field code message }
  }
}`;

/** The app-data metafields the theme app extension reads as `app.metafields.laurel.<key>`. */
export interface StorefrontMetafields {
  /** The shop's public key (`data-shop`). */
  public_key: string;
  /** Where laurel.js and the API live, such as https://loyalty.example.com. */
  api_origin: string;
  /** Keys the customer digest that Liquid's `hmac_sha256` computes; never in theme code. */
  widget_secret: string;
}

/**
 * Writes the storefront settings as metafields owned by the app installation: only this app and
 * its theme app extension can read them, so the widget secret never appears in the theme.
 */
export async function writeStorefrontMetafields(
  target: AdminTarget,
  values: StorefrontMetafields,
  options: AdminClientOptions = {},
): Promise<void> {
  const installation = await adminGraphql<{ currentAppInstallation: { id: string } | null }>(
    target,
    INSTALLATION_QUERY,
    {},
    options,
  );
  const ownerId = installation.data.currentAppInstallation?.id;
  if (!ownerId) throw new ShopifyAdminError("graphql", "Shopify returned no app installation.");
  const metafields = Object.entries(values).map(([key, value]) => ({
    ownerId,
    namespace: "laurel",
    key,
    type: "single_line_text_field",
    value,
  }));
  const result = await adminGraphql<{ metafieldsSet: { userErrors: ShopifyUserError[] } | null }>(
    target,
    METAFIELDS_SET,
    { metafields },
    options,
  );
  const userErrors = result.data.metafieldsSet?.userErrors ?? [];
  if (userErrors.length > 0) {
    throw new ShopifyAdminError("user_errors", userErrors.map((e) => e.message).join("; "), { userErrors });
  }
}

/** What Shopify's token endpoint grants: an offline access token, expiring with a refresh token. */
export interface ShopifyTokenSet {
  accessToken: string;
  scope: string;
  /** Null for a token that does not expire (a custom app's, or one issued before expiry existed). */
  expiresAt: Date | null;
  refreshToken: string | null;
  refreshExpiresAt: Date | null;
}

/**
 * The grants of `POST https://{shop}/admin/oauth/access_token` Laurel uses, as Shopify's own
 * library sends them (JSON bodies, `expiring: "1"` for an expiring offline token):
 * - `code`: the end of the OAuth authorization code grant (the code the merchant's browser brought);
 * - `sessionToken`: token exchange of an App Bridge session token (the embedded app, opened);
 * - `offlineToken`: token exchange of a non-expiring offline token for an expiring one (migration);
 * - `refreshToken`: the refresh grant, before the access token lapses.
 */
export type ShopifyGrant =
  | { code: string }
  | { sessionToken: string }
  | { offlineToken: string }
  | { refreshToken: string };

const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token";

function grantBody(grant: ShopifyGrant): Record<string, string> {
  if ("code" in grant) return { code: grant.code, expiring: "1" };
  if ("refreshToken" in grant) return { grant_type: "refresh_token", refresh_token: grant.refreshToken };
  return {
    grant_type: TOKEN_EXCHANGE,
    ...("sessionToken" in grant
      ? { subject_token: grant.sessionToken, subject_token_type: "urn:ietf:params:oauth:token-type:id_token" }
      : { subject_token: grant.offlineToken, subject_token_type: OFFLINE_TOKEN_TYPE }),
    requested_token_type: OFFLINE_TOKEN_TYPE,
    expiring: "1",
  };
}

const seconds = (value: unknown, now: number) =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? new Date(now + value * 1000) : null;

/**
 * One request to Shopify's token endpoint. A refusal (4xx: a used or revoked code, an expired
 * refresh token, an uninstalled app) is a `ShopifyAdminError` of kind "refused" with the OAuth
 * `error`; network failures and 5xx are "network" and "http", worth another try later.
 */
export async function requestShopifyToken(
  origin: string,
  client: { clientId: string; clientSecret: string },
  grant: ShopifyGrant,
  options: Pick<AdminClientOptions, "fetch"> & { now?: () => number } = {},
): Promise<ShopifyTokenSet> {
  const doFetch = options.fetch ?? ((request: Request) => fetch(request));
  let response: Response;
  try {
    response = await doFetch(
      new Request(`${origin}/admin/oauth/access_token`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret, ...grantBody(grant) }),
      }),
    );
  } catch (err) {
    throw new ShopifyAdminError("network", `Shopify could not be reached: ${String(err)}`);
  }
  const now = (options.now ?? Date.now)();
  const body = (await response.json().catch(() => null)) as {
    access_token?: unknown;
    scope?: unknown;
    expires_in?: unknown;
    refresh_token?: unknown;
    refresh_token_expires_in?: unknown;
    error?: unknown;
    error_description?: unknown;
  } | null;
  if (!response.ok || typeof body?.access_token !== "string" || !body.access_token) {
    const reason = typeof body?.error_description === "string" ? body.error_description : `HTTP ${response.status}`;
    throw new ShopifyAdminError(
      response.status >= 400 && response.status < 500 ? "refused" : "http",
      `Shopify refused the token request: ${reason}`,
      { status: response.status, errors: body?.error ?? null },
    );
  }
  return {
    accessToken: body.access_token,
    scope: typeof body.scope === "string" ? body.scope : "",
    expiresAt: seconds(body.expires_in, now),
    refreshToken: typeof body.refresh_token === "string" && body.refresh_token ? body.refresh_token : null,
    refreshExpiresAt: seconds(body.refresh_token_expires_in, now),
  };
}
