/** Migration to Enterprise: its stages and the date rules, free of I/O. */

/** Where a migration stands. Later slices add scheduling, payment, projects and completion. */
export const MIGRATION_STAGES = ['requested', 'handed_off'] as const;
export type MigrationStage = (typeof MIGRATION_STAGES)[number];

/** A calendar date as `YYYY-MM-DD`; billing dates are days in TZ_BILLING, not instants. */
export type IsoDate = string;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s; // rejects 2025-02-30 and friends
}

/** The calendar day `now` falls on in `timeZone`. */
export function dayIn(timeZone: string, now: Date): IsoDate {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** A start date may be today (in TZ_BILLING) or later; ISO dates compare as strings. */
export function isPastDay(date: IsoDate, today: IsoDate): boolean {
  return date < today;
}
