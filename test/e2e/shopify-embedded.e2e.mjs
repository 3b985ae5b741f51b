/**
 * The console embedded in the Shopify admin (issue 17): a stand-in admin page at
 * https://admin.shopify.com (served by Playwright, no network) frames Laurel's app URL with the
 * signed query Shopify adds; App Bridge's script is served by a local stand-in that follows its
 * documented `shopify.idToken()` contract; the admin answers with session tokens signed as Shopify
 * signs them. Shopify's token endpoint and Admin API are the local fake (shopify-admin-server.mjs).
 */
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root, shot, test, until } from "./harness.mjs";

const ADMIN = "https://admin.shopify.com";
const APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js";
const appBridgeStandIn = readFileSync(join(root, "test", "e2e", "fixtures", "app-bridge.js"), "utf8");

const base64url = (value) => Buffer.from(value).toString("base64url");

/** A session token as Shopify's admin issues it (App Bridge's ID token). */
function sessionToken(shop, { apiKey, secret, overrides = {} }) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(
    JSON.stringify({
      iss: `https://${shop}/admin`,
      dest: `https://${shop}`,
      aud: apiKey,
      sub: "74891002",
      exp: now + 60,
      nbf: now,
      iat: now,
      jti: randomUUID(),
      sid: randomUUID(),
      ...overrides,
    }),
  );
  return `${header}.${payload}.${createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url")}`;
}

/** The app URL as Shopify opens it in the admin: shop, host, embedded, id_token, timestamp, hmac. */
function appUrl(url, shop, secret, idToken) {
  const query = new URLSearchParams({
    embedded: "1",
    host: base64url(`admin.shopify.com/store/${shop.replace(".myshopify.com", "")}`),
    id_token: idToken,
    locale: "en",
    session: randomUUID().replace(/-/g, ""),
    shop,
    timestamp: String(Math.floor(Date.now() / 1000)),
  });
  // Signed as Shopify's library signs: sorted keys, URLSearchParams encoding, spaces as %20.
  const message = new URLSearchParams([...query].sort(([a], [b]) => a.localeCompare(b))).toString().replace(/\+/g, "%20");
  query.set("hmac", createHmac("sha256", secret).update(message).digest("hex"));
  return `${url}/shopify/app?${query}`;
}

/** The Shopify admin's frame around the app; it answers App Bridge's token requests. */
function adminPage(src, laurelOrigin) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Laurel · Shopify admin (test stand-in)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:0;font-family:system-ui">
<header style="height:48px;display:flex;align-items:center;padding:0 16px;background:#1a1a1a;color:#fff">Shopify admin · Apps · Laurel</header>
<iframe id="app" title="Laurel" src="${src}" style="border:0;display:block;width:100%;height:calc(100vh - 48px)"></iframe>
<script>
addEventListener("message", async (event) => {
  if (event.origin !== ${JSON.stringify(laurelOrigin)} || event.data?.type !== "app-bridge:id-token") return;
  try {
    event.source.postMessage({ id: event.data.id, token: await window.issueIdToken(event.data.apiKey) }, event.origin);
  } catch (error) {
    event.source.postMessage({ id: event.data.id, error: String(error) }, event.origin);
  }
});
</script></body></html>`;
}

async function shopifyShop(env, domain) {
  const res = await fetch(`${env.url}/v1/shops`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.shopify.secrets.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Juniper & Oak on Shopify", currency: "USD", platform: "shopify", shopifyDomain: domain, origins: [`https://${domain}`] }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

/** Opens the admin stand-in framing the app; `sign` issues each session token. */
async function openInAdmin(env, { viewport, sign }) {
  const { page, context, errors } = await env.open({ shopper: null, context: { viewport } });
  const secret = env.shopify.secrets.SHOPIFY_API_SECRET;
  await context.route(APP_BRIDGE, (route) => route.fulfill({ contentType: "text/javascript", body: appBridgeStandIn }));
  const src = appUrl(env.url, env.shopify.shopDomain, secret, sign(env.shopify.clientId));
  await context.route(`${ADMIN}/**`, (route) => route.fulfill({ contentType: "text/html", body: adminPage(src, env.url) }));
  await page.exposeFunction("issueIdToken", (apiKey) => sign(apiKey));
  await page.goto(`${ADMIN}/store/laurel-e2e/apps/laurel`);
  const app = page.frameLocator("iframe#app");
  return { page, context, errors, app };
}

test("shopify: the console runs embedded in the admin with session tokens, connects the store, and lists data requests", async (env) => {
  const { shopify } = env;
  const secret = shopify.secrets.SHOPIFY_API_SECRET;
  const shop = await shopifyShop(env, shopify.shopDomain);
  const issued = [];
  const sign = (apiKey) => {
    const token = sessionToken(shopify.shopDomain, { apiKey, secret });
    issued.push(token);
    return token;
  };
  const { page, app } = await openInAdmin(env, { viewport: { width: 1366, height: 900 }, sign });

  await app.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
  await app.getByText("Juniper & Oak on Shopify").first().waitFor();
  // A Shopify merchant never sees a secret key: no sign-in form, no sign-out.
  assert.equal(await app.getByLabel("Secret key").count(), 0);
  assert.equal(await app.getByRole("button", { name: "Sign out" }).count(), 0);
  // Opening the app connected the store: token exchange of the session token, then the metafields.
  const exchange = shopify.fake.grants.find((g) => g.grant === "urn:ietf:params:oauth:grant-type:token-exchange");
  assert.deepEqual(exchange, { grant: "urn:ietf:params:oauth:grant-type:token-exchange", status: 200 });
  assert.equal(shopify.fake.metafields.get("laurel.public_key")?.value, shop.shop.publicKey);
  assert.ok(issued.length >= 2, "every API call asked App Bridge for a fresh session token");
  await shot(page, "shopify-embedded-overview-1366");

  // A customer asks the store for their data: the export waits in the console.
  const body = JSON.stringify({
    shop_id: 954889,
    shop_domain: shopify.shopDomain,
    customer: { id: 191167, email: "john@example.com", phone: "555-625-1199" },
    orders_requested: [299938],
    data_request: { id: 9999 },
  });
  const delivery = await fetch(`${env.url}/shopify/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": "customers/data_request",
      "x-shopify-shop-domain": shopify.shopDomain,
      "x-shopify-event-id": randomUUID(),
      "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64"),
    },
    body,
  });
  assert.equal(delivery.status, 200);
  await app.getByRole("navigation").getByRole("link", { name: "Data requests" }).click();
  await app.getByRole("heading", { name: "Data requests", level: 1 }).waitFor();
  const row = app.getByTestId("data-requests").getByRole("row").filter({ hasText: "191167" });
  await row.waitFor();
  assert.match((await row.textContent()) ?? "", /Nothing/);
  const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("button", { name: /Download/ }).click()]);
  assert.match(download.suggestedFilename(), /^data-request-191167-\d{4}-\d{2}-\d{2}\.json$/);
  await shot(page, "shopify-embedded-data-requests-1366");

  await page.setViewportSize({ width: 390, height: 844 });
  await app.getByRole("heading", { name: "Data requests", level: 1 }).waitFor();
  await shot(page, "shopify-embedded-data-requests-390");
});

test("shopify: a session token the app cannot trust shows what to do, and the standalone console loads no App Bridge", async (env) => {
  const { shopify } = env;
  // Signed with another app's secret: every request is refused with 401.
  const forged = (apiKey) => sessionToken(shopify.shopDomain, { apiKey, secret: "not-the-app-secret" });
  const { page, app, errors } = await openInAdmin(env, { viewport: { width: 390, height: 844 }, sign: forged });
  const alert = app.getByRole("alert");
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? "", /could not verify this session with Shopify\. Reload the app from your Shopify admin/);
  assert.equal(await app.getByRole("heading", { name: "Overview" }).count(), 0);
  await shot(page, "shopify-embedded-refused-390");
  // The refused session is the one expected failed request.
  const unexpected = errors.filter((e) => !/status of 401/.test(e));
  errors.length = 0;
  errors.push(...unexpected);

  // A page that was not opened by Shopify (no valid hmac) is refused; the plain console has no App Bridge.
  const direct = await fetch(`${env.url}/shopify/app?shop=${shopify.shopDomain}&embedded=1`);
  assert.equal(direct.status, 401);
  const { page: standalone } = await env.open({ shopper: null });
  const scripts = [];
  standalone.on("request", (request) => scripts.push(request.url()));
  await standalone.goto(`${env.url}/console/`);
  await standalone.getByLabel("Secret key").waitFor();
  await until(async () => scripts.length > 0, "the console loaded");
  assert.ok(!scripts.some((u) => u.startsWith("https://cdn.shopify.com")), "no App Bridge outside the admin");
});
