/**
 * Where a host name points, through a DNS-over-HTTPS resolver's JSON API (the `WEBHOOK_DNS_RESOLVER`
 * var, e.g. https://cloudflare-dns.com/dns-query): `GET ?name=<host>&type=A|AAAA` with
 * `accept: application/dns-json` answers `{Status, Answer: [{name, type, data}]}`, type 1 an IPv4
 * and 28 an IPv6 address. Workers cannot open raw DNS, so without the var nothing is looked up
 * (Cloudflare's edge does not reach private networks from a worker anyway). A resolver that
 * fails or is slow refuses nothing: the literal checks still hold.
 */
import { addressProblem } from "../domain/webhooks";

interface DnsJson {
  Status?: number;
  Answer?: { type?: number; data?: string }[];
}

export async function resolvedAddressProblem(resolver: string | undefined, host: string, fetcher: typeof fetch = fetch): Promise<string | null> {
  if (!resolver || host.startsWith("[") || /^\d+(\.\d+){3}$/.test(host)) return null;
  const lookups = ["A", "AAAA"].map(async (type) => {
    try {
      const url = `${resolver}?name=${encodeURIComponent(host)}&type=${type}`;
      const response = await fetcher(url, { headers: { accept: "application/dns-json" }, signal: AbortSignal.timeout(2000) });
      if (!response.ok) return [];
      const answer = (await response.json()) as DnsJson;
      return (answer.Answer ?? []).filter((a) => a.type === 1 || a.type === 28).map((a) => String(a.data ?? ""));
    } catch {
      return [];
    }
  });
  for (const address of (await Promise.all(lookups)).flat()) {
    const problem = addressProblem(address);
    if (problem) return `resolves to ${address}, which ${problem}`;
  }
  return null;
}
