/**
 * The console inside the Shopify admin. Shopify opens the app's URL (/shopify/app) in an iframe;
 * that page carries the `shopify-api-key` meta tag and App Bridge's script, which defines the
 * `shopify` global. Every API call then carries a fresh session token from `shopify.idToken()`
 * (a one-minute JWT signed for this app and store), so a Shopify merchant never sees a secret key.
 */
import type { ShopifyEmbeddedSession } from "../../worker/contract/types";
import { ConsoleError, openEmbeddedSession, useShopifySessionTokens } from "./api";
import { embeddedProblem, shopifyNotice, signIn } from "./state";

interface AppBridge {
  idToken(): Promise<string>;
}

/** App Bridge, when this page was loaded as the embedded app. */
export function appBridge(): AppBridge | null {
  if (typeof document === "undefined" || !document.querySelector('meta[name="shopify-api-key"]')) return null;
  const bridge = (globalThis as { shopify?: Partial<AppBridge> }).shopify;
  return typeof bridge?.idToken === "function" ? (bridge as AppBridge) : null;
}

/** Starts the embedded console; false when this is the standalone console. */
export function startEmbedded(): boolean {
  const bridge = appBridge();
  if (!bridge) return false;
  useShopifySessionTokens(() => bridge.idToken());
  openEmbeddedSession<ShopifyEmbeddedSession>().then(
    (session) => {
      shopifyNotice.value = session.shopify.status === "connected" ? null : session.shopify.message;
      signIn({ token: "", expiresAt: "", shop: session.shop });
    },
    (error: unknown) => {
      embeddedProblem.value =
        error instanceof ConsoleError && error.status === 401
          ? "Laurel could not verify this session with Shopify. Reload the app from your Shopify admin (Apps → Laurel); if this keeps happening, reinstall the app."
          : error instanceof Error
            ? error.message
            : String(error);
    },
  );
  return true;
}
