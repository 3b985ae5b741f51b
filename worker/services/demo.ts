/**
 * The demo shop behind `npm start` (only when DEMO=on). Its credentials are derived from the
 * operator's ADMIN_TOKEN, so every start finds the same shop and keys without storing a secret
 * in clear anywhere, and a fresh local database gets the same shop back.
 */
import { hmacSha256, toBase64, toBase64Url } from "../crypto";
import type { ShopCredentials } from "../auth/keys";
import type { Env } from "../env";
import { shopById } from "../store/shops";
import { createShop } from "./shops";

export const DEMO_SHOP_ID = "shop_demo";

/** The two shoppers the demo shop's switcher offers (besides a guest). */
export const DEMO_CUSTOMERS = [
  { id: "demo-ada", firstName: "Ada", email: "ada@example.com" },
  { id: "demo-ben", firstName: "Ben", email: "ben@example.com" },
] as const;

async function derive(adminToken: string, label: string): Promise<Uint8Array> {
  return hmacSha256(adminToken, `laurel-demo:${label}`);
}

export async function demoCredentials(adminToken: string): Promise<ShopCredentials> {
  const publicBytes = await derive(adminToken, "public");
  return {
    publicKey: `pk_demo${[...publicBytes.slice(0, 10)].map((b) => b.toString(36).padStart(2, "0")).join("")}`,
    secretKey: `sk_${toBase64Url(await derive(adminToken, "secret"))}`,
    webhookSecret: `whsec_${toBase64(await derive(adminToken, "webhook"))}`,
    widgetSecret: `wsec_${toBase64Url(await derive(adminToken, "widget"))}`,
  };
}

/** Creates the demo shop on first call; returns it with its credentials every time. */
export async function ensureDemoShop(env: Env, origins: string[]) {
  const credentials = await demoCredentials(env.ADMIN_TOKEN);
  let shop = await shopById(env.DB, DEMO_SHOP_ID);
  if (!shop) {
    try {
      shop = (
        await createShop(
          env.DB,
          { name: "Juniper & Oak (demo)", currency: "EUR", origins, platform: "custom" },
          { id: DEMO_SHOP_ID, credentials },
        )
      ).shop;
    } catch (err) {
      // Two starts at once: the other one created it.
      shop = await shopById(env.DB, DEMO_SHOP_ID);
      if (!shop) throw err;
    }
  }
  return { shop, ...credentials };
}
