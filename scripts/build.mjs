#!/usr/bin/env node
/**
 * `npm run build`: everything the worker serves as static assets, into dist/public/.
 *   laurel.js                the loader (a classic IIFE script, so document.currentScript works)
 *   laurel/panel.<hash>.js   the panel chunk (Preact + signals), imported by the loader on demand
 *   docs/scalar.js           the API reference UI, served from our own origin (works offline)
 *   demo/                    the demo shop's pages
 *   index.html, landing.js   the root page: links, and `/?ref=` referral links forwarded to the demo
 *   console/                 the merchant console, when widget/console/index.html exists
 *   _headers                 CORS and caching for the widget files (shops load them cross-origin)
 * and, outside dist/public, dist/shopify/customer-account/ (the customer account UI extension).
 * Prints the gzip -9 size of each widget entry.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import preact from "@preact/preset-vite";
import { build } from "vite";
import { demoSite, writeDemoSite } from "../demo/pages.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "dist", "public");
// Built aside, then moved in piece by piece: a server or test reading dist/public meanwhile never
// sees it half-empty.
const out = join(root, "dist", `.staging-${process.pid}`);
const quiet = process.argv.includes("--quiet");

/** Shared by both widget builds: no public dir, no HTML, no module preload polyfill. */
function widgetConfig({ input, format, entryFileNames, define = {}, postBanner = "" }) {
  return {
    configFile: false,
    root,
    logLevel: "warn",
    publicDir: false,
    plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
    define: { "process.env.NODE_ENV": '"production"', ...define },
    build: {
      outDir: out,
      emptyOutDir: false,
      target: "es2022",
      minify: true,
      sourcemap: false,
      modulePreload: false,
      copyPublicDir: false,
      reportCompressedSize: false,
      rollupOptions: {
        input,
        preserveEntrySignatures: "exports-only",
        output: { format, entryFileNames, chunkFileNames: "laurel/[name].[hash].js", postBanner },
      },
    },
  };
}

function gzipSize(file) {
  return gzipSync(readFileSync(file), { level: 9 }).length;
}

/** Moves built entries from the staging folder into dist/public, replacing the old ones. */
function publish(names) {
  for (const name of names) {
    rmSync(join(target, name), { recursive: true, force: true });
    renameSync(join(out, name), join(target, name));
  }
}

// Staging folders of builds that died half-way (their process is gone) are removed.
for (const entry of existsSync(join(root, "dist")) ? readdirSync(join(root, "dist")) : []) {
  const pid = Number(/^\.staging-(\d+)$/.exec(entry)?.[1]);
  if (!pid) continue;
  try {
    process.kill(pid, 0);
  } catch {
    rmSync(join(root, "dist", entry), { recursive: true, force: true });
  }
}
process.on("exit", () => rmSync(out, { recursive: true, force: true }));
mkdirSync(out, { recursive: true });
mkdirSync(target, { recursive: true });

// 1. The panel first: the loader needs its hashed file name.
const panelBuild = await build(
  widgetConfig({
    input: { panel: join(root, "widget/storefront/panel/index.tsx") },
    format: "es",
    entryFileNames: "laurel/[name].[hash].js",
  }),
);
const panelOutput = (Array.isArray(panelBuild) ? panelBuild[0] : panelBuild).output;
const panelEntry = panelOutput.find((chunk) => chunk.type === "chunk" && chunk.isEntry);
if (!panelEntry) throw new Error("The panel build produced no entry chunk.");

// 2. The loader, told where the panel is (relative to laurel.js's own URL).
await build(
  widgetConfig({
    input: { laurel: join(root, "widget/storefront/loader.ts") },
    format: "iife",
    entryFileNames: "[name].js",
    define: { __LAUREL_PANEL__: JSON.stringify(`./${panelEntry.fileName}`) },
    // V8's compile hint (after minification, which drops comments): nearly every function in
    // laurel.js runs at start, so compile them all with the streamed script, off the main thread.
    postBanner: "//# allFunctionsCalledOnLoad",
  }),
);

// 3. Shops load the widget from our origin: its module chunks need CORS (module scripts are
// fetched in cors mode); hashed chunks cache for a year, laurel.js itself briefly.
writeFileSync(
  join(out, "_headers"),
  [
    "/laurel.js",
    "  Access-Control-Allow-Origin: *",
    "  Cache-Control: public, max-age=300",
    "/laurel/*",
    "  Access-Control-Allow-Origin: *",
    "  Cache-Control: public, max-age=31536000, immutable",
    "",
  ].join("\n"),
);

// 4. The API reference UI, self-hosted so /docs renders offline.
const scalar = join(root, "node_modules/@scalar/api-reference/dist/browser/standalone.js");
if (existsSync(scalar)) {
  mkdirSync(join(out, "docs"), { recursive: true });
  cpSync(scalar, join(out, "docs", "scalar.js"));
} else {
  console.warn("! @scalar/api-reference is not installed: /docs will have no UI script.");
}

// 5. The demo shop's static pages with their shared parts put in, and the root page (links;
// forwards `/?ref=` links to the demo).
if (existsSync(demoSite)) writeDemoSite(join(out, "demo"));
const rootPage = join(root, "demo", "root");
if (existsSync(rootPage)) cpSync(rootPage, out, { recursive: true });

// 6. Move into place: chunks first, so the laurel.js that names them never arrives before them.
publish(["laurel", ...readdirSync(out).filter((entry) => entry !== "laurel" && entry !== "laurel.js"), "laurel.js"]);

// 7. The merchant console, when it exists (its own vite config if it has one). Built after the
// widget is in place, so a console that does not build yet never holds the widget back.
const consoleDir = join(root, "widget", "console");
if (existsSync(join(consoleDir, "index.html"))) {
  const own = join(consoleDir, "vite.config.ts");
  await build({
    configFile: existsSync(own) ? own : false,
    root: consoleDir,
    base: "/console/",
    logLevel: "warn",
    publicDir: false,
    ...(existsSync(own) ? {} : { plugins: [preact()] }),
    build: { outDir: join(out, "console"), emptyOutDir: true },
  });
  publish(["console"]);
}

// 8. The Shopify customer account UI extension's targets, bundled as Shopify CLI bundles them
// (one self-contained ES module per target, Preact included) into dist/shopify/customer-account/:
// not served, but built and rendered by `npm test` (Shopify refuses a target's script over 64 KB).
const extension = join(root, "widget", "shopify", "customer-account");
if (existsSync(join(extension, "shopify.extension.toml"))) {
  const extensionOut = join(root, "dist", "shopify", "customer-account");
  rmSync(extensionOut, { recursive: true, force: true });
  for (const [name, source] of [["loyalty-page", "LoyaltyPage.tsx"], ["order-points", "OrderPoints.tsx"]]) {
    const config = widgetConfig({ input: { [name]: join(extension, "src", source) }, format: "es", entryFileNames: "[name].js" });
    config.build.outDir = extensionOut;
    config.build.rollupOptions.output.codeSplitting = false;
    await build(config);
  }
}
rmSync(out, { recursive: true, force: true });

if (!quiet) {
  const widgetFiles = [join(target, "laurel.js"), ...readdirSync(join(target, "laurel")).map((f) => join(target, "laurel", f))];
  for (const file of widgetFiles) {
    const raw = readFileSync(file).length;
    console.log(`  ${relative(target, file).padEnd(28)} ${String(raw).padStart(7)} B   gzip -9 ${String(gzipSize(file)).padStart(6)} B`);
  }
}
