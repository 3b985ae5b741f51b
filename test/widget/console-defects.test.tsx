/**
 * What a merchant met in the console's first hour, each pinned by a test that would have caught
 * it: a money field that let nothing be typed, number fields that sent a value other than the one
 * shown, a success message left beside a refusal, "1 actions", raw ids in the ledger, an NPS axis
 * from 0 to 200, a retention formula over zero, empty period inputs, a preview showing what the
 * guest panel does not, and tables too wide for a phone.
 */
import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Analytics } from "../../worker/contract/analytics";
import { defaultProgram } from "../../worker/contract/program";
import { type Answer, button, type Call, choose, described, fakeFetch, labelled, root, settle, text, typeInto, until } from "./console-kit";

const plots: { opts: { scales?: { y?: { range?: unknown } } }; data: unknown[][] }[] = [];
vi.mock("uplot", () => {
  class FakeUPlot {
    static paths = { bars: () => () => null };
    constructor(opts: { scales?: { y?: { range?: unknown } } }, data: unknown[][]) {
      plots.push({ opts, data });
    }
    setSize() {}
    destroy() {}
  }
  return { default: FakeUPlot };
});

const { ChallengesPage } = await import("../../widget/console/ChallengesPage");
const { RewardsPage } = await import("../../widget/console/RewardsPage");
const { CustomersPage } = await import("../../widget/console/CustomersPage");
const { Overview } = await import("../../widget/console/Overview");
const { Preview } = await import("../../widget/console/Preview");
const state = await import("../../widget/console/state");
const consoleApi = await import("../../widget/console/api");

const shopView = {
  id: "shop_1",
  name: "Juniper & Oak",
  currency: "EUR",
  publicKey: "pk_demo",
  origins: [],
  platform: "custom" as const,
  shopifyDomain: null,
  createdAt: "2026-01-01T00:00:00.000Z",
};

const session = () => ({ status: 200, body: { token: "t", expiresAt: "2099-01-01T00:00:00.000Z", shop: shopView } });

async function signedIn(routes: Record<string, (call: Call) => Answer | Promise<Answer>>) {
  const calls = fakeFetch({ "POST /v1/console/sessions": session, ...routes });
  state.signIn(await consoleApi.startSession("sk_test"));
  return calls;
}

const posts = (calls: Call[], path: string) => calls.filter((c) => c.method === "POST" && c.path === path);

/** The form holding the button `name`, submitted as pressing it would. */
function submitForm(name: string) {
  button(name).closest("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
  return settle();
}

beforeEach(() => {
  document.body.innerHTML = '<div id="root"></div>';
  location.hash = "";
  plots.length = 0;
});

afterEach(() => {
  render(null, root());
  state.signOut();
  vi.unstubAllGlobals();
});

describe("challenges", () => {
  it("takes a spend goal as an amount that can be typed, sends it in minor units, and never sends one it cannot read", async () => {
    const calls = await signedIn({
      "GET /v1/challenges": () => ({ status: 200, body: { challenges: [] } }),
      "POST /v1/challenges": (call) => ({ status: 201, body: { challenge: { id: "chl_1", ...(call.body as object) } } }),
    });
    render(<ChallengesPage />, root());
    await until(() => text().includes("No challenges yet."), "the list");
    await typeInto(labelled("Challenge name"), "Big spender");
    await choose(labelled<HTMLSelectElement>("Kind"), "spend");
    const amount = labelled("Amount to spend (EUR)");
    // maxlength="0" would let nothing be typed.
    expect(amount.getAttribute("maxlength")).toBeNull();
    expect(amount.value).toBe("100.00");

    await typeInto(amount, "abc");
    expect(described(amount)).toContain("Enter an amount in EUR");
    await submitForm("Create challenge");
    expect(posts(calls, "/v1/challenges")).toHaveLength(0);
    expect(document.activeElement).toBe(amount);

    await typeInto(amount, "250.50");
    await submitForm("Create challenge");
    await until(() => posts(calls, "/v1/challenges").length === 1, "the creation");
    expect(posts(calls, "/v1/challenges")[0]!.body).toMatchObject({ name: "Big spender", kind: "spend", goal: 25050 });
  });

  it("counts goals and rewards in the singular when there is one", async () => {
    const challenge = (id: string, kind: string, goal: number, rewardPoints: number, completions: number) => ({
      id,
      name: id,
      kind,
      goal,
      rewardPoints,
      completions,
      badge: null,
      productType: null,
      periodDays: null,
      startsAt: null,
      endsAt: null,
      active: true,
    });
    await signedIn({
      "GET /v1/challenges": () => ({
        status: 200,
        body: { challenges: [challenge("Follow", "social", 1, 1, 1), challenge("Voice", "nps", 1, 0, 2), challenge("Loyal", "order_count", 3, 150, 0)] },
      }),
    });
    render(<ChallengesPage />, root());
    await until(() => text().includes("Loyal"), "the list");
    const row = (name: string) => Array.from(root().querySelectorAll("tr")).find((r) => r.querySelector("th")?.textContent === name)!.textContent;
    expect(row("Follow")).toContain("1 action");
    expect(row("Follow")).not.toContain("1 actions");
    expect(row("Follow")).toContain("1 point");
    expect(row("Follow")).toContain("1 member");
    expect(row("Voice")).toContain("1 answer");
    expect(row("Voice")).not.toContain("1 answers");
    expect(row("Loyal")).toContain("3 orders");
    expect(row("Loyal")).toContain("150 points");
  });
});

describe("rewards", () => {
  it("does not create a reward while the cost shown is not a cost it can take, then sends exactly the one shown", async () => {
    const calls = await signedIn({
      "GET /v1/rewards": () => ({ status: 200, body: { rewards: [] } }),
      "POST /v1/rewards": (call) => ({ status: 201, body: { reward: { id: "rw_1", ...(call.body as object) } } }),
    });
    render(<RewardsPage />, root());
    await until(() => text().includes("No rewards yet"), "the list");
    await typeInto(labelled("Reward name"), "Tote bag");
    const cost = labelled("Cost in points");
    for (const shown of ["0", "", "12.5"]) {
      await typeInto(cost, shown);
      expect(described(cost)).toMatch(/Enter a (whole number|value)/);
      await submitForm("Create reward");
    }
    expect(posts(calls, "/v1/rewards")).toHaveLength(0);

    await typeInto(cost, "250");
    expect(cost.getAttribute("aria-invalid")).toBeNull();
    await submitForm("Create reward");
    await until(() => posts(calls, "/v1/rewards").length === 1, "the creation");
    expect(posts(calls, "/v1/rewards")[0]!.body).toMatchObject({ name: "Tote bag", cost: 250 });
  });
});

describe("a member's profile", () => {
  const customer = {
    id: "ada",
    email: "ada@example.com",
    firstName: "Ada",
    birthday: null,
    balance: 100,
    lifetimePoints: 400,
    pendingPoints: 0,
    tier: null,
    referralCode: "ABCD2345",
    orderCount: 1,
    totalSpent: "10.00",
    lastOrderAt: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    redactedAt: null,
  };
  const entry = (id: string, kind: string, delta: number, reference: string | null) => ({
    id,
    kind,
    delta,
    reference,
    balanceAfter: 100,
    createdAt: "2026-11-02T10:00:00.000Z",
    expiresAt: null,
    shortfall: 0,
    note: null,
  });
  const routes = (adjustment: () => Answer) => ({
    "GET /v1/customers/ada": () => ({ status: 200, body: { customer } }),
    "GET /v1/customers/ada/ledger": () => ({
      status: 200,
      body: {
        entries: [
          entry("l3", "redemption", -300, "rdm_1"),
          entry("l2", "challenge", 150, "chl_qnf6abc"),
          entry("l1", "order", 250, "1001"),
        ],
        nextCursor: null,
      },
    }),
    "GET /v1/customers/ada/redemptions": () => ({
      status: 200,
      body: {
        redemptions: [
          {
            id: "rdm_1",
            code: "LAUREL-7QX2",
            rewardId: "rw_1",
            rewardName: "€5 off your order",
            customerId: "ada",
            points: 300,
            status: "used",
            type: "amount_off",
            value: "5.00",
            minOrder: null,
            createdAt: "2026-11-02T10:00:00.000Z",
            expiresAt: null,
            usedAt: "2026-11-03T10:00:00.000Z",
            orderId: "1002",
            voidedAt: null,
            voidReason: null,
          },
        ],
      },
    }),
    "GET /v1/challenges": () => ({ status: 200, body: { challenges: [{ id: "chl_qnf6abc", name: "Three's a habit" }] } }),
    "GET /v1/console/customers/ada/engagement": () => ({ status: 200, body: { badges: [], referralsMade: [], referredBy: null } }),
    "POST /v1/customers/ada/adjustments": adjustment,
  });

  it("names the challenge, reward and code in the ledger, and lists the codes with their use", async () => {
    await signedIn(routes(() => ({ status: 201, body: { balance: 1 } })));
    render(<CustomersPage customerId="ada" />, root());
    await until(() => text().includes("Challenge “Three's a habit”"), "the ledger's names");
    expect(text()).not.toContain("chl_qnf6abc");
    expect(text()).not.toContain("rdm_1");
    expect(text()).toContain("€5 off your order · code LAUREL-7QX2");
    expect(text()).toContain("Order 1001");
    const codes = root().querySelector('[data-testid="member-redemptions"]')!.textContent;
    expect(codes).toContain("LAUREL-7QX2");
    expect(codes).toContain("Used on order 1002");
  });

  it("takes the success message away when the next adjustment is refused", async () => {
    let refuse = false;
    await signedIn(
      routes(() =>
        refuse
          ? { status: 422, body: { error: { code: "insufficient_points", message: "The balance of 125 points cannot cover removing 900." } } }
          : { status: 201, body: { balance: 125 } },
      ),
    );
    render(<CustomersPage customerId="ada" />, root());
    await until(() => text().includes("Ada (ada)"), "the profile");
    await typeInto(labelled("Points"), "25");
    await typeInto(root().querySelector("textarea")!, "Late parcel");
    await submitForm("Apply adjustment");
    await until(() => text().includes("Adjustment applied"), "the success");

    refuse = true;
    await typeInto(labelled("Points"), "-900");
    await typeInto(root().querySelector("textarea")!, "Correction");
    await submitForm("Apply adjustment");
    await until(() => text().includes("cannot cover"), "the refusal");
    expect(text()).not.toContain("Adjustment applied");
  });
});

function analytics(overrides: Partial<Analytics> = {}): Analytics {
  return {
    period: { from: "2026-11-05", to: "2026-12-04", start: "2026-11-05T00:00:00.000Z", end: "2026-12-05T00:00:00.000Z" },
    currency: "EUR",
    members: 3,
    newMembers: 3,
    activeMembers: 3,
    pointsIssued: 700,
    pointsRedeemed: 0,
    pointsExpired: 0,
    pointsClawedBack: 0,
    liability: "7.00",
    liabilityPoints: 700,
    pendingLiability: "0.00",
    pendingPoints: 0,
    pointValue: "0.01",
    redemptionRate: 0,
    repeatPurchaseRate: 0.5,
    retentionRate: null,
    retention: { start: 0, end: 3, new: 3 },
    averageLifetimeValue: "42.10",
    nps: -20,
    npsResponses: { responses: 1, promoters: 0, passives: 0, detractors: 1 },
    npsTrend: [
      { month: "2026-11", score: -100, responses: 1 },
      { month: "2026-12", score: null, responses: 0 },
    ],
    referralConversion: null,
    referrals: { claims: 1, completed: 0, rejected: 0, reversed: 0 },
    challengeCompletion: null,
    challenges: { participants: 1, completed: 0 },
    atRisk: [],
    atRiskCount: 0,
    series: { bucket: "day", points: [{ bucket: "2026-11-05", pointsIssued: 700, pointsRedeemed: 0, newMembers: 3, orders: 3, revenue: "70.00" }] },
    ...overrides,
  } as Analytics;
}

describe("the overview", () => {
  it("draws NPS on its own scale, says plainly that there is no retention yet, and shows the period in its inputs", async () => {
    await signedIn({ "GET /v1/analytics": () => ({ status: 200, body: analytics() }) });
    render(<Overview />, root());
    await until(() => plots.length === 4, "the four charts");
    const nps = plots.find((p) => p.data.length === 2 && (p.data[1] as (number | null)[]).includes(-100))!;
    expect(nps.opts.scales?.y?.range).toEqual([-100, 100]);
    for (const other of plots.filter((p) => p !== nps)) expect(other.opts.scales?.y?.range).toBeUndefined();

    const retention = Array.from(root().querySelectorAll(".figure")).find((f) => f.querySelector("dt")?.textContent === "Retention rate")!;
    expect(retention.textContent).not.toMatch(/\/ 0|E − N|\(E/);
    expect(retention.textContent).toContain("No member ordered in the period before");
    expect(text()).toContain("1 answer");
    expect(text()).not.toContain("1 answers");

    expect(labelled("From").value).toBe("2026-11-05");
    expect(labelled("To").value).toBe("2026-12-04");
  });

  it("labels every cell with its column, so a phone can stack a table's rows", async () => {
    const atRisk = [
      { customerId: "ben", email: null, firstName: "Ben", orders: 3, lastOrderAt: "2026-09-01T00:00:00.000Z", cadenceDays: 10, daysSinceLastOrder: 60, overdueDays: 45 },
    ];
    await signedIn({ "GET /v1/analytics": () => ({ status: 200, body: analytics({ atRisk, atRiskCount: 1 }) }) });
    render(<Overview />, root());
    await until(() => text().includes("Ben (ben)"), "the members at risk");
    const cells = Array.from(root().querySelectorAll("table.data tbody tr")[0]!.children);
    expect(cells.map((cell) => cell.getAttribute("data-label"))).toEqual([
      "Member",
      "Orders",
      "Usual gap (days)",
      "Since last order (days)",
      "Overdue by (days)",
    ]);
  });
});

describe("the preview", () => {
  it("shows a guest what the guest panel shows, and not tiers, referral or expiry", async () => {
    const program = defaultProgram();
    program.tiers = [{ name: "Golden Oak", basis: "lifetime_points", threshold: 1500, multiplier: 1.5, perks: "Free shipping" }] as typeof program.tiers;
    program.expiry = { ...program.expiry, days: 365 };
    program.referral = { referrerPoints: 200, refereeOffer: { type: "amount_off", value: "5.00" } };
    render(<Preview program={program} shopName="Juniper & Oak" currency="EUR" />, root());
    await until(() => root().querySelector('[data-testid="widget-preview"]')?.hasAttribute("hidden") === false, "the preview");
    const shown = root().querySelector('[data-testid="widget-preview"]')!.textContent ?? "";
    expect(shown).not.toContain("Golden Oak");
    expect(shown).not.toMatch(/expire/i);
    expect(shown).toContain("Juniper & Oak");
  });
});
