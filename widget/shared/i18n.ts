/**
 * Messages are plain templates: `{name}` is replaced, and `a|b` picks the singular (`a`) or the
 * other form (`b`) for the `n` variable by CLDR's plural rules. Merchants override any key
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

// Built once per language, on first use, and shared by every translator: a translator is made on
// each paint, and constructing Intl objects is what costs (the first Intl.PluralRules of a page
// takes about a millisecond).
const numberFormats = new Map<Language, Intl.NumberFormat>();
const pluralRules = new Map<Language, Intl.PluralRules>();

function numberFormat(lang: Language): Intl.NumberFormat {
  let format = numberFormats.get(lang);
  if (!format) {
    format = new Intl.NumberFormat(lang);
    numberFormats.set(lang, format);
  }
  return format;
}

/**
 * Whether `n` takes the singular form. For whole numbers this is CLDR's rule for our languages,
 * written out (French: 0 and 1; the others: 1; the sign does not count), so the launcher needs no
 * Intl.PluralRules; a test holds it to Intl's answers. Fractions ask Intl.
 */
export function isSingular(lang: Language, n: number): boolean {
  if (Number.isInteger(n)) {
    const whole = Math.abs(n);
    return whole === 1 || (whole === 0 && lang === "fr");
  }
  let rules = pluralRules.get(lang);
  if (!rules) {
    rules = new Intl.PluralRules(lang);
    pluralRules.set(lang, rules);
  }
  return rules.select(n) === "one";
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
      text = typeof vars.n === "number" && isSingular(lang, vars.n) ? one : other;
    }
    return text.replace(/\{(\w+)\}/g, (match, name: string) => {
      const value = vars[name];
      if (value === undefined) return match;
      return typeof value === "number" ? numberFormat(lang).format(value) : value;
    });
  };
}
