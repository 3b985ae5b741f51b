/**
 * laurel.js start-up: read our own script tag once, open the session, read the state in one
 * request, paint the launcher, install window.Laurel. The panel (Preact) is imported on demand.
 */
import type { Identity } from "../shared/api";
import { createTranslator, pickLanguage, type Translate } from "../shared/i18n";
import { coreMessages } from "../shared/messages";
import { type Core, createCore } from "./core";
import { createLauncher, type Launcher } from "./launcher";
import { renderNudges, watchNudges } from "./nudges";

export type PanelView = { name: "home" } | { name: "referral"; code: string };

export interface PanelContext {
  core: Core;
  root: ShadowRoot;
  launcher: HTMLButtonElement;
  nonce: string;
  lang: string;
}

export interface PanelHandle {
  open(view?: PanelView): void;
  close(): void;
}

export interface PanelModule {
  /** Resolves once the panel's language has loaded. */
  mount(context: PanelContext): Promise<PanelHandle>;
}

export interface LaurelApi {
  open(): Promise<void>;
  close(): void;
  refresh(): Promise<void>;
  identify(identity: Identity | null): Promise<void>;
}

export interface Booted {
  api: LaurelApi;
  core: Core;
  launcher: Launcher;
  /** Settles when the first state has been read (or failed to be). */
  ready: Promise<void>;
}

/**
 * `loadPanel` imports the panel's module: on the shopper's hover, focus or touch of the launcher
 * (a head start on the click), on a click, on `Laurel.open()` and for a referee's greeting; never
 * before. Fetching it earlier would put its bytes before the panel opens (the budget gives that
 * 10 KB to laurel.js alone) and cost the page's main thread a request it did not ask for.
 */
export function boot(script: HTMLScriptElement, loadPanel: () => Promise<PanelModule>): Booted {
  const doc = script.ownerDocument;
  const win = doc.defaultView ?? window;
  const data = script.dataset;
  const identity: Identity | null =
    data.customerId && data.customerTs && data.customerDigest
      ? { id: data.customerId, ts: data.customerTs, digest: data.customerDigest }
      : null;
  const nonce = data.nonce || script.nonce || "";
  const lang = doc.documentElement.lang || win.navigator.language || "en";
  const core = createCore({
    api: (data.api || new URL(script.src, doc.baseURI).origin).replace(/\/$/, ""),
    shop: data.shop ?? "",
    lang,
    identity,
    events: doc,
  });
  const launcher = createLauncher(doc, nonce);
  // A theme can restyle the launcher from its own settings (the Shopify app embed does).
  const branding: Record<string, string> = {};
  if (/^bottom-(left|right)$/.test(data.launcherPosition ?? "")) branding.launcherPosition = data.launcherPosition!;
  if (data.launcherLabel?.trim()) branding.launcherLabel = data.launcherLabel.trim();
  for (const key of ["primaryColor", "textColor"] as const) {
    if (/^#[0-9a-f]{6}$/i.test(data[key] ?? "")) branding[key] = data[key]!;
  }
  const messages = coreMessages[pickLanguage(lang)];
  let t: Translate = createTranslator(lang, messages);
  let panel: Promise<PanelHandle> | undefined;
  let balance: number | undefined;
  let started = false;

  const mountPanel = () => {
    panel ??= loadPanel()
      .then((module) => module.mount({ core, root: launcher.root, launcher: launcher.button, nonce, lang }))
      .catch((error) => {
        panel = undefined; // offline while loading: the next click tries again
        throw error;
      });
    return panel;
  };
  const paint = () => {
    const state = core.state;
    if (!state) return;
    t = createTranslator(lang, messages, state.program.texts);
    launcher.attach();
    launcher.render({ ...state, program: { ...state.program, branding: { ...state.program.branding, ...branding } } }, t);
    renderNudges(doc, state, t);
    const now = state.customer?.balance;
    if (balance !== undefined && now !== undefined && now !== balance) {
      launcher.announce(t("balanceNow", { points: t("points", { n: now }) }));
    }
    balance = now;
    if (!started) start(state);
  };
  /**
   * After the first paint: tell the page, watch for nudges (from now on: the paint rendered those
   * already there, and our own writes need no observer), greet a referee.
   */
  const start = (state: NonNullable<Core["state"]>) => {
    started = true;
    doc.dispatchEvent(new CustomEvent("laurel:ready", { detail: { customer: state.customer } }));
    watchNudges(doc, () => core.state && renderNudges(doc, core.state, t));
    const code = new URLSearchParams(win.location.search).get("ref");
    if (code && code !== state.customer?.referralCode) open({ name: "referral", code }).catch(() => {});
  };

  core.subscribe(paint);
  for (const intent of ["pointerenter", "focus", "touchstart"]) {
    launcher.button.addEventListener(intent, () => mountPanel().catch(() => {}), { once: true, passive: true });
  }

  const open = async (view?: PanelView) => {
    await ready;
    launcher.attach();
    (await mountPanel()).open(view);
  };
  launcher.button.addEventListener("click", () => open().catch(() => {}));

  const ready = core.refresh().then(
    () => {},
    (error) => {
      // Offline at start: try again once the network is back; anything else is a setup problem.
      if (error?.code === "offline") win.addEventListener("online", () => core.refresh().catch(() => {}), { once: true });
      else win.console.warn("Laurel:", error?.message ?? error);
    },
  );

  const api: LaurelApi = {
    open: () => open(),
    close: () => {
      panel?.then((handle) => handle.close()).catch(() => {});
    },
    refresh: async () => {
      await core.refresh();
    },
    identify: async (next) => {
      await core.identify(next);
    },
  };
  return { api, core, launcher, ready };
}
