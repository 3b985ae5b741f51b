/**
 * Money is integer minor units with an ISO 4217 currency. Decimal strings ("49.99") arrive at
 * the edge and are turned into minor units here, exactly, never through floats.
 */

const exponents = new Map<string, number>();

/** Digits after the decimal point for a currency (2 for EUR, 0 for JPY, 3 for KWD). */
export function currencyExponent(currency: string): number {
  let exponent = exponents.get(currency);
  if (exponent === undefined) {
    exponent = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits as number;
    exponents.set(currency, exponent);
  }
  return exponent;
}

export function isCurrencyCode(code: string): boolean {
  if (!/^[A-Z]{3}$/.test(code)) return false;
  try {
    currencyExponent(code);
    return Intl.supportedValuesOf ? Intl.supportedValuesOf("currency").includes(code) : true;
  } catch {
    return false;
  }
}

const DECIMAL = /^(\d{1,13})(?:\.(\d{1,6}))?$/;

/**
 * "49.99" in EUR -> 4999. Refuses negatives, more fractional digits than the currency has
 * (non-zero ones), and amounts beyond 10^13 units. Returns null when the text is not money.
 */
export function parseMoney(text: string, currency: string): number | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  const exponent = currencyExponent(currency);
  const whole = match[1]!;
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (fraction.length > exponent) return null;
  const minor = Number(whole) * 10 ** exponent + Number(fraction.padEnd(exponent, "0") || "0");
  return Number.isSafeInteger(minor) ? minor : null;
}

/** 4999 in EUR -> "49.99" (the API's decimal string form). */
export function formatMoney(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  if (exponent === 0) return String(minor);
  const sign = minor < 0 ? "-" : "";
  const digits = String(Math.abs(minor)).padStart(exponent + 1, "0");
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
