/**
 * Feedback answers (0030_feedback.sql) and the merchant's list of every answer, NPS included: the
 * two tables read as one, newest first, keyset-paginated on (created_at, id).
 */
import type { AnswerKind, FeedbackKind } from "../domain/feedback";
import type { NpsCounts } from "../domain/nps";
import { exists, type Read } from "./batch";

/** One answer per kind and redemption: a second (even a concurrent one) fails its batch on the unique key. */
export function insertFeedback(
  db: D1Database,
  shopId: string,
  answer: {
    customerExternalId: string;
    kind: FeedbackKind;
    score: number | null;
    comment: string | null;
    redemptionId: string | null;
    createdAt: string;
  },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO feedback (shop_id, customer_id, kind, score, comment, redemption_id, created_at)
       SELECT shop_id, id, ?3, ?4, ?5, ?6, ?7 FROM customers WHERE shop_id = ?1 AND external_id = ?2`,
    )
    .bind(shopId, answer.customerExternalId, answer.kind, answer.score, answer.comment, answer.redemptionId, answer.createdAt);
}

export function readAnsweredForRedemption(db: D1Database, shopId: string, kind: FeedbackKind, redemptionId: string): Read<boolean> {
  return exists(
    db.prepare("SELECT 1 AS found FROM feedback WHERE shop_id = ? AND kind = ? AND redemption_id = ?").bind(shopId, kind, redemptionId),
  );
}

export interface AnswerRow {
  id: string;
  kind: AnswerKind;
  score: number | null;
  comment: string | null;
  customerId: string;
  redemptionId: string | null;
  repurchase: number | null;
  upsell: number | null;
  createdAt: string;
}

const ANSWERS = `
  SELECT 'nps_' || n.id AS id, 'nps' AS kind, n.score, n.comment, c.external_id AS customer_id, NULL AS redemption_id,
    n.repurchase, n.upsell, n.created_at
  FROM nps_responses n JOIN customers c ON c.id = n.customer_id WHERE n.shop_id = ?1
  UNION ALL
  SELECT 'fb_' || f.id, f.kind, f.score, f.comment, c.external_id, f.redemption_id, NULL, NULL, f.created_at
  FROM feedback f JOIN customers c ON c.id = f.customer_id WHERE f.shop_id = ?1`;

export interface AnswerFilter {
  kind: AnswerKind | null;
  /** Inclusive score range (a band), or null for any score. */
  scores: [number, number] | null;
  from: string | null;
  to: string | null;
}

/** Answers newest first, after the (createdAt, id) cursor; `limit + 1` rows say whether there are more. */
export async function answersPage(
  db: D1Database,
  shopId: string,
  filter: AnswerFilter,
  page: { limit: number; after: { createdAt: string; id: string } | null },
): Promise<AnswerRow[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM (${ANSWERS}) AS a
       WHERE (?2 IS NULL OR a.kind = ?2) AND (?3 IS NULL OR a.score BETWEEN ?3 AND ?4)
         AND (?5 IS NULL OR a.created_at >= ?5) AND (?6 IS NULL OR a.created_at < ?6)
         AND (?7 IS NULL OR a.created_at < ?7 OR (a.created_at = ?7 AND a.id < ?8))
       ORDER BY a.created_at DESC, a.id DESC LIMIT ?9`,
    )
    .bind(
      shopId,
      filter.kind,
      filter.scores?.[0] ?? null,
      filter.scores?.[1] ?? null,
      filter.from,
      filter.to,
      page.after?.createdAt ?? null,
      page.after?.id ?? null,
      page.limit,
    )
    .all<{
      id: string;
      kind: AnswerKind;
      score: number | null;
      comment: string | null;
      customer_id: string;
      redemption_id: string | null;
      repurchase: number | null;
      upsell: number | null;
      created_at: string;
    }>();
  return results.map((r) => ({
    id: r.id,
    kind: r.kind,
    score: r.score,
    comment: r.comment,
    customerId: r.customer_id,
    redemptionId: r.redemption_id,
    repurchase: r.repurchase,
    upsell: r.upsell,
    createdAt: r.created_at,
  }));
}

/** Counts behind CES, CSAT and the feedback count, in [from, to). */
export interface FeedbackCounts {
  ces: { positive: number; answers: number };
  csat: { positive: number; answers: number };
  program: number;
}

const FEEDBACK_COUNTS = `COALESCE(SUM(kind = 'ces'), 0) AS ces, COALESCE(SUM(kind = 'ces' AND score >= 5), 0) AS ces_positive,
  COALESCE(SUM(kind = 'csat'), 0) AS csat, COALESCE(SUM(kind = 'csat' AND score >= 4), 0) AS csat_positive,
  COALESCE(SUM(kind = 'program'), 0) AS program`;

interface CountsRow {
  ces: number;
  ces_positive: number;
  csat: number;
  csat_positive: number;
  program: number;
}

const toCounts = (r: CountsRow | null | undefined): FeedbackCounts => ({
  ces: { positive: r?.ces_positive ?? 0, answers: r?.ces ?? 0 },
  csat: { positive: r?.csat_positive ?? 0, answers: r?.csat ?? 0 },
  program: r?.program ?? 0,
});

export async function feedbackCountsByMonth(
  db: D1Database,
  shopId: string,
  from: string,
  to: string,
): Promise<Map<string, FeedbackCounts>> {
  const { results } = await db
    .prepare(
      `SELECT substr(created_at, 1, 7) AS month, ${FEEDBACK_COUNTS} FROM feedback
       WHERE shop_id = ? AND created_at >= ? AND created_at < ? GROUP BY month`,
    )
    .bind(shopId, from, to)
    .all<CountsRow & { month: string }>();
  return new Map(results.map((r) => [r.month, toCounts(r)]));
}

export async function feedbackCounts(db: D1Database, shopId: string, from: string, to: string): Promise<FeedbackCounts> {
  const row = await db
    .prepare(`SELECT ${FEEDBACK_COUNTS} FROM feedback WHERE shop_id = ? AND created_at >= ? AND created_at < ?`)
    .bind(shopId, from, to)
    .first<CountsRow>();
  return toCounts(row);
}

const groups = (column: string) => `COALESCE(SUM(${column} >= 9), 0) AS ${column}_p, COALESCE(SUM(${column} BETWEEN 7 AND 8), 0) AS ${column}_n,
  COALESCE(SUM(${column} <= 6), 0) AS ${column}_d`;

/** The three CLI questions' counts (recommend = the NPS score, repurchase, upsell) per month in [from, to). */
export async function loyaltyCountsByMonth(
  db: D1Database,
  shopId: string,
  from: string,
  to: string,
): Promise<Map<string, NpsCounts[]>> {
  const { results } = await db
    .prepare(
      `SELECT substr(created_at, 1, 7) AS month, ${groups("score")}, ${groups("repurchase")}, ${groups("upsell")}
       FROM nps_responses WHERE shop_id = ? AND created_at >= ? AND created_at < ? GROUP BY month`,
    )
    .bind(shopId, from, to)
    .all<Record<string, number> & { month: string }>();
  return new Map(
    results.map((r) => [
      r.month,
      ["score", "repurchase", "upsell"].map((q) => ({ promoters: r[`${q}_p`]!, passives: r[`${q}_n`]!, detractors: r[`${q}_d`]! })),
    ]),
  );
}

export async function loyaltyCounts(db: D1Database, shopId: string, from: string, to: string): Promise<NpsCounts[]> {
  const row = await db
    .prepare(
      `SELECT ${groups("score")}, ${groups("repurchase")}, ${groups("upsell")}
       FROM nps_responses WHERE shop_id = ? AND created_at >= ? AND created_at < ?`,
    )
    .bind(shopId, from, to)
    .first<Record<string, number>>();
  return ["score", "repurchase", "upsell"].map((q) => ({
    promoters: row?.[`${q}_p`] ?? 0,
    passives: row?.[`${q}_n`] ?? 0,
    detractors: row?.[`${q}_d`] ?? 0,
  }));
}

/** A customer's answers (GDPR export). */
export async function feedbackOf(db: D1Database, shopId: string, customerRowId: number) {
  const { results } = await db
    .prepare("SELECT kind, score, comment, redemption_id, created_at FROM feedback WHERE shop_id = ? AND customer_id = ? ORDER BY id")
    .bind(shopId, customerRowId)
    .all<{ kind: string; score: number | null; comment: string | null; redemption_id: string | null; created_at: string }>();
  return results.map((r) => ({ kind: r.kind, score: r.score, comment: r.comment, redemptionId: r.redemption_id, createdAt: r.created_at }));
}

/** GDPR: comments are free text and go; scores stay. */
export function redactFeedbackStatements(db: D1Database, shopId: string, rowId: number): D1PreparedStatement[] {
  return [db.prepare("UPDATE feedback SET comment = NULL WHERE shop_id = ? AND customer_id = ?").bind(shopId, rowId)];
}
