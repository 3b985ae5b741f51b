/** Challenges, badges, referrals and NPS in a real browser (issue 5). */
import assert from "node:assert/strict";
import { dialog, launcher, launcherBalance, shot, test, until } from "./harness.mjs";

async function openPanel(page) {
  await launcher(page).click();
  await dialog(page).waitFor({ state: "visible" });
}

test("a self-reported challenge completes with a celebration and its badge shows", async (env) => {
  const { page } = await env.open({ shopper: "demo-ben" });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  const before = await launcherBalance(page);
  await openPanel(page);
  const follow = dialog(page).locator("li.item", { hasText: "Follow us" });
  assert.match((await follow.textContent()) ?? "", /0 of 1/);
  await follow.getByRole("button", { name: "I did this" }).click();
  const party = dialog(page).locator(".celebration");
  await party.waitFor();
  const text = (await party.textContent()) ?? "";
  assert.ok(text.includes("Challenge complete: Follow us!"), text);
  assert.ok(text.includes("Friend"), text);
  assert.ok((await party.locator(".confetti span").count()) > 0, "confetti when motion is welcome");
  await shot(page, "20-challenge-celebration");
  await party.getByRole("button", { name: "Great!" }).click();
  await until(async () => (await follow.textContent())?.includes("Completed"), "the challenge shows completed");
  const badges = dialog(page).getByRole("region", { name: "Your badges" });
  assert.ok(((await badges.textContent()) ?? "").includes("Friend"));
  // Social points (15) and the challenge's reward (15) both land.
  await until(async () => (await launcherBalance(page)) === before + 30, "the new balance");
});

test("a celebration without motion when the shopper prefers reduced motion", async (env) => {
  const { page } = await env.open({ shopper: "demo-ben", context: { reducedMotion: "reduce" } });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  // Sample orders (a tin of tea and a mug) until one completes a challenge: Ben's third order
  // completes "Three's a habit", his second tea "Tea explorer".
  const party = dialog(page).locator(".celebration");
  for (let orders = 0; orders < 3 && (await party.count()) === 0; orders++) {
    const before = (await page.locator("#notice").textContent()) ?? "";
    await page.getByRole("button", { name: "Place a sample order" }).click();
    await until(async () => {
      const now = (await page.locator("#notice").textContent()) ?? "";
      return now !== before && now.includes("placed");
    }, "the order");
    await openPanel(page);
    await page.waitForTimeout(300);
    if ((await party.count()) === 0) await page.keyboard.press("Escape");
  }
  await party.waitFor();
  assert.match((await party.textContent()) ?? "", /Challenge complete: (Three's a habit|Tea explorer)!/);
  assert.equal(await party.locator(".confetti").count(), 0);
  assert.equal(await party.evaluate((el) => el.classList.contains("still")), true);
  await shot(page, "21-celebration-reduced-motion");
});

test("the NPS question, then why, then thanks", async (env) => {
  const { page } = await env.open({ shopper: "demo-ben" });
  await page.goto(`${env.url}/demo/`);
  await launcher(page).waitFor();
  await openPanel(page);
  const nps = dialog(page).getByRole("region", { name: "Quick question" });
  await nps.scrollIntoViewIfNeeded();
  await nps.getByRole("button", { name: "9 out of 10" }).click();
  const why = nps.getByLabel("What is the main reason for your score?");
  await why.fill("The jasmine pearls are wonderful.");
  await shot(page, "22-nps-why");
  await nps.getByRole("button", { name: "Send" }).click();
  await nps.getByText("Thank you for your feedback!").waitFor();
  await page.keyboard.press("Escape");
  await openPanel(page);
  await page.evaluate(() => window.Laurel.refresh());
  await until(async () => (await dialog(page).getByRole("region", { name: "Quick question" }).count()) === 0, "not asked again");
});

test("a referee arrives with ?ref=, claims an offer, orders, and the referrer's widget shows the reward", async (env) => {
  // Ada's link, as her widget shows it.
  const ada = await env.open({ shopper: "demo-ada" });
  await ada.page.goto(`${env.url}/demo/`);
  await launcher(ada.page).waitFor();
  await openPanel(ada.page);
  const link = await dialog(ada.page).locator("#laurel-referral-link").inputValue();
  assert.match(link, /\/\?ref=[A-Z0-9]{6,}$/);
  const before = await launcherBalance(ada.page);
  await shot(ada.page, "23-referral-card");

  // A friend follows it: the root page forwards to the demo shop, where the widget greets them.
  const friend = await env.open({ shopper: "guest" });
  await friend.page.goto(link);
  await friend.page.waitForURL(/\/demo\/\?ref=/, { waitUntil: "commit" });
  const card = dialog(friend.page).locator(".referee");
  await card.waitFor();
  assert.equal((await card.locator("h3").textContent())?.trim(), "Ada sent you a gift");
  const email = `friend-${Date.now()}@example.com`;
  await card.getByLabel("Email address").fill(email);
  await card.getByRole("button", { name: "Claim my offer" }).click();
  const code = card.locator(".code");
  await code.waitFor();
  const offerCode = ((await code.textContent()) ?? "").trim();
  assert.match(offerCode, /^[A-Z0-9]{4}(-[A-Z0-9]{4})+$/);
  await shot(friend.page, "24-referee-claimed");
  await friend.page.keyboard.press("Escape");

  // Their first order, with the code, at the demo checkout.
  await friend.page.getByRole("button", { name: "Add to cart Sencha Kagoshima" }).click();
  await friend.page.goto(`${env.url}/demo/cart.html`);
  await friend.page.getByLabel("Discount or reward code").fill(offerCode);
  await friend.page.getByLabel("Email for your receipt").fill(email);
  await friend.page.getByRole("button", { name: "Place order" }).click();
  await until(async () => ((await friend.page.locator("#notice").textContent()) ?? "").includes("placed"), "the order");

  // Ada sees the referral reward.
  await ada.page.evaluate(() => window.Laurel.refresh());
  await until(async () => (await launcherBalance(ada.page)) === before + 200, "Ada's referral points");
  const activity = dialog(ada.page).getByRole("region", { name: "Recent activity" });
  assert.match((await activity.locator("li").first().textContent()) ?? "", /^Referral.*\+200$/);
  await shot(ada.page, "25-referrer-rewarded");
});
