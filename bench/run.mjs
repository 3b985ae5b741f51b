#!/usr/bin/env node
/**
 * `npm run bench`: the budgets of DESIGN §8.7 (and what is left of §6) as one table, written to
 * bench/results/bench.{json,md}.
 *
 *   npm run bench                    everything (5-10 minutes)
 *   npm run bench -- --size-only     the size budgets from dist/public only (seconds; what CI runs)
 *   npm run bench -- --profile       where the CPU of state and order.paid goes (in-process, a minute)
 *
 * Options: --runs N (runs behind every measured row: Lighthouse runs per variant, load runs per
 * comparison, webhook and import runs; default 3), --seconds S (each load slice, default 4),
 * --scale 1000,10000,100000 (ledger sizes),
 * --skip lighthouse,load,scale,explain,inprocess,browser,webhooks,imports, --no-build (measure
 * dist/public as it is).
 *
 * Exits 1 when a size budget is exceeded (and 2 when the bench itself fails). Times, scores and
 * ratios are reported, not asserted: they depend on the machine. Every server it starts listens
 * on 127.0.0.1 and is stopped (its whole process group) before it exits, also on failure.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromiumPath } from "./lib/browser.mjs";
import { publicDir, resultsDir, root } from "./lib/paths.mjs";
import { detail, step } from "./lib/progress.mjs";
import { buildRows, markdownTable } from "./lib/report.mjs";
import { BUDGETS, browserSizes, checkBudgets, fileSizes } from "./lib/size.mjs";

// Only the full run needs servers, Lighthouse and esbuild: `--size-only` stays quick.
let stopAll = async () => {};

const { values: args } = parseArgs({
  options: {
    "size-only": { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "4" },
    scale: { type: "string", default: "1000,10000,100000" },
    skip: { type: "string", default: "" },
  },
});
const sizeOnly = args["size-only"];
const skip = new Set(args.skip.split(",").filter(Boolean));
const runs = Math.max(1, Number(args.runs) || 3);
const seconds = Math.min(60, Math.max(1, Number(args.seconds) || 4));
const levels = args.scale
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);

function build() {
  step("Building the widget (scripts/build.mjs)");
  const result = spawnSync(process.execPath, [join(root, "scripts", "build.mjs"), "--quiet"], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) throw new Error(`the build failed (exit ${result.status})`);
}

function environment() {
  let chromium = null;
  if (!sizeOnly) {
    try {
      chromium = execFileSync(chromiumPath(), ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {}
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${availableParallelism()} × ${cpus()[0]?.model ?? "unknown"}`,
    chromium,
    loadAverageAtStart: loadavg()[0],
  };
}

async function main() {
  const results = { mode: sizeOnly ? "size-only" : "full", environment: environment() };
  if (!existsSync(join(publicDir, "laurel.js")) || (!sizeOnly && !args["no-build"])) build();

  step("Size: laurel.js and what the open panel needs, from dist/public");
  const files = fileSizes();
  for (const f of files.files) detail(`${f.file.padEnd(32)} ${String(f.gzip).padStart(6)} B gzip  ${String(f.brotli).padStart(6)} B br`);
  results.size = { files, browser: null, budgetsBytes: BUDGETS };

  // A part that fails is reported (and makes the exit code 2) without losing the others' figures.
  results.failures = [];
  const part = async (name, run) => {
    try {
      await run();
    } catch (err) {
      results.failures.push({ part: name, error: String(err?.stack ?? err) });
      process.stderr.write(`✖ ${name} failed: ${err?.message ?? err}\n`);
    }
  };

  try {
    if (args.profile) {
      await part("profile", async () => {
        const { profileHotPaths } = await import("./lib/profile.mjs");
        results.profile = await profileHotPaths();
      });
    } else if (!sizeOnly) {
      const servers = await import("./lib/servers.mjs");
      stopAll = servers.stopAll;
      const { startBaselineServer, startLaurelServer } = servers;
      const { lighthousePair } = await import("./lib/lighthouse.mjs");
      const { loadScenario, scaleScenario } = await import("./lib/scenarios.mjs");
      const { apiPaths, notAvailable } = await import("./lib/features.mjs");
      if (!skip.has("explain") || !skip.has("inprocess")) {
        await part("in-process queries", async () => {
          step("Queries: the worker's own code in this process, node:sqlite standing in for D1");
          const { baselineInProcess, createWorld, explainHotPaths, inProcessScale } = await import("./lib/explain.mjs");
          const world = await createWorld();
          if (!skip.has("inprocess") && levels.length) {
            step(`Queries: CPU per request in-process as the shop grows to ${levels.join(", ")} ledger entries`);
            results.inProcess = await inProcessScale(world, { levels });
            results.inProcess.baseline = await baselineInProcess();
          }
          if (!skip.has("explain")) {
            step("Queries: EXPLAIN QUERY PLAN of every statement the hot paths run");
            results.explain = await explainHotPaths(world);
            for (const path of results.explain.paths) {
              detail(`${path.name}: ${path.roundTrips} round trips, ${path.statements} statements`);
            }
            for (const scan of results.explain.fullScans) {
              detail(`SCAN in ${scan.path}: ${scan.sql.slice(0, 100)}… -> ${scan.scans.join("; ")}`);
            }
          }
        });
      }

      const needsServers = ["browser", "lighthouse", "load", "scale", "webhooks", "imports"].some((name) => !skip.has(name));
      if (needsServers) {
        step("Starting Laurel (as npm start does, fresh local D1/KV) and the baseline worker");
        const laurel = await startLaurelServer();
        detail(`Laurel   ${laurel.url}`);
        const baseline = skip.has("load") ? null : await startBaselineServer();
        if (baseline) detail(`baseline ${baseline.url}`);
        const page = `${laurel.url}/demo/product.html`;

        if (!skip.has("browser")) {
          await part("browser sizes", async () => {
            step(`Size: what Chromium fetches on ${page}, before and after Laurel.open()`);
            results.size.browser = await browserSizes(page);
            for (const f of results.size.browser.files) {
              detail(`${f.phase.padEnd(12)} ${f.file.padEnd(30)} ${String(f.gzip).padStart(6)} B gzip (served ${f.encoding})`);
            }
          });
        }
        if (!skip.has("lighthouse")) {
          await part("Lighthouse", async () => {
            step(`Lighthouse: ${page}, ${runs} runs each without the widget, with it, and with its loader only`);
            results.lighthouse = await lighthousePair(page, runs);
          });
        }
        if (!skip.has("load")) {
          await part("load", async () => {
            results.load = await loadScenario(laurel, baseline, { seconds, runs });
          });
        }
        // Rows for routes other branches are building: measured once the worker has them.
        if (!skip.has("webhooks")) {
          await part("webhooks", async () => {
            results.webhooks = (await apiPaths(laurel.url)).has("/v1/webhooks")
              ? await (await import("./lib/webhooks.mjs")).webhookScenario(laurel, { runs })
              : notAvailable("/v1/webhooks", "DESIGN §8.3, issue #14");
            if (!results.webhooks.available) detail(`Webhooks: ${results.webhooks.reason}`);
          });
        }
        if (!skip.has("imports")) {
          await part("imports", async () => {
            results.imports = (await apiPaths(laurel.url)).has("/v1/imports")
              ? await (await import("./lib/imports.mjs")).importScenario(laurel, { runs })
              : notAvailable("/v1/imports", "DESIGN §8.2, issue #13");
            if (!results.imports.available) detail(`Imports: ${results.imports.reason}`);
          });
        }
        if (!skip.has("scale") && levels.length) {
          await part("scale", async () => {
            results.scale = await scaleScenario(laurel, { seconds: Math.min(seconds, 5), levels });
          });
        }
      }
    }
  } finally {
    await stopAll();
  }

  results.size.budgets = checkBudgets(files, results.size.browser);
  const rows = buildRows(results);
  const table = markdownTable(rows);
  results.table = rows;
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "bench.json"), `${JSON.stringify(results, null, 2)}\n`);
  const env = results.environment;
  env.loadAverageAtEnd = loadavg()[0];
  writeFileSync(
    join(resultsDir, "bench.md"),
    [
      `# Laurel bench (${results.mode})`,
      "",
      `${env.date} · Node ${env.node} · ${env.cpus}${env.chromium ? ` · ${env.chromium}` : ""} · load average ${env.loadAverageAtStart.toFixed(1)} at start, ${env.loadAverageAtEnd.toFixed(1)} at end`,
      "",
      table,
      "",
    ].join("\n"),
  );
  process.stdout.write(`\n${table}\n\n`);
  step(`Written: bench/results/bench.md and bench/results/bench.json`);
  const over = results.size.budgets.filter((b) => !b.ok);
  for (const b of over) process.stderr.write(`✖ ${b.what}: ${b.bytes} B is over the ${b.budget} B budget\n`);
  for (const f of results.failures) process.stderr.write(`✖ ${f.part} did not complete (details in bench.json)\n`);
  if (over.length) return 1;
  return results.failures.length ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    await stopAll();
    process.stderr.write(`\n✖ bench failed: ${err?.stack ?? err}\n`);
    process.exit(2);
  },
);
