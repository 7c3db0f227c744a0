/**
 * The C4S plan's cancellation as due work: one row `c4s:<ref>` per migration, written by billing's
 * "Confirm & schedule", so it survives restarts and, when the bot was down at its time, runs as
 * soon as a process starts. What it does is the migration service's (services/migration-cancel.ts);
 * what runs the rows is registered in jobs/index.ts.
 */
import type { MigrationJobs } from '../services/ports.js';
import type { DueWork } from './due-work.js';

export const C4S_DUE_KIND = 'c4s';
/** The Agenda job it was before due rows; documents of it may still be in a database, and still run. */
export const CANCEL_C4S_JOB = 'migration.cancel_c4s';

/** The migration service's scheduling port, as due rows of kind `c4s` keyed by ticket. */
export function c4sCancellations(due: DueWork): MigrationJobs {
  return {
    schedule: (ref, runAt) => due.schedule(C4S_DUE_KIND, ref, runAt, { runAt: runAt.toISOString() }),
    unschedule: (ref) => due.cancel(C4S_DUE_KIND, ref),
    retry: (ref, at, opts) =>
      due.retry(C4S_DUE_KIND, ref, at, { error: opts.error, data: { runAt: opts.runAt.toISOString() } }),
  };
}
