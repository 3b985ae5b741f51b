/** Small Web Crypto helpers: random secrets, hashing, HMAC, constant-time comparison. */

const encoder = new TextEncoder();

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function toBase64Url(bytes: ArrayBuffer | Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Returns null for text that is not base64. */
export function fromBase64(text: string): Uint8Array | null {
  try {
    const binary = atob(text);
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

export async function hmacSha256(key: Uint8Array | string, message: string | Uint8Array): Promise<Uint8Array> {
  // Our byte arrays never sit on a SharedArrayBuffer; the DOM lib's BufferSource type insists.
  const keyBytes = (typeof key === "string" ? encoder.encode(key) : key) as BufferSource;
  const cryptoKey = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const data = (typeof message === "string" ? encoder.encode(message) : message) as BufferSource;
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data));
}

/** Constant-time equality of two byte strings (length is not secret). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function timingSafeEqualText(a: string, b: string): boolean {
  return timingSafeEqual(encoder.encode(a), encoder.encode(b));
}

/** Crockford-style alphabet without the ambiguous 0/O, 1/I/L and U. */
const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ";

/** An unguessable code of `length` characters from the unambiguous alphabet (uniform: rejection sampling). */
export function randomCode(length: number): string {
  let code = "";
  while (code.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 240 = 8 * 30: values above it would bias the alphabet.
      if (byte < 240 && code.length < length) code += CODE_ALPHABET[byte % 30];
    }
  }
  return code;
}

/** A code in groups of four split by '-': "7KQM-X3PA-RT9C". */
export function groupedCode(groups: number): string {
  const raw = randomCode(groups * 4);
  return raw.match(/.{4}/g)!.join("-");
}
