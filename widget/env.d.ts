/** Vite's `?inline` CSS imports: the stylesheet as a string, for the Shadow DOM's <style>. */
declare module "*.css?inline" {
  const css: string;
  export default css;
}

/** The panel chunk's file name, relative to laurel.js; set by scripts/build.mjs. */
declare const __LAUREL_PANEL__: string;
