/**
 * The panel chunk, mounted the way laurel.js mounts it (same shadow root as the launcher) over
 * a core that talks to the in-memory API: every section, every flow, every language.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StorefrontState } from "../../worker/contract/types";
import type { Identity } from "../../widget/shared/api";
import { createTranslator, LANGUAGES } from "../../widget/shared/i18n";
import { coreMessages } from "../../widget/shared/messages";
import { loadPanelMessages } from "../../widget/shared/panel-messages";
import type { PanelHandle } from "../../widget/storefront/boot";
import { createCore } from "../../widget/storefront/core";
import { createLauncher } from "../../widget/storefront/launcher";
import { mount } from "../../widget/storefront/panel/index";
import { FakeApi, makeGuestState, makeMemberState, makeReward } from "./fake-api";

const ada: Identity = { id: "demo-ada", ts: "1795000000", digest: "cd".repeat(32) };
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

interface Opened {
  api: FakeApi;
  handle: PanelHandle;
  root: ShadowRoot;
  dialog: HTMLDialogElement;
  launcher: HTMLButtonElement;
  core: ReturnType<typeof createCore>;
}

async function openPanel(state: StorefrontState | null, options: { lang?: string; load?: boolean } = {}): Promise<Opened> {
  const lang = options.lang ?? "en";
  const api = new FakeApi(state ?? makeMemberState());
  const core = createCore({
    api: "https://laurel.example",
    shop: "pk_demo",
    lang,
    identity: state?.customer ? ada : null,
    fetch: api.fetch,
  });
  if (options.load !== false) await core.refresh();
  const launcher = createLauncher(document, "");
  launcher.attach();
  if (core.state) launcher.render(core.state, createTranslator(lang, coreMessages.en));
  const handle = await mount({ core, root: launcher.root, launcher: launcher.button, nonce: "", lang });
  handle.open();
  await tick();
  const dialog = launcher.root.querySelector("dialog")!;
  return { api, core, handle, root: launcher.root, dialog, launcher: launcher.button };
}

function text(node: ParentNode): string {
  return (node.textContent ?? "").replace(/\s+/g, " ").trim();
}

function button(scope: ParentNode, label: string | RegExp): HTMLButtonElement {
  const all = Array.from(scope.querySelectorAll<HTMLButtonElement>("button"));
  const found = all.find((b) => {
    const name = b.getAttribute("aria-label") ?? text(b);
    return typeof label === "string" ? name === label : label.test(name);
  });
  if (!found) throw new Error(`no button "${label}" among: ${all.map((b) => b.getAttribute("aria-label") ?? text(b)).join(" | ")}`);
  return found;
}

function section(root: ParentNode, heading: string): HTMLElement {
  const h = Array.from(root.querySelectorAll("h3")).find((el) => text(el) === heading);
  if (!h) throw new Error(`no section "${heading}"`);
  return h.closest("section")!;
}

function active(root: ShadowRoot): Element | null {
  return root.activeElement;
}

let clipboard: { writeText: ReturnType<typeof vi.fn> };

beforeEach(() => {
  clipboard = { writeText: vi.fn(async () => {}) };
  Object.defineProperty(navigator, "clipboard", { value: clipboard, configurable: true });
});
afterEach(() => {
  document.body.innerHTML = "";
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("the dialog", () => {
  it("is a labelled modal dialog that opens with focus inside and closes on Esc back to the launcher", async () => {
    const { dialog, root, handle, launcher } = await openPanel(makeMemberState());
    expect(dialog.open).toBe(true);
    const title = root.getElementById(dialog.getAttribute("aria-labelledby")!)!;
    expect(text(title)).toBe("Juniper & Oak");
    await vi.waitFor(() => expect(active(root)).toBe(button(dialog, "Close")));
    expect(launcher.getAttribute("aria-expanded")).toBe("true");

    dialog.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    await tick();
    expect(dialog.open).toBe(false);
    expect(launcher.getAttribute("aria-expanded")).toBe("false");
    await vi.waitFor(() => expect(active(root)).toBe(launcher));

    handle.open();
    await tick();
    expect(dialog.open).toBe(true);
    button(dialog, "Close").click();
    await tick();
    expect(dialog.open).toBe(false);
  });

  it("keeps Tab and Shift+Tab inside the dialog", async () => {
    const { dialog, root } = await openPanel(makeMemberState());
    const focusable = Array.from(
      dialog.querySelectorAll<HTMLElement>("a[href],button:not([disabled]),input:not([disabled]),textarea"),
    );
    const first = focusable[0]!;
    const last = focusable.at(-1)!;
    last.focus();
    const forward = new KeyboardEvent("keydown", { key: "Tab", bubbles: true, cancelable: true });
    last.dispatchEvent(forward);
    expect(forward.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect(active(root)).toBe(first));
    const back = new KeyboardEvent("keydown", { key: "Tab", shiftKey: true, bubbles: true, cancelable: true });
    first.dispatchEvent(back);
    await vi.waitFor(() => expect(active(root)).toBe(last));
    // In the middle, Tab is left to the browser.
    const middle = focusable[1]!;
    middle.focus();
    const plain = new KeyboardEvent("keydown", { key: "Tab", bubbles: true, cancelable: true });
    middle.dispatchEvent(plain);
    expect(plain.defaultPrevented).toBe(false);
  });

  it("a click on the backdrop closes it; a click inside does not", async () => {
    const { dialog } = await openPanel(makeMemberState());
    dialog.querySelector("header")!.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    await tick();
    expect(dialog.open).toBe(true);
    dialog.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    await tick();
    expect(dialog.open).toBe(false);
  });

  it("shows why the state could not load and retries on request", async () => {
    const api = new FakeApi(makeMemberState());
    api.forced.push("offline");
    const core = createCore({ api: "https://laurel.example", shop: "pk_demo", lang: "en", identity: ada, fetch: api.fetch });
    await core.refresh().catch(() => {});
    const launcher = createLauncher(document, "");
    launcher.attach();
    const handle = await mount({ core, root: launcher.root, launcher: launcher.button, nonce: "", lang: "en" });
    handle.open();
    await tick();
    const dialog = launcher.root.querySelector("dialog")!;
    const alert = dialog.querySelector("[role=alert]")!;
    expect(text(alert)).toContain("You are offline. Check your connection and try again.");
    button(alert, "Try again").click();
    await vi.waitFor(() => expect(text(dialog)).toContain("1,240 points"));
    expect(dialog.querySelector("[role=alert]")).toBeNull();
  });
});

describe("a member's panel", () => {
  it("shows balance, tier with progress, perks, rewards, challenges, badges, referral, activity and ways to earn", async () => {
    const { dialog } = await openPanel(makeMemberState());
    const summary = dialog.querySelector(".summary")!;
    expect(text(summary.querySelector(".points-total")!)).toBe("1,240 points");
    expect(summary.querySelector(".points-total")!.getAttribute("aria-live")).toBe("polite");
    expect(text(summary)).toContain("Sapling member");
    const tierBar = summary.querySelector("[role=progressbar]")!;
    expect(tierBar.getAttribute("aria-valuenow")).toBe("74");
    expect(tierBar.getAttribute("aria-label")).toBe("Progress to Oak");
    expect(text(summary)).toContain("260 more points to reach Oak");
    expect(text(summary)).toContain("Your perks: Early access");

    const rewards = section(dialog, "Redeem your points");
    const items = Array.from(rewards.querySelectorAll("li"));
    // The description is left out where the reward's name already says it ("10% off").
    expect(items.map((li) => text(li.querySelector("p.small") ?? li.ownerDocument.createElement("p")))).toEqual([
      "€5.00 off",
      "",
      "Free product · On orders of €30.00 or more",
    ]);
    expect(button(items[0]!, "Redeem").disabled).toBe(false);
    expect(button(items[2]!, "Redeem").disabled).toBe(true);
    expect(text(items[2]!)).toContain("3,760 more points needed");

    const challenges = section(dialog, "Challenges");
    const [habit, tea, follow] = Array.from(challenges.querySelectorAll(":scope > ul > li"));
    expect(text(habit!)).toContain("2 of 3");
    expect(text(habit!)).toContain("+150 points");
    const habitBar = habit!.querySelector("[role=progressbar]")!;
    expect([habitBar.getAttribute("aria-valuenow"), habitBar.getAttribute("aria-valuemax")]).toEqual(["2", "3"]);
    expect(habit!.querySelector<HTMLElement>(".bar span")!.style.width).toBe("67%");
    expect(text(tea!)).toContain("Completed");
    expect(tea!.querySelector(".badge.earned")).not.toBeNull();
    expect(habit!.querySelector(".badge:not(.earned)")).not.toBeNull();
    expect(text(follow!)).toContain("Ends Dec 31, 2026");
    button(follow!, "I did this");

    expect(text(section(dialog, "Your badges").querySelector("ul")!)).toBe("Explorer");
    const referral = section(dialog, "Refer a friend");
    expect(text(referral)).toContain("Give your friends €5.00 off and get 200 points when they place their first order.");
    expect(referral.querySelector<HTMLInputElement>("input")!.value).toBe("https://shop.example/?ref=ADA7K2QX");

    const activity = section(dialog, "Recent activity");
    const rows = Array.from(activity.querySelectorAll("li")).map((li) => Array.from(li.children, text).join(" "));
    expect(rows).toEqual(["Order Nov 20, 2026 +320", "Reward redeemed Nov 10, 2026 -500"]);

    const ways = section(dialog, "Ways to earn");
    expect(text(ways)).toContain("1 point for every €1 spent");
    expect(text(ways)).toContain("Celebrate your birthday100 points");
    expect(text(ways)).not.toContain("Create an account");
  });

  it("redeems with a confirmation, shows the code with a copy button, and keeps it after closing", async () => {
    const redeemed = vi.fn();
    document.addEventListener("laurel:redeemed", (e) => redeemed((e as CustomEvent).detail), { once: true });
    const { dialog, root, api, handle } = await openPanel(makeMemberState());
    const item = section(dialog, "Redeem your points").querySelector("li")!;
    button(item, "Redeem").click();
    await tick();
    expect(text(item.querySelector(".confirm")!)).toContain("Spend 500 points on €5 off your order?");
    await vi.waitFor(() => expect(active(root)).toBe(button(item, "Yes, redeem")));
    button(item, "Cancel").click();
    await tick();
    expect(item.querySelector(".confirm")).toBeNull();
    await vi.waitFor(() => expect(active(root)).toBe(button(item, "Redeem")));
    expect(api.calls("POST", "/v1/storefront/redemptions")).toHaveLength(0);

    button(item, "Redeem").click();
    await tick();
    button(item, "Yes, redeem").click();
    await vi.waitFor(() => expect(item.querySelector(".codebox")).not.toBeNull());
    expect(text(item.querySelector(".code")!)).toBe("LRL-1001-ABCD");
    expect(text(dialog.querySelector(".summary .points-total")!)).toBe("740 points");
    expect(redeemed).toHaveBeenCalledWith(expect.objectContaining({ balance: 740 }));
    const copy = button(item, "Copy code LRL-1001-ABCD");
    await vi.waitFor(() => expect(active(root)).toBe(copy));
    copy.click();
    await vi.waitFor(() => expect(text(copy)).toBe("Copied"));
    expect(clipboard.writeText).toHaveBeenCalledWith("LRL-1001-ABCD");

    handle.close();
    await tick();
    handle.open();
    await tick();
    const again = section(dialog, "Redeem your points").querySelector("li")!;
    expect(text(again.querySelector(".code")!)).toBe("LRL-1001-ABCD");
  });

  it("falls back to a selection copy when the Clipboard API is refused", async () => {
    clipboard.writeText.mockRejectedValue(new Error("denied"));
    const exec = vi.fn(() => true);
    Object.defineProperty(document, "execCommand", { value: exec, configurable: true });
    const { dialog } = await openPanel(makeMemberState());
    const referral = section(dialog, "Refer a friend");
    const copy = button(referral, "Copy link");
    copy.click();
    await vi.waitFor(() => expect(text(copy)).toBe("Copied"));
    expect(exec).toHaveBeenCalledWith("copy");
    expect(dialog.querySelector("textarea.sr")).toBeNull();
  });

  it("explains a refused redemption, keeps the same Idempotency-Key on retry, and counts down a 429", async () => {
    const { dialog, api } = await openPanel(makeMemberState());
    const item = section(dialog, "Redeem your points").querySelector("li")!;
    button(item, "Redeem").click();
    await tick();
    api.forced.push({
      status: 429,
      body: { error: { code: "rate_limited", message: "slow" } },
      headers: { "retry-after": "3" },
    });
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    button(item, "Yes, redeem").click();
    await vi.waitFor(() => expect(item.querySelector("[role=alert]")).not.toBeNull());
    expect(text(item.querySelector("[role=alert]")!)).toBe("Too many requests. Try again in 3 s.");
    // Let Preact run the countdown's effect (after the next frame) before moving the clock.
    await new Promise((resolve) => setTimeout(resolve, 80));
    vi.advanceTimersByTime(1000);
    await tick();
    expect(text(item.querySelector("[role=alert]")!)).toBe("Too many requests. Try again in 2 s.");
    vi.advanceTimersByTime(2000);
    await tick();
    expect(text(item.querySelector("[role=alert]")!)).toBe("You can try again now.");
    vi.useRealTimers();

    api.forced.push({ status: 422, body: { error: { code: "insufficient_points", message: "short" } } });
    button(item, "Yes, redeem").click();
    await vi.waitFor(() => expect(text(item)).toContain("You do not have enough points for this reward."));
    const keys = api.calls("POST", "/v1/storefront/redemptions").map((r) => r.headers["idempotency-key"]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);

    button(item, "Yes, redeem").click();
    await vi.waitFor(() => expect(item.querySelector(".codebox")).not.toBeNull());
  });

  it("reports a social challenge done and celebrates it with the badge, confetti and the points", async () => {
    vi.spyOn(window, "matchMedia").mockImplementation(
      (query: string) => ({ matches: false, media: query, addEventListener() {}, removeEventListener() {} }) as never,
    );
    const { dialog, api, root } = await openPanel(makeMemberState());
    const follow = Array.from(section(dialog, "Challenges").querySelectorAll(":scope > ul > li"))[2]!;
    button(follow, "I did this").click();
    await vi.waitFor(() => expect(dialog.querySelector(".celebration")).not.toBeNull());
    expect(api.calls("POST", "/v1/storefront/actions/ch_follow")).toHaveLength(1);
    const party = dialog.querySelector(".celebration")!;
    expect(party.getAttribute("role")).toBe("status");
    expect(text(party)).toContain("Challenge complete: Follow us!");
    expect(text(party)).toContain("You earned the “Friend” badge.");
    expect(text(party)).toContain("15 points added to your balance.");
    expect(party.querySelectorAll(".confetti span").length).toBeGreaterThan(0);
    await vi.waitFor(() => expect(active(root)).toBe(button(party, "Great!")));
    expect(text(section(dialog, "Your badges"))).toContain("Friend");
    button(party, "Great!").click();
    await tick();
    expect(dialog.querySelector(".celebration")).toBeNull();
  });

  it("celebrates without motion when the shopper asks for reduced motion", async () => {
    vi.spyOn(window, "matchMedia").mockImplementation(
      (query: string) =>
        ({ matches: query.includes("reduce"), media: query, addEventListener() {}, removeEventListener() {} }) as never,
    );
    const { dialog } = await openPanel(makeMemberState());
    const follow = Array.from(section(dialog, "Challenges").querySelectorAll(":scope > ul > li"))[2]!;
    button(follow, "I did this").click();
    await vi.waitFor(() => expect(dialog.querySelector(".celebration")).not.toBeNull());
    expect(dialog.querySelector(".celebration")!.classList.contains("still")).toBe(true);
    expect(dialog.querySelector(".confetti")).toBeNull();
  });

  it("celebrates a challenge completed while the panel was closed on the next open", async () => {
    const { dialog, api, core, handle } = await openPanel(makeMemberState());
    handle.close();
    await tick();
    const habit = api.state.challenges[0]!;
    habit.progress = 3;
    habit.completed = true;
    await core.refresh();
    handle.open();
    await vi.waitFor(() => expect(dialog.querySelector(".celebration")).not.toBeNull());
    expect(text(dialog.querySelector(".celebration")!)).toContain("Challenge complete: Three's a habit!");
  });

  it("shares the referral link through the Web Share API where the browser has it", async () => {
    const share = vi.fn(async () => {});
    Object.defineProperty(navigator, "share", { value: share, configurable: true });
    const { dialog } = await openPanel(makeMemberState());
    button(section(dialog, "Refer a friend"), "Share").click();
    expect(share).toHaveBeenCalledWith({
      title: "Juniper & Oak",
      text: "Here is €5.00 off at Juniper & Oak",
      url: "https://shop.example/?ref=ADA7K2QX",
    });
    Reflect.deleteProperty(navigator, "share");
  });

  it("asks the NPS question, then why, sends both, and thanks the shopper", async () => {
    const { dialog, api, root } = await openPanel(makeMemberState());
    const nps = section(dialog, "Quick question");
    expect(text(nps.querySelector("legend")!)).toBe("How likely are you to recommend Juniper & Oak to a friend?");
    const scores = Array.from(nps.querySelectorAll<HTMLButtonElement>("button.score"));
    expect(scores.map((b) => b.getAttribute("aria-label"))).toEqual(
      Array.from({ length: 11 }, (_, n) => `${n} out of 10`),
    );
    scores[9]!.click();
    await tick();
    const why = nps.querySelector("textarea")!;
    await vi.waitFor(() => expect(active(root)).toBe(why));
    expect(text(nps.querySelector(`label[for="${why.id}"]`)!)).toBe("What is the main reason for your score?");
    why.value = "Lovely tea, quick delivery";
    why.dispatchEvent(new Event("input", { bubbles: true }));
    await tick();
    button(nps, "Send").click();
    await vi.waitFor(() => expect(text(nps)).toContain("Thank you for your feedback!"));
    expect(api.calls("POST", "/v1/storefront/nps")[0]!.body).toEqual({ score: 9, comment: "Lovely tea, quick delivery" });
    expect(api.state.customer!.npsDue).toBe(false);
  });

  it("lets the shopper skip the follow-up, and hides the question when it is not due", async () => {
    const { dialog, api } = await openPanel(makeMemberState());
    const nps = section(dialog, "Quick question");
    nps.querySelectorAll<HTMLButtonElement>("button.score")[3]!.click();
    await tick();
    button(nps, "Skip").click();
    await vi.waitFor(() => expect(text(nps)).toContain("Thank you for your feedback!"));
    expect(api.calls("POST", "/v1/storefront/nps")[0]!.body).toEqual({ score: 3 });

    document.body.innerHTML = "";
    const state = makeMemberState();
    state.customer!.npsDue = false;
    const second = await openPanel(state);
    expect(() => section(second.dialog, "Quick question")).toThrow();
  });

  it("renders merchant text as text", async () => {
    const state = makeMemberState();
    state.rewards = [makeReward({ name: "<b>bold</b><img src=x onerror=alert(1)>" })];
    state.program.shopName = "<script>alert(1)</script>";
    const { dialog } = await openPanel(state);
    expect(dialog.querySelector("img, b, script")).toBeNull();
    expect(text(dialog)).toContain("<b>bold</b><img src=x onerror=alert(1)>");
    expect(text(dialog.querySelector("h2")!)).toBe("<script>alert(1)</script>");
  });

  it("says 'top tier' at the top and spend-based progress in money", async () => {
    const top = makeMemberState();
    top.customer = { ...top.customer!, tier: "Oak", nextTier: null, progress: 1, remainingToNextTier: null };
    const first = await openPanel(top);
    expect(text(first.dialog.querySelector(".summary")!)).toContain("You have reached the top tier");
    expect(first.dialog.querySelector(".summary [role=progressbar]")).toBeNull();
    document.body.innerHTML = "";

    const spend = makeMemberState();
    spend.customer = {
      ...spend.customer!,
      nextTier: { name: "Oak", threshold: 1000, basis: "spend" },
      remainingToNextTier: 120,
    };
    spend.challenges = [
      { ...spend.challenges[0]!, id: "ch_spend", kind: "spend", name: "Big spender", goal: 5000, progress: 3050 },
    ];
    const second = await openPanel(spend);
    expect(text(second.dialog.querySelector(".summary")!)).toContain("Spend €120 more to reach Oak");
    // A spend challenge counts minor units of eligible spend.
    expect(text(section(second.dialog, "Challenges"))).toContain("€30.50 of €50.00");
  });
});

describe("a guest's panel", () => {
  it("shows the join prompt with the merchant's links, the ways to earn, and rewards without redeem buttons", async () => {
    const { dialog } = await openPanel(makeGuestState());
    const join = section(dialog, "Join Juniper & Oak rewards");
    const links = Array.from(join.querySelectorAll("a")).map((a) => [text(a), a.getAttribute("href")]);
    expect(links).toEqual([
      ["Join now", "https://shop.example/join"],
      ["Sign in", "https://shop.example/login"],
    ]);
    expect(text(section(dialog, "Ways to earn"))).toContain("Create an account50 points");
    const rewards = section(dialog, "Redeem your points");
    expect(rewards.querySelectorAll("li")).toHaveLength(3);
    expect(rewards.querySelector("button")).toBeNull();
    expect(dialog.querySelector(".summary")).toBeNull();
    expect(() => section(dialog, "Quick question")).toThrow();
  });

  it("never turns a non-http link into an href", async () => {
    const state = makeGuestState();
    state.program.branding.signupUrl = "javascript:alert(1)";
    state.program.branding.loginUrl = null;
    const { dialog } = await openPanel(state);
    expect(dialog.querySelectorAll(".join a")).toHaveLength(0);
  });
});

describe("the referee's landing flow (?ref=CODE)", () => {
  async function landing(code: string) {
    const opened = await openPanel(makeGuestState());
    opened.handle.open({ name: "referral", code });
    await tick();
    return opened;
  }

  it("shows who invited the shopper and the offer, validates the email, and shows the offer code", async () => {
    const { dialog, api, root } = await landing("ADA7K2QX");
    await vi.waitFor(() => expect(dialog.querySelector(".referee form")).not.toBeNull());
    const card = dialog.querySelector(".referee")!;
    expect(text(card.querySelector("h3")!)).toBe("Ada sent you a gift");
    expect(text(card)).toContain("Claim €5.00 off on your first order at Juniper & Oak.");
    const email = card.querySelector<HTMLInputElement>("input[type=email]")!;
    await vi.waitFor(() => expect(active(root)).toBe(email));
    expect(text(card.querySelector(`label[for="${email.id}"]`)!)).toBe("Email address");

    email.value = "not-an-email";
    email.dispatchEvent(new Event("input", { bubbles: true }));
    await tick();
    button(card, "Claim my offer").click();
    await tick();
    expect(text(card)).toContain("Enter a valid email address.");
    expect(email.getAttribute("aria-invalid")).toBe("true");
    expect(api.calls("POST", "/v1/storefront/referrals/ADA7K2QX/claim")).toHaveLength(0);

    email.value = "new.friend@example.com";
    email.dispatchEvent(new Event("input", { bubbles: true }));
    await tick();
    button(card, "Claim my offer").click();
    await vi.waitFor(() => expect(dialog.querySelector(".referee .code")).not.toBeNull());
    expect(text(dialog.querySelector(".referee .code")!)).toBe("WELC-7H3K-Q2MX");
    expect(text(dialog.querySelector(".referee")!)).toContain("Your offer is ready. Enter this code at checkout.");
    expect(api.calls("POST", "/v1/storefront/referrals/ADA7K2QX/claim")[0]!.body).toEqual({
      shop: "pk_demo",
      email: "new.friend@example.com",
    });
  });

  it("says when the shopper tries their own code, and when a claim burst must wait", async () => {
    const { dialog, api } = await landing("ADA7K2QX");
    await vi.waitFor(() => expect(dialog.querySelector(".referee form")).not.toBeNull());
    const card = dialog.querySelector(".referee")!;
    const email = card.querySelector<HTMLInputElement>("input[type=email]")!;
    email.value = "ada@example.com";
    email.dispatchEvent(new Event("input", { bubbles: true }));
    await tick();
    button(card, "Claim my offer").click();
    await vi.waitFor(() => expect(text(card)).toContain("You cannot claim your own referral."));
    api.forced.push({
      status: 429,
      body: { error: { code: "rate_limited", message: "burst", details: { reason: "address_burst" } } },
      headers: { "retry-after": "3600" },
    });
    button(card, "Claim my offer").click();
    await vi.waitFor(() => expect(text(card)).toContain("Too many attempts. Please try again later."));
  });

  it("says when the email already claimed, and when the link is not valid", async () => {
    const first = await landing("ADA7K2QX");
    await vi.waitFor(() => expect(first.dialog.querySelector(".referee form")).not.toBeNull());
    for (let attempt = 0; attempt < 2; attempt++) {
      const card = first.dialog.querySelector(".referee")!;
      const email = card.querySelector<HTMLInputElement>("input[type=email]");
      if (!email) break;
      email.value = "twice@example.com";
      email.dispatchEvent(new Event("input", { bubbles: true }));
      await tick();
      button(card, "Claim my offer").click();
      await tick();
      await tick();
      if (attempt === 0) {
        // The first claim succeeds; start the flow again to claim a second time.
        first.handle.open({ name: "home" });
        await tick();
        first.handle.open({ name: "referral", code: "ADA7K2QX" });
        await vi.waitFor(() => expect(first.dialog.querySelector(".referee form")).not.toBeNull());
      }
    }
    await vi.waitFor(() =>
      expect(text(first.dialog)).toContain("This offer has already been claimed with that email."),
    );
    document.body.innerHTML = "";

    const second = await landing("NOSUCH");
    await vi.waitFor(() => expect(text(second.dialog)).toContain("This link is no longer valid."));
  });
});

describe("every language", () => {
  it.each(LANGUAGES)("renders the whole member and guest panel in %s with no key or placeholder left", async (lang) => {
    const messages = { ...coreMessages[lang], ...(await loadPanelMessages(lang)) };
    for (const state of [makeMemberState(), makeGuestState()]) {
      document.documentElement.lang = lang;
      const { dialog } = await openPanel(state, { lang });
      const shown = text(dialog);
      expect(shown).not.toMatch(/\{\w+\}/);
      expect(shown).not.toMatch(/\bkind_\w+/);
      // No message key shows through (keys are camelCase or snake_case, words are not).
      for (const key of Object.keys(messages).filter((k) => /[A-Z_]/.test(k))) expect(shown).not.toContain(key);
      if (state.customer) {
        expect(shown).toContain(messages.rewardsTitle!);
        expect(shown).toContain(messages.challengesTitle!);
        expect(shown).toContain(messages.npsTitle!);
        const balance = text(dialog.querySelector(".summary .points-total")!);
        expect(balance).toBe(createTranslator(lang, messages)("points", { n: 1240 }).replace(/\s+/g, " "));
      } else {
        expect(shown).toContain(messages.waysTitle!);
      }
      expect(button(dialog, messages.close!)).toBeTruthy();
      document.body.innerHTML = "";
    }
  });

  it("formats numbers, money and dates for the language", async () => {
    const { dialog } = await openPanel(makeMemberState(), { lang: "de-DE" });
    expect(text(dialog.querySelector(".summary .points-total")!)).toBe("1.240 Punkte");
    expect(text(dialog)).toContain("5,00 € Rabatt");
    expect(text(dialog)).toContain("20.11.2026");
    document.body.innerHTML = "";
    const fr = await openPanel(makeMemberState(), { lang: "fr" });
    expect(text(fr.dialog.querySelector(".summary .points-total")!)).toMatch(/^1\s240 points$/);
    document.body.innerHTML = "";
    const tr = await openPanel(makeMemberState(), { lang: "tr" });
    expect(text(tr.dialog)).toContain("%10 indirim");
  });

  it("uses the merchant's own wording where the program has it", async () => {
    const state = makeMemberState();
    state.program.texts = { es: { rewardsTitle: "Canjea aquí", points: "{n} semilla|{n} semillas" } };
    const { dialog } = await openPanel(state, { lang: "es-MX" });
    expect(text(dialog)).toContain("Canjea aquí");
    expect(text(dialog.querySelector(".summary .points-total")!)).toBe("1240 semillas");
  });
});
