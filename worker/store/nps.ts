/** NPS answers: one per customer per period (a unique key), and their counts for analytics. */
import type { NpsCounts } from "../domain/nps";
import { exists, type Read } from "./batch";

export function readAnsweredInPeriod(db: D1Database, shopId: string, customerExternalId: string, period: number): Read<boolean> {
  return exists(
    db
      .prepare(
        `SELECT 1 AS found FROM nps_responses
         WHERE customer_id = (SELECT id FROM customers WHERE shop_id = ? AND external_id = ?) AND period = ?`,
      )
      .bind(shopId, customerExternalId, period),
  );
}

/** A second answer in the same period (even a concurrent one) fails its batch on the unique key. */
export function insertNpsResponse(
  db: D1Database,
  shopId: string,
  answer: {
    customerExternalId: string;
    score: number;
    comment: string | null;
    repurchase: number | null;
    upsell: number | null;
    period: number;
    createdAt: string;
  },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO nps_responses (shop_id, customer_id, score, comment, period, created_at, repurchase, upsell)
       SELECT shop_id, id, ?3, ?4, ?5, ?6, ?7, ?8 FROM customers WHERE shop_id = ?1 AND external_id = ?2`,
    )
    .bind(
      shopId,
      answer.customerExternalId,
      answer.score,
      answer.comment,
      answer.period,
      answer.createdAt,
      answer.repurchase,
      answer.upsell,
    );
}

const COUNTS = `COALESCE(SUM(score >= 9), 0) AS promoters, COALESCE(SUM(score BETWEEN 7 AND 8), 0) AS passives,
  COALESCE(SUM(score <= 6), 0) AS detractors`;

/** Answers given in [from, to). */
export async function npsCounts(db: D1Database, shopId: string, from: string, to: string): Promise<NpsCounts> {
  const row = await db
    .prepare(`SELECT ${COUNTS} FROM nps_responses WHERE shop_id = ? AND created_at >= ? AND created_at < ?`)
    .bind(shopId, from, to)
    .first<NpsCounts>();
  return row ?? { promoters: 0, passives: 0, detractors: 0 };
}

/** Answers given in [from, to) by calendar month (UTC), oldest first; months without answers are absent. */
export async function npsCountsByMonth(
  db: D1Database,
  shopId: string,
  from: string,
  to: string,
): Promise<(NpsCounts & { month: string })[]> {
  const { results } = await db
    .prepare(
      `SELECT substr(created_at, 1, 7) AS month, ${COUNTS} FROM nps_responses
       WHERE shop_id = ? AND created_at >= ? AND created_at < ? GROUP BY month ORDER BY month`,
    )
    .bind(shopId, from, to)
    .all<NpsCounts & { month: string }>();
  return results;
}

/** A customer's answers (GDPR export). */
export async function npsResponsesOf(db: D1Database, shopId: string, customerRowId: number) {
  const { results } = await db
    .prepare("SELECT score, comment, created_at FROM nps_responses WHERE shop_id = ? AND customer_id = ? ORDER BY id")
    .bind(shopId, customerRowId)
    .all<{ score: number; comment: string | null; created_at: string }>();
  return results.map((r) => ({ score: r.score, comment: r.comment, createdAt: r.created_at }));
}

/** GDPR: comments are free text and go; scores stay (they carry nothing personal). */
export function redactNpsStatements(db: D1Database, shopId: string, rowId: number): D1PreparedStatement[] {
  return [db.prepare("UPDATE nps_responses SET comment = NULL WHERE shop_id = ? AND customer_id = ?").bind(shopId, rowId)];
}
