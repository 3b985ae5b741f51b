/**
 * The servers a bench run starts: Laurel (exactly as `npm start` starts it, on a fresh local D1/KV)
 * and the baseline worker (bench/baseline, started the same way). Both listen on 127.0.0.1 only.
 * Every server is a process group; `stopAll()` ends each group it started, also on Ctrl+C or a
 * failure half-way.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLaurel } from "../../scripts/start.mjs";
import { root } from "./paths.mjs";

export const wranglerBin = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

export const quietEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  NO_UPDATE_NOTIFIER: "1",
};

/** Process groups and folders to clean up, newest first. */
const cleanups = [];
let exiting = false;

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, async () => {
    if (exiting) return;
    exiting = true;
    process.stderr.write(`\n${signal}: stopping the bench's servers...\n`);
    await stopAll();
    process.exit(130);
  });
}

/** Ends a process group: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function killGroup(child, graceMs = 5000) {
  if (!child?.pid) return;
  const alive = () => {
    try {
      process.kill(-child.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {}
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
}

export async function stopAll() {
  while (cleanups.length) {
    const cleanup = cleanups.pop();
    try {
      await cleanup();
    } catch (err) {
      process.stderr.write(`  (cleanup: ${err.message})\n`);
    }
  }
}

/** A port the OS says is free on 127.0.0.1 right now. */
export function freePort() {
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

/** A scratch folder for a server's local D1/KV, removed when the bench ends. */
export function scratchDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `laurel-bench-${label}-`));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A port found free can be taken by another process before wrangler binds it (other servers start
 * on this machine too): try again on a new port.
 */
async function withRetries(label, start, tries = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= tries) throw err;
      process.stderr.write(`         ${label} did not start (${String(err.message).split("\n")[0]}); trying another port\n`);
    }
  }
}

/**
 * Laurel as `npm start` runs it (widget already built), on a fresh local database, with BENCH on
 * so the worker reports its write counters (worker/routes/bench.ts); `vars` adds more.
 */
export function startLaurelServer(vars = {}) {
  return withRetries("Laurel", async () => {
    const port = await freePort();
    const persistTo = scratchDir("laurel");
    const server = await startLaurel({ port, quiet: true, persistTo, build: false, vars: { BENCH: "on", ...vars } });
    cleanups.push(() => killGroup(server.child));
    return { ...server, port, persistTo };
  });
}

async function waitForHttp(url, child, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited early (code ${child.exitCode})`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${seconds} s`);
}

/** The baseline worker: bench/baseline/wrangler.toml, its migration applied to a fresh local D1. */
export function startBaselineServer() {
  return withRetries("the baseline worker", () =>
    startWorkerDev({ label: "baseline", config: join(root, "bench", "baseline", "wrangler.toml"), ready: "/v1/baseline" }),
  );
}

/**
 * `wrangler dev` of a config on a fresh local D1 (its migrations applied), on 127.0.0.1, with
 * `vars`, and with the DevTools inspector on `inspectorPort` when given (bench/lib/profile.mjs).
 */
export async function startWorkerDev({ label, config, vars = {}, inspectorPort, ready }) {
  const port = await freePort();
  const persistTo = scratchDir(label);
  const apply = spawnSync(
    process.execPath,
    [wranglerBin, "d1", "migrations", "apply", "DB", "--local", "--config", config, "--persist-to", persistTo],
    { cwd: root, env: { ...quietEnv, CI: "true" }, encoding: "utf8" },
  );
  if (apply.status !== 0) throw new Error(`${label} migrations failed:\n${apply.stdout}${apply.stderr}`);
  const child = spawn(
    process.execPath,
    [
      wranglerBin,
      "dev",
      "--config",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      persistTo,
      ...(inspectorPort ? ["--inspector-port", String(inspectorPort)] : []),
      ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      "--show-interactive-dev-session=false",
    ],
    { cwd: root, env: quietEnv, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  cleanups.push(() => killGroup(child));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}${ready}`, child);
  } catch (err) {
    await killGroup(child);
    throw new Error(`${label} worker: ${err.message}\n${output}`);
  }
  return { url, port, child, persistTo, output: () => output };
}

/** Runs `wrangler d1 execute DB --local --file` against a server's local database. */
export function d1ExecuteFile(persistTo, file) {
  const result = spawnSync(
    process.execPath,
    [wranglerBin, "d1", "execute", "DB", "--local", "--persist-to", persistTo, "--file", file, "--yes"],
    { cwd: root, env: { ...quietEnv, CI: "true" }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) throw new Error(`wrangler d1 execute failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}
