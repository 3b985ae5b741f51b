/**
 * A very small test registry for the browser tests: scripts/e2e.mjs starts the server and
 * Chromium once, imports every test/e2e/*.e2e.mjs (which call `test`) and runs them in order.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const screenshots = join(root, "test-results", "screenshots");
mkdirSync(screenshots, { recursive: true });

/** @type {{ name: string, run: (env: E2EEnv) => Promise<void> }[]} */
export const tests = [];

/**
 * @typedef {object} E2EEnv
 * @property {string} url                 the server's base URL
 * @property {import("playwright-core").Browser} browser
 * @property {(options?: PageOptions) => Promise<Watched>} open   a page in a fresh context
 */

/**
 * @typedef {object} PageOptions
 * @property {string} [shopper]           demo-ada | demo-ben | guest (the demo's switcher)
 * @property {object} [context]           browser.newContext options
 */

/**
 * @typedef {object} Watched
 * @property {import("playwright-core").Page} page
 * @property {import("playwright-core").BrowserContext} context
 * @property {string[]} errors            console errors, page errors and failed requests
 */

export function test(name, run) {
  tests.push({ name, run });
}

/** Inside the widget's shadow root: Playwright's CSS locators pierce open shadow roots. */
export const widget = (page) => page.locator("laurel-widget");
export const launcher = (page) => page.locator("laurel-widget button.launcher");
export const dialog = (page) => page.locator("laurel-widget dialog.panel");

export async function shot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`) });
}

/** Reads the page's focused element through the widget's shadow root. */
export function focused(page) {
  return page.evaluate(() => {
    const inner = document.querySelector("laurel-widget")?.shadowRoot?.activeElement;
    const element = inner ?? document.activeElement;
    return element
      ? { tag: element.tagName.toLowerCase(), text: (element.getAttribute("aria-label") ?? element.textContent ?? "").trim(), inWidget: Boolean(inner) }
      : null;
  });
}

/** The number in the launcher's "1,240 points". */
export async function launcherBalance(page) {
  const text = await launcher(page).locator(".balance").textContent();
  return Number((text ?? "").replace(/[^\d]/g, ""));
}

/** Waits until `predicate` holds (polling), or throws `message`. */
export async function until(predicate, message, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`Timed out: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
