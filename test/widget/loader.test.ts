/**
 * laurel.js without the panel: the API client, the state model (core), the launcher in its
 * Shadow DOM host, the nudges, window.Laurel and the laurel:* events.
 */
import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from "vitest";
import { pointsForProduct } from "../../worker/domain/earning";
import { ApiError, createClient } from "../../widget/shared/api";
import { boot, type PanelModule, type PanelView } from "../../widget/storefront/boot";
import { createCore } from "../../widget/storefront/core";
import { renderNudges } from "../../widget/storefront/nudges";
import { createTranslator } from "../../widget/shared/i18n";
import { coreMessages } from "../../widget/shared/messages";
import { FakeApi, makeGuestState, makeMemberState, makeProgram } from "./fake-api";

const API = "https://laurel.example";
const ada = { id: "demo-ada", ts: "1795000000", digest: "ab".repeat(32) };

function coreFor(api: FakeApi, events: EventTarget = document) {
  return createCore({ api: API, shop: "pk_demo", lang: "en", identity: ada, fetch: api.fetch, events });
}

afterEach(() => {
  document.body.innerHTML = "";
  document.documentElement.lang = "";
});

describe("api client", () => {
  it("opens a session, sends the bearer token, and keeps it out of every storage", async () => {
    const api = new FakeApi(makeMemberState());
    const client = createClient(API, "pk_demo", api.fetch);
    await client.open(ada);
    const state = await client.call<{ customer: { balance: number } }>("/v1/storefront/state");
    expect(state.customer.balance).toBe(1240);
    expect(api.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/storefront/sessions",
      body: { shop: "pk_demo", customer: ada },
    });
    expect(api.requests[1]!.headers.authorization).toBe("Bearer tok-1");
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(document.cookie).toBe("");
  });

  it("renews an expired session silently, once, and retries the call", async () => {
    const api = new FakeApi(makeMemberState());
    const client = createClient(API, "pk_demo", api.fetch);
    await client.open(ada);
    api.expireSessions();
    const state = await client.call<{ customer: { id: string } }>("/v1/storefront/state");
    expect(state.customer.id).toBe("demo-ada");
    expect(api.calls("POST", "/v1/storefront/sessions")).toHaveLength(2);
    // The renewal uses the same identity.
    expect(api.calls("POST", "/v1/storefront/sessions")[1]!.body).toEqual({ shop: "pk_demo", customer: ada });

    // A second 401 right after the renewal is not retried forever.
    api.forced.push({ status: 401, body: { error: { code: "unauthorized", message: "no" } } });
    api.forced.push({ status: 200, body: { token: "tok-x", expiresAt: "", customer: null } });
    api.forced.push({ status: 401, body: { error: { code: "unauthorized", message: "still no" } } });
    await expect(client.call("/v1/storefront/state")).rejects.toMatchObject({ code: "unauthorized", status: 401 });
  });

  it("turns 429 into rate_limited with the Retry-After wait, and a network failure into offline", async () => {
    const api = new FakeApi(makeMemberState());
    const client = createClient(API, "pk_demo", api.fetch);
    await client.open(null);
    api.forced.push({
      status: 429,
      body: { error: { code: "rate_limited", message: "slow down" } },
      headers: { "retry-after": "7" },
    });
    const limited = await client.call("/v1/storefront/state").catch((e) => e);
    expect(limited).toBeInstanceOf(ApiError);
    expect(limited).toMatchObject({ code: "rate_limited", status: 429, retryAfter: 7 });

    api.forced.push("offline");
    await expect(client.call("/v1/storefront/state")).rejects.toMatchObject({ code: "offline", status: 0 });

    api.forced.push({ status: 500 });
    await expect(client.call("/v1/storefront/state")).rejects.toMatchObject({ code: "http_500", status: 500 });
  });
});

describe("core (the state model)", () => {
  it("reads the state with the session in one request and notifies subscribers", async () => {
    const api = new FakeApi(makeMemberState());
    const core = coreFor(api);
    const seen: number[] = [];
    core.subscribe(() => seen.push(core.state?.customer?.balance ?? -1));
    const state = await core.refresh();
    expect(state.customer?.balance).toBe(1240);
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /v1/storefront/sessions"]);
    expect(seen).toEqual([1240]);
    expect(core.loadedAt).toBeGreaterThan(0);
    expect(core.error).toBeNull();
  });

  it("redeems with an Idempotency-Key, updates the balance and dispatches laurel:redeemed and laurel:points-changed", async () => {
    const api = new FakeApi(makeMemberState());
    const events = new EventTarget();
    const redeemed = vi.fn();
    const changed = vi.fn();
    events.addEventListener("laurel:redeemed", (e) => redeemed((e as CustomEvent).detail));
    events.addEventListener("laurel:points-changed", (e) => changed((e as CustomEvent).detail));
    const core = coreFor(api, events);
    await core.refresh();

    const result = await core.redeem("rw_5off", "key-1");
    expect(result.balance).toBe(740);
    expect(result.redemption.code).toMatch(/^LRL-/);
    expect(core.state?.customer?.balance).toBe(740);
    const post = api.calls("POST", "/v1/storefront/redemptions")[0]!;
    expect(post.headers["idempotency-key"]).toBe("key-1");
    expect(post.body).toEqual({ rewardId: "rw_5off" });
    expect(redeemed).toHaveBeenCalledWith(result);
    expect(changed).toHaveBeenCalledWith({ balance: 740, previous: 1240 });

    // Without a key the core makes one; a retry with the same key is answered from the record.
    // The first state came with the session; the redemption reads it again once.
    await vi.waitFor(() => expect(api.calls("GET", "/v1/storefront/state")).toHaveLength(1));
    const again = await core.redeem("rw_5off", "key-1");
    expect(again.redemption.id).toBe(result.redemption.id);
    expect(core.state?.customer?.balance).toBe(740);
    const fresh = await core.redeem("rw_10pc").catch((e) => e);
    expect(fresh).toMatchObject({ code: "insufficient_points", status: 422 });
    expect(api.calls("POST", "/v1/storefront/redemptions")[2]!.headers["idempotency-key"]).toMatch(/^[0-9a-f]{32}$/);
  });

  it("keeps the last failure for the panel and clears it on the next success", async () => {
    const api = new FakeApi(makeMemberState());
    const core = coreFor(api);
    api.forced.push("offline");
    await expect(core.refresh()).rejects.toMatchObject({ code: "offline" });
    expect(core.error?.code).toBe("offline");
    expect(core.state).toBeNull();
    await core.refresh();
    expect(core.error).toBeNull();
    expect(core.state?.customer?.id).toBe("demo-ada");
  });

  it("queues each newly completed challenge once for a celebration, never on first sight", async () => {
    const api = new FakeApi(makeMemberState());
    const core = coreFor(api);
    await core.refresh();
    expect(core.takeCelebrations()).toEqual([]); // "Tea explorer" was already complete
    await core.completeAction("ch_follow");
    const celebrated = core.takeCelebrations();
    expect(celebrated.map((c) => c.id)).toEqual(["ch_follow"]);
    expect(core.takeCelebrations()).toEqual([]);
    expect(core.state?.customer?.badges.map((b) => b.badge)).toContain("Friend");
    await core.refresh();
    expect(core.takeCelebrations()).toEqual([]);
  });

  it("identify() switches the session to another shopper (or a guest)", async () => {
    const api = new FakeApi(makeMemberState());
    const core = coreFor(api);
    await core.refresh();
    api.state = makeGuestState();
    await core.identify(null);
    expect(core.state?.customer).toBeNull();
    expect(api.calls("POST", "/v1/storefront/sessions").at(-1)!.body).toEqual({ shop: "pk_demo" });
  });

  it("treats 'already reported' and 'already answered' (409) as done, and reads the state again", async () => {
    const api = new FakeApi(makeMemberState());
    const core = coreFor(api);
    await core.refresh();
    api.forced.push({ status: 409, body: { error: { code: "already_reported", message: "done" } } });
    await core.completeAction("ch_follow");
    api.forced.push({ status: 409, body: { error: { code: "already_answered", message: "done" } } });
    await core.answerNps(8);
    expect(api.calls("GET", "/v1/storefront/state")).toHaveLength(2);
    api.forced.push({ status: 422, body: { error: { code: "challenge_not_running", message: "over" } } });
    await expect(core.completeAction("ch_follow")).rejects.toMatchObject({ code: "challenge_not_running" });
  });

  it("answers NPS with and without a comment, and reports self-reported actions", async () => {
    const api = new FakeApi(makeMemberState());
    const core = coreFor(api);
    await core.refresh();
    await core.answerNps(9, "Great tea");
    await core.answerNps(3);
    expect(api.calls("POST", "/v1/storefront/nps").map((r) => r.body)).toEqual([
      { score: 9, comment: "Great tea" },
      { score: 3 },
    ]);
    expect(core.state?.customer?.npsDue).toBe(false);
  });

  it("looks up and claims referral codes without a session", async () => {
    const api = new FakeApi(makeGuestState());
    const core = coreFor(api);
    const found = await core.lookupReferral("ADA7K2QX");
    expect(found.referral.firstName).toBe("Ada");
    expect(api.requests[0]!.path).toBe("/v1/storefront/referrals/ADA7K2QX?shop=pk_demo");
    const claim = await core.claimReferral("ADA7K2QX", "new@example.com");
    expect(claim.offerCode).toBe("WELC-7H3K-Q2MX");
    expect(api.requests[1]!.body).toEqual({ shop: "pk_demo", email: "new@example.com" });
    expect(api.requests.every((r) => !r.headers.authorization)).toBe(true);
    // Signed in, the claim carries the session so self-referral is caught by identity too.
    await core.refresh();
    await core.claimReferral("ADA7K2QX", "other@example.com");
    expect(api.calls("POST", "/v1/storefront/referrals/ADA7K2QX/claim").at(-1)!.headers.authorization).toMatch(/^Bearer tok-/);
    await expect(core.lookupReferral("NOPE")).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("nudges", () => {
  const t = createTranslator("en", coreMessages.en);

  it("shows what a product earns with the server's own earning function, tier multiplier included", () => {
    document.body.innerHTML = `
      <span id="a" data-laurel-earn data-price="49.99"></span>
      <span id="b" data-laurel-earn data-price="12.50" data-product-type="Tea"></span>
      <span id="c" data-laurel-earn data-price="0.50"></span>
      <span id="d" data-laurel-earn data-price="not money">keep?</span>`;
    const state = makeMemberState(); // Sapling: 1.25x
    renderNudges(document, state, t);
    const rules = state.program.earning;
    expect(pointsForProduct(rules, "EUR", 4999, undefined, 1.25)).toBe(62);
    expect(document.getElementById("a")!.textContent).toBe("Earn 62 points");
    expect(document.getElementById("b")!.textContent).toBe(`Earn ${pointsForProduct(rules, "EUR", 1250, "Tea", 1.25)} points`);
    expect(document.getElementById("b")!.textContent).toBe("Earn 31 points");
    expect(document.getElementById("c")!.textContent).toBe("");
    expect(document.getElementById("d")!.textContent).toBe("");

    // A guest earns at the base rate.
    renderNudges(document, makeGuestState(), t);
    expect(document.getElementById("a")!.textContent).toBe("Earn 49 points");
    expect(document.getElementById("b")!.textContent).toBe("Earn 25 points");
  });

  it("uses the shop's currency rules (no minor units in JPY) and its rounding", () => {
    document.body.innerHTML = `<span id="y" data-laurel-earn data-price="1999"></span>`;
    const state = makeGuestState({
      program: makeProgram({
        currency: "JPY",
        earning: { ...makeProgram().earning, pointsPerUnit: 0.01, rounding: "ceil" },
      }),
    });
    renderNudges(document, state, t);
    expect(document.getElementById("y")!.textContent).toBe("Earn 20 points");
  });
});

describe("boot (laurel.js)", () => {
  let api: FakeApi;
  let panel: { open: Mock<(view?: PanelView) => void>; close: Mock<() => void> };
  let loadPanel: Mock<() => Promise<PanelModule>>;

  function scriptTag(attributes: Record<string, string>) {
    const script = document.createElement("script");
    script.src = "https://laurel.example/laurel.js";
    for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
    // Not appended: boot() reads the tag itself, and happy-dom would try to download it.
    return script;
  }

  beforeEach(() => {
    api = new FakeApi(makeMemberState());
    vi.stubGlobal("fetch", api.fetch);
    panel = { open: vi.fn<(view?: PanelView) => void>(), close: vi.fn<() => void>() };
    loadPanel = vi.fn(async (): Promise<PanelModule> => ({ mount: async () => panel }));
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("reads its own tag, renders the launcher with the balance in one shadow root, and fires laurel:ready", async () => {
    const ready = vi.fn();
    document.addEventListener("laurel:ready", (e) => ready((e as CustomEvent).detail), { once: true });
    const script = scriptTag({
      "data-shop": "pk_demo",
      "data-customer-id": ada.id,
      "data-customer-ts": ada.ts,
      "data-customer-digest": ada.digest,
      "data-nonce": "n0nce",
    });
    const booted = boot(script, loadPanel);
    await booted.ready;

    expect(api.requests[0]!.url).toBe("https://laurel.example/v1/storefront/sessions");
    expect(api.requests[0]!.body).toEqual({ shop: "pk_demo", customer: ada, include: ["state"] });
    // First paint from one request: the session's answer carries the state.
    expect(api.requests).toHaveLength(1);
    const hosts = document.querySelectorAll("laurel-widget");
    expect(hosts).toHaveLength(1);
    const root = hosts[0]!.shadowRoot!;
    const button = root.querySelector<HTMLButtonElement>("button.launcher")!;
    expect(button.hidden).toBe(false);
    expect(button.textContent).toBe("Rewards1,240 points");
    expect(button.getAttribute("aria-haspopup")).toBe("dialog");
    const style = root.querySelector("style")!;
    expect(style.nonce).toBe("n0nce");
    expect(style.textContent).toContain("--laurel-primary:#2f6d4f!important");
    expect(ready).toHaveBeenCalledWith({ customer: expect.objectContaining({ id: "demo-ada", balance: 1240 }) });
    expect(loadPanel).not.toHaveBeenCalled();
  });

  it("fills nudges at the first paint and follows new and repriced ones, and leaves the panel's code alone until asked", async () => {
    document.body.innerHTML = `<p id="early" data-laurel-earn data-price="49.99"></p>`;
    vi.useFakeTimers({ toFake: ["setTimeout", "setInterval", "requestIdleCallback"] });
    let booted: ReturnType<typeof boot>;
    try {
      booted = boot(scriptTag({ "data-shop": "pk_demo" }), loadPanel);
      await booted.ready;
      // However long the page then stays idle.
      await vi.runAllTimersAsync();
    } finally {
      vi.useRealTimers();
    }
    expect(document.getElementById("early")!.textContent).toBe("Earn 62 points");

    const late = document.createElement("p");
    late.dataset.laurelEarn = "";
    late.dataset.price = "12.50";
    document.body.append(late);
    await vi.waitFor(() => expect(late.textContent).toBe("Earn 15 points"));
    late.dataset.price = "100.00";
    await vi.waitFor(() => expect(late.textContent).toBe("Earn 125 points"));

    await booted.api.refresh();
    expect(loadPanel).not.toHaveBeenCalled();
  });

  it("loads the panel on intent, opens it through window.Laurel's API, and announces balance changes", async () => {
    const booted = boot(scriptTag({ "data-shop": "pk_demo" }), loadPanel);
    await booted.ready;
    const button = booted.launcher.button;
    button.dispatchEvent(new Event("pointerenter"));
    expect(loadPanel).toHaveBeenCalledTimes(1);
    await booted.api.open();
    expect(panel.open).toHaveBeenCalledTimes(1);
    button.click();
    await vi.waitFor(() => expect(panel.open).toHaveBeenCalledTimes(2));
    expect(loadPanel).toHaveBeenCalledTimes(1);
    booted.api.close();
    await vi.waitFor(() => expect(panel.close).toHaveBeenCalled());

    const changed = vi.fn();
    document.addEventListener("laurel:points-changed", (e) => changed((e as CustomEvent).detail), { once: true });
    api.state.customer!.balance = 1400;
    await booted.api.refresh();
    expect(changed).toHaveBeenCalledWith({ balance: 1400, previous: 1240 });
    expect(button.textContent).toContain("1,400 points");
    expect(booted.launcher.root.querySelector("[aria-live]")!.textContent).toBe("Your balance is now 1,400 points");
  });

  it("shows a guest the label only, in the page's language, with the merchant's override", async () => {
    api = new FakeApi(makeGuestState());
    vi.stubGlobal("fetch", api.fetch);
    document.documentElement.lang = "de-AT";
    const booted = boot(scriptTag({ "data-shop": "pk_demo" }), loadPanel);
    await booted.ready;
    const button = booted.launcher.button;
    expect(button.textContent).toBe("Prämien");
    expect(api.requests[0]!.body).toEqual({ shop: "pk_demo", include: ["state"] });

    api.state.program.texts = { de: { launcher: "Treuepunkte" } };
    await booted.api.refresh();
    expect(button.textContent).toBe("Treuepunkte");
    api.state.program.branding.launcherLabel = "Club";
    api.state.program.texts = {};
    await booted.api.refresh();
    expect(button.textContent).toBe("Club");
  });

  it("identify() switches shoppers and the launcher follows", async () => {
    api = new FakeApi(makeGuestState());
    vi.stubGlobal("fetch", api.fetch);
    const booted = boot(scriptTag({ "data-shop": "pk_demo" }), loadPanel);
    await booted.ready;
    api.state = makeMemberState();
    await booted.api.identify(ada);
    expect(booted.launcher.button.textContent).toBe("Rewards1,240 points");
    expect(api.calls("POST", "/v1/storefront/sessions").at(-1)!.body).toEqual({ shop: "pk_demo", customer: ada });
  });

  it("takes the API base from data-api, positions the launcher and greets a referee on ?ref=", async () => {
    api.state.program.branding.launcherPosition = "bottom-left";
    window.history.replaceState(null, "", "/product?ref=BEN1234X");
    const booted = boot(scriptTag({ "data-shop": "pk_demo", "data-api": "https://proxy.example/apps/laurel/" }), loadPanel);
    await booted.ready;
    expect(api.requests[0]!.url).toBe("https://proxy.example/apps/laurel/v1/storefront/sessions");
    expect(api.requests.every((r) => r.url.startsWith("https://proxy.example/apps/laurel/v1/"))).toBe(true);
    expect(booted.launcher.host.dataset.position).toBe("bottom-left");
    await vi.waitFor(() => expect(panel.open).toHaveBeenCalledWith({ name: "referral", code: "BEN1234X" }));
    window.history.replaceState(null, "", "/");
  });

  it("does not greet members with their own referral code", async () => {
    window.history.replaceState(null, "", "/?ref=ADA7K2QX");
    const booted = boot(
      scriptTag({ "data-shop": "pk_demo", "data-customer-id": ada.id, "data-customer-ts": ada.ts, "data-customer-digest": ada.digest }),
      loadPanel,
    );
    await booted.ready;
    await new Promise((r) => setTimeout(r, 10));
    expect(panel.open).not.toHaveBeenCalled();
    window.history.replaceState(null, "", "/");
  });

  it("offline at start: no launcher, no error thrown, and it comes up when the network is back", async () => {
    api.forced.push("offline");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const booted = boot(scriptTag({ "data-shop": "pk_demo" }), loadPanel);
    await booted.ready;
    expect(document.querySelector("laurel-widget")).toBeNull();
    expect(warn).not.toHaveBeenCalled();
    window.dispatchEvent(new Event("online"));
    await vi.waitFor(() => expect(document.querySelector("laurel-widget")).not.toBeNull());
    expect(booted.launcher.button.hidden).toBe(false);
    warn.mockRestore();
  });

  it("lets the theme override the launcher's branding from the tag, ignoring invalid values", async () => {
    const booted = boot(
      scriptTag({
        "data-shop": "pk_demo",
        "data-launcher-position": "bottom-left",
        "data-launcher-label": "Club points",
        "data-primary-color": "#ffd400",
        "data-text-color": "javascript:alert(1)",
      }),
      loadPanel,
    );
    await booted.ready;
    expect(booted.launcher.host.dataset.position).toBe("bottom-left");
    expect(booted.launcher.button.textContent).toBe("Club points1,240 points");
    const css = booted.launcher.root.querySelector("style")!.textContent!;
    expect(css).toContain("--laurel-primary:#ffd400!important");
    // White text on yellow fails AA, so the text turns dark.
    expect(css).toContain("--laurel-on-primary:#111111!important");
    expect(css).not.toContain("javascript");
  });

  it("rewrites the launcher's theme when the branding changes, and only then", async () => {
    const booted = boot(scriptTag({ "data-shop": "pk_demo" }), loadPanel);
    await booted.ready;
    const style = booted.launcher.root.querySelector("style")!;
    const first = style.firstChild;
    await booted.api.refresh();
    // The same text node: the sheet was not set (nor parsed) again.
    expect(style.firstChild).toBe(first);
    api.state.program.branding.primaryColor = "#8a2be2";
    api.state.program.branding.launcherOffset = 32;
    await booted.api.refresh();
    expect(style.textContent).toContain("--laurel-primary:#8a2be2!important");
    expect(style.textContent).toContain("--laurel-offset:32px!important");
    expect(style.textContent).not.toContain("#2f6d4f");
  });

  it("writes merchant text as text, never as markup", async () => {
    api.state.program.branding.launcherLabel = '<img src=x onerror="alert(1)">';
    const booted = boot(scriptTag({ "data-shop": "pk_demo" }), loadPanel);
    await booted.ready;
    expect(booted.launcher.root.querySelector("img")).toBeNull();
    expect(booted.launcher.button.textContent).toContain('<img src=x onerror="alert(1)">');
  });
});
