import type { Language, Messages } from "../i18n";

/** One language chunk per page: the panel never downloads the other four. */
export function loadPanelMessages(lang: Language): Promise<Messages> {
  switch (lang) {
    case "tr":
      return import("./tr").then((module) => module.default);
    case "de":
      return import("./de").then((module) => module.default);
    case "fr":
      return import("./fr").then((module) => module.default);
    case "es":
      return import("./es").then((module) => module.default);
    default:
      return import("./en").then((module) => module.default);
  }
}
