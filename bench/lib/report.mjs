/**
 * The one table `npm run bench` prints (Markdown, so the same text goes into bench.md and the
 * README), built from the results object that is also written as bench.json.
 */
const int = (n) => (n === null || n === undefined ? "n/a" : Math.round(n).toLocaleString("en-US"));
const ms = (n) => (n === null || n === undefined ? "n/a" : n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`);
const pct = (n) => (n === null || n === undefined || !Number.isFinite(n) ? "n/a" : `${Math.round(n * 100)}%`);
const bytes = (s) => `${int(s.gzip)} B gzip · ${int(s.brotli)} B br`;

function loadCell(run) {
  if (!run) return "n/a";
  const failed = run.non2xx + run.errors + run.timeouts;
  return `${int(run.okRps)} req/s · p50 ${ms(run.p50)} · p99 ${ms(run.p99)}${failed ? ` · ${int(failed)} failed` : ""}`;
}

export function buildRows(results) {
  const rows = [];
  const add = (measure, value, reference = "", verdict = "") => rows.push({ measure, value, reference, verdict });
  const { size } = results;

  for (const budget of size.budgets) {
    const label =
      budget.what.startsWith("laurel.js")
        ? "Size: laurel.js (before the panel opens)"
        : "Size: everything after open (laurel.js + panel + en)";
    const measured = budget.what.startsWith("laurel.js") ? size.files.loader : size.files.open;
    add(label, bytes(measured), `budget ${int(budget.budget)} B gzip`, budget.ok ? "✅ within" : "❌ over budget");
  }
  if (size.browser) {
    const b = size.browser;
    add(
      `Size: what Chromium fetched (${b.files.length} widget requests, open)`,
      bytes(b.open),
      `before open: ${bytes(b.beforeOpen)}`,
      b.open.gzip <= results.size.budgetsBytes.openGzip ? "✅ within" : "❌ over budget",
    );
  }

  const lh = results.lighthouse;
  if (lh) {
    add(
      `Lighthouse performance, demo product page (desktop, median of ${lh.runs})`,
      `with widget ${lh.with.score} (${lh.with.scores.join(", ")})`,
      `without ${lh.without.score} (${lh.without.scores.join(", ")})`,
      `drop ${lh.drop} ${lh.drop <= 1 ? "✅" : "⚠️"} (budget ≤ 1)`,
    );
    add(
      "Widget main-thread time on that page (Lighthouse bootup-time, laurel URLs)",
      `${ms(lh.widget.mainThreadMs)} (script ${ms(lh.widget.scriptingMs)})`,
      `TBT ${ms(lh.with.metrics.tbt)} with · ${ms(lh.without.metrics.tbt)} without`,
      `${lh.widget.mainThreadMs <= 10 ? "✅" : "⚠️"} (budget ≤ 10 ms)`,
    );
    if (lh.loaderOnly) {
      add(
        "…with the widget's chunks blocked (nothing loads them before the shopper asks: should match)",
        `${ms(lh.loaderOnly.mainThreadMs)}`,
        `TBT ${ms(lh.loaderOnly.tbt)} · score ${lh.loaderOnly.score}`,
        `${lh.loaderOnly.mainThreadMs <= 10 ? "✅" : "⚠️"} (budget ≤ 10 ms)`,
      );
    }
    if (lh.widget.threadMs !== undefined) {
      add(
        "Widget thread (CPU) time, the same tasks (the wall time above adds waits for a core and for other processes)",
        ms(lh.widget.threadMs),
        `load average ${results.environment.loadAverageAtStart.toFixed(1)} at start`,
        `${lh.widget.threadMs <= 10 ? "✅" : "⚠️"} (reads the row above; the budget is wall time)`,
      );
    }
    if (lh.widget.chunksEvaluated !== undefined) {
      add(
        "Widget chunks run before the shopper asks (their evaluation is not in bootup-time)",
        String(lh.widget.chunksEvaluated),
        "a prefetch into the HTTP cache does not count",
        lh.widget.chunksEvaluated === 0 ? "✅ none" : "⚠️",
      );
    }
    add(
      "Long tasks (> 50 ms) attributed to the widget",
      String(lh.widget.longTasks),
      `LCP ${ms(lh.with.metrics.lcp)} with · ${ms(lh.without.metrics.lcp)} without`,
      lh.widget.longTasks === 0 ? "✅ none" : "⚠️",
    );
  }

  const load = results.load;
  const cpu = results.inProcess;
  if (cpu?.baseline) {
    const first = cpu.levels[0];
    add(
      "CPU per request in-process (worker code on node:sqlite, no network): state · order.paid",
      `${int(first.stateUs)} µs · ${int(first.orderUs)} µs`,
      `baseline GET ${int(cpu.baseline.readUs)} µs · POST ${int(cpu.baseline.writeUs)} µs`,
      `${(first.stateUs / cpu.baseline.readUs).toFixed(0)}× · ${(first.orderUs / cpu.baseline.writeUs).toFixed(0)}× the baseline's CPU (Node's WebCrypto inflates the HMAC/SHA-256 share)`,
    );
  }
  if (load) {
    for (const run of load.runs) {
      const ratio = run.baseline ? run.laurel.okRps / run.baseline.okRps : null;
      add(
        `Load: ${run.name}, ${run.connections} connections (${run.seconds} s)`,
        loadCell(run.laurel),
        `${run.baselineName}: ${loadCell(run.baseline)}${run.name.startsWith("POST") ? ` · Laurel = ${pct(run.vsReadBaseline)} of baseline GET` : ""}`,
        `${pct(ratio)} of baseline ${ratio !== null && ratio >= 0.5 ? "✅" : "⚠️"} (budget ≥ 50%)`,
      );
    }
  }

  const seq = load?.sequentialTrips;
  if (seq) {
    const one = load.runs.find((r) => r.baseline && r.name.startsWith("GET") && r.connections === seq.run.connections);
    add(
      `Load: baseline GET with ${seq.trips} sequential D1 queries, ${seq.run.connections} connections`,
      loadCell(seq.run),
      one ? `1 query: ${loadCell(one.baseline)}` : "",
      one ? `${pct(seq.run.okRps / one.baseline.okRps)} of 1 query: the cost of round trips alone` : "",
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
      const cpu = inProcess?.levels[i];
      const firstCpu = cpuOf(inProcess?.levels[0]);
      const firstHttp = scale?.levels[0]?.[kind];
      const verdicts = [];
      if (cpu && firstCpu) verdicts.push(`CPU ${pct(cpuOf(cpu) / firstCpu)}`);
      if (http && firstHttp) verdicts.push(`req/s ${pct(http[kind].okRps / firstHttp.okRps)}`);
      add(
        `Scale: ${label} at ${int(http?.level ?? cpu?.level)} ledger entries`,
        http ? `${loadCell(http[kind])} (${scale.connections} conns)` : "(not run over HTTP)",
        `in-process: ${us(cpuOf(cpu))} CPU, ${us(sqlOf(cpu)?.us)} in SQLite per request · ${int(http?.entries ?? cpu?.entries)} entries, ${int(http?.customers ?? cpu?.customers)} members`,
        verdicts.length ? `${verdicts.join(" · ")} of the smallest` : "",
      );
    }
  }
  const tenants = Math.max(scale?.tenants?.length ?? 0, inProcess?.preflights.length ?? 0);
  for (let i = 0; i < tenants; i++) {
    const http = scale?.tenants?.[i];
    const cpu = inProcess?.preflights[i];
    const shops = cpu ? int(cpu.shops) : http?.shops ? `${int(http.shops)} more` : "a few";
    const firstCpu = inProcess?.preflights[0]?.us;
    add(
      `Scale: OPTIONS preflight from an origin no shop lists, ${shops} shops in the database`,
      http ? loadCell(http.run) : "(not run over HTTP)",
      `worker CPU in-process ${us(cpu?.us)}/request`,
      i > 0 && cpu && firstCpu ? `CPU ${pct(cpu.us / firstCpu)} of the fewest` : "",
    );
  }

  const last = inProcess?.levels.at(-1);
  if (last?.orderSql) {
    const httpEvents = results.load?.runs.filter((r) => r.name.startsWith("POST")).map((r) => r.laurel.okRps) ?? [];
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
      explain.fullScans.length === 0 ? "✅" : "⚠️",
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
  const lines = ["| Measure | Laurel | Reference | Verdict |", "| --- | --- | --- | --- |"];
  for (const row of rows) lines.push(`| ${[row.measure, row.value, row.reference, row.verdict].map(cell).join(" | ")} |`);
  return lines.join("\n");
}
