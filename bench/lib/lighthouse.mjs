/**
 * Lighthouse (npm) driving Debian's Chromium on the demo product page, with and without the
 * widget, alternating runs in the same session so drift on a shared machine hits both alike.
 * "Without" is the same page from the same server with the widget's own requests blocked
 * (laurel.js and its chunks): the demo page writes the script tag from its own script, the way a
 * merchant's template prints it, so the page's own work is identical in both runs.
 */
import { loadavg } from "node:os";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import { MainThreadTasks } from "lighthouse/core/computed/main-thread-tasks.js";
import { NetworkRecords } from "lighthouse/core/computed/network-records.js";
import desktopConfig from "lighthouse/core/config/desktop-config.js";
import { getAttributableURLForTask, getJavaScriptURLs } from "lighthouse/core/lib/tracehouse/task-summary.js";
import { chromiumPath, isWidgetUrl, WIDGET_URL_PATTERNS } from "./browser.mjs";
import { detail } from "./progress.mjs";

const CHROME_FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** What each variant blocks: nothing, the whole widget, or only its panel chunks (the loader alone). */
const BLOCKED = { with: [], without: WIDGET_URL_PATTERNS, loaderOnly: ["*/laurel/*"] };

function config(variant) {
  return {
    ...desktopConfig,
    settings: {
      ...desktopConfig.settings,
      onlyCategories: ["performance"],
      blockedUrlPatterns: BLOCKED[variant],
    },
    // Every script's main-thread time, not only those over 50 ms.
    audits: [{ path: "bootup-time", options: { thresholdInMs: 0 } }],
  };
}

async function runOnce(url, variant) {
  const loadAverage = loadavg()[0];
  const chrome = await chromeLauncher.launch({ chromePath: chromiumPath(), chromeFlags: CHROME_FLAGS, logLevel: "silent" });
  try {
    const result = await lighthouse(url, { port: chrome.port, logLevel: "error", output: "json" }, config(variant));
    const lhr = result?.lhr;
    if (!lhr) throw new Error("Lighthouse returned no report");
    if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
    const summary = summarise(lhr);
    summary.widget.threadMs = await widgetThreadTime(result.artifacts);
    summary.loadAverage = loadAverage;
    return summary;
  } finally {
    await chrome.kill();
  }
}

/**
 * The thread (CPU) time of the very tasks bootup-time gives the widget, with Lighthouse's own task
 * tree and attribution. bootup-time counts wall time, which on a busy shared machine also holds the
 * time our thread waited for a core or for another process: this figure tells the two apart.
 */
async function widgetThreadTime(artifacts) {
  const context = { computedCache: new Map() };
  const tasks = await MainThreadTasks.request(artifacts.Trace, context);
  const jsURLs = getJavaScriptURLs(await NetworkRecords.request(artifacts.DevtoolsLog, context));
  const threadUs = (task) => task.event.tdur ?? task.event.dur ?? 0;
  let total = 0;
  for (const task of tasks) {
    if (!isWidgetUrl(getAttributableURLForTask(task, jsURLs))) continue;
    total += Math.max(0, threadUs(task) - task.children.reduce((sum, child) => sum + threadUs(child), 0));
  }
  return total / 1000;
}

function summarise(lhr) {
  const audit = (id) => lhr.audits[id];
  const bootup = (audit("bootup-time")?.details?.items ?? []).filter((item) => isWidgetUrl(item.url));
  const longTasks = (audit("long-tasks")?.details?.items ?? []).filter((item) => isWidgetUrl(item.url));
  const requests = (audit("network-requests")?.details?.items ?? []).filter((item) => isWidgetUrl(item.url));
  return {
    score: Math.round((lhr.categories.performance.score ?? 0) * 100),
    metrics: {
      fcp: audit("first-contentful-paint")?.numericValue ?? null,
      lcp: audit("largest-contentful-paint")?.numericValue ?? null,
      tbt: audit("total-blocking-time")?.numericValue ?? null,
      cls: audit("cumulative-layout-shift")?.numericValue ?? null,
      si: audit("speed-index")?.numericValue ?? null,
    },
    widget: {
      mainThreadMs: bootup.reduce((sum, item) => sum + item.total, 0),
      scriptingMs: bootup.reduce((sum, item) => sum + item.scripting + item.scriptParseCompile, 0),
      byUrl: bootup.map((item) => ({ url: item.url, total: item.total, scripting: item.scripting, parse: item.scriptParseCompile })),
      longTasks: longTasks.map((item) => ({ url: item.url, duration: item.duration, startTime: item.startTime })),
      // Requests that completed (a blocked request has no status code).
      requests: requests
        .filter((item) => item.statusCode > 0)
        .map((item) => ({ url: item.url, transferSize: item.transferSize, resourceType: item.resourceType })),
      // Nobody opens the panel in these runs: a chunk loaded as a script ran without the shopper
      // asking, and Lighthouse leaves a module's evaluation unattributed, so it is counted here.
      chunksEvaluated: requests.filter(
        (item) => item.statusCode > 0 && /\/laurel\//.test(item.url) && item.resourceType === "Script",
      ).length,
    },
  };
}

export const median = (values) => {
  const sorted = values.filter((v) => typeof v === "number" && !Number.isNaN(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * `runs` of each variant, alternating: without the widget, with it, and with only its loader (the
 * widget's chunks blocked): no chunk should load before the shopper asks, so with nobody asking it
 * matches "with", and a difference shows code that ran unasked.
 */
export async function lighthousePair(url, runs) {
  const without = [];
  const withWidget = [];
  const loaderOnly = [];
  for (let i = 0; i < runs; i++) {
    for (const [list, variant, label] of [
      [without, "without", "without"],
      [withWidget, "with", "with"],
      [loaderOnly, "loaderOnly", "loader"],
    ]) {
      const started = Date.now();
      const run = await runOnce(url, variant);
      list.push(run);
      detail(
        `run ${i + 1}/${runs} ${label.padEnd(7)} score ${run.score}  TBT ${Math.round(run.metrics.tbt)} ms  widget ${run.widget.mainThreadMs.toFixed(1)} ms (CPU ${run.widget.threadMs.toFixed(1)} ms)  load ${loadavg()[0].toFixed(1)}  (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
  }
  const metricMedians = (list) =>
    Object.fromEntries(Object.keys(list[0].metrics).map((key) => [key, median(list.map((r) => r.metrics[key]))]));
  const scoreWithout = median(without.map((r) => r.score));
  const scoreWith = median(withWidget.map((r) => r.score));
  return {
    url,
    runs,
    perRun: { without, with: withWidget, loaderOnly },
    without: { scores: without.map((r) => r.score), score: scoreWithout, metrics: metricMedians(without) },
    with: { scores: withWidget.map((r) => r.score), score: scoreWith, metrics: metricMedians(withWidget) },
    drop: scoreWithout - scoreWith,
    loaderOnly: {
      score: median(loaderOnly.map((r) => r.score)),
      mainThreadMs: median(loaderOnly.map((r) => r.widget.mainThreadMs)),
      threadMs: median(loaderOnly.map((r) => r.widget.threadMs)),
      tbt: median(loaderOnly.map((r) => r.metrics.tbt)),
    },
    widget: {
      mainThreadMs: median(withWidget.map((r) => r.widget.mainThreadMs)),
      scriptingMs: median(withWidget.map((r) => r.widget.scriptingMs)),
      threadMs: median(withWidget.map((r) => r.widget.threadMs)),
      chunksEvaluated: Math.max(...withWidget.map((r) => r.widget.chunksEvaluated)),
      longTasks: Math.max(...withWidget.map((r) => r.widget.longTasks.length)),
      longTaskDetails: withWidget.flatMap((r) => r.widget.longTasks),
      byUrl: withWidget.at(-1).widget.byUrl,
      requestsWithout: Math.max(...without.map((r) => r.widget.requests.length)),
      requestsWith: withWidget.at(-1).widget.requests,
    },
  };
}
