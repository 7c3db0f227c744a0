/** Migration to Enterprise: its stages and the date rules, free of I/O. */

/**
 * Where a migration stands, in order. The C4S plan's cancellation is not a stage: it happens on its
 * own date (the day before the Enterprise start), whatever step the customer has reached by then.
 */
export const MIGRATION_STAGES = ['requested', 'handed_off', 'scheduled', 'payment', 'projects_confirmed', 'migrating', 'completed'] as const;
export type MigrationStage = (typeof MIGRATION_STAGES)[number];

export const STAGE_LABELS: Record<MigrationStage, string> = {
  requested: 'requested',
  handed_off: 'handed off',
  scheduled: 'scheduled',
  payment: 'payment',
  projects_confirmed: 'projects confirmed',
  migrating: 'migrating',
  completed: 'completed',
};

/** True when `stage` is `than` or beyond it. */
export function reached(stage: string | null | undefined, than: MigrationStage): boolean {
  return MIGRATION_STAGES.indexOf((stage ?? 'requested') as MigrationStage) >= MIGRATION_STAGES.indexOf(than);
}

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

/** The calendar day before `date` (`YYYY-MM-DD`). */
export function dayBefore(date: IsoDate): IsoDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in ms (whole seconds). */
export function offsetMs(timeZone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The UTC instant at which `date` begins in `timeZone`: local 00:00, or, where a DST change skips
 * midnight (e.g. America/Santiago), the first instant of that day. Uses only Intl's zone data.
 */
export function localMidnight(date: IsoDate, timeZone: string): Date {
  if (!isIsoDate(date)) throw new Error(`not a date: ${date}`);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  const day = 86_400_000;
  // The zone's offset is one of those in force around that day; each gives a candidate instant.
  const candidates = [...new Set([wall - day, wall, wall + day].map((at) => offsetMs(timeZone, at)))].map((off) => wall - off).sort((a, b) => a - b);
  const exact = candidates.find((c) => c + offsetMs(timeZone, c) === wall);
  if (exact !== undefined) return new Date(exact);
  // Midnight does not exist that day: the day starts where the clock jumps, the earliest candidate on it.
  const onDay = candidates.find((c) => dayIn(timeZone, new Date(c)) === date);
  if (onDay === undefined) throw new Error(`cannot find the start of ${date} in ${timeZone}`);
  return new Date(onDay);
}

/** When the C4S plan is cancelled for an Enterprise start on `startDate`: 00:00 on the day before, in `timeZone`. */
export function c4sCancellationAt(startDate: IsoDate, timeZone: string): Date {
  return localMidnight(dayBefore(startDate), timeZone);
}
