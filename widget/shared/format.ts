/** Numbers, money and dates through Intl, in the page's language. Money arrives as minor units. */
import { currencyExponent, parseMoney } from "../../worker/domain/money";

export interface Formatter {
  number(value: number): string;
  /** Integer minor units -> "€49.99". */
  money(minor: number): string;
  /** Whole currency units -> "€50" (tier spend thresholds, spend challenges). */
  units(units: number): string;
  /** A decimal string from the API ("5.00") -> "€5.00"; the text itself when it is not money. */
  decimal(text: string): string;
  /** 10 -> "10%" (with the language's own spacing and sign position). */
  percent(value: number): string;
  date(iso: string): string;
  /** +50 / −500 */
  signed(value: number): string;
}

export function createFormatter(lang: string, currency: string): Formatter {
  const exponent = currencyExponent(currency);
  const money = new Intl.NumberFormat(lang, { style: "currency", currency });
  const units = new Intl.NumberFormat(lang, { style: "currency", currency, maximumFractionDigits: 0 });
  const number = new Intl.NumberFormat(lang);
  const signed = new Intl.NumberFormat(lang, { signDisplay: "exceptZero" });
  const percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 2 });
  const date = new Intl.DateTimeFormat(lang, { dateStyle: "medium" });
  return {
    number: (value) => number.format(value),
    money: (minor) => money.format(minor / 10 ** exponent),
    units: (value) => units.format(value),
    decimal(text) {
      const minor = parseMoney(text, currency);
      return minor === null ? text : money.format(minor / 10 ** exponent);
    },
    percent: (value) => percent.format(value / 100),
    date(iso) {
      const at = new Date(iso);
      return Number.isNaN(at.getTime()) ? iso : date.format(at);
    },
    signed: (value) => signed.format(value),
  };
}
