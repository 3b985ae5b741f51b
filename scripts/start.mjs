#!/usr/bin/env node
/**
 * `npm start`: build the widget, apply migrations to the local D1, run `wrangler dev` on
 * 127.0.0.1:$PORT (8787), seed the demo shop and print where everything is.
 * Also imported by the browser tests and the bench, which start the server the same way.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { seedDemoShop } from "../demo/seed.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wranglerBin = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

/** Never wait on hosts these machines cannot reach. */
const quietEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  NO_UPDATE_NOTIFIER: "1",
  CI: process.env.CI ?? "",
};

const log = (quiet, ...args) => quiet || console.log(...args);

/** `.dev.vars` holds ADMIN_TOKEN and SHOPIFY_API_SECRET; created with random values on first run. */
export function ensureDevVars() {
  const file = join(root, ".dev.vars");
  const vars = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const m = /^([A-Z_]+)\s*=\s*"?([^"]*)"?\s*$/.exec(line);
      if (m) vars[m[1]] = m[2];
    }
  }
  let changed = false;
  for (const name of ["ADMIN_TOKEN", "SHOPIFY_API_SECRET"]) {
    if (!vars[name]) {
      vars[name] = randomBytes(24).toString("base64url");
      changed = true;
    }
  }
  if (changed) {
    writeFileSync(file, Object.entries(vars).map(([k, v]) => `${k}="${v}"`).join("\n") + "\n", { mode: 0o600 });
  }
  // The environment wins over the file.
  return {
    ADMIN_TOKEN: process.env.ADMIN_TOKEN || vars.ADMIN_TOKEN,
    SHOPIFY_API_SECRET: process.env.SHOPIFY_API_SECRET || vars.SHOPIFY_API_SECRET,
  };
}

function run(label, command, args, { quiet } = {}) {
  log(quiet, `• ${label}`);
  const result = spawnSync(command, args, { cwd: root, env: quietEnv, stdio: quiet ? "pipe" : "inherit", encoding: "utf8" });
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout ?? ""}${result.stderr ?? ""}`);
    throw new Error(`${label} failed (exit ${result.status}). See the output above.`);
  }
}

async function waitUntilReady(url, child, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early (code ${child.exitCode}).`);
    try {
      const res = await fetch(`${url}/v1/openapi.json`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`The server did not answer at ${url} within ${seconds} s.`);
}

/**
 * Starts the whole stack. `persistTo` keeps the local D1/KV in another folder (tests use a fresh
 * one); `build: false` skips the widget build when the caller has built already; `vars` adds
 * worker vars (the bench turns on BENCH; the browser tests point the Shopify Admin API at a fake).
 */
export async function startLaurel({ port = Number(process.env.PORT) || 8787, quiet = false, persistTo, build = true, vars = {} } = {}) {
  const secrets = ensureDevVars();
  if (build) run("Building the widget, console and demo pages", process.execPath, [join(root, "scripts", "build.mjs")], { quiet });
  const persist = persistTo ? ["--persist-to", persistTo] : [];
  run("Applying D1 migrations to the local database", process.execPath, [wranglerBin, "d1", "migrations", "apply", "DB", "--local", ...persist], { quiet });

  log(quiet, `• Starting wrangler dev on http://127.0.0.1:${port}`);
  const child = spawn(
    process.execPath,
    [
      wranglerBin,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--var",
      "DEMO:on",
      "--var",
      `ADMIN_TOKEN:${secrets.ADMIN_TOKEN}`,
      "--var",
      `SHOPIFY_API_SECRET:${secrets.SHOPIFY_API_SECRET}`,
      ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      "--show-interactive-dev-session=false",
      ...persist,
    ],
    { cwd: root, env: quietEnv, stdio: ["ignore", quiet ? "pipe" : "inherit", quiet ? "pipe" : "inherit"], detached: process.platform !== "win32" },
  );
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const stop = () => {
    if (child.exitCode !== null) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      child.kill("SIGTERM");
    }
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, child);
    log(quiet, "• Seeding the demo shop");
    const demo = await seedDemoShop(url, secrets.ADMIN_TOKEN);
    return { url, demo, secrets, stop, child, output: () => output };
  } catch (err) {
    if (quiet) process.stderr.write(output);
    stop();
    throw err;
  }
}

const invokedDirectly = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  try {
    const { url, demo, stop, child } = await startLaurel();
    console.log(`
Laurel is running.

  Demo shop      ${url}/demo/
  Console        ${url}/console/
  API docs       ${url}/docs
  OpenAPI        ${url}/v1/openapi.json

  Demo shop keys (local only):
    public key     ${demo.publicKey}
    secret key     ${demo.secretKey}
    webhook secret ${demo.webhookSecret}
    widget secret  ${demo.widgetSecret}

  Operator token (ADMIN_TOKEN) is in .dev.vars. Press Ctrl+C to stop.
`);
    for (const signal of ["SIGINT", "SIGTERM"]) {
      process.on(signal, () => {
        stop();
        process.exit(0);
      });
    }
    child.on("exit", (code) => process.exit(code ?? 0));
  } catch (err) {
    console.error(`\n✖ ${err.message}`);
    if (!/^Seeding/.test(err.message)) {
      console.error("  Check that `npm ci` finished and that the port is free (set PORT=...), then try again.");
    }
    process.exit(1);
  }
}
