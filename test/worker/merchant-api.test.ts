/**
 * The merchant and operator API: shop creation, the program, customers, ledger,
 * adjustments (idempotent), GDPR export and delete, isolation between shops (§2 invariant 5), and
 * the error contract for bad input everywhere: the right 4xx, the error shape, nothing changed.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  assertLedgerInvariants,
  call,
  callWith,
  customer,
  expectError,
  faultyDb,
  ledgerOf,
  makeShop,
  orderPaid,
  postAdjustment,
  sendEvent,
  setProgram,
  snapshot,
  type TestShop,
} from "./helpers";

/** Everything of one shop that another shop's requests must never touch. */
async function shopState(shopId: string) {
  const rows = async (sql: string) => (await env.DB.prepare(sql).bind(shopId).all()).results;
  return {
    shop: await rows("SELECT * FROM shops WHERE id = ?"),
    customers: await rows("SELECT * FROM customers WHERE shop_id = ? ORDER BY id"),
    ledger: await rows("SELECT * FROM ledger WHERE shop_id = ? ORDER BY id"),
    orders: await rows("SELECT * FROM orders WHERE shop_id = ? ORDER BY id"),
    refunds: await rows("SELECT * FROM order_refunds WHERE shop_id = ? ORDER BY order_external_id, refund_id"),
    events: await rows("SELECT * FROM received_events WHERE shop_id = ? ORDER BY event_id"),
    keys: await rows("SELECT * FROM idempotency_keys WHERE shop_id = ? ORDER BY scope, key"),
  };
}

const program = (shop: TestShop) => call("GET", "/v1/program", { token: shop.secretKey });

describe("operator: POST /v1/shops", { timeout: 30_000 }, () => {
  it("creates a shop with its secrets shown once, in the documented forms", async () => {
    const res = await call("POST", "/v1/shops", {
      token: ADMIN,
      body: { name: "Ada's Books", currency: "EUR", origins: ["https://books.example", "http://localhost:3000"] },
    });
    expect(res.status).toBe(201);
    const { shop, secretKey, webhookSecret, widgetSecret } = res.body;
    expect(shop).toMatchObject({
      name: "Ada's Books",
      currency: "EUR",
      origins: ["https://books.example", "http://localhost:3000"],
      platform: "custom",
    });
    expect(typeof shop.id).toBe("string");
    expect(shop.publicKey).toMatch(/^pk_/);
    expect(secretKey).toMatch(/^sk_/);
    expect(typeof widgetSecret).toBe("string");
    expect(webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(webhookSecret.slice("whsec_".length)).length).toBe(32);
    // The shop view carries no secret.
    const view = JSON.stringify(shop);
    for (const secret of [secretKey, webhookSecret, widgetSecret]) expect(view).not.toContain(secret);
    // The secret key is stored only as a hash.
    const row = await env.DB.prepare("SELECT * FROM shops WHERE id = ?").bind(shop.id).first();
    expect(JSON.stringify(row)).not.toContain(secretKey);
    // The new key works at once; every shop gets its own secrets.
    expect((await call("GET", "/v1/program", { token: secretKey })).status).toBe(200);
    const other = await makeShop();
    expect(other.secretKey).not.toBe(secretKey);
    expect(other.webhookSecret).not.toBe(webhookSecret);
    expect(other.publicKey).not.toBe(shop.publicKey);
  });

  it("refuses without the admin token, with a wrong one, and bad input, changing nothing", async () => {
    const shop = await makeShop();
    const before = await snapshot();
    const body = { name: "X", currency: "EUR", origins: [] };
    expectError(await call("POST", "/v1/shops", { body }), 401, "unauthorized");
    expectError(await call("POST", "/v1/shops", { body, token: "not-the-admin-token" }), 401, "unauthorized");
    expectError(await call("POST", "/v1/shops", { body, token: `${ADMIN}x` }), 401, "unauthorized");
    expectError(await call("POST", "/v1/shops", { body, token: shop.secretKey }), 401, "unauthorized");
    expectError(await call("POST", "/v1/shops", { body, headers: { authorization: `Basic ${btoa(`admin:${ADMIN}`)}` } }), 401, "unauthorized");
    for (const currency of ["EURO", "eur", "ZZZ", "", "E1R", 978]) {
      expectError(await call("POST", "/v1/shops", { token: ADMIN, body: { ...body, currency } }), 400, "invalid_request");
    }
    const bad = [
      { currency: "EUR", origins: [] }, // no name
      { ...body, name: "" },
      { ...body, origins: ["https://shop.example/path"] },
      { ...body, origins: "https://shop.example" },
      { ...body, platform: "magento" },
      { ...body, platform: "shopify" }, // without its shopifyDomain
      { ...body, platform: "shopify", shopifyDomain: "https://evil.example" },
    ];
    for (const b of bad) {
      const res = await call("POST", "/v1/shops", { token: ADMIN, body: b });
      expectError(res, 400, "invalid_request");
    }
    expectError(await call("POST", "/v1/shops", { token: ADMIN, raw: '{"name":"X",' }), 400, "invalid_request");
    expectError(
      await call("POST", "/v1/shops", { token: ADMIN, raw: JSON.stringify(body), headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
    expect(await snapshot()).toEqual(before);
  });
});

describe("program", { timeout: 30_000 }, () => {
  it("a new shop has the documented default program", async () => {
    const shop = await makeShop();
    const res = await program(shop);
    expect(res.status).toBe(200);
    const p = res.body.program;
    // 1 point per whole currency unit of the eligible amount, rounded down, shipping and tax excluded.
    expect(p.earning).toMatchObject({
      pointsPerUnit: 1,
      rounding: "floor",
      includeShipping: false,
      includeTax: false,
      productTypeMultipliers: {},
    });
    expect(Number(p.earning.minOrder)).toBe(0);
    expect(p.earning.boosts ?? []).toEqual([]);
    // No other way to earn, no expiry, no tiers.
    expect(p.waysToEarn).toMatchObject({ signup: 0, birthday: 0, review: 0, nps: 0 });
    expect(p.waysToEarn.social ?? 0).toBe(0);
    expect(p.waysToEarn.custom ?? {}).toEqual({});
    expect(p.referral.referrerPoints).toBe(0);
    expect(p.expiry).toEqual({ days: null });
    expect(p.tiers).toEqual([]);
    expect(typeof p.pointValue).toBe("string");
    expect(p.branding).toBeTypeOf("object");
    // And it behaves so: 49.99 + 5.00 shipping + 9.50 tax -> 49 points.
    const order = await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "49.99", shipping: "5.00", tax: "9.50" });
    expect(order.body).toMatchObject({ points: 49, balance: 49 });
  });

  it("PUT takes the whole program back, validated; a refused one changes nothing", async () => {
    const shop = await makeShop();
    const saved = await setProgram(shop, (p) => {
      p.earning.pointsPerUnit = 2.5;
      p.earning.rounding = "ceil";
      p.waysToEarn.signup = 50;
      p.tiers = [{ name: "Silver", basis: "spend", threshold: 100, windowDays: 365, multiplier: 1.25, perks: "Free gift" }];
      p.unknownField = "ignored";
    });
    expect(saved.earning).toMatchObject({ pointsPerUnit: 2.5, rounding: "ceil" });
    const current = (await program(shop)).body;
    expect(current.program).toEqual(saved);
    expect(current.program.unknownField).toBeUndefined();

    const before = await snapshot();
    const broken: [string, (p: any) => void][] = [
      ["bad rounding", (p) => (p.earning.rounding = "up")],
      ["negative rate", (p) => (p.earning.pointsPerUnit = -1)],
      ["rate as text", (p) => (p.earning.pointsPerUnit = "2")],
      ["five decimal places", (p) => (p.earning.pointsPerUnit = 1.00001)],
      ["negative signup", (p) => (p.waysToEarn.signup = -5)],
      ["fractional points", (p) => (p.waysToEarn.review = 1.5)],
      ["min order in float", (p) => (p.earning.minOrder = 20)],
      ["min order negative", (p) => (p.earning.minOrder = "-20.00")],
      ["bad tier basis", (p) => (p.tiers[0].basis = "vibes")],
      ["expiry zero days", (p) => (p.expiry.days = 0)],
      ["missing earning", (p) => delete p.earning],
      ["bad multiplier", (p) => (p.earning.productTypeMultipliers = { book: "x2" })],
    ];
    for (const [name, change] of broken) {
      const body = structuredClone(current);
      change(body.program);
      const res = await call("PUT", "/v1/program", { token: shop.secretKey, body });
      try {
        expectError(res, 400, "invalid_request");
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
      expect(Array.isArray(res.body.error.details), name).toBe(true);
    }
    expectError(await call("PUT", "/v1/program", { token: shop.secretKey, body: current.program }), 400, "invalid_request");
    expectError(await call("PUT", "/v1/program", { token: shop.secretKey, body: {} }), 400, "invalid_request");
    expect((await program(shop)).body).toEqual(current);
    expect(await snapshot()).toEqual(before);
  });
});

describe("isolation between shops", { timeout: 30_000 }, () => {
  it("for every merchant route, shop B's key sees and changes nothing of shop A's", async () => {
    const a = await makeShop();
    const b = await makeShop();
    await setProgram(a, (p) => {
      p.earning.pointsPerUnit = 3;
      p.waysToEarn.signup = 7;
    });
    await sendEvent(a, { type: "customer.created", customer: { id: "a1", email: "alice@a.example", firstName: "Alice" } });
    await orderPaid(a, { id: "oA", customerId: "a1", subtotal: "10.00", email: "alice@a.example" }); // 7 + 30
    await postAdjustment(a, "a1", { points: 5, note: "welcome" }, "key-a");
    await orderPaid(b, { id: "oB", customerId: "b1", subtotal: "4.00" });
    const stateA = await shopState(a.id);
    const programA = (await program(a)).body;
    expect(await customer(a, "a1")).toMatchObject({ balance: 42 });

    const asB = (method: string, path: string, options: Parameters<typeof call>[2] = {}) =>
      call(method, path, { token: b.secretKey, ...options });

    // GET /v1/program: B's own.
    expect((await asB("GET", "/v1/program")).body.program.earning.pointsPerUnit).toBe(1);
    // PUT /v1/program: changes B's only.
    const bProgram = (await asB("GET", "/v1/program")).body;
    bProgram.program.earning.pointsPerUnit = 9;
    expect((await asB("PUT", "/v1/program", { body: bProgram })).status).toBe(200);
    // GET /v1/customers, with and without a search, and with a cursor taken from A's list.
    let list = await asB("GET", "/v1/customers");
    expect(list.body.customers.map((c: { id: string }) => c.id)).toEqual(["b1"]);
    list = await asB("GET", "/v1/customers?q=alice");
    expect(list.body.customers).toEqual([]);
    list = await asB("GET", "/v1/customers?q=a1");
    expect(list.body.customers).toEqual([]);
    list = await asB("GET", "/v1/customers?cursor=999999999");
    expect(list.body.customers.map((c: { id: string }) => c.id)).toEqual(["b1"]);
    // Every route for one of A's customer ids: 404.
    expectError(await asB("GET", "/v1/customers/a1"), 404, "not_found");
    expectError(await asB("GET", "/v1/customers/a1/ledger"), 404, "not_found");
    expectError(await asB("GET", "/v1/customers/a1/export"), 404, "not_found");
    expectError(await postAdjustment(b, "a1", { points: 100 }), 404, "not_found");
    expectError(await postAdjustment(b, "a1", { points: -5 }, "key-a"), 404, "not_found");
    expectError(await asB("DELETE", "/v1/customers/a1"), 404, "not_found");
    // Events for A's order id land in B's own namespace.
    await sendEvent(b, { type: "order.refunded", order: { id: "oA" }, refund: { id: "r1", amount: "10.00" } });
    await sendEvent(b, { type: "order.cancelled", order: { id: "oA" } });
    const own = await sendEvent(b, {
      type: "order.paid",
      order: { id: "oA", customerId: "a1", currency: "EUR", subtotal: "10.00", lines: [] },
    });
    expect(own.body).toMatchObject({ status: "processed", customerId: "a1", points: 0, balance: 0 });

    // A is exactly as it was; B's "a1" is B's own member.
    expect(await shopState(a.id)).toEqual(stateA);
    expect((await program(a)).body).toEqual(programA);
    expect(await customer(a, "a1")).toMatchObject({ balance: 42, email: "alice@a.example" });
    expect(await customer(b, "a1")).toMatchObject({ balance: 0, email: null });
    expect((await ledgerOf(a, "a1")).length).toBe(3);

    // And the other way round.
    expectError(await call("GET", "/v1/customers/b1", { token: a.secretKey }), 404, "not_found");
    expectError(await call("GET", "/v1/customers/b1/ledger", { token: a.secretKey }), 404, "not_found");
    await assertLedgerInvariants(a.id);
    await assertLedgerInvariants(b.id);
  });
});

describe("customers and ledger", { timeout: 30_000 }, () => {
  it("lists members newest first with a cursor, and searches id, email and first name", async () => {
    const shop = await makeShop();
    const names = ["Ada", "Bob", "Cyd", "Dee", "Eve", "Fay", "Gus"];
    for (const [i, name] of names.entries()) {
      const res = await sendEvent(shop, {
        type: "customer.created",
        customer: { id: `cust-${i + 1}`, email: `person${i + 1}@mail.test`, firstName: name },
      });
      expect(res.status).toBe(200);
    }
    const ids: string[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { customers: { id: string }[]; nextCursor: string | null } } = await call(
        "GET",
        `/v1/customers?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        { token: shop.secretKey },
      );
      expect(res.status).toBe(200);
      pages.push(res.body.customers.length);
      ids.push(...res.body.customers.map((c) => c.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual([3, 3, 1]);
    expect(ids).toEqual(["cust-7", "cust-6", "cust-5", "cust-4", "cust-3", "cust-2", "cust-1"]);

    const search = async (q: string, limit = 50) =>
      (await call("GET", `/v1/customers?limit=${limit}&q=${encodeURIComponent(q)}`, { token: shop.secretKey })).body;
    expect((await search("Eve")).customers.map((c: { id: string }) => c.id)).toEqual(["cust-5"]);
    expect((await search("person2@")).customers.map((c: { id: string }) => c.id)).toEqual(["cust-2"]);
    expect((await search("cust-1")).customers.map((c: { id: string }) => c.id)).toEqual(["cust-1"]);
    // LIKE wildcards are searched for literally.
    expect((await search("%")).customers).toEqual([]);
    expect((await search("_")).customers).toEqual([]);
    // A search pages too.
    const first = await search("mail.test", 5);
    expect(first.customers.length).toBe(5);
    const rest = (
      await call("GET", `/v1/customers?limit=5&q=mail.test&cursor=${first.nextCursor}`, { token: shop.secretKey })
    ).body;
    expect(rest.customers.map((c: { id: string }) => c.id)).toEqual(["cust-2", "cust-1"]);
    expect(rest.nextCursor).toBeNull();

    // One member in full.
    const one = await call("GET", "/v1/customers/cust-3", { token: shop.secretKey });
    expect(one.status).toBe(200);
    expect(one.body.customer).toMatchObject({
      id: "cust-3",
      email: "person3@mail.test",
      firstName: "Cyd",
      balance: 0,
      lifetimePoints: 0,
      tier: null,
    });
    expect(one.body.customer.referralCode).toMatch(/^[A-Z0-9]{8,}$/);
    // An external id with characters that need escaping in a path.
    await orderPaid(shop, { id: "o1", customerId: "shop/user 42?x=1", subtotal: "3.00" });
    expect(await customer(shop, "shop/user 42?x=1")).toMatchObject({ id: "shop/user 42?x=1", balance: 3 });
  });

  it("pages a ledger newest first", async () => {
    const shop = await makeShop();
    await sendEvent(shop, { type: "customer.created", customer: { id: "c1" } });
    for (let i = 1; i <= 5; i++) expect((await postAdjustment(shop, "c1", { points: 10, note: `n${i}` })).status).toBe(201);
    const pages: [number, number, string][][] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { entries: { delta: number; balanceAfter: number; note: string }[]; nextCursor: string | null } } =
        await call("GET", `/v1/customers/c1/ledger?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: shop.secretKey });
      expect(res.status).toBe(200);
      pages.push(res.body.entries.map((e) => [e.delta, e.balanceAfter, e.note]));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual([
      [
        [10, 50, "n5"],
        [10, 40, "n4"],
      ],
      [
        [10, 30, "n3"],
        [10, 20, "n2"],
      ],
      [[10, 10, "n1"]],
    ]);
    const [entry] = (await call("GET", "/v1/customers/c1/ledger?limit=1", { token: shop.secretKey })).body.entries;
    expect(Object.keys(entry)).toEqual(
      expect.arrayContaining(["id", "delta", "kind", "reference", "balanceAfter", "createdAt", "expiresAt"]),
    );
    expect(entry.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  });
});

describe("adjustments (Idempotency-Key)", { timeout: 30_000 }, () => {
  it("requires the key; replays the first response; refuses another body under the same key", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" }); // 100
    await orderPaid(shop, { id: "o2", customerId: "c2", subtotal: "1.00" }); // 1

    let before = await snapshot();
    expectError(await postAdjustment(shop, "c1", { points: 5 }, null), 400, "invalid_request");
    expectError(await postAdjustment(shop, "c1", { points: 5 }, ""), 400, "invalid_request");
    expectError(await postAdjustment(shop, "c1", { points: 5 }, "k".repeat(256)), 400, "invalid_request");
    expect(await snapshot()).toEqual(before);

    const first = await postAdjustment(shop, "c1", { points: -30, note: "returned gift" }, "adj-1");
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      balance: 70,
      entry: { delta: -30, kind: "adjustment", balanceAfter: 70, note: "returned gift", shortfall: 0 },
    });
    before = await snapshot();
    for (let i = 0; i < 3; i++) {
      const replay = await postAdjustment(shop, "c1", { points: -30, note: "returned gift" }, "adj-1");
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(first.body);
    }
    expect(await snapshot()).toEqual(before);
    expect((await customer(shop, "c1")).balance).toBe(70);

    // Same key, another body (or another customer): 422, nothing changes.
    expectError(await postAdjustment(shop, "c1", { points: -31, note: "returned gift" }, "adj-1"), 422, "idempotency_mismatch");
    expectError(await postAdjustment(shop, "c1", { points: -30, note: "other" }, "adj-1"), 422, "idempotency_mismatch");
    expectError(await postAdjustment(shop, "c2", { points: -30, note: "returned gift" }, "adj-1"), 422, "idempotency_mismatch");
    expect(await snapshot()).toEqual(before);
    expect((await customer(shop, "c2")).balance).toBe(1);

    // Keys are per shop: another shop may use the same key.
    const other = await makeShop();
    await orderPaid(other, { id: "o1", customerId: "c1", subtotal: "50.00" });
    expect((await postAdjustment(other, "c1", { points: -30, note: "returned gift" }, "adj-1")).body.balance).toBe(20);
    expect(await ledgerOf(shop, "c1")).toHaveLength(2);
  });

  it("refuses a debit the balance cannot cover and changes nothing", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "25.00" }); // 25
    const before = await snapshot();
    const ledgerBefore = await ledgerOf(shop, "c1");
    const res = await postAdjustment(shop, "c1", { points: -26 }, "too-much");
    expectError(res, 422, "insufficient_points");
    const after = await snapshot();
    // The ledger and balances are untouched (the key keeps the refusal, so a retry gets the same answer).
    expect({ ...after, idempotency_keys: 0 }).toEqual({ ...before, idempotency_keys: 0 });
    expect(await ledgerOf(shop, "c1")).toEqual(ledgerBefore);
    const replay = await postAdjustment(shop, "c1", { points: -26 }, "too-much");
    expect(replay.status).toBe(422);
    expect(replay.body).toEqual(res.body);
    // Exactly the balance is fine, and takes it to zero.
    const all = await postAdjustment(shop, "c1", { points: -25 });
    expect(all.body).toMatchObject({ balance: 0, entry: { delta: -25, balanceAfter: 0 } });
    expectError(await postAdjustment(shop, "c1", { points: -1 }), 422, "insufficient_points");
    // Unknown customers are 404 (adjustments do not create members).
    expectError(await postAdjustment(shop, "nobody", { points: 10 }), 404, "not_found");
    expect(await customer(shop, "nobody")).toBeUndefined();
    await assertLedgerInvariants(shop.id);
  });
});

describe("adjustments that fail after their write committed", { timeout: 30_000 }, () => {
  const adjustments = async (shopId: string) =>
    (await env.DB.prepare("SELECT delta FROM ledger WHERE shop_id = ? AND kind = 'adjustment'").bind(shopId).all()).results;
  const keyRow = (shopId: string, key: string) =>
    env.DB.prepare("SELECT status, reference, locked_until FROM idempotency_keys WHERE shop_id = ? AND key = ?")
      .bind(shopId, key)
      .first<{ status: number; reference: string | null; locked_until: string | null }>();
  const adjust = (shop: TestShop, key: string, db?: D1Database) =>
    db
      ? callWith({ DB: db }, "POST", "/v1/customers/c1/adjustments", {
          token: shop.secretKey,
          body: { points: -30, note: "gift" },
          headers: { "idempotency-key": key },
        })
      : postAdjustment(shop, "c1", { points: -30, note: "gift" }, key);
  /** Reading the new entry back fails: the request dies after its batch committed. */
  const entryReadFails = (sql: string) => /idempotency_key = \?/.test(sql);

  it("answers a retry from the committed write instead of 409 for days, and never moves points twice", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" }); // 100
    const broken = faultyDb(env.DB, entryReadFails);
    const first = await adjust(shop, "k-1", broken.db);
    expectError(first, 500, "internal_error");
    expect(broken.batches.some((sqls) => sqls.some((sql) => sql.includes("INSERT INTO ledger")))).toBe(true);
    expect(await adjustments(shop.id)).toEqual([{ delta: -30 }]);

    const retry = await adjust(shop, "k-1");
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ balance: 70, entry: { delta: -30, kind: "adjustment", balanceAfter: 70, note: "gift" } });
    for (let i = 0; i < 2; i++) {
      const again = await adjust(shop, "k-1");
      expect(again.status).toBe(201);
      expect(again.body).toEqual(retry.body);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
    }
    expect(await adjustments(shop.id)).toEqual([{ delta: -30 }]);
    expect((await customer(shop, "c1")).balance).toBe(70);
    expect((await keyRow(shop.id, "k-1"))?.status).toBe(201);
    await assertLedgerInvariants(shop.id);
  });

  it("answers at once when only the first read back failed", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" });
    let faults = 1;
    const flaky = faultyDb(env.DB, (sql) => entryReadFails(sql) && faults-- > 0);
    const first = await adjust(shop, "k-2", flaky.db);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ balance: 70, entry: { delta: -30, balanceAfter: 70 } });
    expect((await adjust(shop, "k-2")).body).toEqual(first.body);
    expect(await adjustments(shop.id)).toEqual([{ delta: -30 }]);
  });

  it("lets one retry take over a key whose request died, once its lock runs out", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" });
    // The isolate dies right after the batch: nothing after it reaches the database.
    const dying = faultyDb(env.DB, () => dying.batches.some((sqls) => sqls.some((sql) => sql.includes("INSERT INTO ledger"))));
    expectError(await adjust(shop, "k-3", dying.db), 500, "internal_error");
    const claim = await keyRow(shop.id, "k-3");
    expect(claim).toMatchObject({ status: 0, reference: expect.stringMatching(/^adjustment:/) });
    expect(Date.parse(claim!.locked_until!)).toBeGreaterThan(Date.now());

    // While the lock holds, the key is in progress: a retry is told to come back shortly.
    expectError(await adjust(shop, "k-3"), 409, "conflict");
    expect(await adjustments(shop.id)).toEqual([{ delta: -30 }]);

    await env.DB.prepare("UPDATE idempotency_keys SET locked_until = ? WHERE shop_id = ? AND key = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), shop.id, "k-3")
      .run();
    const retries = await Promise.all(Array.from({ length: 5 }, () => adjust(shop, "k-3")));
    for (const retry of retries) {
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(retries[0]!.body);
    }
    expect(retries[0]!.body).toMatchObject({ balance: 70, entry: { delta: -30, balanceAfter: 70 } });
    expect(await adjustments(shop.id)).toEqual([{ delta: -30 }]);
    expect(await keyRow(shop.id, "k-3")).toMatchObject({ status: 201, locked_until: null });
    await assertLedgerInvariants(shop.id);
  });

  it("leaves nothing locked when the write failed before committing", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "100.00" });
    const down = faultyDb(env.DB, (sql) => sql.includes("INSERT INTO ledger"));
    expectError(await adjust(shop, "k-4", down.db), 500, "internal_error");
    expect(await keyRow(shop.id, "k-4")).toBeNull();
    const retry = await adjust(shop, "k-4");
    expect(retry.status).toBe(201);
    expect(await adjustments(shop.id)).toEqual([{ delta: -30 }]);
  });
});

describe("GDPR", { timeout: 30_000 }, () => {
  it("exports everything held about a member: profile, ledger and orders", async () => {
    const shop = await makeShop();
    await sendEvent(shop, {
      type: "customer.created",
      customer: { id: "gdpr-1", email: "grace@example.com", firstName: "Grace", birthday: "12-09" },
    });
    await orderPaid(shop, { id: "o1", customerId: "gdpr-1", subtotal: "30.00", email: "grace@example.com" });
    await sendEvent(shop, { type: "order.refunded", order: { id: "o1" }, refund: { id: "r1", amount: "10.00" } });
    await postAdjustment(shop, "gdpr-1", { points: 3, note: "sorry" });
    const res = await call("GET", "/v1/customers/gdpr-1/export", { token: shop.secretKey });
    expect(res.status).toBe(200);
    expect(res.body.customer).toMatchObject({
      id: "gdpr-1",
      email: "grace@example.com",
      firstName: "Grace",
      birthday: "12-09",
      balance: 23,
    });
    expect(res.body.ledger).toEqual(await ledgerOf(shop, "gdpr-1"));
    expect(res.body.ledger.map((e: { kind: string; delta: number }) => [e.kind, e.delta])).toEqual([
      ["order", 30],
      ["refund", -10],
      ["adjustment", 3],
    ]);
    expect(res.body.orders).toEqual([
      expect.objectContaining({
        id: "o1",
        status: "partially_refunded",
        eligibleAmount: "30.00",
        refundedAmount: "10.00",
        pointsAwarded: 30,
        pointsReversed: 10,
        email: "grace@example.com",
      }),
    ]);
  });

  it("DELETE erases personal data, keeps the balance and ledger amounts, and the id may come back", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 10;
    });
    const id = "cust-erase-7731";
    const email = "erase.me@example.com";
    await sendEvent(shop, { type: "customer.created", customer: { id, email, firstName: "Erasmus", birthday: "1980-02-29" } });
    await orderPaid(shop, { id: "o1", customerId: id, subtotal: "40.00", email });
    await postAdjustment(shop, id, { points: -5, note: `called from ${email}` });
    await orderPaid(shop, { id: "o2", customerId: "someone-else", subtotal: "9.00" });
    const row = await env.DB.prepare("SELECT id, balance, lifetime_points FROM customers WHERE shop_id = ? AND external_id = ?")
      .bind(shop.id, id)
      .first<{ id: number; balance: number; lifetime_points: number }>();
    expect(row!.balance).toBe(45);
    const amounts = async () =>
      (
        await env.DB.prepare("SELECT id, delta, kind, balance_after, shortfall FROM ledger WHERE customer_id = ? ORDER BY id")
          .bind(row!.id)
          .all()
      ).results;
    const ledgerBefore = await amounts();
    const beforeCounts = await snapshot();

    const res = await call("DELETE", `/v1/customers/${id}`, { token: shop.secretKey });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "redacted", balance: 45 });

    const after = await env.DB.prepare("SELECT * FROM customers WHERE id = ?").bind(row!.id).first<Record<string, unknown>>();
    expect(after).toMatchObject({ email: null, first_name: null, birthday: null, balance: 45 });
    expect(after!.external_id).not.toBe(id);
    expect(after!.redacted_at).toEqual(expect.any(String));
    expect(await amounts()).toEqual(ledgerBefore);
    // Nothing about the member keeps their id, email or name.
    const traces = JSON.stringify([
      after,
      (await env.DB.prepare("SELECT * FROM ledger WHERE customer_id = ?").bind(row!.id).all()).results,
      (await env.DB.prepare("SELECT * FROM orders WHERE customer_id = ?").bind(row!.id).all()).results,
      // The adjustment's stored answer (for Idempotency-Key retries) carried the note.
      (await env.DB.prepare("SELECT * FROM idempotency_keys WHERE shop_id = ?").bind(shop.id).all()).results,
    ]);
    for (const personal of [id, email, "Erasmus", "1980-02-29"]) expect(traces).not.toContain(personal);
    // Rows are kept (append-only ledger, orders, the member row itself).
    expect(await snapshot()).toEqual(beforeCounts);
    await assertLedgerInvariants(shop.id);

    // The old id is gone from every read.
    expectError(await call("GET", `/v1/customers/${id}`, { token: shop.secretKey }), 404, "not_found");
    expectError(await call("DELETE", `/v1/customers/${id}`, { token: shop.secretKey }), 404, "not_found");
    expectError(await postAdjustment(shop, id, { points: 1 }), 404, "not_found");
    const search = await call("GET", `/v1/customers?q=${encodeURIComponent(email)}`, { token: shop.secretKey });
    expect(search.body.customers).toEqual([]);
    expect(await customer(shop, "someone-else")).toMatchObject({ balance: 19 });

    // The same external id arriving again is a new member.
    const back = await orderPaid(shop, { id: "o3", customerId: id, subtotal: "20.00" });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ status: "processed", points: 30, balance: 30 });
    expect(await customer(shop, id)).toMatchObject({ balance: 30, email: null });
    await assertLedgerInvariants(shop.id);
  });
});

describe("bad input everywhere", { timeout: 30_000 }, () => {
  it("no or invalid credentials: 401 on every merchant route", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    const before = await snapshot();
    const routes: [string, string, unknown?][] = [
      ["GET", "/v1/program"],
      ["PUT", "/v1/program", (await program(shop)).body],
      ["GET", "/v1/customers"],
      ["GET", "/v1/customers/c1"],
      ["GET", "/v1/customers/c1/ledger"],
      ["POST", "/v1/customers/c1/adjustments", { points: 5 }],
      ["GET", "/v1/customers/c1/export"],
      ["DELETE", "/v1/customers/c1"],
      ["POST", "/v1/events", { id: "e1", type: "customer.created", customer: { id: "zz" } }],
    ];
    const credentials: [string, Record<string, string>][] = [
      ["none", {}],
      ["empty bearer", { authorization: "Bearer " }],
      ["unknown sk_", { authorization: "Bearer sk_notakey" }],
      ["secret key with a typo", { authorization: `Bearer ${shop.secretKey.slice(0, -1)}x` }],
      ["public key", { authorization: `Bearer ${shop.publicKey}` }],
      ["webhook secret", { authorization: `Bearer ${shop.webhookSecret}` }],
      ["admin token", { authorization: `Bearer ${ADMIN}` }],
      ["basic auth", { authorization: `Basic ${btoa(`${shop.secretKey}:`)}` }],
      ["key without scheme", { authorization: shop.secretKey }],
    ];
    for (const [method, path, body] of routes) {
      for (const [name, headers] of credentials) {
        const res = await call(method, path, { body, headers: { ...headers, "idempotency-key": "k1" } });
        try {
          expectError(res, 401, "unauthorized");
        } catch (err) {
          throw new Error(`${method} ${path} with ${name}: ${(err as Error).message}`);
        }
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("malformed JSON, wrong content type, oversized bodies, wrong types: 4xx and nothing changes", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    const programBody = JSON.stringify((await program(shop)).body);
    const before = await snapshot();
    const stateBefore = await shopState(shop.id);
    const auth = { authorization: `Bearer ${shop.secretKey}`, "idempotency-key": "k-bad" };
    const writes: [string, string, string][] = [
      ["PUT", "/v1/program", programBody],
      ["POST", "/v1/customers/c1/adjustments", JSON.stringify({ points: 5 })],
      ["POST", "/v1/events", JSON.stringify({ id: "e-x", type: "customer.created", customer: { id: "c9" } })],
    ];
    const big = (valid: string) => `${valid.slice(0, -1)},"padding":"${"x".repeat(70 * 1024)}"}`;
    for (const [method, path, valid] of writes) {
      const send = (raw: string, headers: Record<string, string> = {}) =>
        call(method, path, { raw, headers: { ...auth, ...headers } });
      const label = `${method} ${path}`;
      const cases: [string, () => Promise<{ status: number; body: unknown }>, number, string][] = [
        ["malformed JSON", () => send(valid.slice(0, -3)), 400, "invalid_request"],
        ["not JSON at all", () => send("points=5"), 400, "invalid_request"],
        ["JSON null", () => send("null"), 400, "invalid_request"],
        ["JSON array", () => send("[]"), 400, "invalid_request"],
        ["JSON string", () => send('"hello"'), 400, "invalid_request"],
        ["text/plain", () => send(valid, { "content-type": "text/plain" }), 415, "unsupported_media_type"],
        ["form encoding", () => send(valid, { "content-type": "application/x-www-form-urlencoded" }), 415, "unsupported_media_type"],
        ["over 64 KB", () => send(big(valid)), 413, "payload_too_large"],
      ];
      for (const [name, attempt, status, code] of cases) {
        const res = await attempt();
        try {
          expectError(res, status, code);
        } catch (err) {
          throw new Error(`${label} ${name}: ${(err as Error).message}`);
        }
      }
      // Over 64 KB without a Content-Length (streamed): still 413.
      const stream = new Blob([big(valid)]).stream();
      const streamed = await exports.default.fetch(
        new Request(`http://laurel.test${path}`, {
          method,
          headers: { ...auth, "content-type": "application/json" },
          body: stream,
        }),
      );
      expectError({ status: streamed.status, body: await streamed.json() }, 413, "payload_too_large");
    }
    // Exactly 64 KB is allowed; one byte more is not.
    const padded = (size: number) => {
      const base = `${programBody.slice(0, -1)},"padding":""}`;
      return `${programBody.slice(0, -1)},"padding":"${"p".repeat(size - base.length)}"}`;
    };
    const exact = await call("PUT", "/v1/program", { raw: padded(64 * 1024), headers: auth });
    expect(exact.status).toBe(200);
    expectError(await call("PUT", "/v1/program", { raw: padded(64 * 1024 + 1), headers: auth }), 413, "payload_too_large");
    expect(await snapshot()).toEqual(before);
    expect(await shopState(shop.id)).toEqual(stateBefore);

    // Wrong types and absurd values for adjustments.
    const adjustments: unknown[] = [
      {},
      { points: "5" },
      { points: 1.5 },
      { points: 0 },
      { points: null },
      { points: 2e9 },
      { points: -2e9 },
      { points: Number.MAX_SAFE_INTEGER },
      { points: 5, note: 42 },
      { points: 5, note: "n".repeat(501) },
    ];
    for (const body of adjustments) {
      const res = await postAdjustment(shop, "c1", body);
      try {
        expectError(res, 400, "invalid_request");
      } catch (err) {
        throw new Error(`${JSON.stringify(body).slice(0, 80)}: ${(err as Error).message}`);
      }
    }
    // Query strings.
    for (const query of ["limit=0", "limit=201", "limit=abc", "limit=-1", "cursor=abc", "cursor=-5", `q=${"q".repeat(201)}`]) {
      expectError(await call("GET", `/v1/customers?${query}`, { token: shop.secretKey }), 400, "invalid_request");
      if (!query.startsWith("q=")) {
        expectError(await call("GET", `/v1/customers/c1/ledger?${query}`, { token: shop.secretKey }), 400, "invalid_request");
      }
    }
    // Unknown routes and ids.
    expectError(await call("GET", "/v1/customers/nobody", { token: shop.secretKey }), 404, "not_found");
    expectError(await call("GET", "/v1/nothing-here", { token: shop.secretKey }), 404, "not_found");
    expect(await snapshot()).toEqual(before);

    // Unknown fields are fine.
    const extra = await postAdjustment(shop, "c1", { points: 5, note: "ok", colour: "blue", nested: { a: 1 } });
    expect(extra.status).toBe(201);
    expect(extra.body.balance).toBe(15);
  });

  it("events: negative, absurd and over-precise amounts, wrong types, unknown types: 400 and nothing changes", async () => {
    const shop = await makeShop();
    await orderPaid(shop, { id: "o1", customerId: "c1", subtotal: "10.00" });
    await setProgram(shop, (p) => {
      p.earning.pointsPerUnit = 1000;
      p.earning.productTypeMultipliers = { gold: 1000 };
    });
    const before = await snapshot();
    const order = (changes: Record<string, unknown>) => ({
      type: "order.paid",
      order: { id: "o2", customerId: "c1", currency: "EUR", subtotal: "10.00", lines: [], ...changes },
    });
    const events: [string, Record<string, unknown>][] = [
      ["negative subtotal", order({ subtotal: "-5" })],
      ["exponent", order({ subtotal: "1e5" })],
      ["three decimals in EUR", order({ subtotal: "12.345" })],
      ["number instead of string", order({ subtotal: 49.99 })],
      ["empty amount", order({ subtotal: "" })],
      ["comma decimal", order({ subtotal: "12,50" })],
      ["padded amount", order({ subtotal: " 12.50" })],
      ["beyond 10^13", order({ subtotal: "99999999999999" })],
      ["NaN", order({ subtotal: "NaN" })],
      ["discount above subtotal", order({ discount: "10.01" })],
      ["negative shipping", order({ shipping: "-1.00" })],
      ["tax with three decimals", order({ tax: "0.001" })],
      ["bad line price", order({ lines: [{ quantity: 1, price: "abc" }] })],
      ["zero quantity", order({ lines: [{ quantity: 0, price: "1.00" }] })],
      ["fractional quantity", order({ lines: [{ quantity: 1.5, price: "1.00" }] })],
      ["lines not an array", order({ lines: "none" })],
      ["lowercase currency", order({ currency: "eur" })],
      ["no customer", order({ customerId: undefined })],
      ["empty order id", order({ id: "" })],
      [
        "absurd points (max amount x 1000 x 1000)",
        order({ subtotal: "9999999999999.99", lines: [{ productType: "gold", quantity: 1, price: "9999999999999.99" }] }),
      ],
      ["refund negative", { type: "order.refunded", order: { id: "o1" }, refund: { id: "r1", amount: "-1.00" } }],
      ["refund three decimals", { type: "order.refunded", order: { id: "o1" }, refund: { id: "r1", amount: "1.001" } }],
      ["refund without id", { type: "order.refunded", order: { id: "o1" }, refund: { amount: "1.00" } }],
      ["cancel without order", { type: "order.cancelled" }],
      ["review without customer", { type: "review.created" }],
      ["custom without name", { type: "custom", customerId: "c1" }],
      ["customer with bad email", { type: "customer.created", customer: { id: "c2", email: "not-an-email" } }],
      ["customer with bad birthday", { type: "customer.created", customer: { id: "c2", birthday: "29/02/1980" } }],
      ["unknown type", { type: "order.shipped", order: { id: "o1" } }],
      ["no type", { order: { id: "o1" } }],
      ["bad occurredAt", { ...order({}), occurredAt: "yesterday" }],
    ];
    for (const [name, event] of events) {
      const res = await sendEvent(shop, event);
      try {
        expectError(res, 400, "invalid_request");
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
    }
    // An event without an id.
    expectError(
      await call("POST", "/v1/events", { token: shop.secretKey, body: { type: "review.created", customerId: "c1" } }),
      400,
      "invalid_request",
    );
    expect(await snapshot()).toEqual(before);
    // Unknown fields are fine; trailing zeros beyond the currency's places are the same amount.
    const ok = await sendEvent(shop, { ...order({ subtotal: "0.010", source: "pos" }), channel: "web" });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "processed", points: 10 }); // 0.01 x 1000
  });
});
