/**
 * Analytics, the simulator and the CSV exports: reads from store/, meaning from domain/.
 */
import type { Analytics, Simulation } from "../contract/analytics";
import type { Program } from "../contract/program";
import {
  AT_RISK_FACTOR,
  averageMinor,
  bucketFor,
  bucketLabels,
  fillSeries,
  MIN_CADENCE_DAYS,
  monthsEndingAt,
  overdue,
  type Period,
  pointsValueMinor,
  previousPeriod,
  ratio,
  retentionRate,
} from "../domain/analytics";
import { daysAgo } from "../domain/clock";
import type { OrderLine } from "../domain/earning";
import { formatMoney, parseMoney } from "../domain/money";
import { npsScore } from "../domain/nps";
import { wholeUnits } from "../domain/tiers";
import {
  projectedLiability,
  type ReplayCredit,
  type ReplayInput,
  type ReplayOrder,
  replay,
  type StandingNow,
  spendWindows,
} from "../domain/simulator";
import {
  activeMemberCount,
  buyerCounts,
  challengeCounts,
  ledgerFigures,
  lifetimeBefore,
  lifetimeSpend,
  memberCounts,
  membersAtRisk,
  otherMembersPage,
  otherPointsSince,
  outstandingPoints,
  referralCounts,
  replayCreditsPage,
  replayOrdersPage,
  replayRefunds,
  priorOrders,
  seriesRows,
  spendByMember,
} from "../store/analytics";
import { npsCounts, npsCountsByMonth } from "../store/nps";
import { pendingPointsAt } from "../store/orders";
import { loopFigures } from "./loop-analytics";
import type { Shop } from "../store/shops";

const AT_RISK_LISTED = 100;
const NPS_TREND_MONTHS = 12;

export async function analyticsFor(db: D1Database, shop: Shop, period: Period): Promise<Analytics> {
  const { start, end } = period;
  const previous = previousPeriod(period);
  const months = monthsEndingAt(end, NPS_TREND_MONTHS);
  const trendStart = `${months[0]}-01T00:00:00.000Z`;
  const bucket = bucketFor(period);
  const [members, ledger, active, buyers, spend, nps, npsMonths, referrals, challenges, atRisk, series, pending, loop] =
    await Promise.all([
      memberCounts(db, shop.id, start, end),
      ledgerFigures(db, shop.id, start, end),
      activeMemberCount(db, shop.id, start, end),
      buyerCounts(db, shop.id, previous.start, start, end),
      lifetimeSpend(db, shop.id, end),
      npsCounts(db, shop.id, start, end),
      npsCountsByMonth(db, shop.id, trendStart < start ? trendStart : start, end),
      referralCounts(db, shop.id, start, end),
      challengeCounts(db, shop.id, start, end),
      membersAtRisk(db, shop.id, end, AT_RISK_FACTOR, MIN_CADENCE_DAYS, AT_RISK_LISTED),
      seriesRows(db, shop.id, start, end, bucket === "day" ? 10 : 7),
      pendingPointsAt(db, shop.id, end),
      loopFigures(db, shop, period),
    ]);

  const money = (minor: number) => formatMoney(minor, shop.currency);
  const npsNow = npsScore(nps);
  const byMonth = new Map(npsMonths.map((m) => [m.month, m]));
  const joined = buyers.buyers - buyers.returningBuyers;
  const alv = averageMinor(spend.spend, spend.buyers);

  const labels = bucketLabels(start, end, bucket);
  const keys = ["pointsIssued", "pointsRedeemed", "newMembers", "orders", "revenue"] as const;
  const merged = new Map<string, Record<(typeof keys)[number], number>>();
  for (const row of [...series.ledger, ...series.members, ...series.orders]) {
    const into = merged.get(row.bucket) ?? { pointsIssued: 0, pointsRedeemed: 0, newMembers: 0, orders: 0, revenue: 0 };
    for (const key of keys) if (row[key] !== undefined) into[key] += Number(row[key]);
    merged.set(row.bucket, into);
  }
  const filled = fillSeries(labels, [...merged].map(([b, values]) => ({ bucket: b, ...values })), keys);

  return {
    period: { from: period.from, to: period.to, start, end },
    currency: shop.currency,
    members: members.members,
    newMembers: members.newMembers,
    activeMembers: active,
    pointsIssued: ledger.pointsIssued,
    pointsRedeemed: ledger.pointsRedeemed,
    pointsExpired: ledger.pointsExpired,
    pointsClawedBack: ledger.pointsClawedBack,
    liability: money(pointsValueMinor(ledger.outstandingAtEnd, shop.program.pointValue, shop.currency)),
    liabilityPoints: ledger.outstandingAtEnd,
    pendingLiability: money(pointsValueMinor(pending, shop.program.pointValue, shop.currency)),
    pendingPoints: pending,
    pointValue: shop.program.pointValue,
    redemptionRate: ratio(ledger.pointsRedeemed, ledger.outstandingAtStart + ledger.pointsIssued),
    repeatPurchaseRate: ratio(buyers.repeatBuyers, buyers.buyers),
    retentionRate: retentionRate(buyers.previousBuyers, buyers.buyers, joined),
    retention: { start: buyers.previousBuyers, end: buyers.buyers, new: joined },
    averageLifetimeValue: alv === null ? null : money(alv),
    nps: npsNow.score,
    npsResponses: {
      responses: npsNow.responses,
      promoters: npsNow.promoters,
      passives: npsNow.passives,
      detractors: npsNow.detractors,
    },
    npsTrend: months.map((month) => {
      const summary = npsScore(byMonth.get(month) ?? { promoters: 0, passives: 0, detractors: 0 });
      return { month, score: summary.score, responses: summary.responses };
    }),
    referralConversion: ratio(referrals.completed, referrals.claims - referrals.rejected),
    referrals,
    challengeCompletion: ratio(challenges.completed, challenges.participants),
    challenges,
    atRisk: atRisk.members.map((m) => {
      const due = overdue(m, end)!;
      return {
        customerId: m.externalId,
        email: m.email,
        firstName: m.firstName,
        orders: m.orders,
        lastOrderAt: m.lastOrderAt,
        cadenceDays: due.cadenceDays,
        daysSinceLastOrder: due.daysSinceLastOrder,
        overdueDays: due.overdueDays,
      };
    }),
    atRiskCount: atRisk.count,
    series: { bucket, points: filled.map((p) => ({ ...p, revenue: money(p.revenue) })) },
    ...loop,
  };
}

// --- The simulator ---------------------------------------------------------------------------

const PAGE = 1000;

/** Stored order lines (decimal prices) as the earning rules take them (minor units). */
function linesOf(json: string, currency: string): OrderLine[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.map((line: { productType?: unknown; quantity?: unknown; price?: unknown }) => ({
    productType: typeof line.productType === "string" ? line.productType : undefined,
    quantity: typeof line.quantity === "number" ? line.quantity : 1,
    price: (typeof line.price === "string" ? parseMoney(line.price, currency) : null) ?? 0,
  }));
}

async function collectPages<T>(
  read: (after: number) => Promise<T[]>,
  idOf: (row: T) => number,
): Promise<T[]> {
  const all: T[] = [];
  let after = 0;
  for (;;) {
    const page = await read(after);
    all.push(...page);
    if (page.length < PAGE) return all;
    after = idOf(page[page.length - 1]!);
  }
}

export const SIMULATION_ASSUMPTIONS = [
  "Orders are replayed in the order they were processed, with the real earning rules, boosts as of when each order happened, and the tier the member holds at that moment.",
  "Each member starts the window in the tier their standing then qualifies for; promotions follow each order; scheduled downgrades are not replayed.",
  "Refunds and cancellations claw back by the program's rounding, in full (a claw-back the balance could not cover is counted whole).",
  "Other points (signup, challenges, referrals, adjustments) are kept as recorded.",
  "The earning basis is each order's recorded eligible amount: changing includeShipping or includeTax is not reflected.",
  "Liability is today's outstanding points moved by the difference the program makes in the window; expiry is not replayed.",
];

export async function simulate(db: D1Database, shop: Shop, proposed: Program, days: number, now = new Date()): Promise<Simulation> {
  const end = now.toISOString();
  const start = daysAgo(now, days);
  const currency = shop.currency;
  const current = shop.program;
  const windows = spendWindows(current, proposed);
  const longest = windows[windows.length - 1] ?? 0;

  const since = daysAgo(new Date(start), longest);
  const [orderRows, refunds, creditRows, before, prior, otherPoints, outstanding] = await Promise.all([
    collectPages((after) => replayOrdersPage(db, shop.id, start, end, after, PAGE), (r) => r.id),
    replayRefunds(db, shop.id, since, end),
    collectPages((after) => replayCreditsPage(db, shop.id, start, end, after, PAGE), (r) => r.seq),
    lifetimeBefore(db, shop.id, start, end),
    longest ? priorOrders(db, shop.id, since, start, end) : Promise.resolve([]),
    otherPointsSince(db, shop.id, start, end),
    outstandingPoints(db, shop.id),
  ]);

  const orders: ReplayOrder[] = orderRows.map((row) => ({
    id: row.externalId,
    member: row.member,
    eligible: row.eligible,
    lines: linesOf(row.lines, currency),
    occurredAt: row.occurredAt,
    processedAt: row.processedAt ?? row.occurredAt,
    seq: row.seq ?? 0,
    recordedPoints: row.recordedPoints,
  }));
  const credits: ReplayCredit[] = creditRows;
  const others = await otherStandings(db, shop, start, end, windows, now);

  const input: ReplayInput = {
    currency,
    start,
    end,
    orders,
    refunds,
    credits,
    lifetimeBefore: new Map(before.map((b) => [b.member, b.points])),
    priorOrders: prior,
    otherPoints,
    others,
  };
  const currentResult = replay(current, input);
  const proposedResult = replay(proposed, input);

  const money = (minor: number) => formatMoney(minor, currency);
  const side = (program: Program, result: typeof currentResult, liabilityPoints: number) => ({
    orderPoints: result.orderPoints,
    pointsReversed: result.pointsReversed,
    otherPoints: result.otherPoints,
    pointsIssued: result.pointsIssued,
    netPoints: result.netPoints,
    liabilityPoints,
    liability: money(pointsValueMinor(liabilityPoints, program.pointValue, currency)),
    revenue: money(result.revenue),
    cost: money(result.cost),
    costShare: result.costShare,
    tiers: result.tiers,
    ordersMatchingRecorded: result.ordersMatchingRecorded,
  });
  return {
    window: { days, start, end },
    currency,
    orders: orders.length,
    members: new Set(orders.map((o) => o.member)).size,
    recordedOrderPoints: orders.reduce((sum, o) => sum + o.recordedPoints, 0),
    current: side(current, currentResult, outstanding),
    proposed: side(proposed, proposedResult, projectedLiability(outstanding, currentResult, proposedResult)),
    assumptions: SIMULATION_ASSUMPTIONS,
  };
}

/** Members without an order in the window: their tier, lifetime points and spend per window now. */
async function otherStandings(
  db: D1Database,
  shop: Shop,
  start: string,
  end: string,
  windows: number[],
  now: Date,
): Promise<StandingNow[]> {
  const standings: StandingNow[] = [];
  let after = 0;
  for (;;) {
    const page = await otherMembersPage(db, shop.id, start, end, after, PAGE);
    if (page.length === 0) break;
    const first = page[0]!.id;
    const last = page[page.length - 1]!.id;
    const spends = await Promise.all(
      windows.map(async (days) => {
        const rows = await spendByMember(db, shop.id, daysAgo(now, days), first, last);
        return [days, new Map(rows.map((r) => [r.member, r.spent]))] as const;
      }),
    );
    for (const member of page) {
      const spendByWindow: Record<number, number> = {};
      for (const [days, byMember] of spends) spendByWindow[days] = wholeUnits(byMember.get(member.id) ?? 0, shop.currency);
      standings.push({ tier: member.tier, lifetimePoints: member.lifetimePoints, spendByWindow });
    }
    if (page.length < PAGE) break;
    after = last;
  }
  return standings;
}

// --- CSV exports -----------------------------------------------------------------------------

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote, CR or LF. Text that a spreadsheet
 * would run as a formula (starting with = + - @, tab or CR) gets a leading apostrophe; numbers are
 * written as numbers.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvRow = (cells: (string | number | null | undefined)[]) => `${cells.map(csvCell).join(",")}\r\n`;

const EXPORT_PAGE = 500;

/**
 * A streamed CSV: the header, then one keyset page per pull, so memory stays flat for any size and
 * a slow client slows the reads down rather than piling rows up.
 */
export function csvStream<T>(
  header: string[],
  readPage: (afterId: number, limit: number) => Promise<T[]>,
  idOf: (row: T) => number,
  cellsOf: (row: T) => (string | number | null)[],
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after = 0;
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(csvRow(header)));
    },
    async pull(controller) {
      if (done) return;
      const rows = await readPage(after, EXPORT_PAGE);
      if (rows.length > 0) {
        controller.enqueue(encoder.encode(rows.map((row) => csvRow(cellsOf(row))).join("")));
        after = idOf(rows[rows.length - 1]!);
      }
      if (rows.length < EXPORT_PAGE) {
        done = true;
        controller.close();
      }
    },
  });
}
