import { z } from "@hono/zod-openapi";
import { hasAtMostFourPlaces } from "../domain/decimal";
import { parseMoney } from "../domain/money";

/** A money amount as a decimal string in the shop's currency: "49.99". */
export const Money = z
  .string()
  .regex(/^\d{1,13}(\.\d{1,6})?$/, "a non-negative decimal string such as \"49.99\"")
  .openapi({ example: "49.99" });

const Rate = z
  .number()
  .min(0)
  .max(1000)
  .refine(hasAtMostFourPlaces, "at most four decimal places");

const Points = z.number().int().min(0).max(1_000_000_000);

const Colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, "a colour like #1f6feb");
const HttpUrl = z
  .string()
  .max(2000)
  .refine((u) => /^https?:\/\//.test(u) && URL.canParse(u), "an http(s) URL");

export const Tier = z
  .object({
    name: z.string().min(1).max(60),
    basis: z.enum(["lifetime_points", "spend"]),
    threshold: z
      .number()
      .int()
      .min(0)
      .max(1_000_000_000)
      .describe("Lifetime points, or spend in whole currency units within the window."),
    windowDays: z.number().int().min(1).max(3650).optional(),
    multiplier: Rate.default(1),
    perks: z.string().max(500).default(""),
  })
  .openapi("Tier");

export const Boost = z.object({
  name: z.string().min(1).max(60),
  multiplier: Rate,
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime(),
});

export const CustomWay = z.object({
  points: Points,
  /** At most this many awards per customer per period (none: unlimited). */
  limit: z.number().int().min(1).max(1000).optional(),
  periodDays: z.number().int().min(1).max(3650).optional(),
});

const Texts = z.record(
  z.string().regex(/^[a-z]{2}(-[A-Za-z]{2})?$/),
  z.record(z.string().max(60), z.string().max(500)),
);

export const Program = z
  .object({
    earning: z.object({
      pointsPerUnit: Rate,
      rounding: z.enum(["floor", "round", "ceil"]),
      includeShipping: z.boolean(),
      includeTax: z.boolean(),
      minOrder: Money,
      productTypeMultipliers: z.record(z.string().min(1).max(100), Rate),
      boosts: z.array(Boost).max(20).default([]),
      pendingDays: z
        .number({ error: "a whole number of days, 0-90" })
        .int("a whole number of days, 0-90")
        .min(0, "0 (points at once) to 90 days")
        .max(90, "at most 90 days")
        .default(0)
        .describe(
          "Days an order's points are held (pending) before they count for the balance, e.g. the return window; 0: at once.",
        ),
    }),
    waysToEarn: z.object({
      signup: Points,
      birthday: Points,
      review: Points,
      nps: Points,
      social: Points.default(0),
      npsPeriodDays: z.number().int().min(1).max(3650).default(90),
      reviewLimitPerDay: z.number().int().min(1).max(100).optional(),
      custom: z.record(z.string().min(1).max(60), CustomWay).default({}),
    }),
    referral: z.object({
      referrerPoints: Points,
      refereeOffer: z
        .object({
          type: z.enum(["amount_off", "percent_off", "free_shipping"]),
          value: z.union([z.string(), z.number()]).optional(),
        })
        .describe(
          'What a referee\'s code is worth, checked like a reward\'s value when the program is saved: amount_off takes a positive amount in the shop\'s currency ("5.00"), percent_off a whole percent 1-100, free_shipping no value.',
        ),
    }),
    expiry: z.object({ days: z.number().int().min(1).max(3650).nullable() }),
    tiers: z.array(Tier).max(10),
    pointValue: z
      .string()
      .regex(/^\d{1,6}(\.\d{1,6})?$/, "a decimal string such as \"0.01\"")
      .describe("The money one point is worth, for liability."),
    branding: z.object({
      primaryColor: Colour.default("#1f6feb"),
      textColor: Colour.default("#ffffff"),
      launcherPosition: z.enum(["bottom-right", "bottom-left"]).default("bottom-right"),
      launcherOffset: z.number().int().min(0).max(200).default(20),
      launcherLabel: z.string().max(40).default("Rewards"),
      loginUrl: HttpUrl.nullable().default(null),
      signupUrl: HttpUrl.nullable().default(null),
    }),
    texts: Texts.default({}),
    winBack: z
      .object({
        enabled: z.boolean().default(false),
        multiplier: z.number().min(1.1).max(10).refine(hasAtMostFourPlaces, "at most four decimal places").default(2),
        days: z.number().int().min(1).max(90).default(14),
      })
      .default({ enabled: false, multiplier: 2, days: 14 })
      .describe(
        "Win-back: the daily run gives each member at risk, once per at-risk episode, a personal offer: orders within `days` earn `multiplier` times.",
      ),
    holdout: z
      .object({
        percent: z
          .number()
          .min(0, "0 (no control group) to 20")
          .max(20, "at most 20 percent")
          .refine((n) => Math.abs(Math.round(n * 100) - n * 100) < 1e-9, "at most two decimal places")
          .default(0),
      })
      .default({ percent: 0 })
      .describe(
        "A control group: this share of customers (by a fixed hash of shop and customer id) earn and see nothing, so analytics can show what the program adds.",
      ),
  })
  .openapi("Program");

export type Program = z.infer<typeof Program>;
export type TierRule = z.infer<typeof Tier>;

/** A new shop's program: 1 point per whole unit, rounded down, nothing else on. */
export function defaultProgram(): Program {
  return {
    earning: {
      pointsPerUnit: 1,
      rounding: "floor",
      includeShipping: false,
      includeTax: false,
      minOrder: "0",
      productTypeMultipliers: {},
      boosts: [],
      pendingDays: 0,
    },
    waysToEarn: { signup: 0, birthday: 0, review: 0, nps: 0, social: 0, npsPeriodDays: 90, custom: {} },
    // Every member has a referral link from the start, so a claim must never issue a worthless code.
    referral: { referrerPoints: 0, refereeOffer: { type: "percent_off", value: 10 } },
    expiry: { days: null },
    tiers: [],
    pointValue: "0.01",
    branding: {
      primaryColor: "#1f6feb",
      textColor: "#ffffff",
      launcherPosition: "bottom-right",
      launcherOffset: 20,
      launcherLabel: "Rewards",
      loginUrl: null,
      signupUrl: null,
    },
    texts: {},
    winBack: { enabled: false, multiplier: 2, days: 14 },
    holdout: { percent: 0 },
  };
}

export type RefereeOffer = Program["referral"]["refereeOffer"];

/**
 * What is wrong with a referee offer in the shop's currency, each with the field it concerns
 * (relative to the offer); none when it is a real offer. Checked as a reward's value is: an
 * amount_off is a positive amount the currency can express, a percent_off a whole percent 1-100,
 * free shipping takes no value. The schema alone cannot say so: it does not know the currency, and
 * stored programs from before this check must still read.
 */
export function refereeOfferIssues(offer: RefereeOffer, currency: string): { path: string; message: string }[] {
  const { type, value } = offer;
  if (type === "amount_off") {
    const minor = typeof value === "string" && Money.safeParse(value).success ? parseMoney(value, currency) : null;
    return minor !== null && minor > 0
      ? []
      : [{ path: "value", message: `amount_off needs value as a positive amount in ${currency}, e.g. "5.00"` }];
  }
  if (type === "percent_off") {
    return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 100
      ? []
      : [{ path: "value", message: "percent_off needs value as a whole percent, 1-100" }];
  }
  return value === undefined ? [] : [{ path: "value", message: `${type} takes no value` }];
}
