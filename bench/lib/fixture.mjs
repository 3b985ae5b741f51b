/**
 * The bench shop: created through the public API like any merchant's, with a program that uses
 * every hot-path feature (a spend tier, product multipliers, expiry, signup points), rewards and
 * challenges; plus bulk history as SQL for `wrangler d1 execute --local --file`, and order events.
 * `call(method, path, token, body)` is given by the caller: real HTTP, or the worker in-process.
 */
import { createHmac } from "node:crypto";

/**
 * The bench shop's program: a new shop's program (GET /v1/program, the one default in
 * worker/contract/program.ts) with these changes.
 */
export const benchProgram = (current) => ({
  ...current,
  earning: { ...current.earning, productTypeMultipliers: { Tea: 2 } },
  waysToEarn: { ...current.waysToEarn, signup: 50, birthday: 100, review: 25, nps: 20, social: 15, npsPeriodDays: 90, custom: {} },
  referral: { referrerPoints: 200, refereeOffer: { type: "amount_off", value: "5.00" } },
  expiry: { days: 365 },
  tiers: [
    { name: "Seedling", basis: "lifetime_points", threshold: 0, multiplier: 1, perks: "Points on every order" },
    { name: "Sapling", basis: "lifetime_points", threshold: 500, multiplier: 1.25, perks: "1.25x points" },
    { name: "Oak", basis: "spend", threshold: 1000, windowDays: 365, multiplier: 1.5, perks: "1.5x points" },
  ],
  branding: { ...current.branding, primaryColor: "#2f6d4f" },
});

const rewards = [
  { name: "€5 off", type: "amount_off", cost: 500, value: "5.00" },
  { name: "10% off", type: "percent_off", cost: 800, value: 10 },
  { name: "Free shipping", type: "free_shipping", cost: 300 },
];

const challenges = [
  { name: "Three's a habit", kind: "order_count", goal: 3, rewardPoints: 150, badge: "Regular" },
  { name: "Tea explorer", kind: "product_type", productType: "Tea", goal: 2, rewardPoints: 100, badge: "Explorer" },
  { name: "Big spender", kind: "spend", goal: 50000, rewardPoints: 300, badge: "Patron" },
];

export async function createBenchShop(call, adminToken, origin) {
  const created = await call("POST", "/v1/shops", adminToken, {
    name: "Bench shop",
    currency: "EUR",
    origins: [origin],
    platform: "custom",
  });
  const shop = {
    shopId: created.shop.id,
    publicKey: created.shop.publicKey,
    secretKey: created.secretKey,
    widgetSecret: created.widgetSecret,
  };
  const { program } = await call("GET", "/v1/program", shop.secretKey);
  await call("PUT", "/v1/program", shop.secretKey, { program: benchProgram(program) });
  for (const reward of rewards) await call("POST", "/v1/rewards", shop.secretKey, reward);
  for (const challenge of challenges) await call("POST", "/v1/challenges", shop.secretKey, challenge);
  return shop;
}

/** A storefront identity: hex HMAC-SHA256(widgetSecret, "{id}.{ts}"). */
export function identity(widgetSecret, id, now = Date.now()) {
  const ts = Math.floor(now / 1000);
  return { id, ts, digest: createHmac("sha256", widgetSecret).update(`${id}.${ts}`).digest("hex") };
}

export async function openSession(call, shop, customerId) {
  const session = await call("POST", "/v1/storefront/sessions", null, {
    shop: shop.publicKey,
    customer: identity(shop.widgetSecret, customerId),
  });
  return session.token;
}

/** Customers of the bulk history are named like this; `i` from 0. */
export const seededCustomer = (i) => `bench-c${i}`;

/** An order.paid event; ids are unique per (run, n). */
export function orderPaid(runId, n, customerId) {
  const cents = 1000 + ((n * 7919) % 9000);
  const price = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
  return {
    id: `evt-${runId}-${n}`,
    type: "order.paid",
    occurredAt: new Date().toISOString(),
    order: {
      id: `ord-${runId}-${n}`,
      customerId,
      currency: "EUR",
      subtotal: price,
      lines: [{ productType: n % 3 === 0 ? "Tea" : "Mug", quantity: 1, price }],
    },
  };
}

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

/**
 * Bulk history for customers [from, to): each gets a signup entry and `ordersEach` paid orders with
 * their ledger entries, `balance_after` the running sum (the ledger triggers check every row), the
 * customer's order counters, and one referral claim by a friend (one in ten converted). Generated inside SQLite by recursive CTEs, so 100k entries are a
 * few kilobytes of SQL and a second or two of work. Customer `i` is `seededCustomer(i)`.
 */
export function historySql({ shopId, from, to, ordersEach = 9, now = Date.now() }) {
  const shop = q(shopId);
  const nowSec = Math.floor(now / 1000);
  const iso = (seconds) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${seconds}, 'unixepoch')`;
  // Customer i joined 400-700 days ago; order k came (k + 1) * 30 days later; earned points last 365 days.
  const joined = `(${nowSec} - (700 - s.i % 300) * 86400)`;
  const orderedAt = `(${joined} + (k.k + 1) * 30 * 86400)`;
  const cents = "(1500 + (s.i * 31 + k.k * 17) % 8000)";
  const seq = `seq(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM seq WHERE i < ${to - 1})`;
  const ks = `ks(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM ks WHERE k < ${ordersEach - 1})`;
  const member = `JOIN customers c ON c.shop_id = ${shop} AND c.external_id = 'bench-c' || s.i`;
  return `
WITH RECURSIVE ${seq}
INSERT INTO customers (shop_id, external_id, email, first_name, referral_code, created_at)
SELECT ${shop}, 'bench-c' || s.i, 'bench-c' || s.i || '@example.com', 'Shopper ' || s.i, 'B' || printf('%09d', s.i),
  ${iso(joined)}
FROM seq s;

WITH RECURSIVE ${seq}, ${ks},
entries(cid, k, delta, kind, reference, key, at) AS (
  SELECT c.id, -1, 50, 'signup', NULL, 'signup:bulk' || s.i, ${joined} FROM seq s ${member}
  UNION ALL
  SELECT c.id, k.k, ${cents} / 100, 'order', 'bulk-' || s.i || '-' || k.k, 'order:bulk-' || s.i || '-' || k.k, ${orderedAt}
  FROM seq s CROSS JOIN ks k ${member}
)
INSERT INTO ledger (shop_id, customer_id, delta, kind, reference, idempotency_key, balance_after, created_at, expires_at)
SELECT ${shop}, cid, delta, kind, reference, key,
  SUM(delta) OVER (PARTITION BY cid ORDER BY k ROWS UNBOUNDED PRECEDING), ${iso("at")}, ${iso("at + 365 * 86400")}
FROM entries ORDER BY cid, k;

WITH RECURSIVE ${seq}, ${ks}
INSERT INTO orders (shop_id, external_id, customer_id, currency, eligible_amount, total_amount, points_awarded, status,
  email, created_at)
SELECT ${shop}, 'bulk-' || s.i || '-' || k.k, c.id, 'EUR', ${cents}, ${cents}, ${cents} / 100, 'paid', c.email, ${iso(orderedAt)}
FROM seq s CROSS JOIN ks k ${member};

-- Each member referred a friend who claimed the offer; one in ten of those went on to order.
WITH RECURSIVE ${seq}
INSERT INTO referrals (id, shop_id, referrer_id, code, referee_email, referee_email_key, offer_code, status,
  claim_address, created_at, completed_at)
SELECT 'ref_bulk_' || ${shop} || '_' || s.i, ${shop}, c.id, c.referral_code, 'friend' || s.i || '@example.com',
  'friend' || s.i || '@example.com', 'BULKOFFER' || printf('%09d', s.i),
  CASE WHEN s.i % 10 = 0 THEN 'completed' ELSE 'claimed' END, 'bulk-address-' || (s.i % 500), ${iso(`${joined} + 86400`)},
  CASE WHEN s.i % 10 = 0 THEN ${iso(`${joined} + 5 * 86400`)} END
FROM seq s ${member};

-- The counters the API keeps on the customer row, as its own writes would have left them.
UPDATE customers SET order_count = ${ordersEach},
  total_spent = (SELECT COALESCE(SUM(eligible_amount), 0) FROM orders o WHERE o.customer_id = customers.id),
  last_order_at = (SELECT MAX(created_at) FROM orders o WHERE o.customer_id = customers.id)
WHERE shop_id = ${shop} AND order_count = 0 AND external_id LIKE 'bench-c%';
`;
}

/** `count` more shops (other tenants of the same database), each with two storefront origins. */
export function shopsSql(from, count) {
  return `
WITH RECURSIVE seq(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM seq WHERE i < ${from + count - 1})
INSERT INTO shops (id, name, currency, public_key, origins, platform, secret_key_hash, webhook_secret, widget_secret,
  program, created_at)
SELECT 'shop_bulk' || i, 'Tenant ' || i, 'EUR', 'pk_bulk' || i,
  json_array('https://shop' || i || '.example', 'https://www.shop' || i || '.example'), 'custom', 'bulk-hash-' || i,
  'whsec_bulk', 'wsec_bulk', '{}', '2026-01-01T00:00:00.000Z'
FROM seq;
`;
}

/** Entries that `historySql` writes per customer. */
export const entriesPerCustomer = (ordersEach = 9) => ordersEach + 1;
