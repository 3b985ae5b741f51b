/** The merchant console in a real browser, against the server `npm start` runs (issue 7). */
import assert from "node:assert/strict";
import { AxeBuilder } from "@axe-core/playwright";
import { shot, test, until } from "./harness.mjs";

async function signIn(page, url, secretKey) {
  await page.goto(`${url}/console/`);
  await page.getByLabel("Secret key").fill(secretKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
}

/** Everything the browser keeps for the origin: storage, cookies, and the page's own HTML. */
async function stored(page, context) {
  const storage = await page.evaluate(() => {
    const dump = (s) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => [s.key(i), s.getItem(s.key(i))]));
    return { local: dump(localStorage), session: dump(sessionStorage), cookie: document.cookie };
  });
  return { ...storage, cookies: await context.cookies(), html: await page.content() };
}

async function seriousViolations(page) {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

test("console: a wrong key is refused, the right one signs in, and the key is never stored", async (env) => {
  const { page, context, errors } = await env.open({ shopper: null });
  await page.goto(`${env.url}/console/`);
  assert.deepEqual(await seriousViolations(page), [], "sign-in page");
  await page.getByLabel("Secret key").fill("sk_not-the-right-key");
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? "", /does not belong to any shop/);
  assert.equal(await page.getByRole("heading", { name: "Overview" }).count(), 0);
  // The refused sign-in is the one expected failed request.
  const unexpected = errors.filter((e) => !/status of 401/.test(e));
  errors.length = 0;
  errors.push(...unexpected);

  await page.getByLabel("Secret key").fill(env.demo.secretKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
  await page.getByText("Juniper & Oak (demo)").first().waitFor();

  // Visit every page, then look everywhere the browser could have kept the key.
  for (const name of ["Program", "Rewards", "Challenges", "Customers", "Install", "Overview"]) {
    await page.getByRole("navigation").getByRole("link", { name }).click();
    await page.getByRole("heading", { name, level: 1 }).waitFor();
  }
  const kept = await stored(page, context);
  assert.deepEqual(kept.local, {});
  assert.deepEqual(kept.session, {});
  assert.equal(kept.cookie, "");
  assert.deepEqual(kept.cookies, []);
  assert.ok(!kept.html.includes(env.demo.secretKey), "the key is not in the page");
  assert.ok(!/sk_[A-Za-z0-9_-]{20,}/.test(JSON.stringify(kept)), "no secret key anywhere");

  // A reload forgets the session (it lived in memory only).
  await page.reload();
  await page.getByLabel("Secret key").waitFor();
  assert.equal(await page.getByRole("heading", { name: "Overview" }).count(), 0);
});

test("console: the overview's figures and charts render", async (env) => {
  const { page } = await env.open({ shopper: null });
  await signIn(page, env.url, env.demo.secretKey);
  const figure = (label) => page.locator(".figure").filter({ has: page.locator("dt", { hasText: new RegExp(`^${label}$`) }) });
  const members = figure("Members").locator(".value");
  await members.waitFor();
  assert.match((await members.textContent()) ?? "", /^\d+$/);
  assert.ok(Number(await members.textContent()) >= 2, "the demo shop's members");
  // uPlot draws each of the four charts into a canvas; each must have painted something.
  await until(async () => (await page.locator(".chart canvas").count()) >= 4, "four chart canvases");
  const painted = await page.evaluate(() =>
    Array.from(document.querySelectorAll(".chart canvas")).map((canvas) => {
      const { width, height } = canvas;
      const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
      let ink = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) ink++;
      return { width, height, ink };
    }),
  );
  assert.equal(painted.length, 4);
  for (const canvas of painted) {
    assert.ok(canvas.width > 200 && canvas.height > 100, `canvas size ${canvas.width}x${canvas.height}`);
    assert.ok(canvas.ink > 100, "the chart has drawn lines or bars");
  }
  // The seed's orders fall in the default period (the last 30 days).
  const issued = Number(((await figure("Points issued").locator(".value").textContent()) ?? "").replace(/\D/g, ""));
  assert.ok(issued > 0, "the seed issued points in the last 30 days");
  assert.deepEqual(await seriousViolations(page), [], "overview");
  await shot(page, "console-01-overview");
});

test("console: changing the earning rate changes the preview, and the simulator compares it", async (env) => {
  const { page } = await env.open({ shopper: null });
  await signIn(page, env.url, env.demo.secretKey);
  await page.getByRole("navigation").getByRole("link", { name: "Program" }).click();
  const rate = page.getByLabel("Points per currency unit");
  await rate.waitFor();
  const nudge = page.getByTestId("preview-nudge");
  const perUnit = page.getByTestId("preview-rate");
  const program = await (await fetch(`${env.url}/v1/program`, { headers: { authorization: `Bearer ${env.demo.secretKey}` } })).json();
  const before = program.program.earning.pointsPerUnit;
  assert.equal(await rate.inputValue(), String(before));
  // A €49.99 product at the demo's rate, rounded down.
  const expected = (n) => `Earn ${Math.floor(49.99 * n)} points`;
  assert.equal((await nudge.textContent())?.trim(), expected(before));

  await rate.fill(String(before * 3));
  await until(async () => (await nudge.textContent())?.trim() === expected(before * 3), "the nudge follows the draft");
  assert.match((await perUnit.textContent()) ?? "", new RegExp(`^${before * 3} points for every`));
  // The launcher label follows the branding field.
  await page.getByLabel("Launcher label").fill("Perks & points");
  await until(async () => (await page.getByTestId("preview-launcher").textContent()) === "Perks & points", "the launcher label");

  await page.getByRole("button", { name: "Run simulation" }).click();
  const table = page.getByTestId("simulation");
  await table.waitFor();
  const row = table.locator("tr", { hasText: "Points issued" });
  const [current, proposed] = await row.locator("td").allTextContents();
  const number = (text) => Number(text.replace(/\D/g, ""));
  assert.ok(number(proposed) > number(current), `proposed ${proposed} > current ${current}`);
  assert.match((await page.locator(".simulator").textContent()) ?? "", /gives (\d+) of \1 orders exactly the points/);
  assert.deepEqual(await seriousViolations(page), [], "program page");
  await shot(page, "console-02-program");

  // Nothing was saved: the server still has the old rate.
  const after = await (await fetch(`${env.url}/v1/program`, { headers: { authorization: `Bearer ${env.demo.secretKey}` } })).json();
  assert.equal(after.program.earning.pointsPerUnit, before);
});

test("console: a merchant creates a reward", async (env) => {
  const { page } = await env.open({ shopper: null });
  const name = `Console tote ${Date.now()}`;
  const auth = { authorization: `Bearer ${env.demo.secretKey}` };
  try {
    await signIn(page, env.url, env.demo.secretKey);
    await page.getByRole("navigation").getByRole("link", { name: "Rewards" }).click();
    const form = page.locator("form", { has: page.getByRole("button", { name: "Create reward" }) });
    await form.getByLabel("Reward name").fill(name);
    await form.getByLabel("Type").selectOption("percent_off");
    await form.getByLabel("Cost in points").fill("750");
    await form.getByLabel("Percent off").fill("15");
    await form.getByRole("button", { name: "Create reward" }).click();
    await page.getByRole("status").filter({ hasText: `Created “${name}”.` }).waitFor();
    const row = page.locator("tr", { hasText: name });
    await row.waitFor();
    assert.match((await row.textContent()) ?? "", /15% off.*750 points/);
    const { rewards } = await (await fetch(`${env.url}/v1/rewards`, { headers: auth })).json();
    const created = rewards.find((r) => r.name === name);
    assert.deepEqual({ type: created.type, cost: created.cost, value: created.value, active: created.active }, {
      type: "percent_off",
      cost: 750,
      value: 15,
      active: true,
    });
    assert.deepEqual(await seriousViolations(page), [], "rewards page");
  } finally {
    // Leave the demo shop as the other browser tests expect it.
    const { rewards } = await (await fetch(`${env.url}/v1/rewards`, { headers: auth })).json();
    for (const reward of rewards.filter((r) => r.name === name)) {
      await fetch(`${env.url}/v1/rewards/${reward.id}`, { method: "DELETE", headers: auth });
    }
  }
});

test("docs: the API reference renders from this server alone, without the hosted AI and MCP controls", async (env) => {
  const { page } = await env.open({ shopper: null });
  const outside = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!["127.0.0.1", "localhost"].includes(url.hostname) && url.protocol !== "data:") outside.push(request.url());
  });
  await page.goto(`${env.url}/docs`);
  await page.getByRole("heading", { name: "Laurel API", level: 1 }).waitFor();
  // The contract's operations, rendered from /v1/openapi.json.
  await page.getByText("Create a shop").first().waitFor();
  await page.waitForTimeout(1000);
  await shot(page, "docs");
  assert.deepEqual(outside, [], "requests that left the machine");
  for (const control of [/ask ai/i, /mcp/i, /^deploy$/i, /^share$/i]) {
    assert.equal(await page.getByRole("button", { name: control }).count(), 0, `a ${control} control`);
  }
});
