/**
 * What the widget costs to download, two ways:
 *  - files: laurel.js, then the panel chunk it names, the chunks the panel imports statically and
 *    the English language chunk, read from dist/public (quick; what CI checks);
 *  - browser: every widget request Chromium makes on a real page, before and after
 *    `Laurel.open()`, intercepted with playwright-core (what a shopper's browser really fetches).
 * Each file is compressed on its own, as it travels: gzip -9 and brotli (quality 11).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { chromiumPath, isWidgetUrl, PLAYWRIGHT_ARGS } from "./browser.mjs";
import { publicDir } from "./paths.mjs";

/** DESIGN §8.7: laurel.js within 6,000 bytes gzip -9 (it was 10,000 in §6), the open widget within 30,000. */
export const BUDGETS = { loaderGzip: 6_000, openGzip: 30_000 };

export function compressed(buffer) {
  return {
    raw: buffer.length,
    gzip: gzipSync(buffer, { level: 9 }).length,
    brotli: brotliCompressSync(buffer, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buffer.length },
    }).length,
  };
}

const sum = (files) =>
  files.reduce((t, f) => ({ raw: t.raw + f.raw, gzip: t.gzip + f.gzip, brotli: t.brotli + f.brotli }), {
    raw: 0,
    gzip: 0,
    brotli: 0,
  });

/** Relative module specifiers a chunk imports: static (`from"./x.js"`, `import"./x.js"`) and dynamic. */
function importsOf(code) {
  const specifier = String.raw`["'\x60](\.{1,2}\/[^"'\x60]+?\.js)["'\x60]`;
  const statics = [...code.matchAll(new RegExp(String.raw`(?:\bfrom|\bimport)\s*${specifier}`, "g"))].map((m) => m[1]);
  const dynamics = [...code.matchAll(new RegExp(String.raw`\bimport\(\s*${specifier}\s*\)`, "g"))].map((m) => m[1]);
  return { statics, dynamics };
}

/** The loader, then the panel and everything it needs to show in English, from dist/public. */
export function fileSizes(dir = publicDir) {
  const loaderPath = join(dir, "laurel.js");
  if (!existsSync(loaderPath)) throw new Error(`${loaderPath} is missing: run \`npm run build\`.`);
  const loaderCode = readFileSync(loaderPath, "utf8");
  const panel = /["'`]\.\/(laurel\/panel\.[\w-]+\.js)["'`]/.exec(loaderCode)?.[1];
  if (!panel) throw new Error("laurel.js does not name its panel chunk (laurel/panel.<hash>.js).");

  const files = [{ file: "laurel.js", phase: "before open", ...compressed(readFileSync(loaderPath)) }];
  const seen = new Set(["laurel.js"]);
  const languages = [];
  const queue = [panel];
  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const path = join(dir, file);
    if (!existsSync(path)) throw new Error(`${file} (imported by the widget) is missing from dist/public.`);
    const buffer = readFileSync(path);
    files.push({ file, phase: "on open", ...compressed(buffer) });
    const { statics, dynamics } = importsOf(buffer.toString("utf8"));
    const resolve = (spec) => posix.normalize(posix.join(posix.dirname(file), spec));
    queue.push(...statics.map(resolve));
    languages.push(...dynamics.map(resolve).filter((f) => /\/en\.[\w-]+\.js$/.test(f)));
  }
  for (const file of new Set(languages)) {
    if (!seen.has(file)) files.push({ file, phase: "on open", ...compressed(readFileSync(join(dir, file))) });
  }
  if (!languages.length) files.push({ file: "(no English chunk found)", phase: "on open", raw: 0, gzip: 0, brotli: 0 });
  return { files, loader: files[0], open: sum(files) };
}

/**
 * Loads `pageUrl` in Chromium, waits for the widget to be ready, opens the panel and records every
 * widget request (laurel.js and /laurel/*). `route` optionally serves the page itself.
 */
export async function browserSizes(pageUrl, { route } = {}) {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: PLAYWRIGHT_ARGS });
  try {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    if (route) await page.route(pageUrl, route);
    await page.addInitScript(() => {
      document.addEventListener("laurel:ready", () => {
        window.__laurelReady = true;
      });
    });
    let phase = "before open";
    const pending = [];
    page.on("response", (response) => {
      const url = response.url();
      if (!isWidgetUrl(url)) return;
      const at = phase;
      pending.push(
        response.body().then(
          (body) => ({
            url,
            file: new URL(url).pathname.replace(/^\//, ""),
            phase: at,
            status: response.status(),
            encoding: response.headers()["content-encoding"] ?? "identity",
            ...compressed(body),
          }),
          () => null,
        ),
      );
    });
    const errors = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(pageUrl, { waitUntil: "load" });
    await page.waitForFunction(() => window.__laurelReady === true, null, { timeout: 20_000 });
    await page.waitForLoadState("networkidle");
    phase = "on open";
    await page.evaluate(() => window.Laurel.open());
    await page.waitForLoadState("networkidle");
    await page.waitForTimeout(500);
    const files = (await Promise.all(pending)).filter(Boolean);
    const before = files.filter((f) => f.phase === "before open");
    return { pageUrl, files, beforeOpen: sum(before), open: sum(files), errors };
  } finally {
    await browser.close();
  }
}

/** Budget verdicts; `browser` may be null (size-only runs). */
export function checkBudgets(files, browser) {
  const loaderGzip = files.loader.gzip;
  const openGzip = Math.max(files.open.gzip, browser?.open.gzip ?? 0);
  return [
    { what: "laurel.js, gzip -9", bytes: loaderGzip, budget: BUDGETS.loaderGzip, ok: loaderGzip <= BUDGETS.loaderGzip },
    { what: "everything after open, gzip -9", bytes: openGzip, budget: BUDGETS.openGzip, ok: openGzip <= BUDGETS.openGzip },
  ];
}
