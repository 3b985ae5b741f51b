/** The panel chunk: Preact + signals, imported by laurel.js on first open, hover or idle. */
import { signal } from "@preact/signals";
import { render } from "preact";
import type { PanelContext, PanelHandle, PanelView } from "../boot";
import { App } from "./App";
import { pickLanguage } from "../../shared/i18n";
import { loadPanelMessages } from "../../shared/panel-messages";
import { createEnv } from "./env";
import css from "./panel.css?inline";

/** Data older than this is read again when the panel opens. */
const FRESH_MS = 30_000;

export async function mount(context: PanelContext): Promise<PanelHandle> {
  const { core, root, launcher } = context;
  const messages = await loadPanelMessages(pickLanguage(context.lang));
  const doc = root.ownerDocument;
  const style = doc.createElement("style");
  if (context.nonce) style.nonce = context.nonce;
  style.textContent = css;
  const container = doc.createElement("div");
  root.append(style, container);
  const env = createEnv(core, context.lang, container, messages);
  const open = signal(false);
  const view = signal<PanelView>({ name: "home" });

  const close = () => {
    if (!open.value) return;
    open.value = false;
    launcher.setAttribute("aria-expanded", "false");
    if (!launcher.hidden) launcher.focus();
  };
  render(<App env={env} open={open} view={view} onClose={close} />, container);

  return {
    open(next = { name: "home" }) {
      view.value = next;
      open.value = true;
      launcher.setAttribute("aria-expanded", "true");
      if (core.state && Date.now() - core.loadedAt > FRESH_MS) core.refresh().catch(() => {});
    },
    close,
  };
}
