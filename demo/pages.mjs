/**
 * The demo shop's pages as the build writes them (scripts/build.mjs): demo/site copied as it is,
 * except that the pages' `<!-- include _name.html -->` lines are replaced by those shared parts
 * (the head's tags, the demo bar and header, the footer), and files whose names start with "_"
 * are not published. Done at build time so every page still arrives whole in its first response:
 * a header drawn by script would shift the page once painted and wait for the module to load.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const demoSite = join(dirname(fileURLToPath(import.meta.url)), "site");

/** `current` names the nav link's href of the page itself, marked aria-current="page". */
const INCLUDE = /<!-- include (_[\w-]+\.html)(?: current="([^"]*)")? -->\n/g;

/** A page's HTML with its includes put in; throws on a missing part or an unknown current link. */
export function expandIncludes(html, page) {
  return html.replace(INCLUDE, (_, part, current) => {
    const text = readFileSync(join(demoSite, part), "utf8");
    if (current === undefined) return text;
    const link = `<a href="${current}">`;
    if (!text.includes(link)) throw new Error(`${page}: ${part} has no ${link} to mark as the current page.`);
    return text.replace(link, `<a href="${current}" aria-current="page">`);
  });
}

/** Writes the published demo shop into `target`. */
export function writeDemoSite(target) {
  cpSync(demoSite, target, { recursive: true, filter: (source) => !basename(source).startsWith("_") });
  for (const page of readdirSync(demoSite).filter((name) => name.endsWith(".html") && !name.startsWith("_"))) {
    writeFileSync(join(target, page), expandIncludes(readFileSync(join(demoSite, page), "utf8"), page));
  }
}
