/**
 * Billing dates: calendar days (`YYYY-MM-DD`) in TZ_BILLING and the instants at which they begin.
 * The zone arithmetic lives in migration.ts (where it was first needed) and is re-exported here,
 * so plan changes and migrations share one implementation; this file adds day and month steps.
 */
import { dayBefore, dayIn, isIsoDate, localMidnight, type IsoDate } from './migration.js';

export { dayBefore, dayIn, isIsoDate, localMidnight, type IsoDate };

function parts(date: IsoDate): [number, number, number] {
  if (!isIsoDate(date)) throw new Error(`not a date: ${date}`);
  return date.split('-').map(Number) as [number, number, number];
}

const fromUtc = (ms: number): IsoDate => new Date(ms).toISOString().slice(0, 10);

/** `date` plus `days` calendar days (negative goes back). */
export function addDays(date: IsoDate, days: number): IsoDate {
  const [y, m, d] = parts(date);
  return fromUtc(Date.UTC(y, m - 1, d + days));
}

/** Whole calendar days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  const [y1, m1, d1] = parts(from);
  const [y2, m2, d2] = parts(to);
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / 86_400_000);
}

/**
 * `months` months after `anchor`, on the anchor's day of the month or the month's last day when it
 * is shorter: a period anchored on the 31st renews on 28/29 February, then on 31 March.
 */
export function addMonths(anchor: IsoDate, months: number): IsoDate {
  const [y, m, d] = parts(anchor);
  const firstOfTarget = new Date(Date.UTC(y, m - 1 + months, 1));
  const lastDay = new Date(Date.UTC(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth() + 1, 0)).getUTCDate();
  return fromUtc(Date.UTC(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth(), Math.min(d, lastDay)));
}

/** The wall-clock time of `at` in `timeZone`, `HH:MM` on a 24-hour clock. */
export function timeOfDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

/**
 * An instant as people read it: `2026-12-01 18:30 (Europe/Berlin)`, in TZ_BILLING. Every refusal,
 * card, history line and email that names a time uses this, so they all agree; logs keep ISO.
 */
export function formatInstant(at: Date, timeZone: string): string {
  return `${dayIn(timeZone, at)} ${timeOfDay(at, timeZone)} (${timeZone})`;
}

/** The instant `days` days after the start of `date`, at 00:00 in `timeZone` (DST-safe: days, not 24 h steps). */
export function midnightAfter(date: IsoDate, days: number, timeZone: string): Date {
  return localMidnight(addDays(date, days), timeZone);
}
