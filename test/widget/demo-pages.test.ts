/**
 * The demo shop's pages as the build writes them (demo/pages.mjs): each page whole, with the shared
 * head, demo bar, header and footer put in, its own nav link marked current, and no widget tag in
 * the HTML (the page's script writes it, which the bench's "without widget" run relies on).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: demo/pages.mjs is a plain build module, without type declarations
import * as demoPages from "../../demo/pages.mjs";

const { demoSite, expandIncludes } = demoPages as { demoSite: string; expandIncludes: (html: string, page: string) => string };

const pages = { "index.html": "./", "cart.html": "cart.html", "product.html": "product.html?sku=teapot" };

/** The built page's elements, inert (a template loads none of its resources). */
function built(page: string): DocumentFragment {
  const template = document.createElement("template");
  template.innerHTML = expandIncludes(readFileSync(join(demoSite, page), "utf8"), page);
  return template.content;
}

describe("the demo shop's pages", () => {
  for (const [page, current] of Object.entries(pages)) {
    it(`${page} arrives whole, with its own link marked current`, () => {
      const html = expandIncludes(readFileSync(join(demoSite, page), "utf8"), page);
      expect(html).not.toContain("<!-- include");
      expect(html.indexOf('<meta charset="utf-8">')).toBeLessThan(html.indexOf("<title>"));
      const doc = built(page);
      expect(doc.querySelectorAll("header.site, footer.site, #shopper, #sample-order, #notice")).toHaveLength(5);
      expect(doc.querySelector('meta[http-equiv="Content-Security-Policy"]')).not.toBeNull();
      const marked = Array.from(doc.querySelectorAll('[aria-current="page"]'));
      expect(marked.map((a) => a.getAttribute("href"))).toEqual([current]);
      // The page's own module writes the laurel.js tag; nothing else is loaded before it runs.
      const scripts = Array.from(doc.querySelectorAll("script"));
      expect(scripts.map((s) => [s.getAttribute("type"), s.getAttribute("src")])).toEqual([["module", page === "index.html" ? "home.js" : page.replace(".html", ".js")]]);
      expect(html).not.toContain("laurel.js");
    });
  }

  it("refuses a page whose current link the header does not have", () => {
    expect(() => expandIncludes('<!-- include _header.html current="nowhere.html" -->\n', "x.html")).toThrow(/nowhere\.html/);
  });
});
