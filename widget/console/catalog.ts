/** The widget's panel messages, loaded on demand per language (as the widget itself loads them). */
import { signal } from "@preact/signals";
import type { Language, Messages } from "../shared/i18n";
import { coreMessages } from "../shared/messages";
import { loadPanelMessages } from "../shared/panel-messages";

export const panelCatalogs = signal<Partial<Record<Language, Messages>>>({});

export function ensureCatalog(lang: Language): void {
  if (panelCatalogs.value[lang]) return;
  loadPanelMessages(lang).then((messages) => {
    panelCatalogs.value = { ...panelCatalogs.value, [lang]: messages };
  });
}

/** Every message of `lang` the widget shows (core + panel, as far as loaded). */
export function messagesOf(lang: Language): Messages {
  return { ...coreMessages[lang], ...panelCatalogs.value[lang] };
}
