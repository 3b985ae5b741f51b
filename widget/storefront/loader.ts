/** The laurel.js entry: a classic async script, so document.currentScript is ours. */
import { boot, type LaurelApi, type PanelModule } from "./boot";

declare global {
  interface Window {
    Laurel?: LaurelApi;
  }
}

const script = document.currentScript as HTMLScriptElement | null;
if (script && !window.Laurel) {
  // Started from a microtask: the same task, before the script's load event, but with neither the
  // file's top level nor its wrapper on the stack. DevTools and Lighthouse take a stack trace at
  // each request and feature use (attachShadow is one), and V8 re-parses every function on that
  // stack for its source positions: the top level and the wrapper are each the whole file.
  queueMicrotask(() => {
    // The panel's URL is worked out when it is first needed: it sits beside laurel.js.
    const loadPanel = () => import(/* @vite-ignore */ new URL(__LAUREL_PANEL__, script.src).href) as Promise<PanelModule>;
    window.Laurel = boot(script, loadPanel).api;
  });
}
