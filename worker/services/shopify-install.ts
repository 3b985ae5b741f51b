/**
 * The shop's Shopify Admin API connection: install by OAuth or the embedded app's token exchange
 * (a store Laurel does not know gets its shop), the sealed expiring token, and its status.
 */
import {
  type AdminClientOptions,
  adminOrigin,
  readStoreProfile,
  requestShopifyToken,
  ShopifyAdminError,
  type ShopifyGrant,
  type ShopifyStoreProfile,
  type ShopifyTokenSet,
  writeStorefrontMetafields,
} from "../adapters/shopify-admin";
import { currentShopifyAccess, sealTokenSet } from "../adapters/shopify-tokens";
import { isCurrencyCode } from "../domain/money";
import type { Env } from "../env";
import { ApiError, badRequest, conflict } from "../http/errors";
import { forgetCachedShop } from "../store/cache";
import { commit, StaleWrite } from "../store/batch";
import { type Shop, shopByShopifyDomain } from "../store/shops";
import { saveShopifyConnection } from "../store/shopify";
import { shopifyTokenOf } from "../store/shopify-tokens";
import { createShop } from "./shops";


const SHOPIFY_DOMAIN = /^[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com$/;

export function normaliseShopDomain(domain: string | null | undefined): string | null {
  const value = (domain ?? "").trim().toLowerCase();
  return SHOPIFY_DOMAIN.test(value) ? value : null;
}

/** Whether Laurel can reach the shop's store, and what the merchant must do when it cannot. */
export async function shopifyConnectionStatus(env: Env, shop: Shop) {
  const row = await shopifyTokenOf(env.DB, shop.id);
  const domain = row?.domain ?? null;
  const view = (status: "connected" | "not_connected" | "uninstalled" | "reconnect_required", message: string) => ({
    status,
    domain,
    tokenExpiresAt: status === "connected" ? (row?.expiresAt ?? null) : null,
    message,
  });
  if (row?.uninstalledAt && !row.sealedToken) {
    return view("uninstalled", "The app was uninstalled from this store. Install it again from the Shopify App Store or your install link.");
  }
  if (row?.error && !row.sealedToken) {
    return view(
      "reconnect_required",
      `${row.error} Open Laurel from your Shopify admin (Apps → Laurel) to grant access again; if that does not help, reinstall the app.`,
    );
  }
  if (!row?.sealedToken || !domain) {
    return view("not_connected", "This shop is not connected to a Shopify store. Install the app from the Shopify admin.");
  }
  return view("connected", "Connected.");
}

/** The shop's Admin API connection (its token refreshed when due), or null when it has none. */
export function shopifyConnection(env: Env, shop: Shop) {
  return currentShopifyAccess(env, shop.id);
}

/**
 * Connects a shop to its Shopify store: checks the token by writing the storefront metafields the
 * theme app extension reads (public key, API origin, widget secret), then stores the sealed token.
 * A token Shopify refuses changes nothing here.
 */
export async function connectShopify(
  env: Env,
  shop: Shop,
  input: { shopDomain: string; accessToken: string; apiOrigin: string; token?: ShopifyTokenSet },
  now = new Date(),
  adminOptions: AdminClientOptions = {},
) {
  const domain = normaliseShopDomain(input.shopDomain);
  if (!domain) {
    throw badRequest("shopDomain must be the store's *.myshopify.com domain.", [
      { path: "shopDomain", message: "such as my-store.myshopify.com" },
    ]);
  }
  try {
    await writeStorefrontMetafields(
      { origin: adminOrigin(env, domain), accessToken: input.accessToken },
      { public_key: shop.publicKey, api_origin: input.apiOrigin, widget_secret: shop.widgetSecret },
      adminOptions,
    );
  } catch (err) {
    if (!(err instanceof ShopifyAdminError)) throw err;
    throw new ApiError("upstream_failed", `Shopify refused the connection: ${err.message}`, {
      details: { kind: err.kind, status: err.details.status ?? null },
    });
  }
  // A token from the install is expiring; one connected by hand (a custom app's) does not expire.
  const token = input.token ?? { accessToken: input.accessToken, scope: "", expiresAt: null, refreshToken: null, refreshExpiresAt: null };
  const sealed = await sealTokenSet(env.SHOPIFY_API_SECRET, token, token.expiresAt ? "expiring" : "manual");
  try {
    await commit(env.DB, [saveShopifyConnection(env.DB, shop.id, { domain, connectedAt: now.toISOString(), ...sealed })]);
  } catch (err) {
    if (err instanceof StaleWrite && err.uniqueOn("shops", "shopify_domain")) throw conflict(`${domain} is connected to another shop.`);
    throw err;
  }
  await forgetCachedShop(env.KV, shop.id);
  return { shopify: { domain, connectedAt: now.toISOString(), metafields: ["public_key", "api_origin", "widget_secret"] } };
}

/** The scopes Laurel asks for when a store installs the app. */
export const SHOPIFY_SCOPES = "read_orders,read_customers,write_discounts,write_app_proxy,read_store_credit_account_transactions,write_store_credit_account_transactions";

/** Shopify's token endpoint for `domain`, any refusal answered 502 with what to do. */
async function grantFor(env: Env, domain: string, grant: ShopifyGrant, refused: string): Promise<ShopifyTokenSet> {
  if (!env.SHOPIFY_API_KEY) throw new ApiError("not_configured", "SHOPIFY_API_KEY is not set on this Laurel.");
  try {
    return await requestShopifyToken(adminOrigin(env, domain), { clientId: env.SHOPIFY_API_KEY, clientSecret: env.SHOPIFY_API_SECRET }, grant);
  } catch (err) {
    if (!(err instanceof ShopifyAdminError)) throw err;
    throw new ApiError("upstream_failed", `${refused} (${err.message}). Install the app again from the Shopify admin.`);
  }
}

/**
 * The store's Laurel shop, created on first install (self-serve): platform `shopify`, the store's
 * name and currency, and its origins (the myshopify domain and the primary domain), read from the
 * Admin API with the store's own new token. Two installs racing create one shop.
 */
async function shopForStore(env: Env, domain: string, token: ShopifyTokenSet): Promise<Shop> {
  const known = await shopByShopifyDomain(env.DB, domain);
  if (known) return known;
  let profile: ShopifyStoreProfile;
  try {
    profile = await readStoreProfile({ origin: adminOrigin(env, domain), accessToken: token.accessToken });
  } catch (err) {
    if (!(err instanceof ShopifyAdminError)) throw err;
    throw new ApiError("upstream_failed", `Shopify did not tell Laurel about ${domain} (${err.message}). Try the install again.`);
  }
  if (!isCurrencyCode(profile.currency)) {
    throw new ApiError("rule_violation", `The store's currency ${profile.currency} is not an ISO 4217 currency Laurel can count in.`);
  }
  const origins = [`https://${domain}`, ...(profile.primaryOrigin && profile.primaryOrigin !== `https://${domain}` ? [profile.primaryOrigin] : [])];
  try {
    const created = await createShop(env.DB, { name: profile.name, currency: profile.currency, origins, platform: "shopify", shopifyDomain: domain });
    return created.shop;
  } catch (err) {
    const raced = err instanceof ApiError && err.code === "conflict" ? await shopByShopifyDomain(env.DB, domain) : null;
    if (raced) return raced;
    throw err;
  }
}

/**
 * The end of the OAuth install (authorization code grant): the code is exchanged for an expiring
 * offline token; a store Laurel does not know gets its shop (self-serve); then the store is
 * connected (metafields, sealed token).
 */
export async function completeShopifyInstall(
  env: Env,
  input: { shopDomain: string; code: string; apiOrigin: string },
  now = new Date(),
) {
  const domain = normaliseShopDomain(input.shopDomain);
  if (!domain) throw badRequest("shop must be the store's *.myshopify.com domain.");
  const token = await grantFor(env, domain, { code: input.code }, "Shopify refused the authorization code");
  const shop = await shopForStore(env, domain, token);
  const connection = await connectShopify(env, shop, { shopDomain: domain, accessToken: token.accessToken, apiOrigin: input.apiOrigin, token }, now);
  return { shop, ...connection };
}

/**
 * The embedded app opened in the Shopify admin. When Laurel has no usable token for the store (a
 * managed install, a token Shopify stopped renewing, a legacy one) the admin's session token is
 * exchanged for an expiring offline token (token exchange, Shopify's documented path for embedded
 * apps); a store Laurel does not know gets its shop; and the store is connected. Then the shop
 * and its connection as they stand.
 */
export async function openEmbeddedApp(env: Env, input: { sessionToken: string; shopDomain: string; apiOrigin: string }) {
  const known = await shopByShopifyDomain(env.DB, input.shopDomain);
  if (known) {
    const status = await shopifyConnectionStatus(env, known);
    if (status.status === "connected") return { shop: known, shopify: status };
  }
  const token = await grantFor(
    env,
    input.shopDomain,
    { sessionToken: input.sessionToken },
    `Shopify did not grant Laurel access to ${input.shopDomain}`,
  );
  const shop = known ?? (await shopForStore(env, input.shopDomain, token));
  await connectShopify(env, shop, { shopDomain: input.shopDomain, accessToken: token.accessToken, apiOrigin: input.apiOrigin, token });
  return { shop, shopify: await shopifyConnectionStatus(env, shop) };
}

