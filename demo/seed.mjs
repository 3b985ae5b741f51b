/**
 * Seeds the demo shop through the public API, idempotently: the program is put back as it is
 * here, rewards and challenges are created when none of that name exists, and the demo shoppers'
 * history is sent as events with fixed ids (a second start finds them all duplicates).
 */

/**
 * The demo shop's program: a new shop's program (GET /v1/program, the one default in
 * worker/contract/program.ts) with these changes.
 */
const program = (current) => ({
  ...current,
  earning: { ...current.earning, productTypeMultipliers: { Tea: 2 } },
  waysToEarn: { ...current.waysToEarn, signup: 50, birthday: 100, review: 25, nps: 20, social: 15, npsPeriodDays: 90, custom: {} },
  referral: { referrerPoints: 200, refereeOffer: { type: "amount_off", value: "5.00" } },
  expiry: { days: 365 },
  tiers: [
    { name: "Seedling", basis: "lifetime_points", threshold: 0, multiplier: 1, perks: "Points on every order" },
    { name: "Sapling", basis: "lifetime_points", threshold: 500, multiplier: 1.25, perks: "1.25x points, early access" },
    { name: "Oak", basis: "lifetime_points", threshold: 1500, multiplier: 1.5, perks: "1.5x points, free shipping" },
  ],
  branding: { ...current.branding, primaryColor: "#2f6d4f" },
});

const rewards = [
  { name: "€5 off your order", type: "amount_off", cost: 500, value: "5.00" },
  { name: "10% off", type: "percent_off", cost: 800, value: 10 },
  { name: "Free shipping", type: "free_shipping", cost: 300 },
  { name: "Free sample tin", type: "free_product", cost: 1200, product: "SAMPLE-TIN" },
];

const challenges = [
  { name: "Three's a habit", kind: "order_count", goal: 3, rewardPoints: 150, badge: "🌱 Regular" },
  { name: "Tea explorer", kind: "product_type", productType: "Tea", goal: 2, rewardPoints: 100, badge: "🍵 Explorer" },
  { name: "Follow us", kind: "social", goal: 1, rewardPoints: 15, badge: "📣 Friend" },
  { name: "Tell us how we're doing", kind: "nps", goal: 1, rewardPoints: 0, badge: "💬 Voice" },
];

async function api(url, method, path, token, body, headers = {}) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`Seeding: ${method} ${path} answered ${res.status}: ${text}`);
  return json;
}

export async function seedDemoShop(url, adminToken) {
  const demo = await api(url, "POST", "/demo/api/shop", adminToken, {});
  const key = demo.secretKey;
  const current = (await api(url, "GET", "/v1/program", key)).program;
  await api(url, "PUT", "/v1/program", key, { program: program(current) });

  // Created by name, so a start interrupted half-way completes the set next time.
  const haveRewards = new Set((await api(url, "GET", "/v1/rewards", key)).rewards.map((r) => r.name));
  for (const reward of rewards) if (!haveRewards.has(reward.name)) await api(url, "POST", "/v1/rewards", key, reward);
  const haveChallenges = new Set((await api(url, "GET", "/v1/challenges", key)).challenges.map((c) => c.name));
  for (const challenge of challenges) {
    if (!haveChallenges.has(challenge.name)) await api(url, "POST", "/v1/challenges", key, challenge);
  }

  const [ada, ben] = demo.customers;
  const history = [
    { id: "seed-ada", type: "customer.created", customer: { id: ada.id, email: ada.email, firstName: ada.firstName } },
    { id: "seed-ben", type: "customer.created", customer: { id: ben.id, email: ben.email, firstName: ben.firstName } },
    ...[
      ["1001", "320.00", "Tea"],
      ["1002", "185.50", "Teaware"],
      ["1003", "96.00", "Tea"],
    ].map(([id, subtotal, productType]) => ({
      id: `seed-order-${id}`,
      type: "order.paid",
      order: {
        id: `demo-${id}`,
        customerId: ada.id,
        email: ada.email,
        currency: "EUR",
        subtotal,
        lines: [{ productType, quantity: 1, price: subtotal }],
      },
    })),
    {
      id: "seed-order-2001",
      type: "order.paid",
      order: {
        id: "demo-2001",
        customerId: ben.id,
        email: ben.email,
        currency: "EUR",
        subtotal: "42.00",
        lines: [{ productType: "Teaware", quantity: 1, price: "42.00" }],
      },
    },
  ];
  for (const event of history) await api(url, "POST", "/v1/events", key, event);

  return {
    publicKey: demo.shop.publicKey,
    secretKey: demo.secretKey,
    webhookSecret: demo.webhookSecret,
    widgetSecret: demo.widgetSecret,
    customers: demo.customers,
  };
}
