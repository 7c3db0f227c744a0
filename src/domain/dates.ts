/**
 * Billing dates: calendar days (`YYYY-MM-DD`) in TZ_BILLING and the instants at which they begin.
 * Zone arithmetic is Temporal's (temporal-polyfill, on Intl's zone data): it knows where a DST
 * change skips midnight, which the offset probing this replaced had to work out by hand. Plan
 * changes and migrations both read their days and instants here.
 */
import { Temporal } from 'temporal-polyfill';

/** A calendar date as `YYYY-MM-DD`; billing dates are days in TZ_BILLING, not instants. */
export type IsoDate = string;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(s: string): boolean {
  if (!ISO_DATE.test(s)) return false;
  try {
    Temporal.PlainDate.from(s); // rejects 2025-02-30 and friends
    return true;
  } catch {
    return false;
  }
}

function plainDate(date: IsoDate): Temporal.PlainDate {
  if (!isIsoDate(date)) throw new Error(`not a date: ${date}`);
  return Temporal.PlainDate.from(date);
}

const zoned = (at: Date, timeZone: string) =>
  Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(timeZone);

/** The calendar day `now` falls on in `timeZone`. */
export function dayIn(timeZone: string, now: Date): IsoDate {
  return zoned(now, timeZone).toPlainDate().toString();
}

/** A start date may be today (in TZ_BILLING) or later; ISO dates compare as strings. */
export function isPastDay(date: IsoDate, today: IsoDate): boolean {
  return date < today;
}

/** `date` plus `days` calendar days (negative goes back). */
export function addDays(date: IsoDate, days: number): IsoDate {
  return plainDate(date).add({ days }).toString();
}

/** The calendar day before `date` (`YYYY-MM-DD`). */
export function dayBefore(date: IsoDate): IsoDate {
  return addDays(date, -1);
}

/** Whole calendar days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return plainDate(from).until(plainDate(to), { largestUnit: 'days' }).days;
}

/**
 * `months` months after `anchor`, on the anchor's day of the month or the month's last day when it
 * is shorter: a period anchored on the 31st renews on 28/29 February, then on 31 March.
 */
export function addMonths(anchor: IsoDate, months: number): IsoDate {
  // Counted from the anchor each time (not month by month), and 'constrain' clamps to the last day.
  return plainDate(anchor).add({ months }, { overflow: 'constrain' }).toString();
}

/**
 * The UTC instant at which `date` begins in `timeZone`: local 00:00, or, where a DST change skips
 * midnight (e.g. America/Santiago), the first instant of that day.
 */
export function localMidnight(date: IsoDate, timeZone: string): Date {
  // Without a time, Temporal gives the start of the day, which is what skipped midnights need.
  return new Date(plainDate(date).toZonedDateTime({ timeZone }).epochMilliseconds);
}

/** The wall-clock time of `at` in `timeZone`, `HH:MM` on a 24-hour clock. */
export function timeOfDay(at: Date, timeZone: string): string {
  return zoned(at, timeZone).toPlainTime().toString({ smallestUnit: 'minute' });
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
