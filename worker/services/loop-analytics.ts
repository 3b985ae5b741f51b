/**
 * The figures of closing the loop, beside the program's others (services/analytics.ts): CES, CSAT,
 * the Customer Loyalty Index and the feedback count with their monthly trends, win-back offers,
 * and the program against its holdout group.
 */
import { averageMinor, monthsEndingAt, type Period, ratio } from "../domain/analytics";
import { cesScore, cliScore, csatScore } from "../domain/feedback";
import { compareGroups, inHoldout } from "../domain/holdout";
import { formatMoney } from "../domain/money";
import { feedbackCounts, feedbackCountsByMonth, loyaltyCounts, loyaltyCountsByMonth } from "../store/feedback";
import { memberOrdersPage } from "../store/incrementality";
import { offerFigures } from "../store/offers";
import type { Shop } from "../store/shops";
import { donationTotals } from "./donations";

const TREND_MONTHS = 12;
const PAGE = 2000;

export async function loopFigures(db: D1Database, shop: Shop, period: Period) {
  const { start, end } = period;
  const months = monthsEndingAt(end, TREND_MONTHS);
  const trendStart = `${months[0]}-01T00:00:00.000Z`;
  const [feedback, loyalty, feedbackMonths, loyaltyMonths, offers, incrementality, donations] = await Promise.all([
    feedbackCounts(db, shop.id, start, end),
    loyaltyCounts(db, shop.id, start, end),
    feedbackCountsByMonth(db, shop.id, trendStart, end),
    loyaltyCountsByMonth(db, shop.id, trendStart, end),
    offerFigures(db, shop.id, start, end),
    programAgainstHoldout(db, shop, period),
    donationTotals(db, shop, period),
  ]);
  const money = (minor: number) => formatMoney(minor, shop.currency);
  return {
    ces: cesScore(feedback.ces),
    csat: csatScore(feedback.csat),
    cli: cliScore(loyalty),
    feedbackCount: feedback.ces.answers + feedback.csat.answers + feedback.program,
    feedbackResponses: { ces: feedback.ces.answers, csat: feedback.csat.answers, program: feedback.program },
    feedbackTrend: months.map((month) => {
      const f = feedbackMonths.get(month);
      const l = loyaltyMonths.get(month);
      return {
        month,
        ces: f ? cesScore(f.ces) : null,
        csat: f ? csatScore(f.csat) : null,
        cli: l ? cliScore(l) : null,
        feedbackCount: f ? f.ces.answers + f.csat.answers + f.program : 0,
      };
    }),
    winBack: { offered: offers.offered, converted: offers.converted, revenue: money(offers.revenue) },
    donations,
    incrementality,
  };
}

interface GroupTotals {
  members: number;
  buyers: number;
  repeatBuyers: number;
  ordersInPeriod: number;
  spendInPeriod: number;
  lifetimeBuyers: number;
  lifetimeSpend: number;
}

const emptyTotals = (): GroupTotals => ({
  members: 0,
  buyers: 0,
  repeatBuyers: 0,
  ordersInPeriod: 0,
  spendInPeriod: 0,
  lifetimeBuyers: 0,
  lifetimeSpend: 0,
});

/**
 * Members split by the holdout hash (as of today's share), each group's repeat purchase rate (of
 * its members who ordered in the period, the share with two or more orders by its end), average
 * order value (net amount of the period's orders / their number) and average lifetime value (net
 * spend before the period's end / the members who placed it), with a significance check.
 */
export async function programAgainstHoldout(db: D1Database, shop: Shop, period: Period) {
  const percent = shop.program.holdout.percent;
  const groups = { program: emptyTotals(), holdout: emptyTotals() };
  let after = 0;
  for (;;) {
    const page = await memberOrdersPage(db, shop.id, period.start, period.end, after, PAGE);
    for (const m of page) {
      const g = inHoldout(percent, shop.id, m.externalId) ? groups.holdout : groups.program;
      g.members++;
      if (m.ordersInPeriod > 0) {
        g.buyers++;
        if (m.ordersBeforeEnd >= 2) g.repeatBuyers++;
      }
      g.ordersInPeriod += m.ordersInPeriod;
      g.spendInPeriod += m.spendInPeriod;
      if (m.ordersBeforeEnd > 0) {
        g.lifetimeBuyers++;
        g.lifetimeSpend += m.spendBeforeEnd;
      }
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.id;
  }
  const money = (minor: number | null) => (minor === null ? null : formatMoney(minor, shop.currency));
  const both = <T>(f: (g: GroupTotals) => T) => ({ program: f(groups.program), holdout: f(groups.holdout) });
  return {
    holdoutPercent: percent,
    programMembers: groups.program.members,
    holdoutMembers: groups.holdout.members,
    buyers: both((g) => g.buyers),
    repeatPurchaseRate: both((g) => ratio(g.repeatBuyers, g.buyers)),
    averageOrderValue: both((g) => money(averageMinor(g.spendInPeriod, g.ordersInPeriod))),
    averageLifetimeValue: both((g) => money(averageMinor(g.lifetimeSpend, g.lifetimeBuyers))),
    significance: compareGroups(groups.program, groups.holdout),
  };
}
