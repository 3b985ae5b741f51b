/**
 * Points for an order. Pure, and shared: the worker awards with it and the widget's
 * "Earn N points" nudges compute with it, so the two can never disagree.
 */
import type { Program } from "../contract/program";
import { divideRounded, type Rounding, SCALE, toScaled } from "./decimal";
import { currencyExponent, parseMoney } from "./money";

export type EarningRules = Program["earning"];

export interface OrderLine {
  productType?: string | undefined;
  quantity: number;
  /** Unit price in minor units. */
  price: number;
}

/** An order's amounts, in minor units of `currency`. */
export interface OrderAmounts {
  currency: string;
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  lines: OrderLine[];
}

/** Subtotal minus discounts, plus shipping and tax only when the program says so. */
export function eligibleAmount(rules: EarningRules, order: OrderAmounts): number {
  const base = Math.max(0, order.subtotal - order.discount);
  return base + (rules.includeShipping ? order.shipping : 0) + (rules.includeTax ? order.tax : 0);
}

/** The product of the boosts running at `at` (1 when none). */
export function boostMultiplier(rules: EarningRules, at: Date): bigint {
  let product = SCALE;
  for (const boost of rules.boosts ?? []) {
    if (Date.parse(boost.startsAt) <= at.getTime() && at.getTime() < Date.parse(boost.endsAt)) {
      product = (product * toScaled(boost.multiplier)) / SCALE;
    }
  }
  return product;
}

export interface EarningContext {
  /** The member's tier multiplier (1 for none). */
  tierMultiplier?: number;
  /** A personal offer's multiplier running at the order (win-back; 1 for none). */
  offerMultiplier?: number;
  at?: Date;
}

export interface OrderEarning {
  eligible: number;
  points: number;
  rounding: Rounding;
}

/**
 * Base rate x product-type multipliers (weighted by each line's share of the lines' total) x
 * tier multiplier x personal offer x running boosts, rounded once at the end by the program's mode.
 */
export function pointsForOrder(
  rules: EarningRules,
  order: OrderAmounts,
  context: EarningContext = {},
): OrderEarning {
  const eligible = eligibleAmount(rules, order);
  const minOrder = parseMoney(rules.minOrder, order.currency) ?? 0;
  if (eligible <= 0 || eligible < minOrder) return { eligible, points: 0, rounding: rules.rounding };

  let linesTotal = 0n;
  let weighted = 0n;
  for (const line of order.lines) {
    const amount = BigInt(line.price) * BigInt(line.quantity);
    // Own keys only: a product type such as "constructor" must not find Object.prototype's members.
    const multiplier =
      line.productType !== undefined && Object.hasOwn(rules.productTypeMultipliers, line.productType)
        ? toScaled(rules.productTypeMultipliers[line.productType]!)
        : SCALE;
    linesTotal += amount;
    weighted += amount * multiplier;
  }
  if (linesTotal === 0n) {
    linesTotal = 1n;
    weighted = SCALE;
  }

  const unit = 10n ** BigInt(currencyExponent(order.currency));
  const numerator =
    BigInt(eligible) *
    weighted *
    toScaled(rules.pointsPerUnit) *
    toScaled(context.tierMultiplier ?? 1) *
    toScaled(context.offerMultiplier ?? 1) *
    boostMultiplier(rules, context.at ?? new Date());
  const denominator = linesTotal * unit * SCALE ** 5n;
  return { eligible, points: Number(divideRounded(numerator, denominator, rules.rounding)), rounding: rules.rounding };
}

/** The nudge next to a product: what buying one at `price` would earn a member at `tierMultiplier`. */
export function pointsForProduct(
  rules: EarningRules,
  currency: string,
  price: number,
  productType?: string,
  tierMultiplier = 1,
  at = new Date(),
): number {
  return pointsForOrder(
    rules,
    { currency, subtotal: price, discount: 0, shipping: 0, tax: 0, lines: [{ productType, quantity: 1, price }] },
    { tierMultiplier, at },
  ).points;
}

/**
 * Points to claw back after refunds: the order's points x total refunded / eligible amount,
 * cumulative over its refunds, rounded by the mode the order earned with, capped at what it earned.
 */
export function clawbackFor(
  pointsAwarded: number,
  eligible: number,
  totalRefunded: number,
  rounding: Rounding,
): number {
  if (pointsAwarded <= 0) return 0;
  if (eligible <= 0 || totalRefunded >= eligible) return pointsAwarded;
  const owed = divideRounded(BigInt(pointsAwarded) * BigInt(totalRefunded), BigInt(eligible), rounding);
  return Math.min(pointsAwarded, Number(owed));
}
