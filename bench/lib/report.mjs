/**
 * The one table `npm run bench` prints (Markdown, so the same text goes into bench.md and the
 * README), built from the results object that is also written as bench.json. DESIGN §8.7's rows
 * come first, each from several runs: the median, the spread (lowest-highest) and how many runs
 * met the budget; the verdict is read from the median, never from one sample. The last column is
 * the machine's 1-minute load average over the row's runs.
 */
import { spread } from "./stats.mjs";

const int = (n) => (n === null || n === undefined ? "n/a" : Math.round(n).toLocaleString("en-US"));
const ms = (n) => (n === null || n === undefined ? "n/a" : n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`);
const pct = (n) => (n === null || n === undefined || !Number.isFinite(n) ? "n/a" : `${Math.round(n * 100)}%`);
const bytes = (s) => `${int(s.gzip)} B gzip · ${int(s.brotli)} B br`;
const times = (n) => `${n.toFixed(1)}×`;

/** "72% (68–75%)", "29 ms (25–32)": the median and the spread of the runs; `unit` after the median. */
const spreadOf = (s, format, unit = "") =>
  s.median === null
    ? "n/a"
    : s.values.length > 1
      ? `${format(s.median)}${unit} (${format(s.min)}–${format(s.max)})`
      : `${format(s.median)}${unit}`;
const num = (n) => (n < 10 ? n.toFixed(1) : int(n));
const of = (runs, key) => spread(runs.map((run) => (typeof key === "function" ? key(run) : run[key])));
const loads = (...lists) => {
  const values = lists.flat().map((run) => run?.loadAverage).filter((v) => typeof v === "number");
  if (!values.length) return "";
  const s = spread(values);
  return s.min.toFixed(1) === s.max.toFixed(1) ? s.min.toFixed(1) : `${s.min.toFixed(1)}–${s.max.toFixed(1)}`;
};
const failedOf = (run) => run.non2xx + run.errors + run.timeouts;

function loadCell(runs) {
  const failed = runs.reduce((n, run) => n + failedOf(run), 0);
  return `${spreadOf(of(runs, "okRps"), int, " req/s")} · p50 ${spreadOf(of(runs, "p50"), num, " ms")} · p99 ${spreadOf(of(runs, "p99"), num, " ms")}${failed ? ` · ${int(failed)} not 2xx` : ""}`;
}

/** ✅/❌ from the median, and how many of the runs met the budget on their own. */
function verdict(s, meets, budget) {
  if (s.median === null) return "❌ not measured";
  const met = s.values.filter((v) => typeof v === "number" && meets(v)).length;
  return `${meets(s.median) ? "✅" : "❌"} (budget ${budget}; ${met} of ${s.values.length} runs)`;
}

export function buildRows(results) {
  const rows = [];
  const add = (measure, value, reference = "", verdictText = "", loadAverage = "") =>
    rows.push({ measure, value, reference, verdict: verdictText, loadAverage });
  const { size } = results;

  // --- DESIGN §8.7 -------------------------------------------------------------------------
  for (const budget of size.budgets) {
    const loader = budget.what.startsWith("laurel.js");
    add(
      loader ? "§8.7 Size: laurel.js, gzip -9 (before the panel opens)" : "§8.7 Size: everything the widget loads once the panel is open, gzip -9",
      bytes(loader ? size.files.loader : size.files.open),
      loader ? "exact: one build" : `exact: laurel.js + panel + what it imports + en${size.browser ? `; Chromium fetched ${bytes(size.browser.open)}` : ""}`,
      `${budget.ok ? "✅" : "❌"} (budget ≤ ${int(budget.budget)} B)`,
    );
  }

  const lh = results.lighthouse;
  if (lh) {
    const cpu = of(lh.perRun.with, (r) => r.widget.threadMs);
    const wall = of(lh.perRun.with, (r) => r.widget.mainThreadMs);
    add(
      `§8.7 Widget main-thread CPU on the demo page (thread time of its tasks, Lighthouse, ${lh.runs} runs)`,
      spreadOf(cpu, num, " ms"),
      `wall time (bootup-time) ${spreadOf(wall, num, " ms")}, which adds waits for a core`,
      verdict(cpu, (v) => v <= 5, "≤ 5 ms"),
      loads(lh.perRun.with),
    );
  } else {
    add("§8.7 Widget main-thread CPU on the demo page", "not run", "", "");
  }

  const load = results.load;
  for (const run of load?.runs ?? []) {
    const budget = run.kind === "state" ? 0.7 : 0.6;
    const counted = run.laurel.filter((slice) => slice.counters);
    const replans = counted.reduce((n, slice) => n + slice.counters.attempts - slice.counters.calls, 0);
    add(
      `§8.7 Load: ${run.name}${run.kind === "events" ? " (distinct members)" : ""}, ${run.connections} connections, ${run.laurel.length} runs of ${run.seconds} s`,
      `${spreadOf(run.ratio, pct)} of the baseline`,
      `Laurel ${loadCell(run.laurel)}${counted.length ? ` (${int(replans)} re-plans)` : ""} · ${run.baselineName} ${loadCell(run.baseline)}`,
      verdict(run.ratio, (v) => v >= budget, `≥ ${pct(budget)}`),
      loads(run.laurel, run.baseline),
    );
  }
  const contention = load?.contention;
  if (contention) {
    const refused = contention.hot.reduce((n, run) => n + failedOf(run), 0);
    const counted = contention.hot.filter((run) => run.counters);
    const retries = counted.reduce((n, run) => n + run.counters.attempts - run.counters.calls, 0);
    const calls = counted.reduce((n, run) => n + run.counters.calls, 0);
    const perRun = of(counted, (run) => (run.counters.attempts - run.counters.calls) / Math.max(run.counters.calls, 1));
    const ok = contention.p99Ratio.median !== null && contention.p99Ratio.median <= 4 && refused === 0;
    const met = contention.p99Ratio.values.filter((v) => v <= 4).length;
    add(
      `§8.7 Load: order.paid, ${contention.connections} connections all on ${contention.members} members (contention), ${contention.hot.length} runs`,
      `p99 ${spreadOf(contention.p99Ratio, times)} the distinct-member p99 · ${refused} refused · ${spreadOf(perRun, (v) => v.toFixed(2))} retries per event`,
      `on ${contention.members} members ${loadCell(contention.hot)} · distinct members, same runs: p99 ${spreadOf(of(contention.distinct, "p99"), num, " ms")} · worker counters: ${int(retries)} re-plans over ${int(calls)} events`,
      `${ok ? "✅" : "❌"} (budget p99 ≤ 4× distinct, nothing refused; ${met} of ${contention.p99Ratio.values.length} runs ≤ 4×)`,
      loads(contention.hot, contention.distinct),
    );
  }

  const hooks = results.webhooks;
  if (hooks?.available) {
    const all = hooks.runs.every((r) => r.delivered === r.events && r.duplicates === 0 && r.unsigned === 0);
    const p95ok = hooks.p95.median !== null && hooks.p95.median <= 5000;
    add(
      `§8.7 Webhook deliveries: ${int(hooks.runs[0].events)} order events to one endpoint, ${hooks.runs.length} runs`,
      `commit-to-receipt p50 ${spreadOf(hooks.p50, num, " ms")} · p95 ${spreadOf(hooks.p95, num, " ms")}`,
      hooks.runs
        .map((r) => `${int(r.delivered)}/${int(r.events)} delivered, ${r.duplicates} twice, ${r.unsigned} badly signed`)
        .join(" · "),
      `${all && p95ok ? "✅" : "❌"} (budget: all delivered once, p95 ≤ 5 s; ${hooks.runs.filter((r) => r.p95 <= 5000).length} of ${hooks.runs.length} runs)`,
      loads(hooks.runs),
    );
  } else {
    add("§8.7 Webhook deliveries: 1,000 order events to one endpoint", hooks?.reason ?? "not run", "DESIGN §8.3", "— skipped");
  }

  const imports = results.imports;
  if (imports?.available) {
    const all = imports.runs.every((r) => r.status === "done" && r.imported === r.rows && r.errors === 0);
    add(
      `Imports: ${int(imports.runs[0].rows)}-row CSV through POST /v1/imports, ${imports.runs.length} runs`,
      `${spreadOf(imports.rowsPerSecond, int)} rows/s`,
      imports.runs.map((r) => `${r.status}: ${int(r.imported)}/${int(r.rows)} in ${r.seconds.toFixed(1)} s`).join(" · "),
      all ? "✅ every row imported (no budget for speed)" : "❌ rows missing or in errors",
      loads(imports.runs),
    );
  } else {
    add("Imports: CSV rows per second through POST /v1/imports", imports?.reason ?? "not run", "DESIGN §8.2", "— skipped");
  }

  // --- DESIGN §6 rows that still hold, and what explains the figures ---------------------------
  if (lh) {
    add(
      `Lighthouse performance, demo product page (desktop, median of ${lh.runs})`,
      `with widget ${lh.with.score} (${lh.with.scores.join(", ")})`,
      `without ${lh.without.score} (${lh.without.scores.join(", ")})`,
      `drop ${lh.drop} ${lh.drop <= 1 ? "✅" : "❌"} (budget ≤ 1)`,
      loads(lh.perRun.with, lh.perRun.without),
    );
    if (lh.loaderOnly) {
      add(
        "…with the widget's chunks blocked (nothing loads them before the shopper asks: should match)",
        `CPU ${ms(lh.loaderOnly.threadMs)} · wall ${ms(lh.loaderOnly.mainThreadMs)}`,
        `TBT ${ms(lh.loaderOnly.tbt)} · score ${lh.loaderOnly.score}`,
        "",
        loads(lh.perRun.loaderOnly ?? []),
      );
    }
    if (lh.widget.chunksEvaluated !== undefined) {
      add(
        "Widget chunks run before the shopper asks (their evaluation is not in bootup-time)",
        String(lh.widget.chunksEvaluated),
        "a prefetch into the HTTP cache does not count",
        lh.widget.chunksEvaluated === 0 ? "✅ none" : "❌",
      );
    }
    add(
      "Long tasks (> 50 ms) attributed to the widget",
      String(lh.widget.longTasks),
      `LCP ${ms(lh.with.metrics.lcp)} with · ${ms(lh.without.metrics.lcp)} without`,
      lh.widget.longTasks === 0 ? "✅ none" : "❌",
    );
  }

  const cpu = results.inProcess;
  if (cpu?.baseline) {
    const first = cpu.levels[0];
    add(
      "CPU per request in-process (worker code on node:sqlite, no network): state · order.paid",
      `${int(first.stateUs)} µs · ${int(first.orderUs)} µs`,
      `baseline GET ${int(cpu.baseline.readUs)} µs · POST ${int(cpu.baseline.writeUs)} µs; in SQLite: ${int(first.stateSql.us)} µs · ${int(first.orderSql.us)} µs`,
      `${(first.stateUs / cpu.baseline.readUs).toFixed(0)}× · ${(first.orderUs / cpu.baseline.writeUs).toFixed(0)}× the baseline's CPU (Node's WebCrypto inflates the HMAC/SHA-256 share)`,
    );
  }

  const seq = load?.sequentialTrips;
  if (seq) {
    add(
      `Load: baseline GET with ${seq.trips} sequential D1 queries vs 1, ${seq.connections} connections, ${seq.eight.length} runs`,
      `${spreadOf(seq.ratio, pct)} of 1 query`,
      `${seq.trips} queries ${loadCell(seq.eight)} · 1 query ${loadCell(seq.one)}`,
      "the cost of round trips alone",
      loads(seq.one, seq.eight),
    );
  }

  const scale = results.scale;
  const inProcess = results.inProcess;
  const us = (n) => (n === null || n === undefined ? "n/a" : `${int(n)} µs`);
  for (const kind of ["state", "events"]) {
    const label = kind === "state" ? "GET /v1/storefront/state" : "POST /v1/events order.paid";
    const cpuOf = (row) => (row ? (kind === "state" ? row.stateUs : row.orderUs) : null);
    const sqlOf = (row) => (row ? (kind === "state" ? row.stateSql : row.orderSql) : null);
    const count = Math.max(scale?.levels.length ?? 0, inProcess?.levels.length ?? 0);
    for (let i = 0; i < count; i++) {
      const http = scale?.levels[i];
      const cpuRow = inProcess?.levels[i];
      const firstCpu = cpuOf(inProcess?.levels[0]);
      const firstHttp = scale?.levels[0]?.[kind];
      const verdicts = [];
      if (cpuRow && firstCpu) verdicts.push(`CPU ${pct(cpuOf(cpuRow) / firstCpu)}`);
      if (http && firstHttp) verdicts.push(`req/s ${pct(http[kind].okRps / firstHttp.okRps)}`);
      add(
        `Scale: ${label} at ${int(http?.level ?? cpuRow?.level)} ledger entries`,
        http ? `${loadCell([http[kind]])} (${scale.connections} conns, 1 run)` : "(not run over HTTP)",
        `in-process: ${us(cpuOf(cpuRow))} CPU, ${us(sqlOf(cpuRow)?.us)} in SQLite per request · ${int(http?.entries ?? cpuRow?.entries)} entries, ${int(http?.customers ?? cpuRow?.customers)} members`,
        verdicts.length ? `${verdicts.join(" · ")} of the smallest` : "",
        http ? loads([http[kind]]) : "",
      );
    }
  }
  const tenants = Math.max(scale?.tenants?.length ?? 0, inProcess?.preflights.length ?? 0);
  for (let i = 0; i < tenants; i++) {
    const http = scale?.tenants?.[i];
    const cpuRow = inProcess?.preflights[i];
    const shops = cpuRow ? int(cpuRow.shops) : http?.shops ? `${int(http.shops)} more` : "a few";
    const firstCpu = inProcess?.preflights[0]?.us;
    add(
      `Scale: OPTIONS preflight from an origin no shop lists, ${shops} shops in the database`,
      http ? loadCell([http.run]) : "(not run over HTTP)",
      `worker CPU in-process ${us(cpuRow?.us)}/request`,
      i > 0 && cpuRow && firstCpu ? `CPU ${pct(cpuRow.us / firstCpu)} of the fewest` : "",
      http ? loads([http.run]) : "",
    );
  }

  const last = inProcess?.levels.at(-1);
  if (last?.orderSql) {
    const httpEvents = load?.runs.filter((r) => r.kind === "events").map((r) => of(r.laurel, "okRps").median) ?? [];
    add(
      "Capacity: order.paid events per D1 database (statements run one at a time)",
      `≈ ${int(1e6 / last.orderSql.us)} /s ceiling from ${us(last.orderSql.us)} of SQLite per order (${Math.round(last.orderSql.statements)} statements)`,
      httpEvents.length ? `took ${httpEvents.map((n) => int(n)).join(" and ")} /s here through wrangler dev (10, 50 conns)` : "",
      "",
    );
  }

  const explain = results.explain;
  if (explain) {
    const statements = explain.paths.reduce((n, p) => n + p.queries.length, 0);
    add(
      `Queries: hot-path statements that scan a table (EXPLAIN QUERY PLAN, ${int(explain.ledgerRows)} entries)`,
      `${explain.fullScans.length} of ${statements}`,
      explain.fullScans.map((s) => `${s.scans.join("; ")}`).join(" / ") || "every one is an index SEARCH",
      explain.fullScans.length === 0 ? "✅" : "❌",
    );
    for (const path of explain.paths) {
      add(`Queries: ${path.name}`, `${path.roundTrips} D1 round trips`, `${path.statements} statements`, "");
    }
  }
  for (const failure of results.failures ?? []) {
    add(`Failed: ${failure.part}`, failure.error.split("\n")[0].slice(0, 160), "see bench.json", "❌");
  }
  return rows;
}

export function markdownTable(rows) {
  const cell = (s) => String(s).replace(/\|/g, "\\|");
  const lines = ["| Measure | Laurel | Reference | Verdict | Load avg |", "| --- | --- | --- | --- | --- |"];
  for (const row of rows) {
    lines.push(`| ${[row.measure, row.value, row.reference, row.verdict, row.loadAverage].map(cell).join(" | ")} |`);
  }
  return lines.join("\n");
}
