/** Migration to Enterprise: its stages and the date rules, free of I/O. */
import { dayBefore, localMidnight, type IsoDate } from './dates.js';

/**
 * Where a migration stands, in order. The C4S plan's cancellation is not a stage: it happens on its
 * own date (the day before the Enterprise start), whatever step the customer has reached by then.
 */
export const MIGRATION_STAGES = [
  'requested',
  'handed_off',
  'scheduled',
  'payment',
  'projects_confirmed',
  'migrating',
  'completed',
] as const;
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

// The calendar helpers live in dates.ts; they are re-exported here because the migration's
// handlers, views and tests read them beside the stages.
export { dayBefore, dayIn, isIsoDate, isPastDay, localMidnight, type IsoDate } from './dates.js';

/** When the C4S plan is cancelled for an Enterprise start on `startDate`: 00:00 on the day before, in `timeZone`. */
export function c4sCancellationAt(startDate: IsoDate, timeZone: string): Date {
  return localMidnight(dayBefore(startDate), timeZone);
}
