import type { Program } from "../contract/program";

/** When points earned at `now` expire under the program (null: they do not). */
export function expiresAt(program: Program, now: Date): string | null {
  const days = program.expiry.days;
  return days ? new Date(now.getTime() + days * 86_400_000).toISOString() : null;
}

export function daysAgo(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString();
}
