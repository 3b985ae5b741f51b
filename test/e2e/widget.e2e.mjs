/** The storefront widget in a real browser, against the server `npm start` runs (issue 4). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { dialog, focused, launcher, launcherBalance, root, shot, test, until } from "./harness.mjs";

const CODE = /^[A-Z0-9]{4,}(-[A-Z0-9]{4,})*$/;

/** The hostile-theme fixture, served same-origin (the demo shop's origins are the server's). */
async function hostilePage(env, { shopper = "demo-ada", lang = "en", origin = env.url } = {}) {
  const opened = await env.open({ shopper: null });
  const session = await (await fetch(`${env.url}/demo/api/session?customer=${shopper}`)).json();
  const html = readFileSync(join(root, "test/e2e/fixtures/hostile.html.tpl"), "utf8")
    .replaceAll("{{SRC}}", `${env.url}/laurel.js`)
    .replaceAll("{{LANG}}", lang)
    .replaceAll("{{SHOP}}", session.shop)
    .replaceAll("{{ID}}", session.customer.id)
    .replaceAll("{{TS}}", session.customer.ts)
    .replaceAll("{{DIGEST}}", session.customer.digest);
  await opened.page.route(`${origin}/demo/__hostile.html`, (route) =>
    route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html }),
  );
  await opened.page.goto(`${origin}/demo/__hostile.html`);
  await launcher(opened.page).waitFor();
  return opened;
}

async function openPanel(page) {
  await launcher(page).click();
  await dialog(page).waitFor({ state: "visible" });
}

const events = (page) => page.evaluate(() => window.__laurelEvents);

test("the launcher shows the member's balance from one request (the session answer carries the state)", async (env) => {
  const { page } = await env.open({ shopper: "demo-ada" });
  const apiRequests = [];
  page.on("request", (request) => {
    if (request.url().includes("/v1/storefront/")) apiRequests.push(request);
  });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  const balance = await launcherBalance(page);
  assert.deepEqual(
    apiRequests.map((r) => new URL(r.url()).pathname),
    ["/v1/storefront/sessions"],
    "first paint needs exactly one API request",
  );
  const response = await (await apiRequests[0].response()).json();
  assert.equal(balance, response.state.customer.balance);
  assert.ok(balance > 0, "Ada has points from the seed");
  assert.match((await launcher(page).textContent()) ?? "", /^Rewards[\d,]+ points$/);
  // One host, nothing else added to the page's own DOM.
  assert.equal(await page.locator("laurel-widget").count(), 1);
  const ready = (await events(page)).filter((e) => e.type === "laurel:ready");
  assert.equal(ready.length, 1);
  assert.equal(ready[0].detail.customer.id, "demo-ada");
  await shot(page, "01-demo-home-ada");
});

test("a nudge shows exactly the points the server then awards for the order", async (env) => {
  const { page } = await env.open({ shopper: "demo-ben" });
  await page.goto(`${env.url}/demo/product.html?sku=jasmine`);
  await launcher(page).waitFor();
  await until(async () => /Earn \d+ points?/.test((await page.locator("#earn").textContent()) ?? ""), "the nudge");
  const promised = Number(((await page.locator("#earn").textContent()) ?? "").replace(/[^\d]/g, ""));
  const before = await launcherBalance(page);
  const order = await page.evaluate(async () => {
    const response = await fetch("/demo/api/orders", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        customer: "demo-ben",
        items: [{ sku: "jasmine", productType: "Tea", quantity: 1, price: "18.90" }],
      }),
    });
    return response.json();
  });
  assert.equal(order.status, "processed");
  // What the order moved includes any challenge it completed; the order's own entry is the nudge.
  await page.evaluate(() => window.Laurel.refresh());
  await openPanel(page);
  const orderRow = dialog(page).getByRole("region", { name: "Recent activity" }).locator("li", { hasText: /^Order/ }).first();
  assert.match((await orderRow.textContent()) ?? "", new RegExp(`^Order.*\\+${promised}$`));
  assert.ok((await launcherBalance(page)) >= before + promised);
  await shot(page, "02-product-nudge");
});

/** What the launcher looks like, as computed by the browser. */
function launcherLook(page) {
  return launcher(page).evaluate((element) => {
    const computed = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    return {
      background: computed.backgroundColor,
      color: computed.color,
      font: `${computed.fontWeight} ${computed.fontSize} ${computed.fontFamily}`,
      letterSpacing: computed.letterSpacing,
      textTransform: computed.textTransform,
      display: computed.display,
      visibility: computed.visibility,
      opacity: computed.opacity,
      size: `${Math.round(box.width)}x${Math.round(box.height)}`,
      right: Math.round(innerWidth - box.right),
      bottom: Math.round(innerHeight - box.bottom),
    };
  });
}

test("on a page whose CSS attacks everything, the widget renders the same and stays isolated", async (env) => {
  const clean = await env.open({ shopper: "demo-ada" });
  await clean.page.goto(`${env.url}/demo/`);
  await launcher(clean.page).waitFor();
  const expected = await launcherLook(clean.page);
  assert.equal(expected.background, "rgb(47, 109, 79)");
  assert.equal(expected.right, 20);
  assert.equal(expected.bottom, 20);

  const { page } = await hostilePage(env);
  assert.deepEqual(await launcherLook(page), expected);
  // And nothing of ours leaks out: the page's own text keeps the page's (awful) styles.
  assert.equal(await page.locator("h1").evaluate((h) => getComputedStyle(h).color), "rgb(255, 0, 0)");
  assert.match((await page.locator("#nudge").textContent()) ?? "", /^Earn \d+ points$/);
  await shot(page, "03-hostile-page");
  await openPanel(page);
  await openPanel(clean.page);
  const panelLook = (p) =>
    dialog(p).evaluate((d) => {
      const box = d.getBoundingClientRect();
      const heading = getComputedStyle(d.querySelector("h2"));
      return { width: Math.round(box.width), top: Math.round(box.top), heading: `${heading.fontSize} ${heading.color}` };
    });
  const panel = await panelLook(page);
  assert.deepEqual(panel, await panelLook(clean.page));
  assert.ok(panel.width >= 380, JSON.stringify(panel));
  await shot(page, "04-hostile-page-open");
});

test("embedded from another origin: the script, its chunks and the API all work cross-origin", async (env) => {
  // The demo shop allows both http://127.0.0.1:PORT and http://localhost:PORT; the page lives on
  // the second and loads laurel.js from the first, as a shop loads it from the Laurel worker.
  const shopOrigin = env.url.replace("127.0.0.1", "localhost");
  const { page } = await hostilePage(env, { origin: shopOrigin });
  assert.equal(new URL(page.url()).origin, shopOrigin);
  assert.match((await launcher(page).textContent()) ?? "", /^Rewards[\d,]+ points$/);
  await openPanel(page);
  await dialog(page).getByRole("region", { name: "Redeem your points" }).waitFor();
  const chunks = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .map((entry) => entry.name)
      .filter((name) => name.includes("/laurel/")),
  );
  assert.ok(chunks.some((name) => /\/laurel\/panel\.[\w-]+\.js$/.test(name)), chunks.join(", "));
  assert.ok(chunks.some((name) => /\/laurel\/en\.[\w-]+\.js$/.test(name)), chunks.join(", "));
  assert.ok(chunks.every((name) => name.startsWith(env.url)));
});

test("open, redeem, copy the code, and see the new balance and the laurel:* events", async (env) => {
  const { page } = await env.open({ shopper: "demo-ada" });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  const before = await launcherBalance(page);
  await openPanel(page);
  const reward = dialog(page).locator("li", { hasText: "Free shipping" });
  const cost = Number(((await reward.locator(".cost").textContent()) ?? "").replace(/[^\d]/g, ""));
  await reward.getByRole("button", { name: "Redeem" }).click();
  assert.match((await reward.locator(".confirm").textContent()) ?? "", /Spend 300 points on Free shipping\?/);
  await shot(page, "05-redeem-confirm");
  await reward.getByRole("button", { name: "Yes, redeem" }).click();
  const code = reward.locator(".codebox .code");
  await code.waitFor();
  const issued = ((await code.textContent()) ?? "").trim();
  assert.match(issued, CODE);
  await reward.getByRole("button", { name: `Copy code ${issued}` }).click();
  await until(async () => (await page.evaluate(() => navigator.clipboard.readText())) === issued, "the code on the clipboard");
  await until(async () => (await launcherBalance(page)) === before - cost, "the launcher's new balance");
  assert.equal(
    Number(((await dialog(page).locator(".points-total").textContent()) ?? "").replace(/[^\d]/g, "")),
    before - cost,
  );
  const seen = await events(page);
  const redeemed = seen.find((e) => e.type === "laurel:redeemed");
  assert.equal(redeemed.detail.redemption.code, issued);
  assert.equal(redeemed.detail.balance, before - cost);
  const changed = seen.find((e) => e.type === "laurel:points-changed");
  assert.deepEqual(changed.detail, { balance: before - cost, previous: before });
  await shot(page, "06-redeemed-code");
});

test("keyboard only: reach the launcher, open, redeem, Esc closes and focus returns", async (env) => {
  const { page } = await env.open({ shopper: "demo-ada" });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  for (let presses = 0; presses < 60; presses++) {
    await page.keyboard.press("Tab");
    const now = await focused(page);
    if (now?.inWidget && now.tag === "button" && now.text.startsWith("Rewards")) break;
  }
  const atLauncher = await focused(page);
  assert.ok(atLauncher?.inWidget && atLauncher.text.startsWith("Rewards"), "Tab reaches the launcher");
  await page.keyboard.press("Enter");
  await dialog(page).waitFor({ state: "visible" });
  assert.deepEqual(await focused(page), { tag: "button", text: "Close", inWidget: true });
  assert.equal(await launcher(page).getAttribute("aria-expanded"), "true");
  // Shift+Tab from the first control wraps to the last one, Tab from the last back to the first.
  await page.keyboard.press("Shift+Tab");
  const last = await focused(page);
  assert.ok(last?.inWidget, "focus stays in the dialog");
  await page.keyboard.press("Tab");
  assert.deepEqual(await focused(page), { tag: "button", text: "Close", inWidget: true });
  // To the first affordable reward's Redeem button.
  for (let presses = 0; presses < 10; presses++) {
    await page.keyboard.press("Tab");
    if ((await focused(page))?.text === "Redeem") break;
  }
  assert.equal((await focused(page))?.text, "Redeem");
  await page.keyboard.press("Enter");
  await until(async () => (await focused(page))?.text === "Yes, redeem", "focus on the confirmation");
  await page.keyboard.press("Enter");
  await until(async () => (await focused(page))?.text.startsWith("Copy code"), "focus on the new code's copy button");
  await shot(page, "07-keyboard-redeemed");
  await page.keyboard.press("Escape");
  await dialog(page).waitFor({ state: "hidden" });
  assert.equal(await launcher(page).getAttribute("aria-expanded"), "false");
  assert.ok((await focused(page))?.text.startsWith("Rewards"), "focus is back on the launcher");
});

test("the dialog is a labelled modal; Esc and the close button close it", async (env) => {
  const { page } = await env.open({ shopper: "demo-ada" });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  await openPanel(page);
  const panel = page.getByRole("dialog", { name: "Juniper & Oak (demo)" });
  assert.equal(await panel.count(), 1);
  assert.equal(await dialog(page).evaluate((d) => d.matches(":modal")), true);
  await page.keyboard.press("Escape");
  await dialog(page).waitFor({ state: "hidden" });
  await openPanel(page);
  await dialog(page).getByRole("button", { name: "Close" }).click();
  await dialog(page).waitFor({ state: "hidden" });
  await page.evaluate(() => window.Laurel.open());
  await dialog(page).waitFor({ state: "visible" });
  await page.evaluate(() => window.Laurel.close());
  await dialog(page).waitFor({ state: "hidden" });
});

test("an order placed on the page moves the balance, fires laurel:points-changed and is announced", async (env) => {
  const { page } = await env.open({ shopper: "demo-ben" });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  const before = await launcherBalance(page);
  await page.getByRole("button", { name: "Place a sample order" }).click();
  await until(async () => (await launcherBalance(page)) > before, "the launcher's new balance");
  const after = await launcherBalance(page);
  const changed = (await events(page)).filter((e) => e.type === "laurel:points-changed");
  assert.deepEqual(changed.at(-1).detail, { balance: after, previous: before });
  const live = page.locator("laurel-widget .sr[aria-live]").first();
  assert.match((await live.textContent()) ?? "", new RegExp(`Your balance is now ${after.toLocaleString("en")} points`));
  assert.match((await page.locator("#notice").textContent()) ?? "", /Order DEMO-\w+ placed/);
});

test("axe finds no serious or critical violations on the demo page, the member panel and the guest panel", async (env) => {
  for (const shopper of ["demo-ada", "guest"]) {
    // axe injects inline styles while it checks; the demo's strict CSP would report each one.
    const { page } = await env.open({ shopper, context: { bypassCSP: true } });
    await page.goto(`${env.url}/demo/`);
    await launcher(page).waitFor();
    // The whole page once (it is the same page for both), the panel for each.
    const scans = shopper === "guest" ? [] : [["page", await new AxeBuilder({ page }).analyze()]];
    await openPanel(page);
    await page.waitForTimeout(300);
    scans.push(["panel", await new AxeBuilder({ page }).include("laurel-widget").analyze()]);
    for (const [what, result] of scans) {
      const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      assert.deepEqual(
        bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
        [],
        `${shopper} ${what}`,
      );
    }
    if (shopper === "guest") await shot(page, "08-guest-panel");
  }
});

test("a German page gets the German widget, numbers and money", async (env) => {
  const { page } = await hostilePage(env, { lang: "de" });
  assert.match((await launcher(page).textContent()) ?? "", /^Prämien[\d.]+ Punkte$/);
  assert.match((await page.locator("#nudge").textContent()) ?? "", /^\d+ Punkte sammeln$/);
  await openPanel(page);
  const text = (await dialog(page).textContent()) ?? "";
  assert.ok(text.includes("Punkte einlösen"), text.slice(0, 200));
  assert.match(text, /5,00\s€ Rabatt/);
  await shot(page, "09-german");
});

test("on a phone the panel takes the bottom of the screen and still works", async (env) => {
  const { page } = await env.open({ shopper: "demo-ada", context: { viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true } });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  await shot(page, "10-phone-home");
  await launcher(page).tap();
  await dialog(page).waitFor({ state: "visible" });
  const box = await dialog(page).boundingBox();
  assert.ok(box && Math.round(box.width) === 390 && Math.round(box.y + box.height) === 800, JSON.stringify(box));
  await shot(page, "11-phone-panel");
});

test("offline: the shopper is told, and the same redemption goes through once back online", async (env) => {
  const { page, context, errors } = await env.open({ shopper: "demo-ada" });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  await openPanel(page);
  const reward = dialog(page).locator("li", { hasText: "Free shipping" });
  await reward.getByRole("button", { name: "Redeem" }).click();
  await context.setOffline(true);
  await reward.getByRole("button", { name: "Yes, redeem" }).click();
  const alert = reward.getByRole("alert");
  await alert.waitFor();
  assert.equal((await alert.textContent())?.trim(), "You are offline. Check your connection and try again.");
  await shot(page, "12-offline");
  await context.setOffline(false);
  await reward.getByRole("button", { name: "Yes, redeem" }).click();
  await reward.locator(".codebox .code").waitFor();
  // The failed request while offline is expected here, and only that.
  const unexpected = errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e));
  errors.length = 0;
  errors.push(...unexpected);
});
