/**
 * The customer account UI extension (widget/shopify/customer-account), as `npm run build` bundles
 * it for Shopify (dist/shopify/customer-account/, one module per target): each bundle rendered in
 * the DOM with the extension API Shopify documents (`shopify.sessionToken.get()`,
 * `shopify.settings`, `shopify.i18n.translate` over the extension's locale files, `shopify.order`),
 * talking to Laurel's customer account routes through a stubbed fetch.
 * `npm test` builds first; run `npm run build` before running this file on its own.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";

const extension = join(__dirname, "../../widget/shopify/customer-account");
const built = join(__dirname, "../../dist/shopify/customer-account");
const english = JSON.parse(readFileSync(join(extension, "locales/en.default.json"), "utf8")) as Record<string, unknown>;

/** shopify.i18n.translate as Shopify documents it: {{placeholders}}, `count` picks one/other. */
function translate(key: string, options: Record<string, string | number> = {}): string {
  let entry = english[key];
  if (entry && typeof entry === "object") {
    const forms = entry as Record<string, string>;
    entry = forms[new Intl.PluralRules("en").select(Number(options.count))] ?? forms.other;
  }
  if (typeof entry !== "string") return key;
  return entry.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(options[name] ?? ""));
}

function extensionApi(settings: Record<string, unknown>, order?: { id: string }) {
  return {
    sessionToken: { get: vi.fn(async () => "customer-session-token") },
    settings: { value: settings },
    i18n: { translate },
    order: { value: order },
  };
}

async function renderTarget(file: string, api: ReturnType<typeof extensionApi>, answer: (url: string) => Response) {
  const path = join(built, file);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first (npm test builds before testing).`);
  // A fresh <body> per render: each bundle carries its own Preact, which keeps its tree on the container.
  document.documentElement.replaceChild(document.createElement("body"), document.body);
  const fetch = vi.fn(async (url: string) => answer(url));
  vi.stubGlobal("fetch", fetch);
  vi.stubGlobal("shopify", api);
  const module = (await import(/* @vite-ignore */ `${pathToFileURL(path).href}?t=${Math.random()}`)) as { default: () => Promise<void> };
  await module.default();
  return fetch;
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const text = () => document.body.textContent ?? "";
const settle = () => vi.waitFor(() => expect(document.body.querySelector("s-spinner")).toBeNull());

const state = {
  program: {
    shopName: "Juniper & Oak",
    currency: "USD",
    earning: { pointsPerUnit: 1, rounding: "floor", includeShipping: false, includeTax: false, minOrder: null, productTypeMultipliers: {} },
    waysToEarn: { signup: 50, birthday: 0, review: 25, nps: 0 },
    referral: { referrerPoints: 100, refereeOffer: { type: "percent_off", value: 10 } },
    tiers: [],
    branding: {},
    texts: {},
  },
  customer: {
    id: "115310627314723954",
    firstName: "Ada",
    balance: 404,
    lifetimePoints: 404,
    tier: "Gold",
    nextTier: { name: "Platinum", threshold: 1000, basis: "lifetime_points" },
    progress: 0.4,
    remainingToNextTier: 596,
    referralCode: "ADA-7KQM",
    referralLink: "https://shop.example/?ref=ADA-7KQM",
    badges: [],
    npsDue: false,
  },
  rewards: [
    { id: "rw_1", name: "$5 off", type: "amount_off", cost: 100, value: "5.00", minOrder: null, affordable: true },
    { id: "rw_2", name: "Free tote", type: "free_product", cost: 900, value: null, minOrder: null, affordable: false },
  ],
  challenges: [],
  activity: [],
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the customer account extension", () => {
  it("is built as one module per target, each within Shopify's 64 KB", () => {
    for (const file of ["loyalty-page.js", "order-points.js"]) {
      const path = join(built, file);
      expect(existsSync(path), `${file} is built`).toBe(true);
      expect(statSync(path).size).toBeLessThan(64 * 1024);
      expect(readFileSync(path, "utf8")).not.toMatch(/\bimport\s*["'{]/); // self-contained: Preact bundled in
    }
    const toml = readFileSync(join(extension, "shopify.extension.toml"), "utf8");
    expect(toml).toContain('target = "customer-account.page.render"');
    expect(toml).toContain('target = "customer-account.order-status.block.render"');
    expect(toml).toMatch(/network_access = true/);
  });

  it("has every English text in each of its languages", () => {
    const keys = (value: Record<string, unknown>) => Object.keys(value).sort();
    for (const file of readdirSync(join(extension, "locales"))) {
      const locale = JSON.parse(readFileSync(join(extension, "locales", file), "utf8"));
      expect(keys(locale), file).toEqual(keys(english));
    }
  });

  it("the loyalty page shows the customer's balance, tier, rewards, ways to earn and referral link", async () => {
    const api = extensionApi({ laurel_origin: "https://laurel.test/" });
    const fetch = await renderTarget("loyalty-page.js", api, () => json(state));
    await vi.waitFor(() => expect(text()).toContain("404 points"));
    expect(fetch).toHaveBeenCalledWith("https://laurel.test/shopify/customer-account/state", {
      headers: { Authorization: "Bearer customer-session-token", Accept: "application/json" },
    });
    expect(api.sessionToken.get).toHaveBeenCalled();
    const page = document.body.querySelector("s-page")!;
    expect((page as unknown as { heading: string }).heading ?? page.getAttribute("heading")).toBe("Rewards");
    expect(text()).toContain("Your tier: Gold");
    expect(text()).toContain("596 points to Platinum");
    expect(text()).toContain("$5 off");
    expect(text()).toContain("You can redeem this");
    expect(document.body.querySelectorAll("s-badge")).toHaveLength(1);
    expect(text()).toContain("1 points per USD spent");
    expect(text()).toContain("Create an account: 50 points");
    expect(text()).toContain("Review a product: 25 points");
    expect(text()).not.toContain("birthday");
    expect(text()).toContain("https://shop.example/?ref=ADA-7KQM");
    expect(document.body.querySelector("s-progress")?.getAttribute("max") ?? "1").toBe("1");
  });

  it("the order status block says what the order earned, or that its points are on their way", async () => {
    const order = { id: "gid://shopify/Order/820982911946154508" };
    const api = extensionApi({ laurel_origin: "https://laurel.test" }, order);
    const fetch = await renderTarget("order-points.js", api, () => json({ order: { id: "820982911946154508", points: 404, status: "paid" } }));
    await vi.waitFor(() => expect(text()).toContain("You earned 404 points with this order."));
    expect(fetch.mock.calls[0]![0]).toBe("https://laurel.test/shopify/customer-account/orders/820982911946154508");
    expect(text()).toContain("See your rewards");

    await renderTarget("order-points.js", api, () => json({ order: null }));
    await vi.waitFor(() => expect(text()).toContain("Points for this order are on their way."));
  });

  it("says what is wrong: Laurel's URL not set, or Laurel refusing", async () => {
    await renderTarget("loyalty-page.js", extensionApi({}), () => json(state));
    await vi.waitFor(() => expect(text()).toContain("Rewards are not set up yet"));
    await settle();

    await renderTarget("loyalty-page.js", extensionApi({ laurel_origin: "https://laurel.test" }), () =>
      json({ error: { code: "unauthorized", message: "no" } }, 401),
    );
    await vi.waitFor(() => expect(text()).toContain("Your rewards could not be loaded."));
    expect(document.body.querySelector("s-banner")).not.toBeNull();
  });
});
