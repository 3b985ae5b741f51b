/**
 * A local stand-in for Shopify's Admin GraphQL API (2025-10), as a fetch handler. It implements
 * the operations Laurel calls, with the request and response shapes Shopify documents:
 *
 * - `discountCodeBasicCreate(basicCodeDiscount:)` and `discountCodeFreeShippingCreate(
 *   freeShippingCodeDiscount:)` -> `{codeDiscountNode {id}, userErrors {field code message}}`
 *   (shopify.dev/docs/api/admin-graphql/2025-10/mutations/discountCodeBasicCreate and
 *   .../discountCodeFreeShippingCreate). A code already used answers the userError Shopify
 *   returns: field [input, "code"], code TAKEN, "Code must be unique. Please try a different code.".
 * - `codeDiscountNodeByCode(code:)`, `currentAppInstallation {id}` and `metafieldsSet(metafields:)`.
 * - Authentication: a missing or wrong `X-Shopify-Access-Token` is HTTP 401 with
 *   `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`.
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
}

export interface ShopifyAdminFakeOptions {
  accessToken?: string;
  /** Bucket size in points (Shopify's standard plan restores 100 points a second). */
  maximumAvailable?: number;
  restoreRate?: number;
  /** Requested cost of a mutation (Shopify's default for mutations is 10). */
  mutationCost?: number;
  now?: () => number;
  /** The app's client credentials, for the OAuth code exchange. */
  clientId?: string;
  clientSecret?: string;
}

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
    const url = new URL(request.url);
    const token = request.headers.get("X-Shopify-Access-Token");
    const log: FakeRequestLog = { url: request.url, token, root: null, variables: {}, status: 200, throttled: false };
    this.requests.push(log);

    if (request.method === "POST" && url.pathname === "/admin/oauth/access_token") {
      log.root = "oauth/access_token";
      return this.exchangeCode(request, log);
    }
    if (request.method !== "POST" || !API_PATH.test(url.pathname)) {
      log.status = 404;
      return json({ errors: "Not Found" }, 404);
    }
    const fault = this.faults.shift();
    if (fault?.kind === "network") throw new TypeError("fetch failed: connection reset (fake)");
    if (fault?.kind === "http401" || token !== this.accessToken) {
      log.status = 401;
      return json({ errors: INVALID_TOKEN }, 401);
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
  };

  /**
   * `POST /admin/oauth/access_token` {client_id, client_secret, code} -> {access_token, scope}
   * (shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant).
   */
  private async exchangeCode(request: Request, log: FakeRequestLog): Promise<Response> {
    const body = record(await request.json().catch(() => null)) ?? {};
    if (body.client_id !== this.clientId || body.client_secret !== this.clientSecret) {
      log.status = 400;
      return json({ error: "invalid_client", error_description: "Client authentication failed" }, 400);
    }
    const code = typeof body.code === "string" ? body.code : "";
    if (!this.authorizationCodes.delete(code)) {
      log.status = 400;
      return json({ error: "invalid_request", error_description: "The authorization code was not found or was already used" }, 400);
    }
    return json({ access_token: this.accessToken, scope: this.scope });
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
