/**
 * The webhook endpoints API: add (the secret shown once, stored sealed), read, change, pause,
 * delete, test events and the delivery log; URL safety and bad input refused with nothing stored.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { openWebhookSecret } from "../../worker/auth/webhook-secrets";
import { addressProblem, webhookUrlProblem } from "../../worker/domain/webhooks";
import { call, expectError, makeShop, orderPaid, type TestShop } from "./helpers";
import { startReceiver } from "./webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

const create = (shop: TestShop, body: unknown) => call("POST", "/v1/webhooks", { token: shop.secretKey, body });

async function tableCounts() {
  const one = async (table: string) => (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>())!.n;
  return { endpoints: await one("webhook_endpoints"), deliveries: await one("webhook_deliveries") };
}

describe("adding an endpoint", () => {
  it("answers 201 with the endpoint and its secret, shown once and stored sealed", async () => {
    const shop = await makeShop();
    const res = await create(shop, { url: "https://hooks.example/in", events: ["points.earned", "tier.changed"], description: "CRM" });
    expect(res.status).toBe(201);
    const { webhook, secret } = res.body;
    expect(webhook).toMatchObject({ url: "https://hooks.example/in", events: ["points.earned", "tier.changed"], enabled: true, description: "CRM" });
    expect(webhook.id).toMatch(/^wh_[0-9a-f]{24}$/);
    expect(Date.parse(webhook.createdAt)).not.toBeNaN();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice(6))).toHaveLength(32);
    // Never again: not in reads, not in the database as it is.
    const read = await call("GET", `/v1/webhooks/${webhook.id}`, { token: shop.secretKey });
    const list = await call("GET", "/v1/webhooks", { token: shop.secretKey });
    expect(JSON.stringify([read.body, list.body])).not.toContain("whsec_");
    expect(read.body.webhook).toEqual(webhook);
    expect(list.body.webhooks).toEqual([webhook]);
    const row = await env.DB.prepare("SELECT * FROM webhook_endpoints WHERE id = ?").bind(webhook.id).first<Record<string, unknown>>();
    const dump = JSON.stringify(row);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice(6));
    // Only the worker's own secret opens it.
    expect(await openWebhookSecret(env, String(row!.sealed_secret))).toBe(secret);
    expect(await openWebhookSecret({ ADMIN_TOKEN: "another-operator-token" }, String(row!.sealed_secret))).toBeNull();
  });

  it('["*"] takes every event; repeats are dropped', async () => {
    const shop = await makeShop();
    expect((await create(shop, { url: "https://hooks.example/a", events: ["*"] })).body.webhook.events).toEqual(["*"]);
    expect((await create(shop, { url: "https://hooks.example/b", events: ["points.earned", "*"] })).body.webhook.events).toEqual(["*"]);
    expect((await create(shop, { url: "https://hooks.example/c", events: ["tier.changed", "tier.changed"] })).body.webhook.events).toEqual([
      "tier.changed",
    ]);
  });

  it("bad input is 400 invalid_request with details, and nothing is stored", async () => {
    const shop = await makeShop();
    const before = await tableCounts();
    const cases: unknown[] = [
      { url: "https://hooks.example/x", events: ["points.gained"] },
      { url: "https://hooks.example/x", events: [] },
      { url: "https://hooks.example/x" },
      { events: ["*"] },
      { url: 42, events: ["*"] },
      { url: "https://hooks.example/x", events: "points.earned" },
      { url: "https://hooks.example/x", events: ["*"], secret: "whsec_mine" },
      { url: "https://hooks.example/x", events: ["*"], description: "x".repeat(501) },
    ];
    for (const body of cases) {
      const res = await create(shop, body);
      expectError(res, 400, "invalid_request");
      expect(Array.isArray(res.body.error.details)).toBe(true);
    }
    expectError(await call("POST", "/v1/webhooks", { token: shop.secretKey, raw: "{not json" }), 400, "invalid_request");
    expectError(
      await call("POST", "/v1/webhooks", { token: shop.secretKey, raw: "url=x", headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
    expect(await tableCounts()).toEqual(before);
  });

  it("URLs that are not https, or lead to private, loopback or link-local addresses, are 422 url_not_allowed, nothing stored", async () => {
    const shop = await makeShop();
    const before = await tableCounts();
    const refused = [
      "http://hooks.example/in",
      "ftp://hooks.example/in",
      "not a url",
      "https://user:pass@hooks.example/in",
      "https://10.1.2.3/in",
      "https://172.16.0.9/in",
      "https://192.168.1.10/in",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/in",
      "https://0.0.0.0/in",
      "https://[::1]/in",
      "https://[fe80::1]/in",
      "https://[fd00::5]/in",
      "https://[::ffff:10.0.0.1]/in",
      "https://[::ffff:169.254.169.254]/in",
      "https://2130706433/in",
      "https://0x7f.0.0.1/in",
      "https://printer.local/in",
      "https://metadata.google.internal/in",
      "https://intranet/in",
      "https://sub.localhost/in",
      "http://127.0.0.1/in",
      "https://127.0.0.1/in",
      "https://localhost:8443/in",
    ];
    for (const url of refused) {
      const res = await create(shop, { url, events: ["*"] });
      expectError(res, 422, "url_not_allowed");
    }
    expect(await tableCounts()).toEqual(before);
  });

  it("http to 127.0.0.1 or localhost with a port only while DEMO is on (it is, in the tests)", async () => {
    const shop = await makeShop();
    expect((await create(shop, { url: "http://127.0.0.1:8899/hooks", events: ["*"] })).status).toBe(201);
    expect((await create(shop, { url: "http://localhost:8899/hooks", events: ["*"] })).status).toBe(201);
    expect(webhookUrlProblem("http://127.0.0.1:8899/hooks", { demo: false })).toBe("must be https");
    expect(webhookUrlProblem("https://127.0.0.1/hooks", { demo: false })).toBe("is a loopback address");
    expect(webhookUrlProblem("https://hooks.example/in", { demo: false })).toBeNull();
    expect(webhookUrlProblem("https://[2606:4700::1111]/in", { demo: false })).toBeNull();
    expect(addressProblem("10.0.0.1")).not.toBeNull();
    expect(addressProblem("fe80::abcd")).not.toBeNull();
    expect(addressProblem("::ffff:192.168.0.1")).not.toBeNull();
    expect(addressProblem("93.184.216.34")).toBeNull();
  });

  it("a host name that resolves to a private address is refused where a resolver is configured (DNS-over-HTTPS JSON)", async () => {
    const { resolvedAddressProblem } = await import("../../worker/adapters/dns");
    const doh = async (input: RequestInfo | URL) => {
      const url = new URL(String(input));
      const name = url.searchParams.get("name");
      const type = url.searchParams.get("type");
      const answers: Record<string, { type: number; data: string }[]> = {
        "rebind.example:A": [{ type: 1, data: "10.0.0.7" }],
        "fine.example:A": [{ type: 1, data: "93.184.216.34" }],
        "v6.example:AAAA": [{ type: 28, data: "fd12::1" }],
      };
      return Response.json({ Status: 0, Answer: answers[`${name}:${type}`] ?? [] });
    };
    const resolver = "https://dns.example/dns-query";
    expect(await resolvedAddressProblem(resolver, "rebind.example", doh as typeof fetch)).toContain("10.0.0.7");
    expect(await resolvedAddressProblem(resolver, "v6.example", doh as typeof fetch)).toContain("fd12::1");
    expect(await resolvedAddressProblem(resolver, "fine.example", doh as typeof fetch)).toBeNull();
    // No resolver configured, or one that fails: the literal checks alone.
    expect(await resolvedAddressProblem(undefined, "rebind.example", doh as typeof fetch)).toBeNull();
    const down = (async () => {
      throw new Error("offline");
    }) as typeof fetch;
    expect(await resolvedAddressProblem(resolver, "rebind.example", down)).toBeNull();
  });

  it("needs the shop's secret key (401 before anything else), and a shop has at most 20 endpoints", async () => {
    const shop = await makeShop();
    expectError(await call("POST", "/v1/webhooks", { body: { url: "https://hooks.example/x", events: ["*"] } }), 401, "unauthorized");
    expectError(await call("GET", "/v1/webhooks/wh_nope/deliveries"), 401, "unauthorized");
    expectError(await call("GET", "/v1/webhooks", { token: "sk_wrong" }), 401, "unauthorized");
    for (let i = 0; i < 20; i++) expect((await create(shop, { url: `https://hooks.example/${i}`, events: ["*"] })).status).toBe(201);
    expectError(await create(shop, { url: "https://hooks.example/21", events: ["*"] }), 422, "rule_violation");
  });
});

describe("changing, pausing and deleting", () => {
  it("PATCH changes the URL, events and description; pause and resume; the URL rules hold", async () => {
    const shop = await makeShop();
    const { webhook } = (await create(shop, { url: "https://hooks.example/a", events: ["*"] })).body;
    const path = `/v1/webhooks/${webhook.id}`;
    const changed = await call("PATCH", path, { token: shop.secretKey, body: { url: "https://hooks.example/b", events: ["tier.changed"], description: "ESP" } });
    expect(changed.status).toBe(200);
    expect(changed.body.webhook).toMatchObject({ url: "https://hooks.example/b", events: ["tier.changed"], description: "ESP", enabled: true });
    const paused = await call("PATCH", path, { token: shop.secretKey, body: { enabled: false } });
    expect(paused.body.webhook).toMatchObject({ enabled: false, pausedReason: "merchant" });
    expect(paused.body.webhook.pausedAt).not.toBeNull();
    const resumed = await call("PATCH", path, { token: shop.secretKey, body: { enabled: true } });
    expect(resumed.body.webhook).toMatchObject({ enabled: true, pausedReason: null, pausedAt: null });
    expectError(await call("PATCH", path, { token: shop.secretKey, body: { url: "https://10.0.0.1/x" } }), 422, "url_not_allowed");
    expectError(await call("PATCH", path, { token: shop.secretKey, body: { events: ["nope"] } }), 400, "invalid_request");
    expectError(await call("PATCH", path, { token: shop.secretKey, body: { enabled: "yes" } }), 400, "invalid_request");
    expect((await call("GET", path, { token: shop.secretKey })).body.webhook.url).toBe("https://hooks.example/b");
  });

  it("DELETE removes it and its log; another shop's endpoint is 404 everywhere", async () => {
    const shop = await makeShop();
    const other = await makeShop();
    const { webhook } = (await create(shop, { url: "https://hooks.example/a", events: ["*"] })).body;
    const path = `/v1/webhooks/${webhook.id}`;
    for (const [method, suffix, body] of [
      ["GET", "", undefined],
      ["PATCH", "", { enabled: false }],
      ["DELETE", "", undefined],
      ["GET", "/deliveries", undefined],
      ["POST", "/test", {}],
      ["POST", "/deliveries/dlv_x/retry", undefined],
    ] as const) {
      expectError(await call(method, `${path}${suffix}`, { token: other.secretKey, body }), 404, "not_found");
    }
    expect((await call("GET", "/v1/webhooks", { token: other.secretKey })).body.webhooks).toEqual([]);
    expect((await call("DELETE", path, { token: shop.secretKey })).body).toEqual({ deleted: true });
    expectError(await call("GET", path, { token: shop.secretKey }), 404, "not_found");
    expectError(await call("DELETE", path, { token: shop.secretKey }), 404, "not_found");
  });
});

describe("test events and the delivery log", () => {
  it("a test event is signed, sent to this endpoint alone (even paused) and logged", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const a = (await create(shop, { url: "https://hooks.example/a", events: ["*"] })).body;
    const b = (await create(shop, { url: "https://hooks.example/b", events: ["*"] })).body;
    receiver.secretFor("https://hooks.example/a", a.secret);
    await call("PATCH", `/v1/webhooks/${a.webhook.id}`, { token: shop.secretKey, body: { enabled: false } });
    const res = await call("POST", `/v1/webhooks/${a.webhook.id}/test`, { token: shop.secretKey, body: { type: "points.expiring" } });
    expect(res.status).toBe(202);
    expect(res.body.delivery).toMatchObject({ type: "points.expiring", status: "pending", attempts: 0 });
    const [got] = await receiver.until((r) => (r.length ? r : null));
    expect(got!.url).toBe("https://hooks.example/a");
    expect(got!.signatureValid).toBe(true);
    expect(got!.payload).toMatchObject({ type: "points.expiring", shopId: shop.id, test: true });
    expect(got!.payload.data).toHaveProperty("expiresAt");
    // Without a body: a member.created sample.
    const plain = await call("POST", `/v1/webhooks/${b.webhook.id}/test`, { token: shop.secretKey });
    expect(plain.status).toBe(202);
    expect(plain.body.delivery.type).toBe("member.created");
    expectError(await call("POST", `/v1/webhooks/${b.webhook.id}/test`, { token: shop.secretKey, body: { type: "nope" } }), 400, "invalid_request");
    const deadline = Date.now() + 20_000;
    let log: any[] = [];
    while (Date.now() < deadline) {
      log = (await call("GET", `/v1/webhooks/${a.webhook.id}/deliveries`, { token: shop.secretKey })).body.deliveries;
      if (log[0]?.status === "delivered") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ id: res.body.delivery.id, eventId: got!.id, status: "delivered", attempts: 1, lastStatus: 200, nextAttemptAt: null });
  });

  it("the log pages newest first with a cursor and filters by status; a bad cursor is 400", async () => {
    const receiver = startReceiver();
    const shop = await makeShop();
    const { webhook, secret } = (await create(shop, { url: "https://hooks.example/log", events: ["points.earned"] })).body;
    receiver.secretFor("https://hooks.example/log", secret);
    for (let i = 0; i < 5; i++) await orderPaid(shop, { id: `o${i}`, customerId: "c1", subtotal: "10.00" });
    await receiver.until((r) => r.length >= 5);
    const path = `/v1/webhooks/${webhook.id}/deliveries`;
    const first = await call("GET", `${path}?limit=2`, { token: shop.secretKey });
    expect(first.body.deliveries).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call("GET", `${path}?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`, { token: shop.secretKey });
    const third = await call("GET", `${path}?limit=2&cursor=${encodeURIComponent(second.body.nextCursor)}`, { token: shop.secretKey });
    const ids = [...first.body.deliveries, ...second.body.deliveries, ...third.body.deliveries].map((d: any) => d.id);
    expect(new Set(ids).size).toBe(5);
    expect(third.body.nextCursor).toBeNull();
    for (const d of first.body.deliveries) {
      expect(Object.keys(d)).toEqual(
        expect.arrayContaining(["id", "eventId", "type", "status", "attempts", "lastStatus", "nextAttemptAt", "createdAt"]),
      );
    }
    expect((await call("GET", `${path}?status=failed`, { token: shop.secretKey })).body.deliveries).toEqual([]);
    expectError(await call("GET", `${path}?cursor=garbage`, { token: shop.secretKey }), 400, "invalid_request");
    expectError(await call("GET", `${path}?limit=0`, { token: shop.secretKey }), 400, "invalid_request");
    expectError(await call("GET", `${path}?status=lost`, { token: shop.secretKey }), 400, "invalid_request");
    expectError(await call("POST", `/v1/webhooks/${webhook.id}/deliveries/dlv_nope/retry`, { token: shop.secretKey }), 404, "not_found");
  });
});
