/** The laurel.js entry: a classic async script, so document.currentScript is ours. */
import { boot, type LaurelApi, type PanelModule } from "./boot";

declare global {
  interface Window {
    Laurel?: LaurelApi;
  }
}

const script = document.currentScript as HTMLScriptElement | null;
if (script && !window.Laurel) {
  const panelUrl = new URL(__LAUREL_PANEL__, script.src).href;
  // Started from a microtask: the same task, before the script's load event, but with neither the
  // file's top level nor its wrapper on the stack. DevTools and Lighthouse take a stack trace at
  // each request and feature use (attachShadow is one), and V8 re-parses every function on that
  // stack for its source positions: the top level and the wrapper are each the whole file.
  queueMicrotask(() => {
    window.Laurel = boot(script, () => import(/* @vite-ignore */ panelUrl) as Promise<PanelModule>).api;
  });
}
