/** The NPS question: one answer per member per period, with points and a step toward `nps` challenges. */
import { expiresAt } from "../domain/clock";
import { npsPeriod, npsPeriodEnd } from "../domain/nps";
import { ApiError } from "../http/errors";
import { together } from "../store/batch";
import { appendMemberKeyedCredit } from "../store/ledger";
import { insertNpsResponse, readAnsweredInPeriod } from "../store/nps";
import type { Shop } from "../store/shops";
import { feedbackReceived } from "./feedback";
import { planActivitySteps, readActivityChallenges } from "./challenges";
import { memberWithChange, readMember } from "./members";
import { planOf, write } from "./pipeline";

/**
 * An NPS answer: one per member per period (program.waysToEarn.npsPeriodDays, counted from
 * 1970-01-01 UTC), with the program's NPS points and a step toward `nps` challenges. A second
 * answer in the period is 409 `already_answered` and changes nothing.
 */
export async function answerNps(
  db: D1Database,
  shop: Shop,
  customerId: string,
  answer: { score: number; comment?: string | undefined; repurchase?: number | undefined; upsell?: number | undefined },
  now = new Date(),
) {
  const periodDays = shop.program.waysToEarn.npsPeriodDays;
  const period = npsPeriod(now, periodDays);
  const nextAt = npsPeriodEnd(period, periodDays).toISOString();
  const read = together([
    readMember(db, shop, customerId, now),
    readAnsweredInPeriod(db, shop.id, customerId, period),
    readActivityChallenges(db, shop, customerId, "nps"),
  ] as const);
  const at = now.toISOString();
  const comment = answer.comment ? answer.comment : null;
  const repurchase = answer.repurchase ?? null;
  const upsell = answer.upsell ?? null;
  const committed = await write(
    db,
    shop,
    read,
    ([memberRead, answered, challenges]) => {
      if (answered) {
        throw new ApiError("already_answered", `The question was already answered; ask again from ${nextAt}.`, {
          details: { nextAt },
        });
      }
      const member = memberWithChange(db, shop, memberRead, {}, now);
      const statements = [
        ...member.statements,
        insertNpsResponse(db, shop.id, {
          customerExternalId: customerId,
          score: answer.score,
          comment,
          repurchase,
          upsell,
          period,
          createdAt: at,
        }),
      ];
      const points = shop.program.waysToEarn.nps;
      if (points > 0) {
        statements.push(
          appendMemberKeyedCredit(db, {
            shopId: shop.id,
            customerExternalId: customerId,
            kind: "nps",
            reference: null,
            keyPrefix: `nps:${period}:`,
            delta: points,
            createdAt: at,
            expiresAt: expiresAt(shop.program, now),
          }),
        );
      }
      const steps = planActivitySteps(db, shop, customerId, challenges, now);
      statements.push(...steps.statements);
      return planOf(null, {
        statements,
        member: customerId,
        standings: [member.change(points + steps.points)],
        events: [feedbackReceived(customerId, "nps", answer.score, comment, at)],
      });
    },
    now,
  );
  return {
    response: { score: answer.score, comment, repurchase, upsell, createdAt: at },
    points: committed.moved,
    balance: committed.balance ?? 0,
    nextAt,
  };
}
