/**
 * The C4S plan's cancellation as due work: one row `c4s:<ref>` per migration, written by billing's
 * "Confirm & schedule", so it survives restarts and, when the bot was down at its time, runs as
 * soon as a process starts. What it does is the migration service's (services/migration-cancel.ts).
 */
import type { MigrationJobs } from '../services/ports.js';
import type { CancelOutcome } from '../services/migration-cancel.js';
import { CANCEL_RUN_MS } from '../services/migration-cancel.js';
import type { DueWork } from './due-work.js';
import type { JobData, Scheduler } from './scheduler.js';

export const C4S_DUE_KIND = 'c4s';
/** The Agenda job it was before due rows; documents of it may still be in a database, and still run. */
export const CANCEL_C4S_JOB = 'migration.cancel_c4s';

/** The migration service's scheduling port, as due rows of kind `c4s` keyed by ticket. */
export function c4sCancellations(due: DueWork): MigrationJobs {
  return {
    schedule: (ref, runAt) => due.schedule(C4S_DUE_KIND, ref, runAt, { runAt: runAt.toISOString() }),
    unschedule: (ref) => due.cancel(C4S_DUE_KIND, ref),
    retry: (ref, at, opts) => due.retry(C4S_DUE_KIND, ref, at, { error: opts.error, data: { runAt: opts.runAt.toISOString() } }),
  };
}

export interface MigrationCancelJob extends MigrationJobs {
  /** The due row's handler, exposed so tests can run it as several processes would. */
  run(data: JobData): Promise<CancelOutcome>;
  /** Binds the use case (the migration service is built after the job). */
  handle(cancel: (data: { ref: string; runAt: string }) => Promise<CancelOutcome>): void;
}

export function createMigrationCancelJob(deps: { scheduler: Scheduler; due: DueWork }): MigrationCancelJob {
  const { scheduler, due } = deps;
  let cancel: ((data: { ref: string; runAt: string }) => Promise<CancelOutcome>) | undefined;
  const run = (data: JobData) => {
    if (!cancel) throw new Error('the C4S cancellation ran before the migration service was bound');
    return cancel({ ref: String(data.ref), runAt: String(data.runAt) });
  };
  due.register(C4S_DUE_KIND, (row) => run({ ref: row.key, runAt: String(row.data.runAt ?? row.dueAt.toISOString()) }));
  scheduler.define(CANCEL_C4S_JOB, async (data) => void (await run(data)), { concurrency: 5, lockLifetimeMs: CANCEL_RUN_MS });
  return {
    ...c4sCancellations(due),
    run,
    handle(use) {
      cancel = use;
    },
  };
}
