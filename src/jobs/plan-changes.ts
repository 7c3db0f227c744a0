/**
 * Scheduled plan changes as due work (jobs/due-work.ts): one row `plan:<change id>` per change,
 * written when the change is scheduled, replaced when it is scheduled again, removed when it is
 * cancelled, armed again when billing says "later". A row whose time passed while no bot ran is
 * taken at the next start, late rather than never. The row only names the change; whether it is
 * applied is settled by the change's guard in `plan_effects` (services/plan-apply.ts), so two
 * processes or a re-run apply it once.
 */
import type { DueWork } from './due-work.js';
import type { JobData, Scheduler } from './scheduler.js';

export const PLAN_DUE_KIND = 'plan';
/**
 * One Agenda job per change, as scheduled before due rows existed. Documents of it may still be
 * in a database: when one fires, it applies its change through the same guarded path.
 */
export const PLAN_APPLY_JOB = 'plan.apply';
/** Every minute: changes still scheduled well after their time get their due row back (a lost write). */
export const PLAN_SWEEP_JOB = 'plan.sweep';

export interface PlanJobs {
  /** The change falls due at `at` (app clock); replaces the time it had. */
  schedule(changeId: string, at: Date): Promise<void>;
  /** The change failed to apply (`error`); it is tried again at `at`. */
  retry(changeId: string, at: Date, error: string): Promise<void>;
  /** Writes the change's due row unless it has one; true when it was missing. */
  ensure(changeId: string, at: Date): Promise<boolean>;
  /** Removes the change's due row; returns how many were removed. */
  unschedule(changeId: string): Promise<number>;
  /** Sets what a due change does (bound once the plan service exists; before the runner starts). */
  handle(run: (changeId: string) => Promise<unknown>, sweep: () => Promise<unknown>): void;
}

export function createPlanJobs(scheduler: Scheduler, due: DueWork, opts: { concurrency?: number } = {}): PlanJobs {
  let runner: ((changeId: string) => Promise<unknown>) | undefined;
  let sweeper: (() => Promise<unknown>) | undefined;
  const run = async (changeId: string) => {
    if (!runner) throw new Error('a plan change fell due before the plan service was bound');
    return String(await runner(changeId));
  };
  due.register(PLAN_DUE_KIND, (row) => run(row.key));
  scheduler.define(PLAN_SWEEP_JOB, async () => void (await sweeper?.()), { concurrency: 1, lockLimit: 1, lockLifetimeMs: 5 * 60_000 });
  scheduler.define(PLAN_APPLY_JOB, async (data: JobData) => void (await run(String(data.changeId))), {
    concurrency: opts.concurrency ?? 5,
    lockLimit: opts.concurrency ?? 5,
    lockLifetimeMs: 5 * 60_000,
  });
  return {
    schedule: (changeId, at) => due.schedule(PLAN_DUE_KIND, changeId, at),
    retry: (changeId, at, error) => due.retry(PLAN_DUE_KIND, changeId, at, { error }),
    ensure: (changeId, at) => due.ensure(PLAN_DUE_KIND, changeId, at),
    unschedule: (changeId) => due.cancel(PLAN_DUE_KIND, changeId),
    handle(apply, sweep) {
      runner = apply;
      sweeper = sweep;
    },
  };
}
