#!/usr/bin/env node
/**
 * Browser tests: starts the stack the way `npm start` does (on a free port, with a fresh local
 * database), launches Chromium (CHROMIUM_PATH, else /usr/bin/chromium, else Playwright's own),
 * and runs every test/e2e/*.e2e.mjs in order. Each test gets pages from fresh browser contexts;
 * any console error, page error or failed request fails the test that caused it.
 * Ends with "N passed, M failed" and a non-zero exit code on any failure.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { root, tests } from "../test/e2e/harness.mjs";
import { E2E_SHOPIFY, startShopifyAdmin } from "../test/e2e/shopify-admin-server.mjs";
import { ensureDevVars, startLaurel } from "./start.mjs";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // Pages here are loopback pages (127.0.0.1 and localhost); Local Network Access would refuse
  // the cross-origin embedding test, which on the public web involves no local address at all.
  "--disable-features=LocalNetworkAccessChecks",
];
const TEST_TIMEOUT_MS = 90_000;

function chromiumPath() {
  for (const candidate of [process.env.CHROMIUM_PATH, "/usr/bin/chromium"]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return undefined; // Playwright's own browser, if one is installed
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function withTimeout(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const only = process.argv.slice(2);
const files = readdirSync(join(root, "test", "e2e"))
  .filter((name) => name.endsWith(".e2e.mjs"))
  .sort();
for (const file of files) await import(pathToFileURL(join(root, "test", "e2e", file)).href);
const selected = only.length ? tests.filter((t) => only.some((word) => t.name.includes(word))) : tests;

let passed = 0;
let failed = 0;
const state = mkdtempSync(join(tmpdir(), "laurel-e2e-"));
let server;
let browser;
let shopifyAdmin;
const setupStarted = Date.now();
try {
  // The Shopify Admin API and token endpoint, faked on a loopback port (the embedded app's tests).
  shopifyAdmin = await startShopifyAdmin(ensureDevVars().SHOPIFY_API_SECRET);
  server = await startLaurel({
    port: await freePort(),
    quiet: true,
    persistTo: state,
    build: !existsSync(join(root, "dist", "public", "laurel.js")),
    vars: { SHOPIFY_API_KEY: E2E_SHOPIFY.clientId, SHOPIFY_ADMIN_ORIGIN: shopifyAdmin.origin },
  });
  console.log(`Server ready in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  console.log(`Browser tests against ${server.url} (Chromium ${browser.version()})`);

  for (const { name, run } of selected) {
    const contexts = [];
    const errors = [];
    const open = async ({ shopper = "demo-ada", context: options = {} } = {}) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
      contexts.push(context);
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
      await context.addInitScript((who) => {
        if (who !== null) localStorage.setItem("laurel-demo-shopper", who);
        // Record the widget's events for the shop's scripts, as a shop would listen to them.
        window.__laurelEvents = [];
        for (const type of ["laurel:ready", "laurel:points-changed", "laurel:redeemed"]) {
          document.addEventListener(type, (event) => window.__laurelEvents.push({ type, detail: event.detail }));
        }
      }, shopper);
      const page = await context.newPage();
      const pageErrors = [];
      page.on("console", (message) => {
        if (message.type() === "error") pageErrors.push(`console: ${message.text()}`);
      });
      page.on("pageerror", (error) => pageErrors.push(`page error: ${error.message}`));
      page.on("requestfailed", (request) => {
        // A navigation cancels what the page had in flight; that is not an error a shopper sees.
        const reason = request.failure()?.errorText ?? "";
        if (reason !== "net::ERR_ABORTED") pageErrors.push(`request failed: ${request.url()} ${reason}`);
      });
      errors.push(pageErrors);
      return { page, context, errors: pageErrors };
    };
    const started = Date.now();
    const took = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    try {
      const shopify = { ...E2E_SHOPIFY, fake: shopifyAdmin.fake, secrets: server.secrets };
      await withTimeout(run({ url: server.url, demo: server.demo, browser, open, shopify }), TEST_TIMEOUT_MS, name);
      const unexpected = errors.flat();
      if (unexpected.length) throw new Error(`errors in the browser:\n      ${unexpected.join("\n      ")}`);
      passed++;
      console.log(`  ✓ ${name} (${took()})`);
    } catch (error) {
      failed++;
      const where = String(error?.stack ?? "").split("\n").find((line) => line.includes("test/e2e/")) ?? "";
      const message = String(error?.message ?? error).split("\n").slice(0, 40).join("\n      ");
      console.log(`  ✗ ${name} (${took()})\n      ${message}\n      ${where.trim()}`);
    } finally {
      for (const context of contexts) await context.close().catch(() => {});
    }
  }
} catch (error) {
  failed++;
  console.log(`  ✗ setting up the browser tests\n      ${error?.message ?? error}`);
  if (server) process.stderr.write(server.output().slice(-4000));
} finally {
  await browser?.close().catch(() => {});
  server?.stop();
  shopifyAdmin?.stop();
  rmSync(state, { recursive: true, force: true });
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
