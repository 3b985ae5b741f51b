/**
 * Rates and multipliers (1.5x, 0.25 points per unit) are decimals with at most four places,
 * held as integers scaled by 10,000 so that earning never touches a float.
 */
export const SCALE = 10_000n;

/** 1.5 -> 15000n. The schemas guarantee at most four decimal places. */
export function toScaled(value: number | string): bigint {
  const text = typeof value === "number" ? value.toFixed(4) : value;
  const match = /^(\d+)(?:\.(\d{0,4}))?$/.exec(text);
  if (!match) throw new RangeError(`not a non-negative decimal with four places: ${value}`);
  return BigInt(match[1]!) * SCALE + BigInt((match[2] ?? "").padEnd(4, "0") || "0");
}

export function hasAtMostFourPlaces(value: number): boolean {
  return Number.isFinite(value) && Math.abs(Math.round(value * SCALE_NUMBER) - value * SCALE_NUMBER) < 1e-6;
}
const SCALE_NUMBER = 10_000;

export type Rounding = "floor" | "round" | "ceil";

/** numerator / denominator for non-negative integers, rounded by the program's mode. */
export function divideRounded(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  if (denominator <= 0n) throw new RangeError("denominator must be positive");
  if (rounding === "floor") return numerator / denominator;
  if (rounding === "ceil") return (numerator + denominator - 1n) / denominator;
  return (2n * numerator + denominator) / (2n * denominator);
}
