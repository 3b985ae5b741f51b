/**
 * Program analytics, the pure part: the period a request names, ratios, the money
 * value of points, members at risk, and the series behind the console's charts. The store counts;
 * these functions decide what the counts mean.
 */
import { currencyExponent } from "./money";

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The default period: the last 30 days, today included. */
export const DEFAULT_PERIOD_DAYS = 30;

export interface Period {
  /** Inclusive start and exclusive end, as ISO-8601 UTC instants (what the store compares). */
  start: string;
  end: string;
  /** The period as the caller named it (dates as given, or the defaults). */
  from: string;
  to: string;
  /** Length in days (fractional for instants). */
  days: number;
}

export type PeriodResult = { period: Period; errors: [] } | { period: null; errors: { path: string; message: string }[] };

/** A calendar date that exists ("2026-02-30" does not), as its UTC midnight. */
function parseDate(text: string): Date | null {
  const match = DATE.exec(text);
  if (!match) return null;
  const at = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return at.toISOString().slice(0, 10) === text ? at : null;
}

function parseBound(text: string, isEnd: boolean): Date | null {
  const day = parseDate(text);
  // A date `to` includes its whole day.
  if (day) return isEnd ? new Date(day.getTime() + DAY_MS) : day;
  if (!DATE_TIME.test(text)) return null;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? null : at;
}

/**
 * `from` and `to` are ISO dates ("2026-03-01", `to` inclusive) or instants ("2026-03-01T12:00:00Z",
 * `to` exclusive). Missing: `to` is today and `from` 29 days before it (30 days).
 */
export function resolvePeriod(from: string | undefined, to: string | undefined, now: Date): PeriodResult {
  const errors: { path: string; message: string }[] = [];
  const today = now.toISOString().slice(0, 10);
  const toText = to ?? today;
  const end = parseBound(toText, true);
  if (!end) errors.push({ path: "to", message: "an ISO date (YYYY-MM-DD) or date-time" });
  const fromText =
    from ?? (end ? new Date(end.getTime() - DEFAULT_PERIOD_DAYS * DAY_MS).toISOString().slice(0, 10) : today);
  const start = parseBound(fromText, false);
  if (!start) errors.push({ path: "from", message: "an ISO date (YYYY-MM-DD) or date-time" });
  if (start && end && start.getTime() >= end.getTime()) errors.push({ path: "from", message: "must be before `to`" });
  if (!start || !end || errors.length) return { period: null, errors };
  return {
    period: {
      start: start.toISOString(),
      end: end.toISOString(),
      from: fromText,
      to: toText,
      days: (end.getTime() - start.getTime()) / DAY_MS,
    },
    errors: [],
  };
}

/** The period of the same length just before `period` (the retention rate's starting base). */
export function previousPeriod(period: Period): { start: string; end: string } {
  const start = Date.parse(period.start);
  const length = Date.parse(period.end) - start;
  return { start: new Date(start - length).toISOString(), end: period.start };
}

/** A ratio 0..1 rounded to four places; null when there is nothing to divide by. */
export function ratio(numerator: number, denominator: number): number | null {
  if (denominator <= 0) return null;
  return Math.round((numerator / denominator) * 10_000) / 10_000;
}

/**
 * Retention rate (E - N) / S: S members active in the previous period of the same length, E active
 * in this one, N of those active now who were not before. E - N is the start base still active.
 */
export function retentionRate(start: number, end: number, joined: number): number | null {
  return ratio(end - joined, start);
}

const POINT_VALUE = /^(\d{1,6})(?:\.(\d{1,6}))?$/;

/**
 * What `points` are worth at `pointValue` (a decimal string, the money of one point), in minor
 * units of `currency`, rounded half up. Exact: integers only, no floats.
 */
export function pointsValueMinor(points: number, pointValue: string, currency: string): number {
  const match = POINT_VALUE.exec(pointValue);
  if (!match || points <= 0) return 0;
  const micros = BigInt(match[1]!) * 1_000_000n + BigInt((match[2] ?? "").padEnd(6, "0"));
  const numerator = BigInt(points) * micros * 10n ** BigInt(currencyExponent(currency));
  return Number((numerator + 500_000n) / 1_000_000n);
}

/** The mean of a total over a count, in minor units, rounded half up; null for no count. */
export function averageMinor(total: number, count: number): number | null {
  if (count <= 0) return null;
  return Math.floor((2 * total + count) / (2 * count));
}

/** A member is at risk once the time since their last order exceeds their own cadence by half. */
export const AT_RISK_FACTOR = 1.5;
/** Cadences shorter than a day (two orders the same afternoon) count as a day. */
export const MIN_CADENCE_DAYS = 1;

export interface OrderRhythm {
  orders: number;
  firstOrderAt: string;
  lastOrderAt: string;
}

export interface Overdue {
  /** The mean gap between the member's orders, in days. */
  cadenceDays: number;
  daysSinceLastOrder: number;
  /** Days past the moment their next order was due (last order + cadence). */
  overdueDays: number;
  atRisk: boolean;
}

const oneDecimal = (n: number) => Math.round(n * 10) / 10;

/** How overdue a member with two or more orders is at `asOf`, against their own order cadence. */
export function overdue(rhythm: OrderRhythm, asOf: string): Overdue | null {
  if (rhythm.orders < 2) return null;
  const first = Date.parse(rhythm.firstOrderAt);
  const last = Date.parse(rhythm.lastOrderAt);
  const cadence = Math.max(MIN_CADENCE_DAYS, (last - first) / DAY_MS / (rhythm.orders - 1));
  const since = (Date.parse(asOf) - last) / DAY_MS;
  return {
    cadenceDays: oneDecimal(cadence),
    daysSinceLastOrder: oneDecimal(since),
    overdueDays: oneDecimal(since - cadence),
    atRisk: since > cadence * AT_RISK_FACTOR,
  };
}

export type Bucket = "day" | "month";

/** Days for periods up to a year, months beyond, so a chart never has thousands of points. */
export function bucketFor(period: Period): Bucket {
  return period.days <= 366 ? "day" : "month";
}

/** Every bucket label in [start, end): "2026-03-01" for days, "2026-03" for months. */
export function bucketLabels(start: string, end: string, bucket: Bucket): string[] {
  const labels: string[] = [];
  const endMs = Date.parse(end);
  const cursor = new Date(Date.parse(start));
  cursor.setUTCHours(0, 0, 0, 0);
  if (bucket === "month") cursor.setUTCDate(1);
  while (cursor.getTime() < endMs) {
    labels.push(cursor.toISOString().slice(0, bucket === "day" ? 10 : 7));
    if (bucket === "day") cursor.setUTCDate(cursor.getUTCDate() + 1);
    else cursor.setUTCMonth(cursor.getUTCMonth() + 1);
  }
  return labels;
}

/** Rows keyed by bucket label, spread over every label (missing ones are zeros). */
export function fillSeries<K extends string>(
  labels: string[],
  rows: ({ bucket: string } & Record<K, number>)[],
  keys: readonly K[],
): ({ bucket: string } & Record<K, number>)[] {
  const byLabel = new Map(rows.map((row) => [row.bucket, row]));
  return labels.map((label) => {
    const row = byLabel.get(label);
    const filled = { bucket: label } as { bucket: string } & Record<K, number>;
    for (const key of keys) (filled as Record<string, unknown>)[key] = row ? Number(row[key]) || 0 : 0;
    return filled;
  });
}

/** The `count` calendar months ending with the month of the instant before `end`, oldest first. */
export function monthsEndingAt(end: string, count: number): string[] {
  const last = new Date(Date.parse(end) - 1);
  const months: string[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const at = new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth() - i, 1));
    months.push(at.toISOString().slice(0, 7));
  }
  return months;
}
