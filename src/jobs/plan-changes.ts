/**
 * Scheduled plan changes: one persistent Agenda job `plan.apply` per change, its data the change
 * id. Scheduling a change again replaces its job, cancelling removes it, and a job that fell due
 * while no bot ran is picked up at the next start (its nextRunAt is in the past), so it runs late
 * rather than never. The job only names the change; whether it is applied is settled by the
 * change's guard in `plan_effects` (services/plans.ts), so two processes or a re-run apply it once.
 */
import type { JobData, Scheduler } from './scheduler.js';

export const PLAN_APPLY_JOB = 'plan.apply';
/** Every minute: changes overdue by more than a grace period are applied (a job lost or failed). */
export const PLAN_SWEEP_JOB = 'plan.sweep';

export interface PlanJobs {
  /** Schedules the change at `at` (app clock). `replace` first removes a job already there for it. */
  schedule(changeId: string, at: Date, opts?: { replace?: boolean }): Promise<void>;
  /** Removes the change's job; returns how many were removed. */
  unschedule(changeId: string): Promise<number>;
  /** Sets what a due job does (bound once the plan service exists; before the scheduler starts). */
  handle(run: (changeId: string, due: Date | undefined) => Promise<unknown>, sweep: () => Promise<unknown>): void;
}

export function createPlanJobs(scheduler: Scheduler, opts: { concurrency?: number } = {}): PlanJobs {
  let runner: ((changeId: string, due: Date | undefined) => Promise<unknown>) | undefined;
  let sweeper: (() => Promise<unknown>) | undefined;
  scheduler.define(PLAN_SWEEP_JOB, async () => void (await sweeper?.()), { concurrency: 1, lockLifetimeMs: 5 * 60_000 });
  scheduler.define(
    PLAN_APPLY_JOB,
    async (data: JobData, job) => {
      if (!runner) throw new Error('plan.apply ran before the plan service was bound');
      await runner(String(data.changeId), job.scheduledFor);
    },
    // A process locks only what it can run at once: jobs locked but waiting in a local queue would
    // outlive their lock when many fall due together, and the other process could not take them.
    { concurrency: opts.concurrency ?? 5, lockLimit: opts.concurrency ?? 5, lockLifetimeMs: 5 * 60_000 },
  );
  const unschedule = (changeId: string) => scheduler.agenda.cancel({ name: PLAN_APPLY_JOB, data: { changeId } });
  return {
    async schedule(changeId, at, { replace = true } = {}) {
      if (replace) await unschedule(changeId);
      await scheduler.at(at, PLAN_APPLY_JOB, { changeId });
    },
    unschedule,
    handle(run, sweep) {
      runner = run;
      sweeper = sweep;
    },
  };
}
