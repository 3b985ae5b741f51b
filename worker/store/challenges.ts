/**
 * Challenges, their progress and badges. Progress moves only through `progressStep` (an upsert
 * whose SQL applies domain/challenges.ts nextProgress), and completion only through
 * `completionStatements`, which pay and badge on the state the batch itself produced: however
 * many events race at the goal, exactly one batch finds the challenge complete and not yet marked.
 */
import type { ChallengeKind, ChallengeRule, ProgressState } from "../domain/challenges";
import { appendChallengeReward } from "./ledger";
import { allRows, firstRow, guard, type Read, readOne } from "./batch";

export interface Challenge extends ChallengeRule {
  createdAt: string;
  updatedAt: string;
}

interface ChallengeRow {
  id: string;
  name: string;
  kind: ChallengeKind;
  goal: number;
  reward_points: number;
  badge: string | null;
  product_type: string | null;
  period_days: number | null;
  starts_at: string | null;
  ends_at: string | null;
  active: number;
  created_at: string;
  updated_at: string;
}

interface ProgressColumns {
  progress: number | null;
  last_period: number | null;
  completed_at: string | null;
  version: number | null;
}

export const CHALLENGE_COLUMNS =
  "ch.id, ch.name, ch.kind, ch.goal, ch.reward_points, ch.badge, ch.product_type, ch.period_days, ch.starts_at, ch.ends_at, ch.active, ch.created_at, ch.updated_at";

/** The member's row id, by external id, inside a statement (?1 shop, ?2 external id). */
const MEMBER = "(SELECT id FROM customers WHERE shop_id = ?1 AND external_id = ?2)";

function toChallenge(row: ChallengeRow): Challenge {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    goal: row.goal,
    rewardPoints: row.reward_points,
    badge: row.badge,
    productType: row.product_type,
    periodDays: row.period_days,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    active: row.active === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toProgress(row: ProgressColumns): ProgressState | null {
  if (row.progress === null) return null;
  return { progress: row.progress, lastPeriod: row.last_period, completed: row.completed_at !== null };
}

export async function insertChallenge(db: D1Database, shopId: string, challenge: Challenge): Promise<void> {
  await db
    .prepare(
      `INSERT INTO challenges (id, shop_id, name, kind, goal, reward_points, badge, product_type, period_days,
         starts_at, ends_at, active, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      challenge.id,
      shopId,
      challenge.name,
      challenge.kind,
      challenge.goal,
      challenge.rewardPoints,
      challenge.badge,
      challenge.productType,
      challenge.periodDays,
      challenge.startsAt,
      challenge.endsAt,
      challenge.active ? 1 : 0,
      challenge.createdAt,
      challenge.updatedAt,
    )
    .run();
}

export async function updateChallenge(db: D1Database, shopId: string, challenge: Challenge): Promise<void> {
  await db
    .prepare(
      `UPDATE challenges SET name = ?, goal = ?, reward_points = ?, badge = ?, product_type = ?, period_days = ?,
         starts_at = ?, ends_at = ?, active = ?, updated_at = ?
       WHERE shop_id = ? AND id = ? AND deleted_at IS NULL`,
    )
    .bind(
      challenge.name,
      challenge.goal,
      challenge.rewardPoints,
      challenge.badge,
      challenge.productType,
      challenge.periodDays,
      challenge.startsAt,
      challenge.endsAt,
      challenge.active ? 1 : 0,
      challenge.updatedAt,
      shopId,
      challenge.id,
    )
    .run();
}

/** Soft delete: progress, badges and ledger entries keep pointing at the row. */
export async function deleteChallenge(db: D1Database, shopId: string, id: string, at: string): Promise<boolean> {
  const result = await db
    .prepare("UPDATE challenges SET deleted_at = ? WHERE shop_id = ? AND id = ? AND deleted_at IS NULL")
    .bind(at, shopId, id)
    .run();
  return result.meta.changes > 0;
}

export type ChallengeWithStats = Challenge & { completions: number };

const COMPLETIONS =
  "(SELECT COUNT(*) FROM challenge_progress p WHERE p.challenge_id = ch.id AND p.completed_at IS NOT NULL)";

export async function challengeById(db: D1Database, shopId: string, id: string): Promise<ChallengeWithStats | null> {
  const row = await db
    .prepare(`SELECT ${CHALLENGE_COLUMNS}, ${COMPLETIONS} AS completions FROM challenges ch
              WHERE ch.shop_id = ? AND ch.id = ? AND ch.deleted_at IS NULL`)
    .bind(shopId, id)
    .first<ChallengeRow & { completions: number }>();
  return row ? { ...toChallenge(row), completions: row.completions } : null;
}

export async function listChallenges(db: D1Database, shopId: string): Promise<ChallengeWithStats[]> {
  const { results } = await db
    .prepare(`SELECT ${CHALLENGE_COLUMNS}, ${COMPLETIONS} AS completions FROM challenges ch
              WHERE ch.shop_id = ? AND ch.deleted_at IS NULL ORDER BY ch.created_at, ch.id`)
    .bind(shopId)
    .all<ChallengeRow & { completions: number }>();
  return results.map((row) => ({ ...toChallenge(row), completions: row.completions }));
}

export interface ChallengeProgress {
  challenge: Challenge;
  state: ProgressState | null;
  /** The progress row's version as read (null: no row yet). */
  version: number | null;
}

export type ChallengeProgressRow = ChallengeRow & ProgressColumns;

export const toChallengeProgress = (row: ChallengeProgressRow): ChallengeProgress => ({
  challenge: toChallenge(row),
  state: toProgress(row),
  version: row.version,
});

/**
 * A member's standing in the shop's active challenges of `kinds` (all kinds when omitted); a
 * member not yet created reads as no progress anywhere.
 */
export function readChallengesWithProgress(
  db: D1Database,
  shopId: string,
  customerExternalId: string | null,
  kinds?: readonly ChallengeKind[],
): Read<ChallengeProgress[]> {
  return allRows(
    db
      .prepare(
        `SELECT ${CHALLENGE_COLUMNS}, p.progress, p.last_period, p.completed_at, p.version FROM challenges ch
         LEFT JOIN challenge_progress p ON p.challenge_id = ch.id AND p.customer_id = ${MEMBER}
         WHERE ch.shop_id = ?1 AND ch.deleted_at IS NULL AND ch.active = 1
           AND (?3 IS NULL OR ch.kind IN (SELECT value FROM json_each(?3)))
         ORDER BY ch.created_at, ch.id`,
      )
      .bind(shopId, customerExternalId, kinds ? JSON.stringify(kinds) : null),
    toChallengeProgress,
  );
}

export const challengesWithProgress = (
  db: D1Database,
  shopId: string,
  customerExternalId: string | null,
  kinds?: readonly ChallengeKind[],
) => readOne(db, readChallengesWithProgress(db, shopId, customerExternalId, kinds));

/** One challenge of the shop, active or not, with the member's progress. */
export function readChallengeWithProgress(
  db: D1Database,
  shopId: string,
  customerExternalId: string,
  challengeId: string,
): Read<ChallengeProgress | null> {
  return firstRow(
    db
      .prepare(
        `SELECT ${CHALLENGE_COLUMNS}, p.progress, p.last_period, p.completed_at, p.version FROM challenges ch
         LEFT JOIN challenge_progress p ON p.challenge_id = ch.id AND p.customer_id = ${MEMBER}
         WHERE ch.shop_id = ?1 AND ch.id = ?3 AND ch.deleted_at IS NULL`,
      )
      .bind(shopId, customerExternalId, challengeId),
    toChallengeProgress,
  );
}

export interface ProgressStep {
  shopId: string;
  challengeId: string;
  customerExternalId: string;
  /** What the event adds (counters), or 1 for a streak's period. */
  amount: number;
  /** Streaks only: the period the event falls in. */
  period: number | null;
  at: string;
}

/**
 * Fails the batch unless the member's progress rows of these challenges are still as read: no row
 * added, none updated (every update bumps `version`, and versions only grow, so the count and the
 * sum of versions change whenever anything does). Must come before the batch's own steps.
 */
export function progressAsRead(
  db: D1Database,
  shopId: string,
  customerExternalId: string,
  read: Pick<ChallengeProgress, "challenge" | "version">[],
): D1PreparedStatement {
  const rows = read.filter((r) => r.version !== null);
  const expected = `${rows.length}:${rows.reduce((sum, r) => sum + (r.version ?? 0), 0)}`;
  return guard(
    db,
    `(SELECT COUNT(*) || ':' || COALESCE(SUM(version), 0) FROM challenge_progress
      WHERE customer_id = (SELECT id FROM customers WHERE shop_id = ? AND external_id = ?)
        AND challenge_id IN (SELECT value FROM json_each(?))) = ?`,
    shopId,
    customerExternalId,
    JSON.stringify(read.map((r) => r.challenge.id)),
    expected,
  );
}

/**
 * Takes back what a refunded or cancelled order added to a challenge the member has not completed
 * (a completed challenge keeps its reward and badge). Relative, so it needs no read; the version
 * bump makes a concurrent order planned on the old progress re-read.
 */
export function takeBackProgress(
  db: D1Database,
  shopId: string,
  customerExternalId: string,
  back: { challengeId: string; amount: number },
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE challenge_progress SET progress = MAX(0, progress - ?3), version = version + 1, updated_at = ?5
       WHERE challenge_id = ?4 AND customer_id = ${MEMBER} AND completed_at IS NULL`,
    )
    .bind(shopId, customerExternalId, back.amount, back.challengeId, at);
}

/**
 * Adds one event's contribution, computed from the row as the batch finds it (so concurrent
 * events compose): counters add; a streak continues, holds, restarts or ignores a late period
 * exactly as nextProgress() does. A completed row never moves.
 */
export function progressStep(db: D1Database, step: ProgressStep): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO challenge_progress (shop_id, challenge_id, customer_id, progress, last_period, updated_at)
       SELECT ?1, ?3, id, ?4, ?5, ?6 FROM customers WHERE shop_id = ?1 AND external_id = ?2
       ON CONFLICT (challenge_id, customer_id) DO UPDATE SET
         progress = CASE
           WHEN completed_at IS NOT NULL THEN progress
           WHEN excluded.last_period IS NULL THEN progress + excluded.progress
           WHEN last_period IS NULL THEN 1
           WHEN excluded.last_period = last_period + 1 THEN progress + 1
           WHEN excluded.last_period <= last_period THEN progress
           ELSE 1 END,
         last_period = CASE
           WHEN completed_at IS NOT NULL OR excluded.last_period IS NULL THEN last_period
           WHEN last_period IS NULL OR excluded.last_period > last_period THEN excluded.last_period
           ELSE last_period END,
         version = version + 1,
         updated_at = excluded.updated_at`,
    )
    .bind(
      step.shopId,
      step.customerExternalId,
      step.challengeId,
      step.period === null ? step.amount : 1,
      step.period,
      step.at,
    );
}

/**
 * A self-reported action: a plain INSERT, so a second report (even a concurrent one) fails its
 * batch on the primary key and is then read as already done.
 */
export function firstProgress(db: D1Database, step: Omit<ProgressStep, "period">): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO challenge_progress (shop_id, challenge_id, customer_id, progress, updated_at)
       SELECT ?1, ?3, id, ?4, ?5 FROM customers WHERE shop_id = ?1 AND external_id = ?2`,
    )
    .bind(step.shopId, step.customerExternalId, step.challengeId, step.amount, step.at);
}

export interface Completion {
  shopId: string;
  challenge: Pick<Challenge, "id" | "name" | "goal" | "rewardPoints" | "badge">;
  customerExternalId: string;
  at: string;
  expiresAt: string | null;
}

/**
 * Appended after a progress step: when the row has reached the goal and is not yet complete, pay
 * the reward (store/ledger.ts), give the badge and mark it complete. The first two read the row
 * before the third marks it, all inside the one atomic batch.
 */
export function completionStatements(db: D1Database, done: Completion): D1PreparedStatement[] {
  const reached = `p.challenge_id = ?3 AND p.customer_id = ${MEMBER} AND p.completed_at IS NULL AND p.progress >= ?4`;
  const statements: D1PreparedStatement[] = [];
  if (done.challenge.rewardPoints > 0) {
    statements.push(
      appendChallengeReward(db, {
        shopId: done.shopId,
        customerExternalId: done.customerExternalId,
        challengeId: done.challenge.id,
        goal: done.challenge.goal,
        points: done.challenge.rewardPoints,
        createdAt: done.at,
        expiresAt: done.expiresAt,
      }),
    );
  }
  if (done.challenge.badge) {
    statements.push(
      db
        .prepare(
          `INSERT INTO badges (shop_id, customer_id, challenge_id, name, badge, earned_at)
           SELECT ?1, p.customer_id, ?3, ?5, ?6, ?7 FROM challenge_progress p WHERE ${reached}`,
        )
        .bind(
          done.shopId,
          done.customerExternalId,
          done.challenge.id,
          done.challenge.goal,
          done.challenge.name,
          done.challenge.badge,
          done.at,
        ),
    );
  }
  statements.push(
    db
      .prepare(`UPDATE challenge_progress AS p SET completed_at = ?5 WHERE ${reached}`)
      .bind(done.shopId, done.customerExternalId, done.challenge.id, done.challenge.goal, done.at),
  );
  return statements;
}

export interface BadgeView {
  challengeId: string;
  name: string;
  badge: string;
  earnedAt: string;
}

/** Badges a member earned, oldest first. */
export async function badgesOfCustomer(db: D1Database, shopId: string, customerRowId: number): Promise<BadgeView[]> {
  const { results } = await db
    .prepare(
      `SELECT challenge_id, name, badge, earned_at FROM badges WHERE shop_id = ? AND customer_id = ?
       ORDER BY earned_at, challenge_id`,
    )
    .bind(shopId, customerRowId)
    .all<{ challenge_id: string; name: string; badge: string; earned_at: string }>();
  return results.map((b) => ({ challengeId: b.challenge_id, name: b.name, badge: b.badge, earnedAt: b.earned_at }));
}
