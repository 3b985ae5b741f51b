/**
 * Member imports (DESIGN §8.2): a CSV of `rows` members posted to POST /v1/imports, followed with
 * GET /v1/imports/:id until it is done; rows per second from the post to "done", every row
 * imported and none in errors.
 */
import { loadavg } from "node:os";
import { detail, step } from "./progress.mjs";
import { spread } from "./stats.mjs";

function csv(run, rows) {
  const lines = ["customer_id,email,first_name,points"];
  for (let i = 0; i < rows; i++) lines.push(`imp-${run}-${i},imp-${run}-${i}@example.com,Imported ${i},${(i * 37) % 2000}`);
  return `${lines.join("\n")}\n`;
}

export async function importScenario(laurel, { runs = 3, rows = 2000, waitSeconds = 300 }) {
  const admin = laurel.secrets.ADMIN_TOKEN;
  const created = await fetch(`${laurel.url}/v1/shops`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Import bench", currency: "EUR", origins: [laurel.url], platform: "custom" }),
  }).then((res) => res.json());
  const auth = { authorization: `Bearer ${created.secretKey}` };
  step(`Imports: ${runs} runs of a ${rows}-row CSV through POST /v1/imports`);
  const results = [];
  for (let run = 0; run < runs; run++) {
    const loadAverage = loadavg()[0];
    const started = performance.now();
    const res = await fetch(`${laurel.url}/v1/imports`, {
      method: "POST",
      headers: { ...auth, "content-type": "text/csv", "idempotency-key": `bench-import-${Date.now()}-${run}` },
      body: csv(`${Date.now().toString(36)}${run}`, rows),
    });
    const text = await res.text();
    if (res.status !== 202) throw new Error(`POST /v1/imports answered ${res.status}: ${text}`);
    let job = JSON.parse(text).import;
    const deadline = started + waitSeconds * 1000;
    while (!["done", "failed"].includes(job.status) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      job = (await fetch(`${laurel.url}/v1/imports/${job.id}`, { headers: auth }).then((r) => r.json())).import;
    }
    const seconds = (performance.now() - started) / 1000;
    const result = {
      rows,
      loadAverage,
      status: job.status,
      imported: job.imported,
      skipped: job.skipped,
      errors: job.errors?.length ?? 0,
      seconds,
      rowsPerSecond: job.status === "done" ? rows / seconds : null,
    };
    detail(
      `run ${run + 1}: ${job.status}, ${job.imported}/${rows} imported, ${result.errors} errors, ${seconds.toFixed(1)} s = ${Math.round(result.rowsPerSecond ?? 0)} rows/s · load ${loadAverage.toFixed(1)}`,
    );
    results.push(result);
  }
  return { available: true, runs: results, rowsPerSecond: spread(results.map((r) => r.rowsPerSecond)) };
}
