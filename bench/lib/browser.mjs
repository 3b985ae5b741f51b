import { existsSync } from "node:fs";

/** Chromium as the tests find it: CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, process.env.CHROME_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) throw new Error("No Chromium found: install it (apt-get install -y chromium) or set CHROMIUM_PATH.");
  return found;
}

export const PLAYWRIGHT_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** The widget's own files: laurel.js and its chunks under /laurel/. */
export const WIDGET_URL_PATTERNS = ["*/laurel.js*", "*/laurel/*"];
export const isWidgetUrl = (url) => /\/laurel\.js(\?|$)|\/laurel\/[^/]+\.js(\?|$)/.test(url);
