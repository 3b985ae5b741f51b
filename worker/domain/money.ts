/**
 * Money is integer minor units with an ISO 4217 currency. Decimal strings ("49.99") arrive at
 * the edge and are turned into minor units here, exactly, never through floats.
 *
 * The minor units are ISO 4217's own, from the table below, not `Intl`'s: `Intl` reports CLDR's
 * display digits, which drop the fraction of currencies whose small coins are out of use (HUF,
 * COP, IDR, PKR, IQD and others come back with 0 digits), while payment platforms, Shopify
 * included, send those amounts with ISO's 2 (or 3) decimals.
 */

/**
 * ISO 4217 List One (the SIX maintenance agency's list, amendments to 2025), the codes with minor
 * units; funds and metals without them (XAU, XDR, XSU, XTS, XXX, ...) are not money here. Codes
 * in their withdrawal period (ANG -> XCG, BGN -> EUR, SLL -> SLE, ZWL -> ZWG, CUC) stay, since
 * older orders and refunds still carry them. Grouped by minor units; everything else has 2.
 */
const ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND";
const FOUR_DECIMALS = "CLF UYW";
const TWO_DECIMALS =
  "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD " +
  "CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL " +
  "GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD " +
  "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN " +
  "PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL " +
  "THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL";

/**
 * Digits after the decimal point for a currency (2 for EUR and HUF, 0 for JPY, 3 for KWD and
 * IQD). Only the exceptions to 2 are looked up, so that the widget, which shares this file, does
 * not carry the whole list; `isCurrencyCode` says whether a code is money at all.
 */
export function currencyExponent(currency: string): number {
  if (!/^[A-Z]{3}$/.test(currency)) throw new RangeError(`not an ISO 4217 code: ${currency}`);
  if (ZERO_DECIMALS.includes(currency)) return 0;
  if (THREE_DECIMALS.includes(currency)) return 3;
  return FOUR_DECIMALS.includes(currency) ? 4 : 2;
}

/** True for the ISO 4217 codes with minor units (the table above). */
export function isCurrencyCode(code: string): boolean {
  return (
    /^[A-Z]{3}$/.test(code) &&
    [ZERO_DECIMALS, TWO_DECIMALS, THREE_DECIMALS, FOUR_DECIMALS].some((group) => group.split(" ").includes(code))
  );
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
