import type { Env } from "../env";
import { dropKeysBefore } from "../store/idempotency";
import { daysAgo } from "../domain/clock";

/** The daily cron: housekeeping that must never be exact-time critical. */
export async function runScheduledWork(env: Env, now: Date): Promise<void> {
  // Idempotency keys live at least 24 h; keep two days.
  await dropKeysBefore(env.DB, daysAgo(now, 2));
}
