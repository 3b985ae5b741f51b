/**
 * What both targets share: calls to Laurel's customer account API with the customer's session
 * token (a JWT Shopify signs for this app, naming the shop and the customer; Laurel verifies it),
 * and the translations of the extension's locales. No secret ever reaches the extension.
 */
import type { StorefrontState } from "../../../../worker/contract/types";

/** The parts of the extension API both targets use (customer-account StandardApi). */
export interface ExtensionApi {
  sessionToken: { get(): Promise<string> };
  settings: { value: Record<string, unknown> };
  i18n: { translate(key: string, options?: Record<string, string | number>): string };
}

export class LaurelUnavailable extends Error {
  constructor(readonly reason: "not_configured" | "failed") {
    super(reason);
  }
}

/** Laurel's origin: the extension setting, without a trailing slash. */
function origin(api: ExtensionApi): string {
  const value = api.settings.value.laurel_origin;
  if (typeof value !== "string" || !/^https?:\/\/[^\s/]+/.test(value.trim())) throw new LaurelUnavailable("not_configured");
  return value.trim().replace(/\/+$/, "");
}

async function get<T>(api: ExtensionApi, path: string): Promise<T> {
  const base = origin(api);
  let response: Response;
  try {
    response = await fetch(`${base}/shopify/customer-account${path}`, {
      headers: { Authorization: `Bearer ${await api.sessionToken.get()}`, Accept: "application/json" },
    });
  } catch {
    throw new LaurelUnavailable("failed");
  }
  if (!response.ok) throw new LaurelUnavailable("failed");
  return (await response.json()) as T;
}

/** The same state the storefront widget shows, for the signed-in customer. */
export const loyaltyState = (api: ExtensionApi) => get<StorefrontState>(api, "/state");

export interface OrderPoints {
  order: { id: string; points: number; status: string } | null;
}

/** The points of one of the customer's orders (a GID such as gid://shopify/Order/123). */
export function orderPoints(api: ExtensionApi, orderGid: string) {
  const id = /^gid:\/\/shopify\/Order\/(\d{1,20})$/.exec(orderGid)?.[1];
  if (!id) return Promise.resolve<OrderPoints>({ order: null });
  return get<OrderPoints>(api, `/orders/${id}`);
}

export const problemText = (api: ExtensionApi, error: unknown) =>
  api.i18n.translate(error instanceof LaurelUnavailable && error.reason === "not_configured" ? "notConfigured" : "unavailable");
