/**
 * The one Shadow DOM host and the launcher button in it: everything laurel.js paints before the
 * panel loads. No framework, no innerHTML: merchant text goes in as text.
 */
import type { StorefrontState } from "../../worker/contract/types";
import type { Translate } from "../shared/i18n";
import { themeVariables } from "../shared/theme";
import css from "./launcher.css?inline";

export interface Launcher {
  host: HTMLElement;
  root: ShadowRoot;
  button: HTMLButtonElement;
  /** Puts the host into the page (once). */
  attach(): void;
  render(state: StorefrontState, t: Translate): void;
  /** Says `text` through the polite live region. */
  announce(text: string): void;
}

export function createLauncher(doc: Document, nonce: string): Launcher {
  const host = doc.createElement("laurel-widget");
  const root = host.attachShadow({ mode: "open" });
  const style = doc.createElement("style");
  if (nonce) style.nonce = nonce;
  const button = doc.createElement("button");
  button.type = "button";
  button.className = "launcher";
  button.hidden = true;
  button.setAttribute("aria-haspopup", "dialog");
  button.setAttribute("aria-expanded", "false");
  // The star icon is drawn by the style sheet (.launcher::before): the page's first SVG element
  // costs the main thread a millisecond or more, the whole launcher without it a fraction of that.
  const label = doc.createElement("span");
  const balance = doc.createElement("span");
  balance.className = "balance";
  button.append(label, balance);
  const live = doc.createElement("div");
  live.className = "sr";
  live.setAttribute("aria-live", "polite");
  root.append(style, button, live);
  let themeKey: string | undefined;

  return {
    host,
    root,
    button,
    attach() {
      if (!host.isConnected) (doc.body ?? doc.documentElement).append(host);
    },
    render(state, t) {
      const { branding } = state.program;
      // Each paint (every refresh) comes here: the theme is worked out, and the sheet parsed
      // again, only when the branding changed.
      const key = `${branding.primaryColor}|${branding.textColor}|${branding.launcherOffset}`;
      if (key !== themeKey) {
        themeKey = key;
        style.textContent = `${css}:host{${themeVariables(branding)
          .split(";")
          .map((rule) => `${rule}!important`)
          .join(";")}}`;
      }
      host.dataset.position = branding.launcherPosition;
      const custom = branding.launcherLabel && branding.launcherLabel !== "Rewards";
      label.textContent = custom ? branding.launcherLabel : t("launcher");
      const customer = state.customer;
      balance.hidden = !customer;
      balance.textContent = customer ? t("points", { n: customer.balance }) : "";
      button.hidden = false;
    },
    announce(text) {
      live.textContent = text;
    },
  };
}
