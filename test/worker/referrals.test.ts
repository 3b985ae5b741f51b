import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { signAppProxy } from "../../worker/auth/shopify";
import {
  CLAIMS_PER_ADDRESS_PER_HOUR,
  canonicalOfferCode,
  claimRejection,
  emailKey,
  orderRejection,
} from "../../worker/domain/referrals";
import {
  assertLedgerInvariants,
  call,
  customer,
  expectError,
  ledgerOf,
  makeShop,
  orderPaid,
  sendEvent,
  setProgram,
  snapshot,
  storefrontSession,
  type TestShop,
} from "./helpers";
import { forgetCachedShop } from "../../worker/store/cache";
import { ShopifyAdminFake } from "../fakes/shopify-admin";

let counter = 0;
const next = (prefix: string) => `${prefix}_${++counter}`;

/** A shop whose referrers earn 200 points and whose referees get 10.00 off; one referrer, Ann. */
async function referralShop() {
  const shop = await makeShop();
  await setProgram(shop, (p) => {
    p.referral = { referrerPoints: 200, refereeOffer: { type: "amount_off", value: "10.00" } };
  });
  const ann = next("ann");
  await sendEvent(shop, { type: "customer.created", customer: { id: ann, email: "Ann.Lee@gmail.com", firstName: "Ann" } });
  const code = (await customer(shop, ann)).referralCode as string;
  return { shop, ann, code };
}

function claim(shop: TestShop, code: string, email: string, options: { ip?: string; token?: string } = {}) {
  return call("POST", `/v1/storefront/referrals/${code}/claim`, {
    body: { shop: shop.publicKey, email },
    headers: { "cf-connecting-ip": options.ip ?? "203.0.113.1" },
    ...(options.token ? { token: options.token } : {}),
  });
}

async function referrals(shop: TestShop, query = "") {
  const res = await call("GET", `/v1/referrals${query}`, { token: shop.secretKey });
  expect(res.status).toBe(200);
  return res.body.referrals as {
    id: string;
    status: string;
    rejectionReason: string | null;
    refereeEmail: string | null;
    refereeId: string | null;
    orderId: string | null;
    offerCode: string | null;
  }[];
}

const referralEntries = async (shop: TestShop, id: string) =>
  (await ledgerOf(shop, id)).filter((e) => e.kind === "referral");

describe("referral rules (pure)", () => {
  it("normalises addresses for fraud checks: case, +tags, Gmail dots", () => {
    expect(emailKey("Ann.Lee+promo@GMail.com")).toBe("annlee@gmail.com");
    expect(emailKey("a.n.n.lee@googlemail.com")).toBe("annlee@gmail.com");
    expect(emailKey("Bob.Smith+x+y@Example.COM")).toBe("bob.smith@example.com");
    expect(emailKey(" bob@example.com ")).toBe("bob@example.com");
    expect(emailKey("+tag@example.com")).toBe("@example.com");
  });

  it("agrees with the email_key columns the database computes", async () => {
    const shop = await makeShop();
    const emails = [
      "Ann.Lee+promo@GMail.com",
      "a.n.n.lee@googlemail.com",
      "Bob.Smith+x+y@Example.COM",
      "plain@example.org",
      "UPPER@EXAMPLE.ORG",
      "dots.stay@outlook.com",
      "no-at-sign",
    ];
    for (const [i, email] of emails.entries()) {
      await env.DB.prepare(
        "INSERT INTO customers (shop_id, external_id, email, referral_code, created_at) VALUES (?, ?, ?, ?, ?)",
      )
        .bind(shop.id, `key_${i}`, email, `KEYCHECK${i}`, new Date().toISOString())
        .run();
      const row = await env.DB.prepare("SELECT email_key FROM customers WHERE shop_id = ? AND external_id = ?")
        .bind(shop.id, `key_${i}`)
        .first<{ email_key: string }>();
      expect(row!.email_key, email).toBe(emailKey(email));
    }
  });

  it("names the first rule a claim or an order breaks", () => {
    const honest = {
      recentClaimsFromAddress: 0,
      refereeEmailKey: "bob@example.com",
      referrerEmailKey: "ann@example.com",
      claimantIsReferrer: false,
      emailAlreadyClaimed: false,
      emailHasOrdered: false,
    };
    expect(claimRejection(honest)).toBeNull();
    expect(claimRejection({ ...honest, recentClaimsFromAddress: CLAIMS_PER_ADDRESS_PER_HOUR - 1 })).toBeNull();
    expect(claimRejection({ ...honest, recentClaimsFromAddress: CLAIMS_PER_ADDRESS_PER_HOUR })).toBe("address_burst");
    expect(claimRejection({ ...honest, refereeEmailKey: "ann@example.com" })).toBe("self_referral");
    expect(claimRejection({ ...honest, claimantIsReferrer: true })).toBe("self_referral");
    expect(claimRejection({ ...honest, emailAlreadyClaimed: true })).toBe("email_already_claimed");
    expect(claimRejection({ ...honest, emailHasOrdered: true })).toBe("referee_ordered_before");
    expect(claimRejection({ ...honest, referrerEmailKey: null })).toBeNull();

    const order = {
      customerRowId: 2,
      referrerRowId: 1,
      orderEmailKey: "bob@example.com",
      customerEmailKey: null,
      referrerEmailKey: "ann@example.com",
      previousOrders: 0,
    };
    expect(orderRejection(order)).toBeNull();
    expect(orderRejection({ ...order, customerRowId: null })).toBeNull();
    expect(orderRejection({ ...order, customerRowId: 1 })).toBe("self_referral");
    expect(orderRejection({ ...order, orderEmailKey: "ann@example.com" })).toBe("self_referral");
    expect(orderRejection({ ...order, customerEmailKey: "ann@example.com" })).toBe("self_referral");
    expect(orderRejection({ ...order, previousOrders: 1 })).toBe("referee_ordered_before");
  });

  it("recognises offer codes typed at checkout", () => {
    expect(canonicalOfferCode("abcd-efgh-jkmn")).toBe("ABCD-EFGH-JKMN");
    expect(canonicalOfferCode("ABCDEFGHJKMN")).toBe("ABCD-EFGH-JKMN");
    expect(canonicalOfferCode(" abcd efgh jkmn ")).toBe("ABCD-EFGH-JKMN");
    expect(canonicalOfferCode("SUMMER10")).toBeNull();
  });
});

describe("lookup", () => {
  it("shows the referrer's first name and the offer, never an email; unknown codes are 404", async () => {
    const { shop, code } = await referralShop();
    const res = await call("GET", `/v1/storefront/referrals/${code}?shop=${shop.publicKey}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ referral: { firstName: "Ann", offer: { type: "amount_off", value: "10.00" } } });
    expect(JSON.stringify(res.body)).not.toMatch(/@|lee/i);
    expect((await call("GET", `/v1/storefront/referrals/${code.toLowerCase()}?shop=${shop.publicKey}`)).status).toBe(200);
    expectError(await call("GET", `/v1/storefront/referrals/NOSUCHCO?shop=${shop.publicKey}`), 404, "not_found");
    const other = await makeShop();
    expectError(await call("GET", `/v1/storefront/referrals/${code}?shop=${other.publicKey}`), 404, "not_found");
    expectError(await call("GET", `/v1/storefront/referrals/${code}?shop=pk_nope`), 404, "not_found");
    expectError(await call("GET", `/v1/storefront/referrals/${code}`), 400, "invalid_request");
  });

  it("answers CORS only to the shop's own origins", async () => {
    const { shop, code } = await referralShop();
    const own = await call("GET", `/v1/storefront/referrals/${code}?shop=${shop.publicKey}`, {
      headers: { origin: "https://shop.example" },
    });
    expect(own.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    const foreign = await call("GET", `/v1/storefront/referrals/${code}?shop=${shop.publicKey}`, {
      headers: { origin: "https://evil.example" },
    });
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the referee offer", () => {
  const OFFER_CODE = /^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/;

  async function referrer(shop: TestShop) {
    const id = next("ref");
    await sendEvent(shop, { type: "customer.created", customer: { id, firstName: "Ann" } });
    return (await customer(shop, id)).referralCode as string;
  }

  it("a new shop offers referees a real code: 10% off, not 0.00 off", async () => {
    const shop = await makeShop();
    const program = (await call("GET", "/v1/program", { token: shop.secretKey })).body.program;
    expect(program.referral).toEqual({ referrerPoints: 0, refereeOffer: { type: "percent_off", value: 10 } });
    const code = await referrer(shop);
    const lookup = await call("GET", `/v1/storefront/referrals/${code}?shop=${shop.publicKey}`);
    expect(lookup.body.referral.offer).toEqual({ type: "percent_off", value: 10 });
    const res = await claim(shop, code, "new.friend@example.com");
    expect(res.status).toBe(201);
    expect(res.body.offer).toEqual({ type: "percent_off", value: 10 });
    expect(res.body.offerCode).toMatch(OFFER_CODE);
  });

  it("PUT /v1/program refuses an offer worth nothing or not in the shop's currency: 400 with details, nothing changes", async () => {
    const shop = await makeShop(); // EUR
    const current = (await call("GET", "/v1/program", { token: shop.secretKey })).body;
    const before = await snapshot();
    const bad: [string, Record<string, unknown>][] = [
      ["zero amount (the old default)", { type: "amount_off", value: "0" }],
      ["zero with decimals", { type: "amount_off", value: "0.00" }],
      ["negative amount", { type: "amount_off", value: "-5.00" }],
      ["amount as a number", { type: "amount_off", value: 5 }],
      ["more decimals than EUR has", { type: "amount_off", value: "5.001" }],
      ["amount with spaces", { type: "amount_off", value: " 5.00" }],
      ["amount missing", { type: "amount_off" }],
      ["zero percent", { type: "percent_off", value: 0 }],
      ["over 100 percent", { type: "percent_off", value: 101 }],
      ["fractional percent", { type: "percent_off", value: 12.5 }],
      ["percent as text", { type: "percent_off", value: "10" }],
      ["percent missing", { type: "percent_off" }],
      ["free shipping with a value", { type: "free_shipping", value: "5.00" }],
    ];
    for (const [name, offer] of bad) {
      const body = structuredClone(current);
      body.program.referral.refereeOffer = offer;
      const res = await call("PUT", "/v1/program", { token: shop.secretKey, body });
      try {
        expectError(res, 400, "invalid_request");
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
      expect(res.body.error.details, name).toEqual([{ path: "program.referral.refereeOffer.value", message: expect.any(String) }]);
    }
    expectError(
      await call("PUT", "/v1/program", {
        token: shop.secretKey,
        body: { program: { ...current.program, referral: { referrerPoints: 0, refereeOffer: { type: "store_credit", value: "5.00" } } } },
      }),
      400,
      "invalid_request",
    );
    expect((await call("GET", "/v1/program", { token: shop.secretKey })).body).toEqual(current);
    expect(await snapshot()).toEqual(before);

    for (const offer of [{ type: "amount_off", value: "5.50" }, { type: "percent_off", value: 100 }, { type: "free_shipping" }]) {
      const saved = await setProgram(shop, (p) => {
        p.referral.refereeOffer = offer;
      });
      expect(saved.referral.refereeOffer).toEqual(offer);
    }
    // The amount is checked in the shop's own currency: yen have no minor unit.
    const yen = await makeShop({ currency: "JPY" });
    expect((await setProgram(yen, (p) => (p.referral.refereeOffer = { type: "amount_off", value: "500" }))).referral.refereeOffer.value).toBe("500");
    const yenProgram = (await call("GET", "/v1/program", { token: yen.secretKey })).body;
    yenProgram.program.referral.refereeOffer = { type: "amount_off", value: "5.50" };
    const refused = await call("PUT", "/v1/program", { token: yen.secretKey, body: yenProgram });
    expectError(refused, 400, "invalid_request");
    expect(refused.body.error.details[0].message).toContain("JPY");
  });

  it("a stored offer worth nothing (saved before offers were checked) is 422 for lookups and claims, and issues no code", async () => {
    const shop = await makeShop();
    const code = await referrer(shop);
    await env.DB.prepare("UPDATE shops SET program = json_set(program, '$.referral.refereeOffer', json(?)) WHERE id = ?")
      .bind(JSON.stringify({ type: "amount_off", value: "0" }), shop.id)
      .run();
    await forgetCachedShop(env.KV, shop.id);
    expect((await call("GET", "/v1/program", { token: shop.secretKey })).body.program.referral.refereeOffer).toEqual({
      type: "amount_off",
      value: "0",
    });
    expectError(await call("GET", `/v1/storefront/referrals/${code}?shop=${shop.publicKey}`), 422, "referral_offer_not_configured");
    expectError(await claim(shop, code, "new.friend@example.com"), 422, "referral_offer_not_configured");
    expect(await referrals(shop)).toEqual([]);
    // Unknown codes stay 404 whatever the offer.
    expectError(await claim(shop, "NOSUCHCO", "new.friend@example.com"), 404, "not_found");
    // Once the merchant sets a real offer, claims work.
    await setProgram(shop, (p) => (p.referral.refereeOffer = { type: "amount_off", value: "5.00" }));
    const res = await claim(shop, code, "new.friend@example.com");
    expect(res.status).toBe(201);
    expect(res.body.offer).toEqual({ type: "amount_off", value: "5.00" });
  });
});

describe("an honest referral", () => {
  it("claims an offer code and rewards the referrer once on the referee's first paid order", async () => {
    const { shop, ann, code } = await referralShop();
    const challenge = await call("POST", "/v1/challenges", {
      token: shop.secretKey,
      body: { name: "Ambassador", kind: "referrals", goal: 1, rewardPoints: 30, badge: "🤝" },
    });
    const claimed = await claim(shop, code, "Bob@Example.com");
    expect(claimed.status).toBe(201);
    expect(claimed.body).toEqual({
      referral: { id: expect.stringMatching(/^ref_/), status: "claimed" },
      offerCode: expect.stringMatching(/^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/),
      offer: { type: "amount_off", value: "10.00" },
    });
    expect((await referrals(shop))[0]).toMatchObject({ status: "claimed", refereeEmail: "Bob@Example.com" });

    const bob = next("bob");
    const order = next("order");
    await orderPaid(shop, { id: order, customerId: bob, email: "bob@example.com", subtotal: "50.00" });
    const [referral] = await referrals(shop);
    expect(referral).toMatchObject({ status: "completed", refereeId: bob, orderId: order, rejectionReason: null });
    const paid = await referralEntries(shop, ann);
    expect(paid).toEqual([expect.objectContaining({ delta: 200, reference: referral!.id })]);
    expect((await customer(shop, ann)).balance).toBe(200 + 30);
    const member = await call("GET", `/v1/customers/${ann}`, { token: shop.secretKey });
    expect(member.body.customer.badges).toEqual([
      expect.objectContaining({ challengeId: challenge.body.challenge.id, badge: "🤝" }),
    ]);

    await orderPaid(shop, { id: next("order"), customerId: bob, email: "bob@example.com", subtotal: "50.00" });
    expect(await referralEntries(shop, ann)).toHaveLength(1);
    await assertLedgerInvariants(shop.id);
  });

  it("promotes the referrer at once when the reward reaches a tier", async () => {
    const { shop, ann, code } = await referralShop();
    await setProgram(shop, (p) => {
      p.tiers = [{ name: "Silver", basis: "lifetime_points", threshold: 150, multiplier: 1, perks: "" }];
    });
    await claim(shop, code, "tia@example.com");
    await orderPaid(shop, { id: next("order"), customerId: next("tia"), email: "tia@example.com", subtotal: "10.00" });
    expect(await customer(shop, ann)).toMatchObject({ balance: 200, tier: "Silver" });
  });

  it("recognises the referee by the offer code among the order's discount codes", async () => {
    const { shop, ann, code } = await referralShop();
    const { offerCode } = (await claim(shop, code, "carl@example.com")).body;
    const typed = (offerCode as string).replaceAll("-", "").toLowerCase();
    await orderPaid(shop, {
      id: next("order"),
      customerId: next("zed"),
      email: "someone.else@example.net",
      subtotal: "20.00",
      discountCodes: ["WELCOME", typed],
    });
    expect((await referrals(shop))[0]).toMatchObject({ status: "completed" });
    expect(await referralEntries(shop, ann)).toHaveLength(1);
  });

  it("recognises the referee by the customer's email when the order carries none", async () => {
    const { shop, ann, code } = await referralShop();
    await claim(shop, code, "dora@example.com");
    const dora = next("dora");
    await sendEvent(shop, { type: "customer.created", customer: { id: dora, email: "Dora+shop@example.com" } });
    await orderPaid(shop, { id: next("order"), customerId: dora, subtotal: "20.00" });
    expect((await referrals(shop))[0]).toMatchObject({ status: "completed", refereeId: dora });
    expect((await customer(shop, ann)).balance).toBe(200);
  });

  it("concurrent orders of the referee pay the referrer once", async () => {
    const { shop, ann, code } = await referralShop();
    await claim(shop, code, "erin@example.com");
    const erin = next("erin");
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        orderPaid(shop, { id: next("order"), customerId: erin, email: "erin@example.com", subtotal: "5.00" }),
      ),
    );
    for (const r of results) expect(r.status).toBe(200);
    expect(await referralEntries(shop, ann)).toHaveLength(1);
    expect((await customer(shop, ann)).balance).toBe(200);
    await assertLedgerInvariants(shop.id);
  });
});

describe("signups reported with a referral code", () => {
  it("customer.created with referralCode makes the member a referee; their first paid order pays once", async () => {
    const { shop, ann, code } = await referralShop();
    const nora = next("nora");
    const created = await sendEvent(shop, {
      type: "customer.created",
      customer: { id: nora, email: "nora@example.com", referralCode: code.toLowerCase() },
    });
    expect(created.status).toBe(200);
    // Redelivered under another event id: still one referral.
    await sendEvent(shop, { type: "customer.created", customer: { id: nora, referralCode: code } });
    expect(await referrals(shop)).toEqual([
      expect.objectContaining({ status: "claimed", refereeId: nora, refereeEmail: "nora@example.com", offerCode: null }),
    ]);
    // The order carries neither the address nor a code: the member is the referee.
    await orderPaid(shop, { id: next("order"), customerId: nora, subtotal: "25.00" });
    expect((await referrals(shop))[0]).toMatchObject({ status: "completed", refereeId: nora });
    await orderPaid(shop, { id: next("order"), customerId: nora, subtotal: "25.00" });
    expect(await referralEntries(shop, ann)).toEqual([expect.objectContaining({ delta: 200 })]);
  });

  it("applies the claim rules to signups, and ignores unknown codes", async () => {
    const { shop, ann, code } = await referralShop();
    await sendEvent(shop, { type: "customer.created", customer: { id: next("x"), referralCode: "NOSUCHCODE" } });
    expect(await referrals(shop)).toEqual([]);

    await sendEvent(shop, { type: "customer.created", customer: { id: next("twin"), email: "ANN.LEE@gmail.com", referralCode: code } });
    await sendEvent(shop, { type: "customer.created", customer: { id: ann, referralCode: code } });
    const buyer = next("buyer");
    await orderPaid(shop, { id: next("order"), customerId: buyer, subtotal: "5.00" });
    await sendEvent(shop, { type: "customer.created", customer: { id: buyer, referralCode: code } });
    expect((await referrals(shop)).map((r) => [r.status, r.rejectionReason])).toEqual([
      ["rejected", "referee_ordered_before"],
      ["rejected", "self_referral"],
      ["rejected", "self_referral"],
    ]);
    expect(await referralEntries(shop, ann)).toEqual([]);
  });
});

describe("fraud rules", () => {
  it("rejects self-referral by the same email, including +tag, dots and letter case", async () => {
    const { shop, ann, code } = await referralShop();
    const res = await claim(shop, code, "ann.lee+promo@GMAIL.com");
    expectError(res, 422, "referral_rejected");
    expect(res.body.error.details).toEqual({ reason: "self_referral" });
    expectError(await claim(shop, code, "annlee@googlemail.com", { ip: "203.0.113.2" }), 422, "referral_rejected");
    const list = await referrals(shop);
    expect(list.map((r) => [r.status, r.rejectionReason, r.offerCode])).toEqual([
      ["rejected", "self_referral", null],
      ["rejected", "self_referral", null],
    ]);
    expect((await customer(shop, ann)).balance).toBe(0);
  });

  it("rejects self-referral by the same customer: the referrer's session, or the referrer's own order", async () => {
    const { shop, ann, code } = await referralShop();
    const token = await storefrontSession(shop, ann);
    const res = await claim(shop, code, "alias@example.com", { token });
    expectError(res, 422, "referral_rejected");
    expect(res.body.error.details.reason).toBe("self_referral");

    // A claim with an unknown address passes, but the referrer's own order using the code does not.
    const { offerCode } = (await claim(shop, code, "alias2@example.com")).body;
    await orderPaid(shop, { id: next("order"), customerId: ann, subtotal: "30.00", discountCodes: [offerCode] });
    const [latest] = await referrals(shop);
    expect(latest).toMatchObject({ status: "rejected", rejectionReason: "self_referral", refereeId: ann });
    expect(await referralEntries(shop, ann)).toEqual([]);

    // The same customer under another address (their profile email is the referrer's) is rejected too.
    const { offerCode: third } = (await claim(shop, code, "alias3@example.com")).body;
    await orderPaid(shop, {
      id: next("order"),
      customerId: next("alt"),
      email: "ann.lee@gmail.com",
      subtotal: "30.00",
      discountCodes: [third],
    });
    expect((await referrals(shop))[0]).toMatchObject({ status: "rejected", rejectionReason: "self_referral" });
    expect(await referralEntries(shop, ann)).toEqual([]);
  });

  it("rejects a referee who has ordered before, at claim time and at order time", async () => {
    const { shop, ann, code } = await referralShop();
    const dan = next("dan");
    await orderPaid(shop, { id: next("order"), customerId: dan, email: "dan@example.com", subtotal: "10.00" });
    const res = await claim(shop, code, "DAN+new@example.com");
    expectError(res, 422, "referral_rejected");
    expect(res.body.error.details.reason).toBe("referee_ordered_before");

    // Claimed with a fresh address, then used by a customer who already has orders.
    const old = next("old");
    await orderPaid(shop, { id: next("order"), customerId: old, subtotal: "10.00" });
    const { offerCode } = (await claim(shop, code, "fresh@example.com")).body;
    await orderPaid(shop, { id: next("order"), customerId: old, subtotal: "10.00", discountCodes: [offerCode] });
    expect((await referrals(shop))[0]).toMatchObject({
      status: "rejected",
      rejectionReason: "referee_ordered_before",
      refereeId: old,
    });
    expect(await referralEntries(shop, ann)).toEqual([]);
  });

  it("rejects one email claiming twice, with any code and in any spelling", async () => {
    const { shop, code } = await referralShop();
    const bea = next("bea");
    await sendEvent(shop, { type: "customer.created", customer: { id: bea, firstName: "Bea" } });
    const otherCode = (await customer(shop, bea)).referralCode;
    expect((await claim(shop, code, "fred@example.com")).status).toBe(201);
    const again = await claim(shop, code, "fred@example.com", { ip: "203.0.113.7" });
    expectError(again, 422, "referral_rejected");
    expect(again.body.error.details.reason).toBe("email_already_claimed");
    const elsewhere = await claim(shop, otherCode, "FRED+2@example.com", { ip: "203.0.113.8" });
    expect(elsewhere.body.error.details.reason).toBe("email_already_claimed");
    expect((await referrals(shop, "?status=rejected")).map((r) => r.rejectionReason)).toEqual([
      "email_already_claimed",
      "email_already_claimed",
    ]);
    expect(await referrals(shop, "?status=claimed")).toHaveLength(1);
  });

  it("concurrent claims with one email issue one code", async () => {
    const { shop, code } = await referralShop();
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => claim(shop, code, "gina@example.com", { ip: `198.51.100.${i}` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 422, 422, 422]);
    expect(await referrals(shop, "?status=claimed")).toHaveLength(1);
  });

  it("rejects bursts from one address, counting only claims of existing codes", async () => {
    const { shop, code } = await referralShop();
    const ip = "192.0.2.50";
    for (let i = 0; i < 15; i++) expectError(await claim(shop, `NOPE${i}XYZ`, `u${i}@example.com`, { ip }), 404, "not_found");
    for (let i = 0; i < CLAIMS_PER_ADDRESS_PER_HOUR; i++) {
      expect((await claim(shop, code, `burst${i}@example.com`, { ip })).status).toBe(201);
    }
    const burst = await claim(shop, code, "one-more@example.com", { ip });
    expectError(burst, 429, "rate_limited");
    expect(burst.body.error.details.reason).toBe("address_burst");
    expect(burst.headers.get("retry-after")).toBe("3600");
    // An unknown code is still 404, never a burst; another address is unaffected.
    expectError(await claim(shop, "NOPEXYZW", "x@example.com", { ip }), 404, "not_found");
    expect((await claim(shop, code, "one-more@example.com", { ip: "192.0.2.51" })).status).toBe(201);
    const rejected = await referrals(shop, "?status=rejected");
    expect(rejected.map((r) => r.rejectionReason)).toEqual(["address_burst"]);
  });
});

/** The referrer's progress in the shop's "referrals" challenges, oldest challenge first. */
async function referralChallengeProgress(shop: TestShop, externalId: string) {
  const { results } = await env.DB.prepare(
    `SELECT p.progress FROM challenge_progress p JOIN challenges ch ON ch.id = p.challenge_id
     JOIN customers c ON c.id = p.customer_id
     WHERE ch.shop_id = ? AND ch.kind = 'referrals' AND c.external_id = ? ORDER BY ch.created_at, ch.id`,
  )
    .bind(shop.id, externalId)
    .all<{ progress: number }>();
  return results.map((r) => r.progress);
}

describe("reversal", () => {
  it("reverses a referral whose qualifying order is refunded in full, once", async () => {
    const { shop, ann, code } = await referralShop();
    for (const [name, goal] of [["Three friends", 3], ["First friend", 1]] as const) {
      const res = await call("POST", "/v1/challenges", {
        token: shop.secretKey,
        body: { name, kind: "referrals", goal, rewardPoints: 0, badge: name },
      });
      expect(res.status).toBe(201);
    }
    await claim(shop, code, "hugo@example.com");
    const order = next("order");
    await orderPaid(shop, { id: order, customerId: next("hugo"), email: "hugo@example.com", subtotal: "40.00" });
    expect((await customer(shop, ann)).balance).toBe(200);

    expect(await referralChallengeProgress(shop, ann)).toEqual([1, 1]);

    await sendEvent(shop, { type: "order.refunded", order: { id: order }, refund: { id: "r1", amount: "15.00" } });
    expect((await referrals(shop))[0]!.status).toBe("completed");
    expect(await referralChallengeProgress(shop, ann)).toEqual([1, 1]);
    await sendEvent(shop, { type: "order.refunded", order: { id: order }, refund: { id: "r2", amount: "25.00" } });
    expect((await referrals(shop))[0]!.status).toBe("reversed");
    // The unfinished "3 referrals" goes back to 0; the completed "1 referral" keeps its reward.
    expect(await referralChallengeProgress(shop, ann)).toEqual([0, 1]);
    expect((await referralEntries(shop, ann)).map((e) => e.delta)).toEqual([200, -200]);
    expect((await customer(shop, ann)).balance).toBe(0);
    await sendEvent(shop, { type: "order.refunded", order: { id: order }, refund: { id: "r3", amount: "5.00" } });
    expect((await referralEntries(shop, ann)).map((e) => e.delta)).toEqual([200, -200]);
    await assertLedgerInvariants(shop.id);
  });

  it("reverses on cancellation, clamping at zero when the referrer already spent the points", async () => {
    const { shop, ann, code } = await referralShop();
    await claim(shop, code, "iris@example.com");
    const order = next("order");
    await orderPaid(shop, { id: order, customerId: next("iris"), email: "iris@example.com", subtotal: "40.00" });
    await call("POST", `/v1/customers/${ann}/adjustments`, {
      token: shop.secretKey,
      body: { points: -150, note: "spent" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    await sendEvent(shop, { type: "order.cancelled", order: { id: order } });
    expect((await referrals(shop))[0]!.status).toBe("reversed");
    const entries = await referralEntries(shop, ann);
    expect(entries.map((e) => [e.delta, e.shortfall])).toEqual([
      [200, 0],
      [-50, 150],
    ]);
    expect((await customer(shop, ann)).balance).toBe(0);
    await assertLedgerInvariants(shop.id);
  });

  it("a partial refund keeps the referral", async () => {
    const { shop, ann, code } = await referralShop();
    await claim(shop, code, "jade@example.com");
    const order = next("order");
    await orderPaid(shop, { id: order, customerId: next("jade"), email: "jade@example.com", subtotal: "40.00" });
    await sendEvent(shop, { type: "order.refunded", order: { id: order }, refund: { id: "r1", amount: "39.99" } });
    expect((await referrals(shop))[0]!.status).toBe("completed");
    expect((await customer(shop, ann)).balance).toBe(200);
  });
});

describe("merchant list and privacy", () => {
  it("needs the secret key, pages newest first and shows nothing of another shop", async () => {
    const { shop, code } = await referralShop();
    for (let i = 0; i < 3; i++) await claim(shop, code, `page${i}@example.com`);
    expectError(await call("GET", "/v1/referrals"), 401, "unauthorized");
    const first = await call("GET", "/v1/referrals?limit=2", { token: shop.secretKey });
    expect(first.body.referrals.map((r: { refereeEmail: string }) => r.refereeEmail)).toEqual([
      "page2@example.com",
      "page1@example.com",
    ]);
    const second = await call("GET", `/v1/referrals?limit=2&cursor=${first.body.nextCursor}`, { token: shop.secretKey });
    expect(second.body.referrals.map((r: { refereeEmail: string }) => r.refereeEmail)).toEqual(["page0@example.com"]);
    expect(second.body.nextCursor).toBeNull();
    expectError(await call("GET", "/v1/referrals?status=lost", { token: shop.secretKey }), 400, "invalid_request");
    const other = await makeShop();
    expect((await call("GET", "/v1/referrals", { token: other.secretKey })).body.referrals).toEqual([]);
  });

  it("a GDPR redact clears the referee's address from their referrals", async () => {
    const { shop, code } = await referralShop();
    await claim(shop, code, "kurt@example.com");
    await claim(shop, code, "kurt.unused@example.com");
    const kurt = next("kurt");
    await orderPaid(shop, { id: next("order"), customerId: kurt, email: "kurt@example.com", subtotal: "10.00" });
    const res = await call("DELETE", `/v1/customers/${kurt}`, { token: shop.secretKey });
    expect(res.status).toBe(200);
    const list = await referrals(shop);
    expect(list.map((r) => r.refereeEmail)).toEqual(["kurt.unused@example.com", null]);
    const keys = await env.DB.prepare("SELECT referee_email_key, claim_address FROM referrals WHERE shop_id = ? ORDER BY rowid")
      .bind(shop.id)
      .all<{ referee_email_key: string | null; claim_address: string | null }>();
    expect(keys.results[0]).toEqual({ referee_email_key: null, claim_address: null });
    expect(keys.results[1]!.referee_email_key).toBe("kurt.unused@example.com");
  });

  it("an erased referrer's code no longer resolves", async () => {
    const { shop, ann, code } = await referralShop();
    expect((await call("DELETE", `/v1/customers/${ann}`, { token: shop.secretKey })).status).toBe(200);
    expectError(await call("GET", `/v1/storefront/referrals/${code}?shop=${shop.publicKey}`), 404, "not_found");
    expectError(await claim(shop, code, "late@example.com"), 404, "not_found");
    expect(await referrals(shop)).toEqual([]);
  });

  it("validates the claim body", async () => {
    const { shop, code } = await referralShop();
    expectError(await claim(shop, code, "not-an-email"), 400, "invalid_request");
    const noShop = await call("POST", `/v1/storefront/referrals/${code}/claim`, { body: { email: "a@example.com" } });
    expectError(noShop, 400, "invalid_request");
    expectError(await call("POST", `/v1/storefront/referrals/${code}/claim`, { body: { shop: "pk_nope", email: "a@example.com" } }), 404, "not_found");
    expect(await referrals(shop)).toEqual([]);
  });
});

describe("Shopify shops", () => {
  // The Admin API is the local fake: outbound requests to *.myshopify.com are routed to it.
  let fake: ShopifyAdminFake;
  beforeEach(() => {
    fake = new ShopifyAdminFake();
    const passThrough = globalThis.fetch.bind(globalThis);
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      return new URL(request.url).hostname.endsWith(".myshopify.com") ? fake.fetch(request) : passThrough(request);
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function shopifyReferralShop(connect = true) {
    const domain = `${next("engagement").replace("_", "-")}.myshopify.com`;
    const shop = await makeShop({ platform: "shopify", shopifyDomain: domain, currency: "USD" });
    if (connect) {
      const res = await call("POST", "/v1/shopify/connect", {
        token: shop.secretKey,
        body: { shopDomain: domain, accessToken: fake.accessToken },
      });
      expect(res.status).toBe(200);
    }
    await setProgram(shop, (p) => {
      p.referral = { referrerPoints: 100, refereeOffer: { type: "percent_off", value: 15 } };
      p.waysToEarn.nps = 5;
    });
    await sendEvent(shop, { type: "customer.created", customer: { id: "7001", firstName: "Lin", email: "lin@example.com" } });
    return { shop, domain, code: (await customer(shop, "7001")).referralCode as string };
  }

  /** The query Shopify appends when it forwards https://{shop}/apps/laurel/... to us. */
  async function proxied(domain: string, customerId: string | null) {
    const params = new URLSearchParams({
      shop: domain,
      logged_in_customer_id: customerId ?? "",
      path_prefix: "/apps/laurel",
      timestamp: String(Math.floor(Date.now() / 1000)),
    });
    params.set("signature", await signAppProxy("test-shopify-secret", params));
    return params;
  }

  it("creates the referee's offer code in Shopify, so checkout accepts it", async () => {
    const { shop, code } = await shopifyReferralShop();
    const res = await claim(shop, code, "nia@example.com");
    expect(res.status).toBe(201);
    const created = fake.discounts.get(res.body.offerCode);
    expect(created).toMatchObject({ kind: "basic", code: res.body.offerCode });
    expect(created!.input).toMatchObject({ customerGets: { value: { percentage: 0.15 } } });
  });

  it("a fresh Shopify shop's default offer is created in Shopify, not refused (no 502)", async () => {
    const domain = `${next("fresh").replace("_", "-")}.myshopify.com`;
    const shop = await makeShop({ platform: "shopify", shopifyDomain: domain, currency: "USD" });
    const connected = await call("POST", "/v1/shopify/connect", { token: shop.secretKey, body: { shopDomain: domain, accessToken: fake.accessToken } });
    expect(connected.status).toBe(200);
    await sendEvent(shop, { type: "customer.created", customer: { id: "7002", firstName: "Kai" } });
    const code = (await customer(shop, "7002")).referralCode as string;
    const res = await claim(shop, code, "sam@example.com");
    expect(res.status).toBe(201);
    expect(fake.discounts.get(res.body.offerCode)!.input).toMatchObject({ customerGets: { value: { percentage: 0.1 } } });
  });

  it("issues nothing when Shopify refuses or the shop is not connected (502), and a later claim works", async () => {
    const { shop, code } = await shopifyReferralShop();
    fake.failNext({ kind: "http401" });
    expectError(await claim(shop, code, "oz@example.com"), 502, "upstream_failed");
    expect(await referrals(shop)).toEqual([]);
    const retry = await claim(shop, code, "oz@example.com");
    expect(retry.status).toBe(201);
    expect(fake.discounts.has(retry.body.offerCode)).toBe(true);

    const unconnected = await shopifyReferralShop(false);
    expectError(await claim(unconnected.shop, unconnected.code, "pat@example.com"), 502, "upstream_failed");
    expect(await referrals(unconnected.shop)).toEqual([]);
  });

  it("serves the lookup, the claim, NPS and social actions through the app proxy with its identity", async () => {
    const { shop, domain, code } = await shopifyReferralShop();
    const path = (p: string) => `/shopify/proxy/v1/storefront/${p}`;

    const lookup = await call("GET", `${path(`referrals/${code}`)}?${await proxied(domain, null)}`);
    expect(lookup.status).toBe(200);
    expect(lookup.body.referral).toEqual({ firstName: "Lin", offer: { type: "percent_off", value: 15 } });

    const self = await call("POST", `${path(`referrals/${code}/claim`)}?${await proxied(domain, "7001")}`, {
      body: { shop: "ignored", email: "other@example.com" },
    });
    expectError(self, 422, "referral_rejected");
    expect(self.body.error.details.reason).toBe("self_referral");
    const guest = await call("POST", `${path(`referrals/${code}/claim`)}?${await proxied(domain, null)}`, {
      body: { shop: "ignored", email: "mo@example.com" },
    });
    expect(guest.status).toBe(201);

    expectError(await call("POST", `${path("nps")}?${await proxied(domain, null)}`, { body: { score: 9 } }), 401, "unauthorized");
    const nps = await call("POST", `${path("nps")}?${await proxied(domain, "7002")}`, { body: { score: 9 } });
    expect(nps.status).toBe(201);
    expect(nps.body).toMatchObject({ points: 5, balance: 5 });

    const social = await call("POST", "/v1/challenges", {
      token: shop.secretKey,
      body: { name: "Share", kind: "social", goal: 1, rewardPoints: 10 },
    });
    const action = await call("POST", `${path(`actions/${social.body.challenge.id}`)}?${await proxied(domain, "7002")}`);
    expect(action.status).toBe(201);
    expect((await customer(shop, "7002")).balance).toBe(15);
    // Merchant routes are never reachable through the proxy.
    expectError(await call("GET", `/shopify/proxy/v1/referrals?${await proxied(domain, "7002")}`), 404, "not_found");
  });
});
