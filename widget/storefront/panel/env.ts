/**
 * The panel's view of the core: signals fed by the core's one subscription, so components that
 * read them re-render and everything else stays put.
 */
import { batch, computed, type ReadonlySignal, type Signal, signal } from "@preact/signals";
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Redemption, StorefrontState } from "../../../worker/contract/types";
import type { ApiError } from "../../shared/api";
import { createFormatter, type Formatter } from "../../shared/format";
import { createTranslator, type Messages, pickLanguage, type Translate } from "../../shared/i18n";
import { coreMessages } from "../../shared/messages";
import type { Core } from "../core";

export interface PanelEnv {
  core: Core;
  lang: string;
  state: Signal<StorefrontState | null>;
  error: Signal<ApiError | null>;
  t: ReadonlySignal<Translate>;
  fmt: ReadonlySignal<Formatter>;
  /** Codes issued while this page lives, by reward id, so closing the panel never loses one. */
  issued: Signal<Record<string, Redemption>>;
  /** Where the panel's own nodes live (for the copy fallback). */
  container: HTMLElement;
}

/** `panelMessages`: the panel's catalog for the page's language (see shared/panel-messages). */
export function createEnv(core: Core, lang: string, container: HTMLElement, panelMessages: Messages): PanelEnv {
  const messages = { ...coreMessages[pickLanguage(lang)], ...panelMessages };
  const state = signal(core.state);
  const error = signal(core.error);
  core.subscribe(() =>
    batch(() => {
      state.value = core.state;
      error.value = core.error;
    }),
  );
  const texts = computed(() => state.value?.program.texts);
  const currency = computed(() => state.value?.program.currency ?? "USD");
  return {
    core,
    lang,
    state,
    error,
    t: computed(() => createTranslator(lang, messages, texts.value)),
    fmt: computed(() => createFormatter(lang, currency.value)),
    issued: signal({}),
    container,
  };
}

export const Env = createContext<PanelEnv | null>(null);

export function useEnv(): PanelEnv {
  const env = useContext(Env);
  if (!env) throw new Error("panel components need <Env.Provider>");
  return env;
}

/** The reduced-motion preference, read when asked (it can change while the page is open). */
export function prefersReducedMotion(): boolean {
  return typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
}
