/**
 * The merchant console in the DOM (happy-dom) over a fake API: the session held in memory only,
 * a session that ends, the preview drawn by the real earning rules and translator, merchant text as
 * text, charts fed from the analytics, idempotent adjustments, the program editor's rows, the
 * simulator's comparison, challenges and rewards edited in place, and the install page's digest code
 * computing digests the API accepts.
 */
import { createHmac } from "node:crypto";
import { execFileSync } from "node:child_process";
import { Liquid } from "liquidjs";
import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Analytics, Simulation } from "../../worker/contract/analytics";
import { defaultProgram, type Program, refereeOfferIssues } from "../../worker/contract/program";
import { verifyCustomerDigest } from "../../worker/auth/digest";
import { loopAnalyticsFixture } from "./loop-fixtures";

/** uPlot, recorded: what each chart was asked to draw. */
const plots: { opts: { series: { label?: string }[] }; data: unknown[][] }[] = [];
vi.mock("uplot", () => {
  class FakeUPlot {
    static paths = { bars: () => () => null };
    constructor(opts: { series: { label?: string }[] }, data: unknown[][]) {
      plots.push({ opts, data });
    }
    setSize() {}
    destroy() {}
  }
  return { default: FakeUPlot };
});

const { App } = await import("../../widget/console/App");
const { Preview } = await import("../../widget/console/Preview");
const { Simulator } = await import("../../widget/console/Simulator");
const { CustomersPage } = await import("../../widget/console/CustomersPage");
const { snippets } = await import("../../widget/console/snippets");
const state = await import("../../widget/console/state");
const consoleApi = await import("../../widget/console/api");

const SECRET = "sk_the_real_secret_key_0123456789";
const TOKEN = "console.jwt.token";
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

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));
async function settle() {
  for (let i = 0; i < 8; i++) await tick();
}

/** Polls until `ready()` holds (a module loaded on demand, say), or fails after two seconds. */
async function until(ready: () => boolean, what: string) {
  const deadline = Date.now() + 2000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(10);
  }
}

/** The preview shows once the widget's words for its language have loaded. */
const previewReady = () =>
  until(() => container().querySelector('[data-testid="widget-preview"]')?.hasAttribute("hidden") === false, "the preview");

function analyticsFixture(): Analytics {
  return {
    period: { from: "2026-11-01", to: "2026-11-03", start: "2026-11-01T00:00:00.000Z", end: "2026-11-04T00:00:00.000Z" },
    currency: "EUR",
    members: 12,
    newMembers: 3,
    activeMembers: 5,
    pointsIssued: 1200,
    pointsRedeemed: 300,
    pointsExpired: 0,
    pointsClawedBack: 10,
    liability: "9.00",
    liabilityPoints: 900,
    pendingLiability: "0.00",
    pendingPoints: 0,
    pointValue: "0.01",
    redemptionRate: 0.25,
    repeatPurchaseRate: 0.5,
    retentionRate: 0.75,
    retention: { start: 4, end: 5, new: 2 },
    averageLifetimeValue: "42.10",
    nps: 30,
    npsResponses: { responses: 10, promoters: 5, passives: 3, detractors: 2 },
    npsTrend: [
      { month: "2026-10", score: null, responses: 0 },
      { month: "2026-11", score: 30, responses: 10 },
    ],
    referralConversion: 0.5,
    referrals: { claims: 4, completed: 2, rejected: 0, reversed: 0 },
    challengeCompletion: null,
    challenges: { participants: 0, completed: 0 },
    atRisk: [
      {
        customerId: "<b>ada</b>",
        email: null,
        firstName: null,
        orders: 3,
        lastOrderAt: "2026-09-01T00:00:00.000Z",
        cadenceDays: 10,
        daysSinceLastOrder: 60,
        overdueDays: 50,
      },
    ],
    atRiskCount: 1,
    series: {
      bucket: "day",
      points: [
        { bucket: "2026-11-01", pointsIssued: 500, pointsRedeemed: 0, newMembers: 1, orders: 2, revenue: "50.00" },
        { bucket: "2026-11-02", pointsIssued: 0, pointsRedeemed: 300, newMembers: 0, orders: 0, revenue: "0.00" },
        { bucket: "2026-11-03", pointsIssued: 700, pointsRedeemed: 0, newMembers: 2, orders: 3, revenue: "70.00" },
      ],
    },
    ...loopAnalyticsFixture(),
  };
}

interface Call {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that answers from `routes` ("METHOD /path" -> status and body) and records each call. */
function fakeFetch(routes: Record<string, (call: Call) => { status: number; body: unknown } | Promise<never>>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (input: string, init: RequestInit = {}) => {
    const url = new URL(input, "https://laurel.test");
    const call: Call = {
      method: init.method ?? "GET",
      path: url.pathname + url.search,
      headers: Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>)),
      body: init.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(call);
    const route = routes[`${call.method} ${url.pathname}`];
    if (!route) return new Response(JSON.stringify({ error: { code: "not_found", message: "no route" } }), { status: 404 });
    const answer = await route(call);
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "content-type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetch);
  return calls;
}

const container = () => document.getElementById("root")!;
const text = () => container().textContent ?? "";

/** Types into a field and lets Preact re-render, as the time between a keystroke and a click does. */
async function typeInto(input: HTMLInputElement | HTMLTextAreaElement, value: string) {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  await settle();
}

function labelled(label: string): HTMLInputElement {
  const labels = Array.from(container().querySelectorAll("label")).filter((l) => l.textContent === label);
  if (labels.length !== 1) throw new Error(`${labels.length} labels "${label}"`);
  return document.getElementById(labels[0]!.htmlFor) as HTMLInputElement;
}

function button(name: string): HTMLButtonElement {
  const found = Array.from(container().querySelectorAll("button")).find((b) => b.textContent?.trim() === name);
  if (!found) throw new Error(`no button "${name}"`);
  return found;
}

beforeEach(() => {
  document.body.innerHTML = '<div id="root"></div>';
  localStorage.clear();
  sessionStorage.clear();
  location.hash = "";
  plots.length = 0;
});

afterEach(() => {
  const root = document.getElementById("root");
  if (root) render(null, root);
  state.signOut();
  vi.unstubAllGlobals();
});

describe("signing in", () => {
  it("refuses a wrong key, then keeps only a token in memory and sends it instead of the key", async () => {
    const calls = fakeFetch({
      "POST /v1/console/sessions": (call) =>
        (call.body as { secretKey: string }).secretKey === SECRET
          ? { status: 200, body: { token: TOKEN, expiresAt: "2026-11-24T15:00:00.000Z", shop: shopView } }
          : { status: 401, body: { error: { code: "unauthorized", message: "That secret key does not belong to any shop." } } },
      "GET /v1/analytics": () => ({ status: 200, body: analyticsFixture() }),
    });
    render(<App />, container());
    await settle();

    await typeInto(labelled("Secret key"), "sk_wrong");
    container().querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    expect(container().querySelector('[role="alert"]')?.textContent).toContain("does not belong to any shop");
    expect(labelled("Secret key").value).toBe("");
    expect(consoleApi.signedIn()).toBe(false);

    await typeInto(labelled("Secret key"), SECRET);
    container().querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await until(() => container().querySelector(".figure") !== null, "the overview's figures");
    expect(container().querySelector("h1")?.textContent).toBe("Overview");
    expect(text()).toContain("Juniper & Oak");

    // The analytics call carries the token, not the key; nothing of either is stored.
    const analytics = calls.find((c) => c.path.startsWith("/v1/analytics"))!;
    expect(analytics.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(calls.filter((c) => JSON.stringify(c).includes(SECRET)).map((c) => c.path)).toEqual(["/v1/console/sessions"]);
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(document.cookie).toBe("");
    expect(document.body.innerHTML).not.toContain(SECRET);
  });

  it("returns to sign-in with a notice when the session ends", async () => {
    let analyticsStatus = 200;
    fakeFetch({
      "POST /v1/console/sessions": () => ({ status: 200, body: { token: TOKEN, expiresAt: "2026-11-24T15:00:00.000Z", shop: shopView } }),
      "GET /v1/analytics": () =>
        analyticsStatus === 200
          ? { status: 200, body: analyticsFixture() }
          : { status: 401, body: { error: { code: "unauthorized", message: "expired" } } },
    });
    state.signIn(await consoleApi.startSession(SECRET));
    analyticsStatus = 401;
    render(<App />, container());
    await until(() => text().includes("Your session has ended"), "the sign-in page again");
    expect(container().querySelector("h1")?.textContent).toBe("Laurel console");
    expect(text()).toContain("Your session has ended");
    expect(consoleApi.signedIn()).toBe(false);
  });
});

describe("the overview", () => {
  it("shows every figure, feeds the charts from the series, and lists members at risk as text", async () => {
    fakeFetch({
      "POST /v1/console/sessions": () => ({ status: 200, body: { token: TOKEN, expiresAt: "2026-11-24T15:00:00.000Z", shop: shopView } }),
      "GET /v1/analytics": () => ({ status: 200, body: analyticsFixture() }),
    });
    state.signIn(await consoleApi.startSession(SECRET));
    render(<App />, container());
    await until(() => plots.length === 4, "four charts");
    const figures = Object.fromEntries(
      Array.from(container().querySelectorAll(".figure")).map((f) => [f.querySelector("dt")!.textContent, f.querySelector(".value")!.textContent]),
    );
    expect(figures).toMatchObject({ Members: "12", "Points issued": "1,200", "Retention rate": "75%", NPS: "30", "Members at risk": "1" });
    expect(figures.Liability).toMatch(/9\.00/);
    expect(figures["Challenge completion"]).toBe("–");

    expect(plots.map((p) => p.opts.series.slice(1).map((s) => s.label))).toEqual([
      ["Issued", "Redeemed"],
      ["New members", "Orders"],
      ["Revenue"],
      ["NPS"],
    ]);
    const [points, , revenue, nps] = plots;
    expect(points!.data).toEqual([
      [Date.UTC(2026, 10, 1) / 1000, Date.UTC(2026, 10, 2) / 1000, Date.UTC(2026, 10, 3) / 1000],
      [500, 0, 700],
      [0, 300, 0],
    ]);
    expect(revenue!.data[1]).toEqual([50, 0, 70]);
    expect(nps!.data[1]).toEqual([null, 30]);
    // Each chart has a data table too.
    expect(container().querySelectorAll(".chart table").length).toBe(4);
    // A hostile customer id is shown as text, never as markup.
    expect(container().querySelector(".data b")).toBeNull();
    expect(text()).toContain("<b>ada</b>");
  });
});

describe("the preview", () => {
  const program = (): Program => ({
    ...defaultProgram(),
    waysToEarn: { ...defaultProgram().waysToEarn, signup: 50 },
  });

  it("draws the nudge with the server's earning rules and follows the draft", async () => {
    const draft = program();
    render(<Preview program={draft} shopName="Juniper & Oak" currency="EUR" />, container());
    await previewReady();
    const nudge = () => container().querySelector('[data-testid="preview-nudge"]')!.textContent;
    // €49.99 at 1 point per euro, rounded down.
    expect(nudge()).toBe("Earn 49 points");
    expect(container().querySelector('[data-testid="preview-rate"]')!.textContent).toBe("1 point for every €1 spent");

    const doubled = structuredClone(draft);
    doubled.earning.pointsPerUnit = 2;
    render(<Preview program={doubled} shopName="Juniper & Oak" currency="EUR" />, container());
    expect(nudge()).toBe("Earn 99 points");

    const product = structuredClone(doubled);
    product.earning.rounding = "ceil";
    render(<Preview program={product} shopName="Juniper & Oak" currency="EUR" />, container());
    expect(nudge()).toBe("Earn 100 points");
  });

  it("sets the merchant's texts and branding as text, with the theme's colours", async () => {
    const draft = program();
    draft.texts = { en: { guestTitle: '<img src=x onerror="alert(1)"> {shop}', launcher: "x" } };
    draft.branding.launcherLabel = "<script>alert(1)</script>";
    draft.branding.primaryColor = "#ffff00";
    render(<Preview program={draft} shopName="Juniper & Oak" currency="EUR" />, container());
    await previewReady();
    expect(container().querySelector("img, script")).toBeNull();
    expect(container().querySelector(".preview-panel h3")!.textContent).toBe('<img src=x onerror="alert(1)"> Juniper & Oak');
    expect(container().querySelector('[data-testid="preview-launcher"]')!.textContent).toBe("<script>alert(1)</script>");
    const style = container().querySelector<HTMLElement>('[data-testid="widget-preview"]')!.getAttribute("style") ?? "";
    // Yellow takes dark text for contrast, as the widget's theme does.
    expect(style).toMatch(/--laurel-primary:\s*#ffff00/);
    expect(style).toMatch(/--laurel-on-primary:\s*#111111/);
  });
});

describe("adjustments", () => {
  it("sends one Idempotency-Key per adjustment, the same one when retrying after a network failure", async () => {
    let offline = true;
    const calls = fakeFetch({
      "POST /v1/console/sessions": () => ({ status: 200, body: { token: TOKEN, expiresAt: "2026-11-24T15:00:00.000Z", shop: shopView } }),
      "GET /v1/customers/ada": () => ({
        status: 200,
        body: {
          customer: {
            id: "ada",
            email: "ada@example.com",
            firstName: "Ada",
            birthday: null,
            balance: 100,
            lifetimePoints: 100,
            tier: null,
            referralCode: "ABCD2345",
            orderCount: 1,
            totalSpent: "10.00",
            lastOrderAt: null,
            createdAt: "2026-01-01T00:00:00.000Z",
            redactedAt: null,
          },
        },
      }),
      "GET /v1/customers/ada/ledger": () => ({ status: 200, body: { entries: [], nextCursor: null } }),
      "GET /v1/console/customers/ada/engagement": () => ({ status: 200, body: { badges: [], referralsMade: [], referredBy: null } }),
      "POST /v1/customers/ada/adjustments": () => {
        if (offline) return Promise.reject(new TypeError("Failed to fetch"));
        return { status: 201, body: { entry: {}, balance: 125 } };
      },
    });
    state.signIn(await consoleApi.startSession(SECRET));
    render(<CustomersPage customerId="ada" />, container());
    await until(() => text().includes("Ada (ada)"), "the profile");

    // No reason: refused before any request.
    await typeInto(labelled("Points"), "25");
    button("Apply adjustment").click();
    await settle();
    expect(container().querySelector('[role="alert"]')?.textContent).toContain("Give a reason");
    expect(calls.filter((c) => c.method === "POST" && c.path.includes("adjustments"))).toHaveLength(0);

    await typeInto(container().querySelector("textarea")!, "Parcel arrived late");
    button("Apply adjustment").click();
    await settle();
    expect(container().querySelector('[role="alert"]')?.textContent).toContain("network is unavailable");
    offline = false;
    button("Apply adjustment").click();
    await until(() => text().includes("The balance is now 125 points"), "the adjustment");

    await typeInto(labelled("Points"), "-5");
    await typeInto(container().querySelector("textarea")!, "Correction");
    button("Apply adjustment").click();
    await until(() => calls.filter((c) => c.method === "POST" && c.path.includes("adjustments")).length === 3, "the third adjustment");

    const posts = calls.filter((c) => c.method === "POST" && c.path.includes("adjustments"));
    expect(posts.map((p) => p.body)).toEqual([
      { points: 25, note: "Parcel arrived late" },
      { points: 25, note: "Parcel arrived late" },
      { points: -5, note: "Correction" },
    ]);
    const keys = posts.map((p) => p.headers["idempotency-key"]);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });
});

describe("the program editor", () => {
  /** PUT /v1/program as the API answers it: the referee offer checked in the shop's currency. */
  function programApi(stored: Program) {
    return fakeFetch({
      "POST /v1/console/sessions": () => ({ status: 200, body: { token: TOKEN, expiresAt: "2026-11-24T15:00:00.000Z", shop: shopView } }),
      "GET /v1/program": () => ({ status: 200, body: { program: stored } }),
      "PUT /v1/program": (call) => {
        const { program } = call.body as { program: Program };
        const issues = refereeOfferIssues(program.referral.refereeOffer, shopView.currency);
        if (issues.length === 0) return { status: 200, body: { program } };
        const details = issues.map((i) => ({ path: `program.referral.refereeOffer.${i.path}`, message: i.message }));
        return { status: 400, body: { error: { code: "invalid_request", message: "The referral offer is not valid; see details.", details } } };
      },
    });
  }
  const submit = () => container().querySelector("form.settings")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
  const fieldError = (input: HTMLInputElement) =>
    (input.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .filter((id) => id.endsWith("-error"))
      .map((id) => document.getElementById(id)?.textContent)
      .join("");

  it("shows the API's 400 details on the referral offer's field, and saves once it is a real offer", async () => {
    // A program saved before offers were checked: 0.00 off.
    const stored = defaultProgram();
    stored.referral.refereeOffer = { type: "amount_off", value: "0" };
    const calls = programApi(stored);
    state.signIn(await consoleApi.startSession(SECRET));
    const { ProgramPage } = await import("../../widget/console/ProgramPage");
    render(<ProgramPage />, container());
    await until(() => container().querySelector("form.settings") !== null, "the program form");

    await typeInto(labelled("Amount off"), "0.00");
    submit();
    await until(() => container().querySelector('[role="alert"]') !== null, "the refusal");
    const amount = labelled("Amount off");
    expect(amount.getAttribute("aria-invalid")).toBe("true");
    expect(fieldError(amount)).toContain("positive amount in EUR");
    expect(container().querySelector('[role="alert"]')!.textContent).toContain("program.referral.refereeOffer.value");

    // The percent field shows the API's refusal too (the field itself only knows "at least 1").
    const offerType = labelled("The friend's offer") as unknown as HTMLSelectElement;
    offerType.value = "percent_off";
    offerType.dispatchEvent(new Event("change", { bubbles: true }));
    await settle();
    await typeInto(labelled("Percent off"), "150");
    submit();
    await until(() => fieldError(labelled("Percent off")).includes("whole percent, 1-100"), "the percent field's error");
    expect(labelled("Percent off").getAttribute("aria-invalid")).toBe("true");

    await typeInto(labelled("Percent off"), "15");
    submit();
    await until(() => text().includes("Saved."), "the save");
    expect(container().querySelector('[role="alert"]')).toBeNull();
    expect(labelled("Percent off").getAttribute("aria-invalid")).toBeNull();
    const puts = calls.filter((c) => c.method === "PUT");
    expect((puts.at(-1)!.body as { program: Program }).program.referral.refereeOffer).toEqual({ type: "percent_off", value: 15 });
  });
});

describe("the program editor's rows", () => {
  it("adds, renames and removes multipliers, custom events and tiers, and saves what the rows say", async () => {
    const calls = fakeFetch({
      "POST /v1/console/sessions": () => ({ status: 200, body: { token: TOKEN, expiresAt: "2026-11-24T15:00:00.000Z", shop: shopView } }),
      "GET /v1/program": () => ({ status: 200, body: { program: defaultProgram() } }),
      "PUT /v1/program": (call) => ({ status: 200, body: call.body }),
    });
    state.signIn(await consoleApi.startSession(SECRET));
    const { ProgramPage } = await import("../../widget/console/ProgramPage");
    render(<ProgramPage />, container());
    await until(() => container().querySelector("form.settings") !== null, "the program form");
    const fieldset = (legend: string) =>
      Array.from(container().querySelectorAll("fieldset.rows")).find((f) => f.querySelector("legend")?.textContent === legend)!;
    const inRows = (legend: string, label: string) =>
      Array.from(fieldset(legend).querySelectorAll("label"))
        .filter((l) => l.textContent === label)
        .map((l) => document.getElementById(l.htmlFor) as HTMLInputElement);

    expect(fieldset("Product-type multipliers").textContent).toContain("None: every product earns at the base rate.");
    button("Add a multiplier").click();
    await settle();
    button("Add a multiplier").click();
    await settle();
    expect(inRows("Product-type multipliers", "Product type").map((i) => i.value)).toEqual(["type", "type-2"]);
    await typeInto(inRows("Product-type multipliers", "Product type")[0]!, "Tea");
    button("Remove type-2").click();
    await settle();
    expect(fieldset("Product-type multipliers").textContent).not.toContain("None:");

    button("Add a custom event").click();
    await settle();
    const [limit] = inRows("Custom events", "At most (times per period)");
    await typeInto(limit!, "3");
    await typeInto(limit!, "");

    button("Add a tier").click();
    await settle();
    button("Add a tier").click();
    await settle();
    button("Remove tier Tier 1").click();
    await settle();
    expect(inRows("Tiers (lowest first)", "Tier name").map((i) => i.value)).toEqual(["Tier 2"]);

    button("Save program").click();
    await until(() => text().includes("Saved."), "the save");
    const saved = (calls.find((c) => c.method === "PUT")!.body as { program: Program }).program;
    expect(saved.earning.productTypeMultipliers).toEqual({ Tea: 2 });
    // The emptied "At most" is gone, not kept as 0 or null.
    expect(saved.waysToEarn.custom).toEqual({ event: { points: 10 } });
    expect(saved.tiers.map((t) => [t.name, t.threshold])).toEqual([["Tier 2", 1000]]);
  });
});

describe("records edited in place", () => {
  const challenge = (fields: Record<string, unknown>) => ({
    id: "ch_1",
    name: "Three orders",
    kind: "order_count",
    goal: 3,
    rewardPoints: 100,
    badge: null,
    productType: null,
    periodDays: null,
    startsAt: null,
    endsAt: null,
    active: true,
    completions: 1,
    ...fields,
  });

  it("lists challenges, shows a refusal on its field, creates, edits without the kind, and deletes once confirmed", async () => {
    let stored = [challenge({})];
    const calls = fakeFetch({
      "POST /v1/console/sessions": () => ({ status: 200, body: { token: TOKEN, expiresAt: "2026-11-24T15:00:00.000Z", shop: shopView } }),
      "GET /v1/challenges": () => ({ status: 200, body: { challenges: stored } }),
      "POST /v1/challenges": (call) => {
        const body = call.body as Record<string, unknown>;
        if (body.name === "") {
          const details = [{ path: "name", message: "required" }];
          return { status: 400, body: { error: { code: "invalid_request", message: "The challenge is not valid; see details.", details } } };
        }
        stored = [...stored, challenge({ ...body, id: "ch_2", completions: 0 })];
        return { status: 201, body: { challenge: stored.at(-1) } };
      },
      "PATCH /v1/challenges/ch_1": (call) => {
        stored = stored.map((c) => (c.id === "ch_1" ? { ...c, ...(call.body as object) } : c));
        return { status: 200, body: { challenge: stored[0] } };
      },
      "DELETE /v1/challenges/ch_1": () => {
        stored = stored.filter((c) => c.id !== "ch_1");
        return { status: 200, body: { deleted: true } };
      },
    });
    state.signIn(await consoleApi.startSession(SECRET));
    const { ChallengesPage } = await import("../../widget/console/ChallengesPage");
    render(<ChallengesPage />, container());
    await until(() => container().querySelector("tbody tr") !== null, "the list");
    const headers = Array.from(container().querySelectorAll("thead th")).map((th) => th.textContent);
    expect(headers).toEqual(["Name", "Goal", "Reward", "Badge", "Completed by", "Status", "Actions"]);
    expect(Array.from(container().querySelectorAll("tbody td")).map((td) => td.textContent)).toEqual([
      "3 orders",
      "100 points",
      "–",
      "1 member",
      "Active",
      "EditDelete",
    ]);

    // Refused: the message, and the field's own error.
    button("Create challenge").click();
    await until(() => container().querySelector('[role="alert"]') !== null, "the refusal");
    expect(labelled("Challenge name").getAttribute("aria-invalid")).toBe("true");
    await typeInto(labelled("Challenge name"), "Five orders");
    await typeInto(labelled("Orders"), "5");
    button("Create challenge").click();
    await until(() => text().includes("Created “Five orders”."), "the creation");
    expect(labelled("Challenge name").value).toBe("");
    expect(calls.filter((c) => c.method === "POST" && c.path === "/v1/challenges").at(-1)!.body).toMatchObject({
      name: "Five orders",
      kind: "order_count",
      goal: 5,
    });
    await until(() => container().querySelectorAll("tbody tr").length === 2, "the new row");

    (container().querySelector('[aria-label="Edit Three orders"]') as HTMLButtonElement).click();
    await settle();
    expect(text()).toContain("a challenge keeps its kind");
    const names = Array.from(container().querySelectorAll("label")).filter((l) => l.textContent === "Challenge name");
    await typeInto(document.getElementById(names[0]!.htmlFor) as HTMLInputElement, "Three orders, fast");
    button("Save challenge").click();
    await until(() => text().includes("Saved “Three orders, fast”."), "the save");
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.body).not.toHaveProperty("kind");
    expect(container().querySelector("tbody form")).toBeNull();

    const confirm = vi.fn(() => false);
    vi.stubGlobal("confirm", confirm);
    // The list reloads after the save: wait for the renamed row (a busy machine is slower).
    const deleteButton = '[aria-label="Delete Three orders, fast"]';
    await until(() => container().querySelector(deleteButton) !== null, "the renamed row");
    (container().querySelector(deleteButton) as HTMLButtonElement).click();
    await settle();
    expect(confirm).toHaveBeenCalledWith("Delete the challenge “Three orders, fast”? Badges already earned stay.");
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    confirm.mockReturnValue(true);
    (container().querySelector(deleteButton) as HTMLButtonElement).click();
    await until(() => text().includes("Deleted “Three orders, fast”."), "the deletion");
    await until(() => container().querySelectorAll("tbody tr").length === 1, "the row gone");
  });

  it("shows an empty rewards list, and a refused deletion as an alert", async () => {
    let rewards: unknown[] = [];
    fakeFetch({
      "POST /v1/console/sessions": () => ({ status: 200, body: { token: TOKEN, expiresAt: "2026-11-24T15:00:00.000Z", shop: shopView } }),
      "GET /v1/rewards": () => ({ status: 200, body: { rewards } }),
      "DELETE /v1/rewards/rw_1": () => ({ status: 409, body: { error: { code: "conflict", message: "The reward is in use." } } }),
    });
    state.signIn(await consoleApi.startSession(SECRET));
    const { RewardsPage } = await import("../../widget/console/RewardsPage");
    render(<RewardsPage />, container());
    await until(() => text().includes("No rewards yet: create the first one below."), "the empty list");
    expect(container().querySelector("#reward-new")?.textContent).toBe("New reward");

    rewards = [{ id: "rw_1", name: "5 off", type: "amount_off", cost: 500, value: "5.00", product: null, minOrder: null, active: true }];
    render(null, container());
    render(<RewardsPage />, container());
    await until(() => container().querySelector("tbody tr") !== null, "the list");
    vi.stubGlobal("confirm", () => true);
    (container().querySelector('[aria-label="Delete 5 off"]') as HTMLButtonElement).click();
    await until(() => container().querySelector('[role="alert"]')?.textContent === "The reward is in use.", "the refusal");
  });
});

describe("the simulator", () => {
  it("shows current and proposed side by side and says when the draft has changed since", async () => {
    const side = (points: number, share: number | null): Simulation["current"] => ({
      orderPoints: points,
      pointsReversed: 0,
      otherPoints: 0,
      pointsIssued: points,
      netPoints: points,
      liabilityPoints: points,
      liability: (points / 100).toFixed(2),
      revenue: "100.00",
      cost: (points / 100).toFixed(2),
      costShare: share,
      tiers: [
        { tier: null, members: 2 },
        { tier: "Gold", members: points > 100 ? 1 : 0 },
      ],
      ordersMatchingRecorded: 3,
    });
    const simulation: Simulation = {
      window: { days: 90, start: "2026-08-26T00:00:00.000Z", end: "2026-11-24T00:00:00.000Z" },
      currency: "EUR",
      orders: 3,
      members: 2,
      recordedOrderPoints: 100,
      current: side(100, 0.01),
      proposed: side(200, 0.02),
      assumptions: ["Orders are replayed in the order they were processed."],
    };
    const calls = fakeFetch({
      "POST /v1/console/sessions": () => ({ status: 200, body: { token: TOKEN, expiresAt: "2026-11-24T15:00:00.000Z", shop: shopView } }),
      "POST /v1/program/simulate": () => ({ status: 200, body: simulation }),
    });
    state.signIn(await consoleApi.startSession(SECRET));
    const draft = defaultProgram();
    draft.earning.pointsPerUnit = 2;
    render(<Simulator program={draft} />, container());
    button("Run simulation").click();
    await until(() => container().querySelector("tbody tr") !== null, "the comparison");
    expect(calls.find((c) => c.path === "/v1/program/simulate")!.body).toEqual({ program: draft, days: 90 });
    const rows = Object.fromEntries(
      Array.from(container().querySelectorAll("tbody tr")).map((tr) => [
        tr.querySelector("th")!.textContent,
        Array.from(tr.querySelectorAll("td")).map((td) => td.textContent),
      ]),
    );
    expect(rows["Points issued"]).toEqual(["100", "200", "+100%"]);
    expect(rows["Cost as a share of revenue"]).toEqual(["1%", "2%", "+100%"]);
    expect(rows["Members in tier “Gold”"]).toEqual(["0", "1", "new"]);
    expect(text()).toContain("gives 3 of 3 orders exactly the points");
    expect(text()).not.toContain("have changed since");

    const changed = structuredClone(draft);
    changed.earning.pointsPerUnit = 3;
    render(<Simulator program={changed} />, container());
    expect(text()).toContain("The settings have changed since this simulation");
  });
});

describe("the install page's digest code", () => {
  const widgetSecret = "wsec_test_secret_for_snippets";
  const code = snippets("https://loyalty.example", "pk_demo");

  it("puts the shop's key and the API origin in the script tag", () => {
    expect(code.scriptTag).toContain('src="https://loyalty.example/laurel.js"');
    expect(code.scriptTag).toContain('data-shop="pk_demo"');
    for (const snippet of [code.node, code.php, code.python, code.ruby, code.liquid]) {
      expect(snippet).toMatch(/widget_secret|WIDGET_SECRET/);
    }
  });

  it("the Node code computes a digest the API accepts", async () => {
    // Run as a merchant would: in Node, as an ES module, with the secret in the environment.
    const output = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", `${code.node}\nconsole.log(JSON.stringify(laurelIdentity(4242)));`],
      { env: { ...process.env, LAUREL_WIDGET_SECRET: widgetSecret }, encoding: "utf8" },
    );
    const identity = JSON.parse(output);
    expect(identity.id).toBe("4242");
    expect(Math.abs(identity.ts - Date.now() / 1000)).toBeLessThan(60);
    expect(await verifyCustomerDigest(widgetSecret, identity)).toBe(true);
    expect(await verifyCustomerDigest("another_secret", identity)).toBe(false);
  });

  it("the Liquid code signs the logged-in customer, and leaves guests unsigned", async () => {
    const liquid = new Liquid({ strictFilters: true });
    // Shopify's hmac_sha256: hex HMAC-SHA256 of the input keyed with the argument.
    liquid.registerFilter("hmac_sha256", (input: unknown, secret: unknown) =>
      createHmac("sha256", String(secret)).update(String(input)).digest("hex"),
    );
    const settings = { laurel_widget_secret: widgetSecret };
    // Parsed into a template: its script is inert, only read.
    const scriptOf = async (customer: { id: number } | null) => {
      const template = document.createElement("template");
      template.innerHTML = await liquid.parseAndRender(code.liquid, { customer, settings });
      expect(template.content.querySelectorAll("script")).toHaveLength(1);
      return template.content.querySelector("script")!;
    };
    const script = await scriptOf({ id: 7301 });
    expect(script.getAttribute("src")).toBe("https://loyalty.example/laurel.js");
    const identity = {
      id: script.dataset.customerId!,
      ts: script.dataset.customerTs!,
      digest: script.dataset.customerDigest!,
    };
    expect(identity.id).toBe("7301");
    expect(await verifyCustomerDigest(widgetSecret, identity)).toBe(true);

    const guest = await scriptOf(null);
    expect(guest.getAttribute("data-shop")).toBe("pk_demo");
    expect(guest.hasAttribute("data-customer-id")).toBe(false);
  });
});
