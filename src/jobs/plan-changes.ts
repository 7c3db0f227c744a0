/**
 * Scheduled plan changes as due work (jobs/due-work.ts): one row `plan:<change id>` per change,
 * written when the change is scheduled, replaced when it is scheduled again, removed when it is
 * cancelled, armed again when billing says "later". A row whose time passed while no bot ran is
 * taken at the next start, late rather than never. The row only names the change; whether it is
 * applied is settled by the change's guard in `plan_effects` (services/plan-apply.ts), so two
 * processes or a re-run apply it once. What runs the rows is registered in jobs/index.ts.
 */
import type { PlanJobs } from '../services/ports.js';
import type { DueWork } from './due-work.js';

export const PLAN_DUE_KIND = 'plan';
/**
 * One Agenda job per change, as scheduled before due rows existed. Documents of it may still be
 * in a database: when one fires, it applies its change through the same guarded path.
 */
export const PLAN_APPLY_JOB = 'plan.apply';
/** Every minute: changes still scheduled well after their time get their due row back (a lost write). */
export const PLAN_SWEEP_JOB = 'plan.sweep';

/** The plan service's scheduling port, as due rows of kind `plan` keyed by change. */
export function planChanges(due: DueWork): PlanJobs {
  return {
    schedule: (changeId, at) => due.schedule(PLAN_DUE_KIND, changeId, at),
    retry: (changeId, at, error) => due.retry(PLAN_DUE_KIND, changeId, at, { error }),
    ensure: (changeId, at) => due.ensure(PLAN_DUE_KIND, changeId, at),
    unschedule: (changeId) => due.cancel(PLAN_DUE_KIND, changeId),
  };
}
