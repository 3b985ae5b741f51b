import { randomBytes, randomCode, sha256Hex, toBase64, toBase64Url } from "../crypto";

/** The credentials a shop is created with; the secret key is stored only as a hash. */
export interface ShopCredentials {
  publicKey: string;
  secretKey: string;
  webhookSecret: string;
  widgetSecret: string;
}

export function newShopCredentials(): ShopCredentials {
  return {
    publicKey: `pk_${randomCode(24).toLowerCase()}`,
    secretKey: `sk_${toBase64Url(randomBytes(32))}`,
    webhookSecret: `whsec_${toBase64(randomBytes(32))}`,
    widgetSecret: `wsec_${toBase64Url(randomBytes(32))}`,
  };
}

/** Secret keys carry 256 bits of entropy, so a plain SHA-256 is a safe one-way hash for lookup. */
export function hashSecretKey(secretKey: string): Promise<string> {
  return sha256Hex(`laurel-secret-key:${secretKey}`);
}

export function newId(prefix: string): string {
  return `${prefix}_${randomCode(16).toLowerCase()}`;
}
