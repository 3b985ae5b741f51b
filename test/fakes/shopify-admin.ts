/**
 * A local stand-in for Shopify's Admin GraphQL API and its OAuth token endpoint, as a fetch
 * handler. It implements the operations Laurel calls, with the request and response shapes Shopify
 * documents:
 *
 * - `discountCodeBasicCreate(basicCodeDiscount:)` and `discountCodeFreeShippingCreate(
 *   freeShippingCodeDiscount:)` -> `{codeDiscountNode {id}, userErrors {field code message}}`
 *   (shopify.dev/docs/api/admin-graphql/2025-10/mutations/discountCodeBasicCreate and
 *   .../discountCodeFreeShippingCreate). A code already used answers the userError Shopify
 *   returns: field [input, "code"], code TAKEN, "Code must be unique. Please try a different code.".
 * - `codeDiscountNodeByCode(code:)`, `currentAppInstallation {id}` and `metafieldsSet(metafields:)`.
 * - Authentication: a missing, wrong or expired `X-Shopify-Access-Token` is HTTP 401 with
 *   `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`.
 * - Versions: `/admin/api/{version}/graphql.json` for the versions Shopify supports in December 2026
 *   (2026-01 to 2026-10); an older one is served as the oldest supported one, as Shopify falls
 *   forward. `X-Shopify-API-Version` says which version answered.
 * - The token endpoint `POST /admin/oauth/access_token` (shopify.dev/docs/apps/build/
 *   authentication-authorization, and the grants of Shopify's own library, @shopify/shopify-api
 *   `lib/auth/oauth`), with JSON bodies carrying `client_id` and `client_secret`:
 *   the authorization code grant (`code`, `expiring`), token exchange of a session token
 *   (`grant_type` urn:ietf:params:oauth:grant-type:token-exchange, `subject_token_type`
 *   ...:id_token, `requested_token_type` ...:offline-access-token, `expiring`), token exchange of a
 *   non-expiring offline token for an expiring one (`subject_token_type` ...:offline-access-token),
 *   and the refresh grant (`grant_type` refresh_token, `refresh_token`). An expiring answer is
 *   `{access_token, scope, expires_in: 3600, refresh_token, refresh_token_expires_in}`; a refresh
 *   rotates the refresh token, and the one it replaced keeps working until the new pair is used
 *   (Shopify's "more resilient refreshes", August 2026). Refusals are HTTP 400 with the OAuth
 *   `{error, error_description}` (invalid_client, invalid_request, invalid_grant,
 *   invalid_subject_token).
 * - Rate limits (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits): a leaky bucket of
 *   query cost points. Every answer carries `extensions.cost` {requestedQueryCost, actualQueryCost,
 *   throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}}; a request the bucket
 *   cannot cover gets `errors: [{message: "Throttled", extensions: {code: "THROTTLED"}}]` and
 *   `actualQueryCost: null`, as in the throttled example Shopify's community documents.
 *
 * It is not a GraphQL engine: it finds the root field in the query text and answers the fields
 * Laurel selects. Validation messages other than TAKEN are the fake's own wording, in Shopify's
 * userError shape. Faults (HTTP 429 with Retry-After, 5xx, network errors, forced THROTTLED) can
 * be scripted, and the clock is injectable so that throttling is deterministic in tests.
 */

export interface FakeDiscount {
  id: string;
  kind: "basic" | "free_shipping";
  code: string;
  input: Record<string, unknown>;
}

export type FakeFault =
  | { kind: "http429"; retryAfter?: string }
  | { kind: "http5xx"; status?: number; /** the mutation still runs before the error, as a timeout might */ executed?: boolean }
  | { kind: "network" }
  | { kind: "throttled" }
  | { kind: "http401" };

export interface FakeRequestLog {
  url: string;
  token: string | null;
  root: string | null;
  variables: Record<string, unknown>;
  status: number;
  throttled: boolean;
  /** The API version that answered (X-Shopify-API-Version), for GraphQL requests. */
  version?: string;
}

export interface ShopifyAdminFakeOptions {
  accessToken?: string;
  /** Bucket size in points (Shopify's standard plan restores 100 points a second). */
  maximumAvailable?: number;
  restoreRate?: number;
  /** Requested cost of a mutation (Shopify's default for mutations is 10). */
  mutationCost?: number;
  now?: () => number;
  /** The app's client credentials, for the token endpoint. */
  clientId?: string;
  clientSecret?: string;
  /**
   * The store, when the fake is reached at a local address instead of the store's own domain (a
   * server for the browser tests): session tokens must name it in `dest`.
   */
  shopDomain?: string;
}

/** An access token the fake has issued (or was given), with its expiry in fake time. */
interface IssuedToken {
  expiresAt: number | null;
  /** The refresh token issued with it. */
  refreshToken: string | null;
}

interface IssuedRefreshToken {
  expiresAt: number;
  accessToken: string;
  /** The pair a refresh issued in its place: this one works until that pair is used. */
  replacedBy: { accessToken: string; refreshToken: string } | null;
}

/** Versions Shopify supports in December 2026 (each for at least 12 months from its release). */
export const SUPPORTED_API_VERSIONS = ["2026-01", "2026-04", "2026-07", "2026-10"];
export const ACCESS_TOKEN_TTL_SECONDS = 3600;
export const REFRESH_TOKEN_TTL_SECONDS = 2_592_000;

const INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)";
const API_PATH = /^\/admin\/api\/(\d{4}-\d{2}|unstable)\/graphql\.json$/;

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

interface UserError {
  field: string[] | null;
  code: string | null;
  message: string;
  extraInfo: null;
}

const userError = (field: string[] | null, code: string, message: string): UserError => ({
  field,
  code,
  message,
  extraInfo: null,
});

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

export class ShopifyAdminFake {
  readonly discounts = new Map<string, FakeDiscount>();
  readonly metafields = new Map<string, { namespace: string; key: string; type: string; value: string }>();
  readonly requests: FakeRequestLog[] = [];
  readonly installationId = "gid://shopify/AppInstallation/548380009";
  /** Authorization codes the fake will exchange once each, as Shopify's OAuth does. */
  readonly authorizationCodes = new Set<string>();
  readonly scope = "read_orders,read_customers,write_discounts,write_app_proxy";
  readonly clientId: string;
  readonly clientSecret: string;
  private readonly shopDomain: string | undefined;
  /** Every access token the fake accepts: the given one (a custom app's) and those it issued. */
  readonly tokens = new Map<string, IssuedToken>();
  readonly refreshTokens = new Map<string, IssuedRefreshToken>();
  /** Grants the token endpoint answered, in order ("authorization_code", "refresh_token", ...). */
  readonly grants: { grant: string; status: number }[] = [];
  private issued = 0;
  private readonly faults: FakeFault[] = [];
  private nextId = 1057371591;
  private available: number;
  private lastRefill: number;
  readonly accessToken: string;
  readonly maximumAvailable: number;
  readonly restoreRate: number;
  readonly mutationCost: number;
  private readonly now: () => number;

  constructor(options: ShopifyAdminFakeOptions = {}) {
    this.accessToken = options.accessToken ?? "shpat_fake_token";
    this.maximumAvailable = options.maximumAvailable ?? 2000;
    this.restoreRate = options.restoreRate ?? 100;
    this.mutationCost = options.mutationCost ?? 10;
    this.now = options.now ?? (() => Date.now());
    this.clientId = options.clientId ?? "test-client-id";
    this.clientSecret = options.clientSecret ?? "test-shopify-secret";
    this.shopDomain = options.shopDomain;
    this.tokens.set(this.accessToken, { expiresAt: null, refreshToken: null });
    this.available = this.maximumAvailable;
    this.lastRefill = this.now();
  }

  /** Queue faults: each one answers (or breaks) the next request, in order. */
  failNext(...faults: FakeFault[]): this {
    this.faults.push(...faults);
    return this;
  }

  /** Empties the bucket, as a burst of other calls from the same app would. */
  drainBucket(to = 0): this {
    this.refill();
    this.available = to;
    return this;
  }

  get currentlyAvailable(): number {
    this.refill();
    return this.available;
  }

  /** The fetch handler: pass it wherever a `fetch` is expected. */
  readonly fetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const response = await this.answer(request);
    const version = this.requests.at(-1)?.version;
    if (version && !response.headers.has("X-Shopify-API-Version")) {
      const headers = new Headers(response.headers);
      headers.set("X-Shopify-API-Version", version);
      return new Response(response.body, { status: response.status, headers });
    }
    return response;
  };

  private async answer(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const token = request.headers.get("X-Shopify-Access-Token");
    const log: FakeRequestLog = { url: request.url, token, root: null, variables: {}, status: 200, throttled: false };
    this.requests.push(log);

    if (request.method === "POST" && url.pathname === "/admin/oauth/access_token") {
      log.root = "oauth/access_token";
      return this.exchangeCode(request, log);
    }
    const version = API_PATH.exec(url.pathname)?.[1];
    if (request.method !== "POST" || !version) {
      log.status = 404;
      return json({ errors: "Not Found" }, 404);
    }
    log.version = SUPPORTED_API_VERSIONS.includes(version) ? version : SUPPORTED_API_VERSIONS[0]!;
    const fault = this.faults.shift();
    if (fault?.kind === "network") throw new TypeError("fetch failed: connection reset (fake)");
    if (fault?.kind === "http401" || !this.accepts(token)) {
      log.status = 401;
      return json({ errors: INVALID_TOKEN }, 401, { "X-Shopify-API-Version": log.version });
    }
    if (fault?.kind === "http429") {
      log.status = 429;
      return json({ errors: "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service." }, 429, {
        "Retry-After": fault.retryAfter ?? "2.0",
      });
    }

    let body: { query?: unknown; variables?: unknown };
    try {
      body = (await request.json()) as typeof body;
    } catch {
      log.status = 400;
      return json({ errors: [{ message: "Invalid JSON in request body" }] }, 400);
    }
    const query = typeof body.query === "string" ? body.query : "";
    const variables = record(body.variables) ?? {};
    log.variables = variables;
    const root = ["discountCodeBasicCreate", "discountCodeFreeShippingCreate", "codeDiscountNodeByCode", "currentAppInstallation", "metafieldsSet"].find(
      (name) => new RegExp(`\\b${name}\\b`).test(query.replace(/^\s*(mutation|query)\s+\w+/, "")),
    );
    log.root = root ?? null;
    if (!root) {
      return this.withCost({ errors: [{ message: "Field doesn't exist on type 'Mutation'", extensions: { code: "undefinedField" } }] }, 0);
    }

    const isMutation = /^\s*mutation\b/.test(query);
    const cost = isMutation ? this.mutationCost : 1;
    this.refill();
    if (fault?.kind === "throttled" || this.available < cost) {
      log.throttled = true;
      return this.throttled(cost);
    }
    this.available -= cost;

    if (fault?.kind === "http5xx") {
      if (fault.executed) this.execute(root, query, variables);
      log.status = fault.status ?? 502;
      return new Response("Bad Gateway", { status: log.status });
    }
    const data = this.execute(root, query, variables);
    if ("errors" in data) return this.withCost(data, cost);
    return this.withCost({ data }, cost);
  }

  /** Whether the Admin API takes this token now; using a refreshed pair retires what it replaced. */
  private accepts(token: string | null): boolean {
    const issued = token ? this.tokens.get(token) : undefined;
    if (!issued || (issued.expiresAt !== null && issued.expiresAt <= this.now())) return false;
    this.retireReplaced(token!);
    return true;
  }

  private retireReplaced(accessToken: string): void {
    for (const [refresh, entry] of this.refreshTokens) {
      if (entry.replacedBy?.accessToken === accessToken) this.refreshTokens.delete(refresh);
    }
  }

  /** Expires every issued access token now (as an hour passing would), refresh tokens untouched. */
  expireAccessTokens(): this {
    for (const [token, issued] of this.tokens) if (issued.expiresAt !== null) this.tokens.set(token, { ...issued, expiresAt: this.now() });
    return this;
  }

  /** Revokes every issued token, as uninstalling the app does. */
  revokeAll(): this {
    for (const [token, issued] of this.tokens) if (issued.expiresAt !== null) this.tokens.delete(token);
    this.refreshTokens.clear();
    return this;
  }

  /** A new offline token: expiring (with a refresh token) or not. */
  private issue(expiring: boolean): Record<string, unknown> {
    const n = ++this.issued;
    const accessToken = `shpat_fake_${expiring ? "expiring" : "offline"}_${n}`;
    if (!expiring) {
      this.tokens.set(accessToken, { expiresAt: null, refreshToken: null });
      return { access_token: accessToken, scope: this.scope };
    }
    const refreshToken = `shprt_fake_${n}`;
    this.tokens.set(accessToken, { expiresAt: this.now() + ACCESS_TOKEN_TTL_SECONDS * 1000, refreshToken });
    this.refreshTokens.set(refreshToken, {
      expiresAt: this.now() + REFRESH_TOKEN_TTL_SECONDS * 1000,
      accessToken,
      replacedBy: null,
    });
    return {
      access_token: accessToken,
      scope: this.scope,
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
      refresh_token: refreshToken,
      refresh_token_expires_in: REFRESH_TOKEN_TTL_SECONDS,
    };
  }

  private oauthError(log: FakeRequestLog, grant: string, error: string, description: string): Response {
    log.status = 400;
    this.grants.push({ grant, status: 400 });
    return json({ error, error_description: description }, 400);
  }

  /** `POST /admin/oauth/access_token`: every grant Laurel uses, with Shopify's answers. */
  private async exchangeCode(request: Request, log: FakeRequestLog): Promise<Response> {
    const body = record(await request.json().catch(() => null)) ?? {};
    const grant = typeof body.grant_type === "string" ? body.grant_type : "authorization_code";
    if (body.client_id !== this.clientId || body.client_secret !== this.clientSecret) {
      return this.oauthError(log, grant, "invalid_client", "Client authentication failed");
    }
    const expiring = body.expiring === "1" || body.expiring === 1;
    let answer: Record<string, unknown>;
    if (grant === "authorization_code") {
      const code = typeof body.code === "string" ? body.code : "";
      if (!this.authorizationCodes.delete(code)) {
        return this.oauthError(log, grant, "invalid_request", "The authorization code was not found or was already used");
      }
      answer = this.issue(expiring);
    } else if (grant === "refresh_token") {
      const refresh = typeof body.refresh_token === "string" ? this.refreshTokens.get(body.refresh_token) : undefined;
      if (!refresh || refresh.expiresAt <= this.now()) {
        return this.oauthError(log, grant, "invalid_grant", "The refresh token is invalid, expired or revoked");
      }
      answer = this.issue(true);
      refresh.replacedBy = { accessToken: answer.access_token as string, refreshToken: answer.refresh_token as string };
    } else if (grant === "urn:ietf:params:oauth:grant-type:token-exchange") {
      if (body.requested_token_type !== "urn:shopify:params:oauth:token-type:offline-access-token") {
        return this.oauthError(log, grant, "invalid_request", "requested_token_type must be an offline access token");
      }
      const subject = typeof body.subject_token === "string" ? body.subject_token : "";
      if (body.subject_token_type === "urn:ietf:params:oauth:token-type:id_token") {
        if (!(await this.validSessionToken(subject, this.shopDomain ?? new URL(request.url).host))) {
          return this.oauthError(log, grant, "invalid_subject_token", "The session token is invalid or expired");
        }
      } else if (body.subject_token_type === "urn:shopify:params:oauth:token-type:offline-access-token") {
        const old = this.tokens.get(subject);
        if (!old || old.expiresAt !== null || subject === this.accessToken || !expiring) {
          return this.oauthError(log, grant, "invalid_subject_token", "The subject token is not a non-expiring offline token of this app");
        }
        this.tokens.delete(subject);
      } else {
        return this.oauthError(log, grant, "invalid_request", "Unsupported subject_token_type");
      }
      answer = this.issue(expiring);
    } else {
      return this.oauthError(log, grant, "unsupported_grant_type", `Unsupported grant_type ${grant}`);
    }
    this.grants.push({ grant, status: 200 });
    return json(answer);
  }

  /** A session token (App Bridge's ID token) for the store asked (`dest`), signed with the client secret. */
  private async validSessionToken(token: string, shop: string): Promise<boolean> {
    const [header, payload, signature] = token.split(".");
    if (!header || !payload || !signature) return false;
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(this.clientSecret), { name: "HMAC", hash: "SHA-256" }, false, [
      "verify",
    ]);
    const bytes = Uint8Array.from(atob(signature.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    if (!(await crypto.subtle.verify("HMAC", key, bytes, new TextEncoder().encode(`${header}.${payload}`)))) return false;
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    const now = Math.floor(this.now() / 1000);
    return (
      claims.aud === this.clientId &&
      claims.dest === `https://${shop}` &&
      typeof claims.exp === "number" &&
      claims.exp > now &&
      (typeof claims.nbf !== "number" || claims.nbf <= now)
    );
  }

  private refill(): void {
    const now = this.now();
    const restored = ((now - this.lastRefill) / 1000) * this.restoreRate;
    this.available = Math.min(this.maximumAvailable, this.available + restored);
    this.lastRefill = now;
  }

  private throttleStatus() {
    return {
      maximumAvailable: this.maximumAvailable,
      currentlyAvailable: Math.floor(this.available),
      restoreRate: this.restoreRate,
    };
  }

  private throttled(cost: number): Response {
    return json({
      errors: [
        {
          message: "Throttled",
          extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" },
        },
      ],
      extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus: this.throttleStatus() } },
    });
  }

  private withCost(body: Record<string, unknown>, cost: number): Response {
    return json({
      ...body,
      extensions: { cost: { requestedQueryCost: cost, actualQueryCost: cost, throttleStatus: this.throttleStatus() } },
    });
  }

  /** Reads `root(argument: $name)` from the query and returns that variable. */
  private argument(query: string, root: string, argument: string, variables: Record<string, unknown>): unknown {
    const match = new RegExp(`${root}\\s*\\(\\s*${argument}\\s*:\\s*\\$(\\w+)\\s*\\)`).exec(query);
    return match ? variables[match[1]!] : undefined;
  }

  private execute(root: string, query: string, variables: Record<string, unknown>): Record<string, unknown> {
    switch (root) {
      case "discountCodeBasicCreate":
        return { [root]: this.createDiscount("basic", "basicCodeDiscount", this.argument(query, root, "basicCodeDiscount", variables)) };
      case "discountCodeFreeShippingCreate":
        return {
          [root]: this.createDiscount(
            "free_shipping",
            "freeShippingCodeDiscount",
            this.argument(query, root, "freeShippingCodeDiscount", variables),
          ),
        };
      case "codeDiscountNodeByCode": {
        const code = this.argument(query, root, "code", variables);
        const found = typeof code === "string" ? this.findCode(code) : undefined;
        return { [root]: found ? { id: found.id } : null };
      }
      case "currentAppInstallation":
        return { [root]: { id: this.installationId } };
      default:
        return { metafieldsSet: this.setMetafields(this.argument(query, root, "metafields", variables)) };
    }
  }

  private findCode(code: string): FakeDiscount | undefined {
    // Shopify discount codes are case-insensitive.
    return this.discounts.get(code.toUpperCase());
  }

  private createDiscount(kind: FakeDiscount["kind"], inputName: string, raw: unknown) {
    const input = record(raw);
    if (!input) {
      return { codeDiscountNode: null, userErrors: [userError([inputName], "BLANK", "Input can't be blank")] };
    }
    const errors: UserError[] = [];
    const code = typeof input.code === "string" ? input.code.trim() : "";
    if (!code) errors.push(userError([inputName, "code"], "BLANK", "Code can't be blank"));
    else if (code.length > 255) errors.push(userError([inputName, "code"], "TOO_LONG", "Code is too long (maximum is 255 characters)"));
    else if (/[\r\n]/.test(code)) errors.push(userError([inputName, "code"], "INVALID", "Code cannot contain newline characters."));
    else if (this.findCode(code)) {
      errors.push(userError([inputName, "code"], "TAKEN", "Code must be unique. Please try a different code."));
    }
    if (typeof input.title !== "string" || !input.title.trim()) {
      errors.push(userError([inputName, "title"], "BLANK", "Title can't be blank"));
    }
    if (typeof input.startsAt !== "string" || Number.isNaN(Date.parse(input.startsAt))) {
      errors.push(userError([inputName, "startsAt"], "BLANK", "Starts at can't be blank"));
    }
    const context = record(input.context);
    const selection = record(input.customerSelection);
    if (!context && !selection) {
      errors.push(userError([inputName, "context"], "BLANK", "Context can't be blank"));
    } else if (context && selection) {
      errors.push(userError([inputName], "INVALID", "Only one of context or customerSelection can be provided."));
    }
    if (input.usageLimit !== undefined && input.usageLimit !== null) {
      if (!Number.isInteger(input.usageLimit) || (input.usageLimit as number) < 1) {
        errors.push(userError([inputName, "usageLimit"], "GREATER_THAN", "Usage limit must be greater than 0"));
      }
    }
    if (kind === "basic") errors.push(...this.validateCustomerGets(inputName, record(input.customerGets)));
    else if (!record(input.destination)) {
      errors.push(userError([inputName, "destination"], "BLANK", "Destination can't be blank"));
    }

    if (errors.length > 0) return { codeDiscountNode: null, userErrors: errors };
    const discount: FakeDiscount = { id: `gid://shopify/DiscountCodeNode/${this.nextId++}`, kind, code, input };
    this.discounts.set(code.toUpperCase(), discount);
    return { codeDiscountNode: { id: discount.id }, userErrors: [] };
  }

  private validateCustomerGets(inputName: string, gets: Record<string, unknown> | null): UserError[] {
    const field = [inputName, "customerGets"];
    if (!gets) return [userError(field, "BLANK", "Customer gets can't be blank")];
    const value = record(gets.value);
    const items = record(gets.items);
    const errors: UserError[] = [];
    if (!items) errors.push(userError([...field, "items"], "BLANK", "Items can't be blank"));
    if (!value) return [...errors, userError([...field, "value"], "BLANK", "Value can't be blank")];
    const amount = record(value.discountAmount);
    if (typeof value.percentage === "number") {
      if (value.percentage <= 0 || value.percentage > 1) {
        errors.push(userError([...field, "value", "percentage"], "VALUE_OUTSIDE_RANGE", "Value must be between 0.0 and 1.0"));
      }
    } else if (amount) {
      const text = String(amount.amount ?? "");
      if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) {
        errors.push(userError([...field, "value", "discountAmount", "amount"], "GREATER_THAN", "Value must be greater than 0"));
      }
    } else {
      errors.push(userError([...field, "value"], "INVALID", "Value must be a percentage or a discount amount"));
    }
    return errors;
  }

  private setMetafields(raw: unknown) {
    const list = Array.isArray(raw) ? raw : [];
    const errors: UserError[] = [];
    const saved: { namespace: string; key: string; type: string; value: string; ownerId: string }[] = [];
    list.forEach((entry, i) => {
      const m = record(entry);
      if (!m || m.ownerId !== this.installationId) {
        errors.push(userError(["metafields", String(i), "ownerId"], "INVALID", "Owner does not exist"));
        return;
      }
      if (typeof m.namespace !== "string" || typeof m.key !== "string" || typeof m.value !== "string" || typeof m.type !== "string") {
        errors.push(userError(["metafields", String(i)], "INVALID", "Metafield is missing namespace, key, type or value"));
        return;
      }
      saved.push({ namespace: m.namespace, key: m.key, type: m.type, value: m.value, ownerId: m.ownerId });
    });
    if (errors.length > 0) return { metafields: [], userErrors: errors };
    for (const m of saved) this.metafields.set(`${m.namespace}.${m.key}`, m);
    return { metafields: saved.map(({ namespace, key, value }) => ({ namespace, key, value })), userErrors: [] };
  }
}
