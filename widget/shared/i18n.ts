/**
 * Messages are plain templates: `{name}` is replaced, and `a|b` picks the singular (`a`) or the
 * other form (`b`) for the `n` variable through Intl.PluralRules. Merchants override any key
 * per language through `program.texts`; their text is only ever set as text, never as HTML.
 */

export const LANGUAGES = ["en", "tr", "de", "fr", "es"] as const;
export type Language = (typeof LANGUAGES)[number];
export type Messages = Record<string, string>;
export type Catalog = Record<Language, Messages>;
export type Vars = Record<string, string | number>;
export type Translate = (key: string, vars?: Vars) => string;

/** "de-AT" -> "de"; anything we do not speak -> "en". */
export function pickLanguage(tag: string | null | undefined): Language {
  const base = (tag ?? "").trim().toLowerCase().split(/[-_]/)[0] as Language;
  return LANGUAGES.includes(base) ? base : "en";
}

/**
 * A translator for `tag` (the page's full language tag, such as "de-AT") over `messages`, the
 * catalog of that tag's language. The merchant's texts win: first for the full tag, then for the
 * base language.
 */
export function createTranslator(tag: string, messages: Messages, overrides: Record<string, Messages> = {}): Translate {
  const lang = pickLanguage(tag);
  const full = tag.toLowerCase();
  const own = Object.keys(overrides).find((key) => key.toLowerCase() === full);
  const layers = [own ? overrides[own] : undefined, overrides[lang], messages];
  const plural = new Intl.PluralRules(lang);
  const number = new Intl.NumberFormat(lang);
  return (key, vars = {}) => {
    let text = key;
    for (const layer of layers) {
      const found = layer?.[key];
      if (found !== undefined) {
        text = found;
        break;
      }
    }
    if (text.includes("|")) {
      const [one, other] = text.split("|") as [string, string];
      text = typeof vars.n === "number" && plural.select(vars.n) === "one" ? one : other;
    }
    return text.replace(/\{(\w+)\}/g, (match, name: string) => {
      const value = vars[name];
      if (value === undefined) return match;
      return typeof value === "number" ? number.format(value) : value;
    });
  };
}
