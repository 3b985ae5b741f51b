/** The console's state, as signals outside components: the session's shop, the route, notices. */
import { computed, signal } from "@preact/signals";
import type { ConsoleSession } from "../../worker/contract/analytics";
import { createFormatter } from "../shared/format";
import { embedded, onExpired, signOut as forgetToken } from "./api";

export type Shop = ConsoleSession["shop"];

export const shop = signal<Shop | null>(null);
export const expiresAt = signal<string | null>(null);
/** Why the sign-in page is showing again (an ended session), if it is. */
export const signInNotice = signal<string | null>(null);
/** In the Shopify admin: why the console cannot start, and what the merchant must do. */
export const embeddedProblem = signal<string | null>(null);
/** In the Shopify admin: a connection that needs the merchant (reinstall, grant access). */
export const shopifyNotice = signal<string | null>(null);

export const PAGES = ["overview", "program", "rewards", "challenges", "customers", "install", "data-requests"] as const;
export type Page = (typeof PAGES)[number];

export interface Route {
  page: Page;
  /** The rest of the path: a customer's id on the customers page. */
  param: string | null;
}

export function parseRoute(hash: string): Route {
  const [first = "", ...rest] = hash.replace(/^#\/?/, "").split("/");
  const page = (PAGES as readonly string[]).includes(first) ? (first as Page) : "overview";
  const param = rest.length ? decodeURIComponent(rest.join("/")) : null;
  return { page, param };
}

export const route = signal<Route>(parseRoute(typeof location === "undefined" ? "" : location.hash));

export function navigate(page: Page, param: string | null = null): void {
  const hash = `#/${page}${param === null ? "" : `/${encodeURIComponent(param)}`}`;
  if (location.hash !== hash) location.hash = hash;
  route.value = { page, param };
}

/** Money, numbers and dates in the browser's language and the shop's currency. */
export const fmt = computed(() =>
  createFormatter(typeof navigator === "undefined" ? "en" : navigator.language || "en", shop.value?.currency ?? "USD"),
);

export function signIn(session: ConsoleSession): void {
  shop.value = session.shop;
  expiresAt.value = session.expiresAt;
  signInNotice.value = null;
}

export function signOut(notice: string | null = null): void {
  forgetToken();
  shop.value = null;
  expiresAt.value = null;
  signInNotice.value = notice;
}

onExpired(() => {
  if (embedded()) {
    embeddedProblem.value =
      "Shopify's session for this page was refused. Reload the app from your Shopify admin; if this keeps happening, reinstall the app.";
    shop.value = null;
    return;
  }
  if (shop.value) signOut("Your session has ended. Sign in again with your secret key.");
});
