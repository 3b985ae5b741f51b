import { hashSecretKey, newId, newShopCredentials, type ShopCredentials } from "../auth/keys";
import { defaultProgram } from "../contract/program";
import { conflict } from "../http/errors";
import { commit, StaleWrite } from "../store/batch";
import { insertShop, type Shop } from "../store/shops";

export interface ShopInput {
  name: string;
  currency: string;
  origins: string[];
  platform: "custom" | "shopify";
  shopifyDomain?: string | undefined;
}

export async function createShop(
  db: D1Database,
  input: ShopInput,
  options: { id?: string; credentials?: ShopCredentials } = {},
): Promise<{ shop: Shop } & Omit<ShopCredentials, "publicKey">> {
  const credentials = options.credentials ?? newShopCredentials();
  const shop: Shop = {
    id: options.id ?? newId("shop"),
    name: input.name,
    currency: input.currency,
    publicKey: credentials.publicKey,
    origins: input.origins,
    platform: input.platform,
    shopifyDomain: input.shopifyDomain ?? null,
    webhookSecret: credentials.webhookSecret,
    widgetSecret: credentials.widgetSecret,
    program: defaultProgram(),
    createdAt: new Date().toISOString(),
  };
  try {
    await commit(db, [insertShop(db, { ...shop, secretKeyHash: await hashSecretKey(credentials.secretKey) })]);
  } catch (err) {
    if (err instanceof StaleWrite && err.uniqueOn("shops", "shopify_domain")) {
      throw conflict(`A shop for ${input.shopifyDomain} exists already.`);
    }
    throw err;
  }
  return {
    shop,
    secretKey: credentials.secretKey,
    webhookSecret: credentials.webhookSecret,
    widgetSecret: credentials.widgetSecret,
  };
}

/** What the API shows of a shop: never a secret. */
export function shopView(shop: Shop) {
  return {
    id: shop.id,
    name: shop.name,
    currency: shop.currency,
    publicKey: shop.publicKey,
    origins: shop.origins,
    platform: shop.platform,
    shopifyDomain: shop.shopifyDomain,
    createdAt: shop.createdAt,
  };
}
