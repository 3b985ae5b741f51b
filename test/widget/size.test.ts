/**
 * The widget's size is a feature: laurel.js, what every page loads, stays within
 * 10,000 bytes gzip -9; everything loaded once the panel is open within 30,000.
 * `npm test` builds first; run `npm run build` before running this file on its own.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const out = join(__dirname, "../../dist/public");
const gzip = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;

function built(file: string): string {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run \`npm run build\` first (npm test builds before testing).`);
  }
  return file;
}

describe("widget size budgets", () => {
  it("laurel.js is at most 10,000 bytes gzip -9", () => {
    const size = gzip(built(join(out, "laurel.js")));
    expect(size, `laurel.js is ${size} bytes gzip -9`).toBeLessThanOrEqual(10_000);
  });

  it("laurel.js, the panel and the largest language together stay within 30,000 bytes gzip", () => {
    const loader = readFileSync(built(join(out, "laurel.js")), "utf8");
    const panelFile = /["`]\.\/(laurel\/panel\.[\w-]+\.js)["`]/.exec(loader)?.[1];
    expect(panelFile, "laurel.js names its panel chunk").toBeTruthy();
    const chunks = readdirSync(built(join(out, "laurel")));
    const languages = chunks.filter((name) => /^(en|tr|de|fr|es)\.[\w-]+\.js$/.test(name));
    expect(languages).toHaveLength(5);
    const largestLanguage = Math.max(...languages.map((name) => gzip(join(out, "laurel", name))));
    const total = gzip(join(out, "laurel.js")) + gzip(built(join(out, panelFile!))) + largestLanguage;
    expect(total, `the open widget loads ${total} bytes gzip`).toBeLessThanOrEqual(30_000);
  });
});
