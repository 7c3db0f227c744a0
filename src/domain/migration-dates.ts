/**
 * How the C4S plan's cancellation is named to people: the stored instant in TZ_BILLING and its
 * relation to the Enterprise start. Billing's answers, the cards, the history and the customer's
 * email all build on these, so none of them can name another day.
 */
import { dayBefore, dayIn, formatInstant, isIsoDate, timeOfDay } from './dates.js';

/**
 * `the day before the Enterprise start on 2026-12-03`, said only when it is true of the instant
 * (the cancellation's day in `timeZone` is the start date minus one day); otherwise just `before`.
 */
export function relationToStart(
  cancelAt: Date,
  startDate: string | null | undefined,
  timeZone: string,
  whose: 'the' | 'your',
): string {
  if (!startDate) return `before ${whose} Enterprise start`;
  const dayBeforeStart = isIsoDate(startDate) && dayBefore(startDate) === dayIn(timeZone, cancelAt);
  return `${dayBeforeStart ? 'the day before' : 'before'} ${whose} Enterprise start on ${startDate}`;
}

/** `2026-12-02 00:00 (Europe/Berlin), the day before the Enterprise start on 2026-12-03`, for staff. */
export function c4sCancellationText(cancelAt: Date, startDate: string | null | undefined, timeZone: string): string {
  return `${formatInstant(cancelAt, timeZone)}, ${relationToStart(cancelAt, startDate, timeZone, 'the')}`;
}

/** `at 00:00 (Europe/Berlin) on 2026-12-02`, as the customer's email puts it. */
export function c4sCancellationForCustomer(cancelAt: Date, timeZone: string): string {
  return `at ${timeOfDay(cancelAt, timeZone)} (${timeZone}) on ${dayIn(timeZone, cancelAt)}`;
}
