/** Languages, formatting and theme tokens: the pure parts of the widget. */
import { describe, expect, it } from "vitest";
import { createFormatter } from "../../widget/shared/format";
import { createTranslator, isSingular, LANGUAGES, pickLanguage } from "../../widget/shared/i18n";
import { coreMessages } from "../../widget/shared/messages";
import { loadPanelMessages } from "../../widget/shared/panel-messages";
import { contrast, darkenForWhite, readableOn, themeVariables } from "../../widget/shared/theme";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("catalogs", () => {
  it.each(LANGUAGES)("%s has every key English has, no more, none empty, with the same placeholders", async (lang) => {
    const english = { ...coreMessages.en, ...(await loadPanelMessages("en")) };
    const other = { ...coreMessages[lang], ...(await loadPanelMessages(lang)) };
    expect(Object.keys(other).sort()).toEqual(Object.keys(english).sort());
    for (const [key, value] of Object.entries(other)) {
      expect(value.trim(), `${lang}.${key}`).not.toBe("");
      // Plural pairs carry the placeholders in both forms.
      for (const form of value.split("|")) {
        expect(placeholders(form), `${lang}.${key}`).toEqual([...new Set(placeholders(english[key]!.split("|").at(-1)!))]);
      }
    }
  });
});

describe("pickLanguage", () => {
  it("takes the base of <html lang> and falls back to English", () => {
    expect(pickLanguage("de-AT")).toBe("de");
    expect(pickLanguage("TR")).toBe("tr");
    expect(pickLanguage("es_MX")).toBe("es");
    expect(pickLanguage("fr")).toBe("fr");
    expect(pickLanguage("pt-BR")).toBe("en");
    expect(pickLanguage("")).toBe("en");
    expect(pickLanguage(undefined)).toBe("en");
  });
});

describe("createTranslator", () => {
  it("fills variables, formats numbers for the language and picks plural forms", () => {
    const en = createTranslator("en", coreMessages.en);
    expect(en("points", { n: 1 })).toBe("1 point");
    expect(en("points", { n: 0 })).toBe("0 points");
    expect(en("points", { n: 12500 })).toBe("12,500 points");
    const fr = createTranslator("fr", coreMessages.fr);
    expect(fr("points", { n: 0 })).toBe("0 point"); // French counts zero as singular
    expect(fr("points", { n: 2 })).toBe("2 points");
    const de = createTranslator("de", coreMessages.de);
    expect(de("earn", { n: 1 })).toBe("1 Punkt sammeln");
    expect(de("earn", { n: 1500 })).toBe("1.500 Punkte sammeln");
    const tr = createTranslator("tr", coreMessages.tr);
    expect(tr("points", { n: 1 })).toBe("1 puan");
    expect(tr("points", { n: 5 })).toBe("5 puan");
    expect(en("balanceNow", { points: "3 points" })).toBe("Your balance is now 3 points");
    expect(en("no.such.key")).toBe("no.such.key");
    expect(en("balanceNow")).toBe("Your balance is now {points}");
  });

  it.each(LANGUAGES)("%s picks the singular exactly where Intl.PluralRules says 'one'", (lang) => {
    const rules = new Intl.PluralRules(lang);
    const numbers = [...Array.from({ length: 2101 }, (_, i) => i - 100), 10_000, 100_000, 1_000_000, 2_000_000, -1_000_000];
    for (const n of [...numbers, 0.5, 1.5, -1.25, 2.75]) {
      expect(isSingular(lang, n), `${lang} ${n}`).toBe(rules.select(n) === "one");
    }
  });

  it("lets the merchant override per full tag first, then per language", () => {
    const texts = { "de-AT": { launcher: "Treuebonus" }, de: { launcher: "Bonusclub", earn: "+{n}" } };
    expect(createTranslator("de-AT", coreMessages.de, texts)("launcher")).toBe("Treuebonus");
    expect(createTranslator("de-at", coreMessages.de, texts)("launcher")).toBe("Treuebonus");
    expect(createTranslator("de-CH", coreMessages.de, texts)("launcher")).toBe("Bonusclub");
    expect(createTranslator("de-CH", coreMessages.de, texts)("earn", { n: 40 })).toBe("+40");
    expect(createTranslator("fr", coreMessages.fr, texts)("launcher")).toBe("Récompenses");
  });
});

describe("createFormatter", () => {
  it("formats money from minor units with the currency's own exponent", () => {
    expect(createFormatter("en", "EUR").money(4999)).toBe("€49.99");
    expect(createFormatter("de", "EUR").money(4999)).toBe("49,99\u00a0€");
    expect(createFormatter("en", "JPY").money(1999)).toBe("¥1,999");
    expect(createFormatter("en", "KWD").money(12345)).toBe("KWD\u00a012.345");
    expect(createFormatter("tr", "TRY").money(150000)).toBe("₺1.500,00");
  });

  it("formats decimal strings, whole units, percentages, signed deltas and dates", () => {
    const en = createFormatter("en", "USD");
    expect(en.decimal("5.00")).toBe("$5.00");
    expect(en.decimal("SAMPLE-TIN")).toBe("SAMPLE-TIN");
    expect(en.units(120)).toBe("$120");
    expect(en.percent(10)).toBe("10%");
    expect(en.percent(12.5)).toBe("12.5%");
    expect(en.signed(320)).toBe("+320");
    expect(en.signed(-500)).toBe("-500");
    expect(en.signed(0)).toBe("0");
    expect(en.date("2026-11-20T10:00:00Z")).toBe("Nov 20, 2026");
    expect(en.date("not a date")).toBe("not a date");
    expect(createFormatter("es", "EUR").date("2026-11-20T10:00:00Z")).toBe("20 nov 2026");
    expect(createFormatter("fr", "EUR").percent(10)).toBe("10\u00a0%");
  });
});

describe("theme", () => {
  it("keeps the merchant's colours when they read at AA and corrects them when they do not", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(readableOn("#2f6d4f", "#ffffff")).toBe("#ffffff");
    // Yellow with white text fails AA: the text turns dark.
    expect(readableOn("#ffd400", "#ffffff")).toBe("#111111");
    expect(contrast("#ffd400", readableOn("#ffd400", "#ffffff"))).toBeGreaterThanOrEqual(4.5);
    const accent = darkenForWhite("#ffd400");
    expect(contrast(accent, "#ffffff")).toBeGreaterThanOrEqual(4.5);
    expect(darkenForWhite("#1f4f8f")).toBe("#1f4f8f");
  });

  it("writes the custom properties for :host, with defaults for anything invalid", () => {
    expect(themeVariables({ primaryColor: "#2f6d4f", textColor: "#ffffff", launcherOffset: 24 })).toBe(
      "--laurel-primary:#2f6d4f;--laurel-on-primary:#ffffff;--laurel-accent:#2f6d4f;--laurel-offset:24px",
    );
    const fallback = themeVariables({ primaryColor: "red;}</style>", launcherOffset: 9999 });
    expect(fallback).toContain("--laurel-primary:#1f6feb");
    expect(fallback).toContain("--laurel-offset:200px");
    expect(fallback).not.toContain("</style>");
  });
});
