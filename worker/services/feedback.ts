/**
 * Feedback: CES after a redemption, CSAT and free text about the program, stored with a
 * `feedback.received` event in the same batch; and the merchant's list of every answer (NPS with
 * its "why" included), its filters, CSV export and keyword themes.
 */
import { type AnswerKind, type Band, bandOf, bandRange, type FeedbackKind, SCALES, themeCounts, themesOf } from "../domain/feedback";
import { ApiError, badRequest, notFound } from "../http/errors";
import { known, together } from "../store/batch";
import { type AnswerFilter, type AnswerRow, answersPage, insertFeedback, readAnsweredForRedemption } from "../store/feedback";
import type { Announcement } from "../store/outbox";
import { readRedemption } from "../store/rewards";
import type { Shop } from "../store/shops";
import { memberWithChange, readMember } from "./members";
import { planOf, write } from "./pipeline";

/** The event every answer announces (NPS included): what the merchant's own stack hears. */
export function feedbackReceived(
  customerId: string,
  kind: AnswerKind,
  score: number | null,
  comment: string | null,
  at: string,
): Announcement {
  return { type: "feedback.received", customerExternalId: customerId, data: { customerId, kind, score, comment }, occurredAt: at };
}

export interface FeedbackInput {
  kind: FeedbackKind;
  score?: number | undefined;
  comment?: string | undefined;
  redemptionId?: string | undefined;
}

/** What is wrong with an answer on its own (before anything is read), as validation details. */
export function feedbackIssues(input: FeedbackInput): { path: string; message: string }[] {
  const scale = SCALES[input.kind];
  const issues: { path: string; message: string }[] = [];
  if (input.score === undefined) {
    if (scale.required) issues.push({ path: "score", message: `${input.kind} needs a score, ${scale.min}-${scale.max}` });
  } else if (!Number.isInteger(input.score) || input.score < scale.min || input.score > scale.max) {
    issues.push({ path: "score", message: `${input.kind} scores are whole numbers ${scale.min}-${scale.max}` });
  }
  if (input.kind === "ces" && !input.redemptionId) {
    issues.push({ path: "redemptionId", message: "ces is asked after a redemption: name it" });
  }
  if (input.kind === "program" && !input.comment) {
    issues.push({ path: "comment", message: "program feedback is free text: write a comment" });
  }
  return issues;
}

/**
 * Stores one answer. A redemption named must be the member's own (another member's, or an unknown
 * one, is 404); a second answer of the same kind for the same redemption is 409 `already_answered`.
 */
export async function answerFeedback(db: D1Database, shop: Shop, customerId: string, input: FeedbackInput, now = new Date()) {
  const issues = feedbackIssues(input);
  if (issues.length) throw badRequest("The answer is not valid.", issues);
  const redemptionId = input.redemptionId ?? null;
  const score = input.score ?? null;
  const comment = input.comment ? input.comment : null;
  const at = now.toISOString();
  const read = together([
    readMember(db, shop, customerId, now),
    redemptionId ? readRedemption(db, shop.id, redemptionId) : known(null),
    redemptionId ? readAnsweredForRedemption(db, shop.id, input.kind, redemptionId) : known(false),
  ] as const);
  await write(
    db,
    shop,
    read,
    ([memberRead, redemption, answered]) => {
      if (redemptionId && redemption?.customerExternalId !== customerId) throw notFound("Redemption");
      if (answered) throw new ApiError("already_answered", `This ${input.kind} question was already answered for that redemption.`);
      const member = memberWithChange(db, shop, memberRead, {}, now);
      return planOf(null, {
        statements: [
          ...member.statements,
          insertFeedback(db, shop.id, { customerExternalId: customerId, kind: input.kind, score, comment, redemptionId, createdAt: at }),
        ],
        member: customerId,
        standings: [member.change(0)],
        events: [feedbackReceived(customerId, input.kind, score, comment, at)],
      });
    },
    now,
  );
  return { answer: { kind: input.kind, score, comment, redemptionId, createdAt: at } };
}

export interface AnswerQuery {
  kind?: AnswerKind | undefined;
  band?: Band | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** A bound as the store compares it: a day's UTC midnight (the day after, for an inclusive `to`) or an instant. */
function boundOf(text: string | undefined, path: "from" | "to"): string | null {
  if (text === undefined) return null;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const at = new Date(day ? `${text}T00:00:00.000Z` : text);
  const valid = !Number.isNaN(at.getTime()) && (day ? at.toISOString().slice(0, 10) === text : /^\d{4}-\d{2}-\d{2}T/.test(text));
  if (!valid) throw badRequest("The period is not valid.", [{ path, message: "an ISO date (YYYY-MM-DD) or date-time" }]);
  if (day && path === "to") at.setUTCDate(at.getUTCDate() + 1);
  return at.toISOString();
}

function filterOf(query: AnswerQuery): AnswerFilter {
  if (query.band && !query.kind) throw badRequest("A score band needs a kind.", [{ path: "band", message: "give kind too" }]);
  return {
    kind: query.kind ?? null,
    scores: query.band && query.kind ? bandRange(query.kind, query.band) : null,
    from: boundOf(query.from, "from"),
    to: boundOf(query.to, "to"),
  };
}

const encodeCursor = (row: AnswerRow) => btoa(`${row.createdAt}|${row.id}`).replace(/=+$/, "");

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  let text = "";
  try {
    text = atob(cursor);
  } catch {}
  const [createdAt, id] = text.split("|");
  if (!createdAt || !id) throw badRequest("The cursor is not valid.", [{ path: "cursor", message: "a nextCursor from a previous page" }]);
  return { createdAt, id };
}

export const answerView = (row: AnswerRow) => ({
  id: row.id,
  kind: row.kind,
  score: row.score,
  comment: row.comment,
  customerId: row.customerId,
  createdAt: row.createdAt,
  redemptionId: row.redemptionId,
  repurchase: row.repurchase,
  upsell: row.upsell,
  band: bandOf(row.kind, row.score),
  themes: themesOf(row.comment),
});

/** A page of answers, newest first. */
export async function listAnswers(db: D1Database, shop: Shop, query: AnswerQuery & { limit: number; cursor?: string | undefined }) {
  const rows = await answersPage(db, shop.id, filterOf(query), {
    limit: query.limit + 1,
    after: query.cursor ? decodeCursor(query.cursor) : null,
  });
  const page = rows.slice(0, query.limit);
  return { answers: page.map(answerView), nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]!) : null };
}

/** How many recent answers the themes read (the newest first). */
const THEMED_ANSWERS = 5000;

/** The themes of the answers' comments (the newest 5,000 matching the filter). */
export async function answerThemes(db: D1Database, shop: Shop, query: AnswerQuery) {
  const rows = await answersPage(db, shop.id, filterOf(query), { limit: THEMED_ANSWERS, after: null });
  const comments = rows.map((r) => r.comment).filter((c): c is string => Boolean(c?.trim()));
  return { comments: comments.length, themes: themeCounts(comments) };
}

/** Every answer matching the filter, a page at a time (the CSV export). */
export async function* allAnswers(db: D1Database, shop: Shop, query: AnswerQuery) {
  const filter = filterOf(query);
  let after: { createdAt: string; id: string } | null = null;
  for (;;) {
    const rows = await answersPage(db, shop.id, filter, { limit: 500, after });
    yield rows;
    if (rows.length < 500) return;
    const last = rows[rows.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
}
