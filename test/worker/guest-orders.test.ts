/**
 * Guest orders (issue 17): an order without a customer earns points that are held for its email
 * for 30 days (a holding, not a balance; the address stored only as a keyed hash) and are credited
 * as that member's order when a member with the address appears: customer.created on
 * POST /v1/events, Shopify customers/create, a later order of a customer with the address, or a
 * member who already has it. Refunds and cancellations before the claim lower what is held; the
 * daily run lets unclaimed holdings expire.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SHOPIFY_API_VERSION } from "../../worker/adapters/shopify-admin";
import { signShopifyWebhook } from "../../worker/auth/shopify";
import { parseShopifyJson } from "../../worker/domain/shopify";
import { runScheduledWork } from "../../worker/services/scheduled";
import customersCreateRaw from "../fixtures/shopify/customers-create.json?raw";
import customersRedactRaw from "../fixtures/shopify/customers-redact.json?raw";
import ordersPaidRaw from "../fixtures/shopify/orders-paid.json?raw";
import refundsCreateRaw from "../fixtures/shopify/refunds-create.json?raw";
import {
  assertLedgerInvariants,
  assertOutboxMatchesLedger,
  call,
  customer,
  expectError,
  ledgerOf,
  makeShop,
  outboxOf,
  sendEvent,
  setProgram,
  snapshot,
  type TestShop,
} from "./helpers";

const DAY = 86_400_000;

interface GuestRow {
  external_id: string;
  email_hash: string | null;
  status: string;
  order_status: string;
  points_awarded: number;
  points_reversed: number;
  refunded_amount: number;
  held_until: string;
  customer_id: number | null;
}

async function guestRow(shop: TestShop, orderId: string) {
  return env.DB.prepare("SELECT * FROM guest_orders WHERE shop_id = ? AND external_id = ?").bind(shop.id, orderId).first<GuestRow>();
}

async function counts(shop: TestShop) {
  const one = async (sql: string) => (await env.DB.prepare(sql).bind(shop.id).first<{ n: number }>())!.n;
  return {
    customers: await one("SELECT COUNT(*) AS n FROM customers WHERE shop_id = ?"),
    ledger: await one("SELECT COUNT(*) AS n FROM ledger WHERE shop_id = ?"),
    orders: await one("SELECT COUNT(*) AS n FROM orders WHERE shop_id = ?"),
    guests: await one("SELECT COUNT(*) AS n FROM guest_orders WHERE shop_id = ?"),
  };
}

const guestOrder = (shop: TestShop, id: string, email: string, subtotal: string, extra: Record<string, unknown> = {}) =>
  sendEvent(shop, { type: "order.paid", order: { id, email, currency: "EUR", subtotal, lines: [] }, ...extra });

const signup = (shop: TestShop, id: string, email?: string) =>
  sendEvent(shop, { type: "customer.created", customer: { id, ...(email ? { email } : {}) } });

const refund = (shop: TestShop, orderId: string, refundId: string, amount: string) =>
  sendEvent(shop, { type: "order.refunded", order: { id: orderId }, refund: { id: refundId, amount } });

describe("guest orders through POST /v1/events", () => {
  it("keeps a guest order's points for its email (no member, no balance, the address only hashed) and credits them when that email signs up", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.waysToEarn.signup = 5;
    });
    const held = await guestOrder(shop, "g-1", "Ann.Lee@Example.com", "120.00");
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ status: "processed", customerId: null, points: 0, balance: null, heldPoints: 120 });
    expect(await counts(shop)).toEqual({ customers: 0, ledger: 0, orders: 0, guests: 1 });
    const row = await guestRow(shop, "g-1");
    expect(row).toMatchObject({ status: "held", points_awarded: 120, points_reversed: 0, customer_id: null });
    expect(row!.email_hash).toMatch(/^[0-9a-f]{64}$/);
    // The address is nowhere in the row.
    expect(JSON.stringify(row).toLowerCase()).not.toContain("ann.lee");
    expect(Date.parse(row!.held_until) - Date.now()).toBeGreaterThan(29 * DAY);

    // The same email (in other case) signs up: the order becomes the member's.
    const joined = await signup(shop, "ann", "ANN.lee@example.COM");
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ status: "processed", customerId: "ann", points: 125, balance: 125 });
    expect(await customer(shop, "ann")).toMatchObject({ balance: 125, lifetimePoints: 125 });
    const entries = await ledgerOf(shop, "ann");
    expect(entries.map((e) => [e.kind, e.delta, e.reference])).toEqual([
      ["signup", 5, null],
      ["order", 120, "g-1"],
    ]);
    expect(await guestRow(shop, "g-1")).toMatchObject({ status: "claimed", email_hash: null });
    const order = await env.DB.prepare("SELECT c.external_id, o.points_awarded, o.status FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.shop_id = ?")
      .bind(shop.id)
      .first();
    expect(order).toEqual({ external_id: "ann", points_awarded: 120, status: "paid" });
    const events = await outboxOf(shop.id);
    expect(events.filter((e) => e.type === "points.earned").map((e) => e.data)).toContainEqual(
      expect.objectContaining({ customerId: "ann", points: 120, kind: "order", reference: "g-1" }),
    );
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);

    // Idempotent: the order again (same or another event id), the signup again, another member with the address.
    expect((await guestOrder(shop, "g-1", "ann.lee@example.com", "120.00")).body).toMatchObject({ status: "duplicate", points: 0 });
    expect((await signup(shop, "ann", "ann.lee@example.com")).body).toMatchObject({ points: 0, balance: 125 });
    expect((await signup(shop, "ann-2", "ann.lee@example.com")).body).toMatchObject({ points: 5, balance: 5 });
    expect(await counts(shop)).toEqual({ customers: 2, ledger: 3, orders: 1, guests: 1 });
    const replay = await call("POST", "/v1/events", {
      token: shop.secretKey,
      body: { id: "evt-fixed", type: "order.paid", order: { id: "g-2", email: "bo@example.com", currency: "EUR", subtotal: "10.00" } },
    });
    const again = await call("POST", "/v1/events", {
      token: shop.secretKey,
      body: { id: "evt-fixed", type: "order.paid", order: { id: "g-2", email: "bo@example.com", currency: "EUR", subtotal: "10.00" } },
    });
    expect(replay.body.heldPoints).toBe(10);
    expect(again.body).toMatchObject({ status: "duplicate", points: 0 });
    expect((await counts(shop)).guests).toBe(2);
  });

  it("credits a later order's customer with the same email, and a member who already has the address at once", async () => {
    const shop = await makeShop();
    await guestOrder(shop, "g-10", "cy@example.com", "30.00");
    await guestOrder(shop, "g-11", "cy@example.com", "20.00");
    await guestOrder(shop, "g-12", "cy+shop@example.com", "99.00"); // another address: not hers
    const first = await sendEvent(shop, {
      type: "order.paid",
      order: { id: "m-1", customerId: "cy", email: "CY@example.com", currency: "EUR", subtotal: "10.00", lines: [] },
    });
    expect(first.body).toMatchObject({ status: "processed", customerId: "cy", points: 60, balance: 60 });
    expect(await customer(shop, "cy")).toMatchObject({ balance: 60, orderCount: 3 });
    expect((await guestRow(shop, "g-12"))!.status).toBe("held");

    // A member with the address exists: a guest order of hers is hers at once.
    const now = await guestOrder(shop, "g-13", "cy@example.com", "15.00");
    expect(now.body).toMatchObject({ status: "processed", customerId: "cy", points: 15, balance: 75 });
    expect(now.body.heldPoints).toBeUndefined();
    expect(await guestRow(shop, "g-13")).toMatchObject({ status: "claimed", email_hash: null });
    expect((await ledgerOf(shop, "cy")).map((e) => [e.reference, e.delta])).toEqual([
      ["m-1", 10],
      ["g-10", 30],
      ["g-11", 20],
      ["g-13", 15],
    ]);
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);
  });

  it("lowers what is held by refunds and a cancellation before the claim, and claws back as usual after it", async () => {
    const shop = await makeShop();
    await guestOrder(shop, "g-20", "di@example.com", "100.00");
    const partial = await refund(shop, "g-20", "r-1", "40.00");
    expect(partial.body).toMatchObject({ status: "processed", customerId: null, points: 0, heldPoints: 60 });
    expect(await guestRow(shop, "g-20")).toMatchObject({ points_reversed: 40, refunded_amount: 4000, order_status: "partially_refunded" });
    expect((await refund(shop, "g-20", "r-1", "40.00")).body).toMatchObject({ status: "duplicate" });

    await guestOrder(shop, "g-21", "di@example.com", "50.00");
    const cancelled = await sendEvent(shop, { type: "order.cancelled", order: { id: "g-21" } });
    expect(cancelled.body).toMatchObject({ status: "processed", points: 0 });
    expect(await guestRow(shop, "g-21")).toMatchObject({ points_reversed: 50, order_status: "cancelled" });
    expect((await sendEvent(shop, { type: "order.cancelled", order: { id: "g-21" } })).body.status).toBe("duplicate");

    // A refund that came before its guest order applies when the order arrives.
    await refund(shop, "g-22", "r-early", "10.00");
    const late = await guestOrder(shop, "g-22", "di@example.com", "20.00");
    expect(late.body.heldPoints).toBe(10);

    const joined = await signup(shop, "di", "di@example.com");
    expect(joined.body).toMatchObject({ points: 60 + 10, balance: 70 });
    // The cancelled order counts for nothing; the others count once with their net spend.
    expect(await customer(shop, "di")).toMatchObject({ balance: 70, orderCount: 2 });

    // After the claim the order is the member's: a refund claws back from their balance.
    const after = await refund(shop, "g-20", "r-2", "60.00");
    expect(after.body).toMatchObject({ status: "processed", customerId: "di", points: -60, balance: 10 });
    expect(await guestRow(shop, "g-20")).toMatchObject({ status: "claimed", points_reversed: 40 });
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);
  });

  it("lets unclaimed holdings expire in the daily run after 30 days, and a sign-up after that claims nothing", async () => {
    const shop = await makeShop();
    const placed = new Date(Date.now() - 10 * DAY);
    await guestOrder(shop, "g-30", "ed@example.com", "40.00", { occurredAt: placed.toISOString() });
    await guestOrder(shop, "g-31", "ed@example.com", "5.00");

    const early = await runScheduledWork(env, new Date(placed.getTime() + 29 * DAY));
    expect(early.guestOrdersExpired).toBe(0);
    expect((await guestRow(shop, "g-30"))!.status).toBe("held");

    const report = await runScheduledWork(env, new Date(placed.getTime() + 30 * DAY + 60_000));
    expect(report.guestOrdersExpired).toBe(1);
    expect(await guestRow(shop, "g-30")).toMatchObject({ status: "expired", email_hash: null });
    expect((await guestRow(shop, "g-31"))!.status).toBe("held");
    expect((await runScheduledWork(env, new Date(placed.getTime() + 30 * DAY + 120_000))).guestOrdersExpired).toBe(0);

    const joined = await signup(shop, "ed", "ed@example.com");
    expect(joined.body).toMatchObject({ points: 5, balance: 5 });
    // A refund of the expired order is recorded and moves nothing.
    expect((await refund(shop, "g-30", "r-30", "40.00")).body).toMatchObject({ status: "processed", points: 0 });
    expect(await customer(shop, "ed")).toMatchObject({ balance: 5 });
    await assertLedgerInvariants(shop.id);
  });

  it("refuses a guest order without an email or with a bad one (400), and one in another currency (422), changing nothing", async () => {
    const shop = await makeShop();
    const before = await snapshot();
    const guestsBefore = (await counts(shop)).guests;
    const noEmail = await sendEvent(shop, { type: "order.paid", order: { id: "g-40", currency: "EUR", subtotal: "10.00" } });
    expectError(noEmail, 400, "invalid_request");
    expect(JSON.stringify(noEmail.body.error.details)).toContain("email");
    expectError(
      await sendEvent(shop, { type: "order.paid", order: { id: "g-41", email: "not-an-address", currency: "EUR", subtotal: "10.00" } }),
      400,
      "invalid_request",
    );
    expectError(await guestOrder(shop, "g-42", "fi@example.com", "-10.00"), 400, "invalid_request");
    expectError(await guestOrder(shop, "g-43", "fi@example.com", "10.001"), 400, "invalid_request");
    const usd = await sendEvent(shop, { type: "order.paid", order: { id: "g-44", email: "fi@example.com", currency: "USD", subtotal: "10.00" } });
    expectError(usd, 422, "currency_mismatch");
    expect(await snapshot()).toEqual(before);
    expect((await counts(shop)).guests).toBe(guestsBefore);
  });

  it("gives one racing claim the holding: two members created at once with the same email", async () => {
    const shop = await makeShop();
    await guestOrder(shop, "g-50", "gi@example.com", "80.00");
    const [a, b] = await Promise.all([signup(shop, "gi-a", "gi@example.com"), signup(shop, "gi-b", "gi@example.com")]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.body.points, b.body.points].sort()).toEqual([0, 80]);
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger WHERE shop_id = ? AND reference = 'g-50'").bind(shop.id).first<{ n: number }>())!;
    expect(n).toBe(1);
    // The same order delivered as a guest's and as a customer's at once: it earns once.
    const [guest, member] = await Promise.all([
      guestOrder(shop, "g-51", "hu@example.com", "25.00"),
      sendEvent(shop, { type: "order.paid", order: { id: "g-51", customerId: "hu", email: "hu@example.com", currency: "EUR", subtotal: "25.00" } }),
    ]);
    expect([guest.status, member.status]).toEqual([200, 200]);
    expect((await customer(shop, "hu")).balance).toBe(25);
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);
  });
});

// Shopify: a guest checkout's orders/paid carries no customer, only the buyer's email.
const SECRET = "test-shopify-secret";
let shopifyShops = 0;
async function shopifyShop() {
  const domain = `laurel-guests-${++shopifyShops}.myshopify.com`;
  return { ...(await makeShop({ platform: "shopify", shopifyDomain: domain, currency: "USD" })), domain };
}
let deliveries = 0;
async function deliver(shop: { domain: string }, topic: string, body: string, eventId = `guest-evt-${++deliveries}`) {
  return call("POST", "/shopify/webhooks", {
    raw: body,
    headers: {
      "x-shopify-topic": topic,
      "x-shopify-shop-domain": shop.domain,
      "x-shopify-api-version": SHOPIFY_API_VERSION,
      "x-shopify-event-id": eventId,
      "x-shopify-webhook-id": crypto.randomUUID(),
      "x-shopify-hmac-sha256": await signShopifyWebhook(SECRET, body),
    },
  });
}
/** A sample edited and re-serialised. */
function edited(raw: string, edit: (payload: any) => void): string {
  const payload = parseShopifyJson(raw);
  edit(payload);
  return JSON.stringify(payload);
}
const guestCheckout = edited(ordersPaidRaw, (o) => {
  o.customer = null;
  o.email = "Jon@Example.com";
  o.contact_email = "Jon@Example.com";
});

describe("guest orders from Shopify", () => {
  it("holds a guest checkout for its email and credits it when customers/create brings that email", async () => {
    const shop = await shopifyShop();
    const held = await deliver(shop, "orders/paid", guestCheckout);
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ status: "processed", result: { customerId: null, points: 0, heldPoints: 404 } });
    expect((await deliver(shop, "orders/paid", guestCheckout, held.body.eventId.split(":").pop())).body.status).toBe("duplicate");
    // A refund of the guest order (89.99 of line subtotals: 404 x 89.99 / 404.95 -> 89) lowers what is held.
    const refunded = await deliver(shop, "refunds/create", edited(refundsCreateRaw, (r) => {
      r.refund_line_items = r.refund_line_items.slice(0, 1);
    }));
    expect(refunded.body).toMatchObject({ status: "processed", result: { heldPoints: 404 - 89 } });

    const created = await deliver(shop, "customers/create", edited(customersCreateRaw, (c) => {
      c.email = "jon@example.com";
    }));
    expect(created.body).toMatchObject({ status: "processed" });
    const member = await customer(shop, "706405506930370084");
    expect(member).toMatchObject({ balance: 404 - 89, orderCount: 1 });
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);
  });

  it("ignores a guest checkout without an email, and customers/redact of a guest's email makes its holdings unclaimable", async () => {
    const shop = await shopifyShop();
    const anonymous = edited(guestCheckout, (o) => {
      o.email = null;
      o.contact_email = null;
    });
    expect((await deliver(shop, "orders/paid", anonymous)).body).toMatchObject({ status: "ignored", reason: "guest_order" });

    const other = edited(guestCheckout, (o) => {
      o.id = "820982911946154999";
      o.email = "kim@example.com";
    });
    expect((await deliver(shop, "orders/paid", other)).body.result.heldPoints).toBe(404);
    const redact = edited(customersRedactRaw.replaceAll("{shop}.myshopify.com", shop.domain), (r) => {
      r.customer.email = "kim@example.com";
    });
    expect((await deliver(shop, "customers/redact", redact)).status).toBe(200);
    expect(await guestRow(shop, "820982911946154999")).toMatchObject({ status: "expired", email_hash: null });
    const created = await deliver(shop, "customers/create", edited(customersCreateRaw, (c) => {
      c.email = "kim@example.com";
    }));
    expect(created.body.status).toBe("processed");
    expect((await customer(shop, "706405506930370084")).balance).toBe(0);
  });
});
