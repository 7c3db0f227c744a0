/**
 * Business time in TZ_BILLING: when a team is at work (weekdays, opening hours, holidays), and
 * instants moved forward by an amount of that time. An SLA target of "4 business hours" for an
 * email that came on Friday at 17:30 is due on Monday at 13:00: nights, weekends and holidays do
 * not count. Wall-clock hours are found from the zone's own offsets, so DST changes are respected
 * (a day with a DST change still opens at 09:00 local time; Temporal does the zone arithmetic). No I/O.
 */
import { Temporal } from 'temporal-polyfill';
import { addDays, dayIn, localMidnight, type IsoDate } from './dates.js';

export interface BusinessHours {
  timeZone: string;
  /** ISO weekdays at work: 1 Monday … 7 Sunday. */
  days: readonly number[];
  /** Minutes after local midnight at which the day opens and closes (close > open). */
  open: number;
  close: number;
  /** Days off (`YYYY-MM-DD` in the zone). */
  holidays: ReadonlySet<IsoDate>;
}

const MINUTE = 60_000;
/** Far enough to cross any holiday season; a calendar with no working day at all is refused by the policy file's schema. */
const MAX_DAYS_SCANNED = 3 * 366;

/** `HH:MM` as minutes after midnight, or undefined. */
export function parseClock(text: string): number | undefined {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!m) return undefined;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return minutes <= 24 * 60 ? minutes : undefined;
}

/** ISO weekday (1 Monday … 7 Sunday) of a calendar day. */
export function isoWeekday(date: IsoDate): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() || 7;
}

/** The instant at which the wall clock of `timeZone` reads `minutes` after midnight on `date` (a time a DST jump skips lands just after it). */
export function zonedInstant(date: IsoDate, minutes: number, timeZone: string): Date {
  if (minutes >= 24 * 60) return localMidnight(addDays(date, 1), timeZone);
  const plainTime = Temporal.PlainTime.from({ hour: Math.floor(minutes / 60), minute: minutes % 60 });
  return new Date(Temporal.PlainDate.from(date).toZonedDateTime({ timeZone, plainTime }).epochMilliseconds);
}

/** The hours at work on `date`, or undefined on a weekend day or holiday. */
export function windowOn(date: IsoDate, hours: BusinessHours): { open: number; close: number } | undefined {
  if (!hours.days.includes(isoWeekday(date)) || hours.holidays.has(date)) return undefined;
  return {
    open: zonedInstant(date, hours.open, hours.timeZone).getTime(),
    close: zonedInstant(date, hours.close, hours.timeZone).getTime(),
  };
}

/** Minutes of one business day (a target of "1 business day" is this much business time). */
export function dayLength(hours: BusinessHours): number {
  return hours.close - hours.open;
}

/** `start` moved forward by `minutes` of business time. */
export function addBusinessMinutes(start: Date, minutes: number, hours: BusinessHours): Date {
  let remaining = Math.max(0, minutes) * MINUTE;
  let day = dayIn(hours.timeZone, start);
  for (let i = 0; i < MAX_DAYS_SCANNED; i += 1, day = addDays(day, 1)) {
    const w = windowOn(day, hours);
    if (!w) continue;
    const from = Math.max(w.open, start.getTime());
    if (from >= w.close) continue;
    if (remaining <= w.close - from) return new Date(from + remaining);
    remaining -= w.close - from;
  }
  throw new Error(`no business hours within ${MAX_DAYS_SCANNED} days of ${start.toISOString()}`);
}

/** Business minutes between two instants (0 when `to` is not later). */
export function businessMinutesBetween(from: Date, to: Date, hours: BusinessHours): number {
  if (to.getTime() <= from.getTime()) return 0;
  let total = 0;
  const last = dayIn(hours.timeZone, to);
  for (
    let day = dayIn(hours.timeZone, from), i = 0;
    day <= last && i < MAX_DAYS_SCANNED;
    day = addDays(day, 1), i += 1
  ) {
    const w = windowOn(day, hours);
    if (!w) continue;
    total += Math.max(0, Math.min(w.close, to.getTime()) - Math.max(w.open, from.getTime()));
  }
  return total / MINUTE;
}

/** "1 h 20 m", "3 d 2 h", "45 m": a span of wall-clock time as people read it on a card. */
export function formatSpan(ms: number): string {
  const minutes = Math.max(0, Math.round(Math.abs(ms) / MINUTE));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} m` : `${h} h`;
  return `${m} m`;
}
