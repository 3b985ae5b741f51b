/**
 * Endpoint signing secrets. Shown once when the endpoint is created, then kept only sealed:
 * AES-GCM under a key derived from a worker secret (WEBHOOK_SECRETS_KEY, or ADMIN_TOKEN when it
 * is not set), so a copy of the database alone cannot sign a delivery. Changing that worker
 * secret means new endpoint secrets (delete and add the endpoints again).
 */
import { fromBase64, hmacSha256, randomBytes, toBase64 } from "../crypto";
import type { Env } from "../env";

/** `whsec_` and the base64 of 32 random bytes (the Standard Webhooks secret format). */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(randomBytes(32))}`;
}

async function sealingKey(env: Pick<Env, "WEBHOOK_SECRETS_KEY" | "ADMIN_TOKEN">): Promise<CryptoKey> {
  const material = env.WEBHOOK_SECRETS_KEY || env.ADMIN_TOKEN;
  if (!material) throw new Error("neither WEBHOOK_SECRETS_KEY nor ADMIN_TOKEN is set");
  const raw = await hmacSha256(material, "laurel-webhook-endpoint-secret-v1");
  // Our byte arrays never sit on a SharedArrayBuffer; the DOM lib's BufferSource type insists.
  return crypto.subtle.importKey("raw", raw as BufferSource, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

export async function sealWebhookSecret(env: Pick<Env, "WEBHOOK_SECRETS_KEY" | "ADMIN_TOKEN">, secret: string): Promise<string> {
  const iv = randomBytes(12);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: iv as BufferSource },
    await sealingKey(env),
    new TextEncoder().encode(secret),
  );
  return `v1.${toBase64(iv)}.${toBase64(sealed)}`;
}

/** The secret, or null when it was sealed under another key or altered. */
export async function openWebhookSecret(env: Pick<Env, "WEBHOOK_SECRETS_KEY" | "ADMIN_TOKEN">, sealed: string): Promise<string | null> {
  const [version, iv, data] = sealed.split(".");
  const ivBytes = iv ? fromBase64(iv) : null;
  const dataBytes = data ? fromBase64(data) : null;
  if (version !== "v1" || !ivBytes || !dataBytes) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: ivBytes as BufferSource },
      await sealingKey(env),
      dataBytes as BufferSource,
    );
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}
