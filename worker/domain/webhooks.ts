/**
 * Webhook rules that need no database: which URLs an endpoint may have, which events it gets,
 * when a failed attempt is tried again, and when an endpoint that keeps failing is paused.
 */

/** Why a URL is refused, or null when it may be used. */
export function webhookUrlProblem(text: string, options: { demo: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not an absolute URL";
  }
  if (url.username || url.password) return "must not carry a user name or password";
  const host = url.hostname.toLowerCase();
  const loopbackName = host === "localhost" || host === "127.0.0.1";
  if (url.protocol === "http:") {
    // Plain http only to the developer's own machine, and only with the demo on (npm start).
    if (!(options.demo && loopbackName && url.port)) {
      return options.demo
        ? "must be https (http only to http://127.0.0.1:<port> or http://localhost:<port>)"
        : "must be https";
    }
    return null;
  }
  if (url.protocol !== "https:") return "must be https";
  return hostProblem(host);
}

/** Why a host (a name or an address literal, as URL parsing normalised it) is refused. */
export function hostProblem(host: string): string | null {
  const name = host.replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return "points at this machine (localhost)";
  if (/\.(local|internal|lan|home\.arpa)$/.test(name)) return "is a private network name";
  if (name.startsWith("[")) return ipv6Problem(name.slice(1, -1));
  const v4 = ipv4Of(name);
  if (v4) return ipv4Problem(v4);
  if (!name.includes(".")) return "is not a public host name";
  return null;
}

/** An address a name resolved to (DNS), checked like a literal. */
export function addressProblem(address: string): string | null {
  if (address.includes(":")) return ipv6Problem(address);
  const v4 = ipv4Of(address);
  return v4 ? ipv4Problem(v4) : "is not an IP address";
}

/** The four octets of a dotted IPv4 address (URL parsing has already turned 0x7f.1 and 2130706433 into dotted form). */
function ipv4Of(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function ipv4Problem([a, b, c]: number[]): string | null {
  if (a === 127) return "is a loopback address";
  if (a === 0) return "is not a routable address";
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return "is a private address";
  if (a === 100 && b! >= 64 && b! <= 127) return "is a carrier-grade NAT (private) address";
  if (a === 169 && b === 254) return "is a link-local address";
  if (a === 192 && b === 0 && c === 0) return "is a reserved address";
  if (a === 198 && (b === 18 || b === 19)) return "is a benchmarking (private) address";
  if (a! >= 224) return "is a multicast or reserved address";
  return null;
}

function ipv6Problem(address: string): string | null {
  const text = address.toLowerCase();
  const groups = expandIpv6(text);
  if (!groups) return "is not a valid IPv6 address";
  if (groups.every((g) => g === 0)) return "is not a routable address";
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return "is a loopback address";
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): the IPv4 address inside decides.
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (mapped || nat64) {
    return ipv4Problem([groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff]);
  }
  const first = groups[0]!;
  if ((first & 0xfe00) === 0xfc00) return "is a private (unique local) address";
  if ((first & 0xffc0) === 0xfe80) return "is a link-local address";
  if ((first & 0xff00) === 0xff00) return "is a multicast address";
  return null;
}

/** Eight 16-bit groups of an IPv6 address (a dotted IPv4 tail allowed), or null. */
function expandIpv6(text: string): number[] | null {
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  let body = text;
  if (v4) {
    const octets = ipv4Of(v4[1]!);
    if (!octets) return null;
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    body = `${text.slice(0, -v4[1]!.length)}${hex(octets[0]!, octets[1]!)}:${hex(octets[2]!, octets[3]!)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part ? part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : Number.NaN)) : []);
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if ([...head, ...rest].some(Number.isNaN)) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  if (head.length + rest.length > 7) return null;
  return [...head, ...Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

/** Whether an endpoint subscribed to `events` gets an event of `type`. */
export function subscribes(events: readonly string[], type: string): boolean {
  return events.includes("*") || events.includes(type);
}

/**
 * Seconds before the next attempt, after attempt `attempt` (1 = the first) of a queue message
 * failed: 30 s, 5 min, 30 min, 2 h, 6 h, 12 h, 12 h (12 h is the longest delay a queue allows).
 * Eight attempts in all, spread over about 32 hours; then the message goes to the dead-letter
 * queue. wrangler.toml's `max_retries` for the webhooks queue is RETRY_DELAYS.length.
 */
export const RETRY_DELAYS = [30, 300, 1800, 7200, 21_600, 43_200, 43_200] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS.length + 1;

/** The delay before the attempt after `attempt`, or null when that was the last one. */
export function retryDelaySeconds(attempt: number): number | null {
  return attempt >= 1 && attempt <= RETRY_DELAYS.length ? RETRY_DELAYS[attempt - 1]! : null;
}

/** An endpoint whose every attempt has failed for this long is paused and the merchant told. */
export const PAUSE_AFTER_FAILING_MS = 3 * 86_400_000;

export function shouldPause(failingSince: string | null, now: Date): boolean {
  return failingSince !== null && now.getTime() - Date.parse(failingSince) >= PAUSE_AFTER_FAILING_MS;
}

/** How long a receiver has to answer, and how much of its answer is kept. */
export const DELIVERY_TIMEOUT_MS = 10_000;
export const RESPONSE_KEPT_BYTES = 2048;
