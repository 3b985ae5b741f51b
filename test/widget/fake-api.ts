/**
 * A small in-memory storefront API that follows the contract, served through a
 * fetch function, so the widget's DOM tests exercise the real client, core and components.
 */
import type { StorefrontReward, StorefrontState } from "../../worker/contract/types";

export interface Recorded {
  url: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Forced = { status: number; body?: unknown; headers?: Record<string, string> } | "offline";

export function makeProgram(overrides: Partial<StorefrontState["program"]> = {}): StorefrontState["program"] {
  return {
    shopName: "Juniper & Oak",
    currency: "EUR",
    earning: {
      pointsPerUnit: 1,
      rounding: "floor",
      includeShipping: false,
      includeTax: false,
      minOrder: "0",
      productTypeMultipliers: { Tea: 2 },
      boosts: [],
      pendingDays: 0,
    },
    waysToEarn: { signup: 50, birthday: 100, review: 25, nps: 20, social: 15, npsPeriodDays: 90, custom: {} },
    referral: { referrerPoints: 200, refereeOffer: { type: "amount_off", value: "5.00" } },
    tiers: [
      { name: "Seedling", threshold: 0, basis: "lifetime_points", multiplier: 1, perks: "Points on every order" },
      { name: "Sapling", threshold: 500, basis: "lifetime_points", multiplier: 1.25, perks: "Early access" },
      { name: "Oak", threshold: 1500, basis: "lifetime_points", multiplier: 1.5, perks: "Free shipping" },
    ],
    branding: {
      primaryColor: "#2f6d4f",
      textColor: "#ffffff",
      launcherPosition: "bottom-right",
      launcherOffset: 20,
      launcherLabel: "Rewards",
      loginUrl: "https://shop.example/login",
      signupUrl: "https://shop.example/join",
    },
    texts: {},
    ...overrides,
  };
}

export function makeReward(overrides: Partial<StorefrontReward> = {}): StorefrontReward {
  return {
    id: "rw_5off",
    name: "€5 off your order",
    type: "amount_off",
    cost: 500,
    value: "5.00",
    minOrder: null,
    affordable: true,
    ...overrides,
  };
}

export function makeMemberState(overrides: Partial<StorefrontState> = {}): StorefrontState {
  return {
    program: makeProgram(),
    customer: {
      id: "demo-ada",
      firstName: "Ada",
      balance: 1240,
      lifetimePoints: 1240,
      pendingPoints: 0,
      pendingReleases: [],
      tier: "Sapling",
      nextTier: { name: "Oak", threshold: 1500, basis: "lifetime_points" },
      progress: 0.74,
      remainingToNextTier: 260,
      referralCode: "ADA7K2QX",
      referralLink: "https://shop.example/?ref=ADA7K2QX",
      badges: [{ challengeId: "ch_tea", name: "Tea explorer", badge: "Explorer", earnedAt: "2026-11-01T10:00:00Z" }],
      npsDue: true,
      offer: null,
      holdout: false,
    },
    rewards: [
      makeReward(),
      makeReward({ id: "rw_10pc", name: "10% off", type: "percent_off", cost: 800, value: 10 }),
      makeReward({
        id: "rw_tin",
        name: "Free sample tin",
        type: "free_product",
        cost: 5000,
        value: null,
        minOrder: "30.00",
        affordable: false,
      }),
    ],
    challenges: [
      {
        id: "ch_habit",
        name: "Three's a habit",
        kind: "order_count",
        goal: 3,
        progress: 2,
        completed: false,
        badge: "Regular",
        rewardPoints: 150,
        endsAt: null,
      },
      {
        id: "ch_tea",
        name: "Tea explorer",
        kind: "product_type",
        goal: 2,
        progress: 2,
        completed: true,
        badge: "Explorer",
        rewardPoints: 100,
        endsAt: null,
      },
      {
        id: "ch_follow",
        name: "Follow us",
        kind: "social",
        goal: 1,
        progress: 0,
        completed: false,
        badge: "Friend",
        rewardPoints: 15,
        endsAt: "2026-12-31T00:00:00Z",
      },
    ],
    activity: [
      {
        id: 3,
        delta: 320,
        kind: "order",
        reference: "demo-1001",
        balanceAfter: 1240,
        createdAt: "2026-11-20T10:00:00Z",
        expiresAt: null,
      },
      {
        id: 2,
        delta: -500,
        kind: "redemption",
        reference: "rd_1",
        balanceAfter: 920,
        createdAt: "2026-11-10T10:00:00Z",
        expiresAt: null,
      },
    ],
    redemptions: [],
    ...overrides,
  };
}

export function makeGuestState(overrides: Partial<StorefrontState> = {}): StorefrontState {
  return { ...makeMemberState(), customer: null, activity: [], redemptions: [], ...overrides };
}

/** The JSON bodies the widget sends, as the fake reads them. */
interface RequestBody {
  customer?: { id: string };
  include?: string[];
  rewardId?: string;
  email?: string;
  score?: number;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

const apiError = (status: number, code: string, message = code) => json(status, { error: { code, message } });

export class FakeApi {
  state: StorefrontState;
  requests: Recorded[] = [];
  /** Responses handed out before routing, one per request, in order. */
  forced: Forced[] = [];
  /** Tokens this server still accepts. */
  tokens = new Set<string>();
  private sessions = 0;
  private redemptions = 0;
  private claimed = new Set<string>();
  private keys = new Map<string, unknown>();

  constructor(state: StorefrontState) {
    this.state = structuredClone(state);
  }

  /** Forget every token: the next authenticated call gets a 401 (an expired session). */
  expireSessions() {
    this.tokens.clear();
  }

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body: RequestBody = typeof init.body === "string" ? JSON.parse(init.body) : {};
    const method = init.method ?? "GET";
    this.requests.push({ url: url.href, method, path: url.pathname + url.search, headers, body });
    const forced = this.forced.shift();
    if (forced === "offline") throw new TypeError("Failed to fetch");
    if (forced) return json(forced.status, forced.body, forced.headers);
    // Served under any prefix (the Shopify app proxy puts the API under /apps/...).
    url.pathname = url.pathname.replace(/^.*?(?=\/v1\/)/, "");
    return this.route(method, url, headers, body);
  };

  private route(method: string, url: URL, headers: Record<string, string>, body: RequestBody): Response {
    const path = url.pathname;
    if (method === "POST" && path === "/v1/storefront/sessions") {
      const token = `tok-${++this.sessions}`;
      this.tokens.add(token);
      const customer = body.customer ? { id: body.customer.id, balance: this.state.customer?.balance ?? 0 } : null;
      const withState = body.include?.includes("state") ?? false;
      return json(200, { token, expiresAt: "2026-11-25T00:00:00Z", customer, ...(withState ? { state: this.state } : {}) });
    }
    const referral = /^\/v1\/storefront\/referrals\/([^/]+)(\/claim)?$/.exec(path);
    if (referral) {
      if (referral[1] !== "ADA7K2QX") return apiError(404, "not_found", "No such referral code.");
      if (!referral[2]) return json(200, { referral: { firstName: "Ada", offer: { type: "amount_off", value: "5.00" } } });
      if (this.claimed.has(body.email ?? "")) {
        return json(422, {
          error: { code: "referral_rejected", message: "already claimed", details: { reason: "email_already_claimed" } },
        });
      }
      if (body.email === "ada@example.com") {
        return json(422, { error: { code: "referral_rejected", message: "self", details: { reason: "self_referral" } } });
      }
      this.claimed.add(body.email ?? "");
      return json(201, {
        referral: { id: "ref_1", status: "claimed" },
        offerCode: "WELC-7H3K-Q2MX",
        offer: { type: "amount_off", value: "5.00" },
      });
    }
    const token = (headers.authorization ?? "").replace(/^Bearer /, "");
    if (!this.tokens.has(token)) return apiError(401, "unauthorized", "session expired");
    if (method === "GET" && path === "/v1/storefront/state") return json(200, this.state);
    const customer = this.state.customer;
    if (method === "POST" && path === "/v1/storefront/redemptions") {
      const key = headers["idempotency-key"];
      if (!key) return apiError(400, "invalid_request", "Idempotency-Key required");
      if (this.keys.has(key)) return json(201, this.keys.get(key));
      const reward = this.state.rewards.find((r) => r.id === body.rewardId);
      if (!reward || !customer) return apiError(404, "not_found");
      if (customer.balance < reward.cost) return apiError(422, "insufficient_points", "not enough points");
      customer.balance -= reward.cost;
      for (const r of this.state.rewards) r.affordable = customer.balance >= r.cost;
      const result = {
        redemption: { id: `rd_${++this.redemptions}`, code: `LRL-${1000 + this.redemptions}-ABCD`, rewardId: reward.id, points: reward.cost },
        balance: customer.balance,
      };
      this.keys.set(key, result);
      this.state.activity.unshift({
        id: 100 + this.redemptions,
        delta: -reward.cost,
        kind: "redemption",
        reference: result.redemption.id,
        balanceAfter: customer.balance,
        createdAt: "2026-11-24T12:00:00Z",
        expiresAt: null,
      });
      return json(201, result);
    }
    const action = /^\/v1\/storefront\/actions\/(.+)$/.exec(path);
    if (method === "POST" && action && customer) {
      const challenge = this.state.challenges.find((c) => c.id === action[1]);
      if (!challenge) return apiError(404, "not_found");
      if (!challenge.completed) {
        challenge.progress = challenge.goal;
        challenge.completed = true;
        customer.balance += challenge.rewardPoints;
        if (challenge.badge) {
          customer.badges.push({ challengeId: challenge.id, name: challenge.name, badge: challenge.badge, earnedAt: "2026-11-24T12:00:00Z" });
        }
      }
      return json(200, { challenge });
    }
    if (method === "POST" && path === "/v1/storefront/nps" && customer) {
      if (typeof body.score !== "number" || body.score < 0 || body.score > 10) return apiError(400, "invalid_request");
      customer.npsDue = false;
      return json(201, { response: { score: body.score } });
    }
    return apiError(404, "not_found");
  }

  /** The requests to a path (without the query). */
  calls(method: string, path: string): Recorded[] {
    return this.requests.filter((r) => r.method === method && new URL(r.url).pathname.endsWith(path));
  }
}
