/**
 * Minor units come from ISO 4217, not from Intl (issue 17). Intl reports CLDR's display digits,
 * which agree with ISO for most currencies; where they do not, the ISO 4217 list (SIX, "List
 * One", the "Minor unit" column) is the authority and is quoted below.
 */
import { describe, expect, it } from "vitest";
import { currencyExponent, formatMoney, isCurrencyCode, parseMoney } from "../../worker/domain/money";

/** ISO 4217 minor units of currencies whose Intl (CLDR) digits differ from them in some ICU release. */
const ISO_WHERE_INTL_DIFFERS: Record<string, number> = {
  AFN: 2,
  ALL: 2,
  COP: 2,
  HUF: 2,
  IDR: 2,
  IQD: 3,
  IRR: 2,
  KPW: 2,
  LAK: 2,
  LBP: 2,
  MGA: 2,
  MMK: 2,
  PKR: 2,
  RSD: 2,
  SLL: 2,
  SOS: 2,
  SYP: 2,
  TWD: 2,
  UYI: 0,
  YER: 2,
};

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const everyCode = [...LETTERS].flatMap((a) => [...LETTERS].flatMap((b) => [...LETTERS].map((c) => `${a}${b}${c}`)));
const table = everyCode.filter(isCurrencyCode);
const intlDigits = (code: string) =>
  new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits;

describe("ISO 4217 minor units", () => {
  it("has the active ISO 4217 codes with minor units, and nothing else", () => {
    expect(table.length).toBeGreaterThanOrEqual(165);
    for (const code of ["EUR", "USD", "JPY", "HUF", "KWD", "CLF", "XCG", "ZWG", "SLE", "VED"]) expect(table).toContain(code);
    // Funds and metals without minor units, codes withdrawn long ago, and what is not a code.
    for (const code of ["XAU", "XDR", "XSU", "XTS", "XXX", "HRK", "DEM", "VEF", "eur", "EU", "EURO", ""]) {
      expect(isCurrencyCode(code), code).toBe(false);
    }
  });

  it("agrees with Intl wherever CLDR and ISO agree, and follows ISO where they do not", () => {
    const supported = new Set(Intl.supportedValuesOf("currency"));
    let compared = 0;
    for (const code of table) {
      if (!supported.has(code)) continue;
      compared++;
      const intl = intlDigits(code);
      if (intl === currencyExponent(code)) continue;
      expect(ISO_WHERE_INTL_DIFFERS[code], `${code}: Intl says ${intl}, the table ${currencyExponent(code)}`).toBe(
        currencyExponent(code),
      );
    }
    expect(compared).toBeGreaterThan(140);
    for (const [code, digits] of Object.entries(ISO_WHERE_INTL_DIFFERS)) expect(currencyExponent(code), code).toBe(digits);
  });

  it("parses the amounts Intl's digits refused (issue 17), for every platform", () => {
    expect(parseMoney("4495.50", "HUF")).toBe(449550);
    expect(parseMoney("120000.25", "COP")).toBe(12000025);
    expect(parseMoney("150000.00", "IDR")).toBe(15000000);
    expect(parseMoney("2599.99", "PKR")).toBe(259999);
    expect(parseMoney("25000.125", "IQD")).toBe(25000125);
    expect(parseMoney("1.2345", "CLF")).toBe(12345);
    expect(parseMoney("1500", "JPY")).toBe(1500);
    expect(parseMoney("1500.5", "JPY")).toBeNull();
    expect(parseMoney("12.345", "EUR")).toBeNull();
    expect(formatMoney(449550, "HUF")).toBe("4495.50");
    expect(formatMoney(25000125, "IQD")).toBe("25000.125");
    expect(formatMoney(1500, "JPY")).toBe("1500");
  });

  it("refuses what is not a currency code", () => {
    expect(() => currencyExponent("eur")).toThrow(RangeError);
    expect(() => currencyExponent("EURO")).toThrow(RangeError);
  });
});
