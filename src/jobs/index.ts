/**
 * Every job and kind of due work, registered in one place the way Slack listeners are: each is a
 * few lines naming its work and calling a service (or an adapter's sweep) that does it. Job names
 * and due kinds live in src/jobs; what the work does lives in src/services. startApp calls
 * `duePorts` while it builds the core (the services schedule through them), then `registerJobs`,
 * then starts the scheduler. (The due runner's own wakes are in due-work.ts; each IMAP mailbox's
 * poll is its ingestor's, under the mailbox lease, in mail/imap-jobs.ts.)
 */
import type { CancelOutcome } from '../services/migration-cancel.js';
import { CANCEL_RUN_MS } from '../services/migration-cancel.js';
import type { Services } from '../services/index.js';
import type { MigrationJobs, PlanJobs } from '../services/ports.js';
import type { DueWork } from './due-work.js';
import { c4sCancellations, C4S_DUE_KIND, CANCEL_C4S_JOB } from './migration-cancel.js';
import { DELIVER_JOB, SWEEP_JOB, type OutboxWorker } from './outbox.js';
import { planChanges, PLAN_APPLY_JOB, PLAN_DUE_KIND, PLAN_SWEEP_JOB } from './plan-changes.js';
import type { JobData, Scheduler } from './scheduler.js';
import { SLA_STEPS } from '../domain/sla.js';
import { slaDueKind } from './sla-steps.js';

/** Every minute: stored mail left `received` (a crash, a failure) goes back to the mail lane. */
export const SWEEP_MAIL_JOB = 'mail.sweep';

/** The scheduling ports the services are built with, as due rows. */
export function duePorts(due: DueWork): { migrations: MigrationJobs; plans: PlanJobs } {
  return { migrations: c4sCancellations(due), plans: planChanges(due) };
}

export interface Jobs {
  /** The C4S cancellation's handler, exposed so tests can run it as several processes would. */
  migrationCancel: { run(data: JobData): Promise<CancelOutcome> };
  /** Puts the every-minute sweeps on Agenda, once it has started (every process asks; Agenda keeps one of each). */
  startSweeps(): Promise<void>;
}

export function registerJobs(
  scheduler: Scheduler,
  due: DueWork,
  services: Services,
  adapters: {
    outbox: Pick<OutboxWorker, 'deliverSoon' | 'sweep'>;
    mail: { sweep(): Promise<number> };
    /** Only for `plan.apply` Agenda jobs an earlier version left: how many one process runs and locks per poll. */
    planConcurrency?: number | undefined;
  },
): Jobs {
  const { outbox, mail } = adapters;

  // Outbox retries: the job only wakes this process at the row's time; the lane does the work, so
  // a bulk backlog of retries cannot occupy the job's slots while an interactive row is due.
  scheduler.define(
    DELIVER_JOB,
    async (data) => void outbox.deliverSoon(String(data.id), data.lane === 'bulk' ? 'bulk' : 'interactive'),
    { concurrency: 10, lockLifetimeMs: 60_000 },
  );
  scheduler.define(SWEEP_JOB, async () => void (await outbox.sweep()), { concurrency: 1, lockLifetimeMs: 120_000 });

  scheduler.define(SWEEP_MAIL_JOB, async () => void (await mail.sweep()), { concurrency: 1, lockLifetimeMs: 600_000 });

  // Plan changes: the row names the change; the plan service applies it once (services/plan-apply.ts).
  const applyPlan = async (changeId: string) => String(await services.plans.apply(changeId));
  due.register(PLAN_DUE_KIND, (row) => applyPlan(row.key));
  scheduler.define(PLAN_SWEEP_JOB, async () => void (await services.plans.sweep()), {
    concurrency: 1,
    lockLimit: 1,
    lockLifetimeMs: 5 * 60_000,
  });
  scheduler.define(PLAN_APPLY_JOB, async (data) => void (await applyPlan(String(data.changeId))), {
    concurrency: adapters.planConcurrency ?? 5,
    lockLimit: adapters.planConcurrency ?? 5,
    lockLifetimeMs: 5 * 60_000,
  });

  // The C4S cancellation: the row names the ticket and the time it was scheduled for; the migration
  // service cancels once (services/migration-cancel.ts).
  const cancelC4s = (data: JobData) =>
    services.migrations.cancelC4s({ ref: String(data.ref), runAt: String(data.runAt) });
  due.register(C4S_DUE_KIND, (row) =>
    cancelC4s({ ref: row.key, runAt: String(row.data.runAt ?? row.dueAt.toISOString()) }),
  );
  scheduler.define(CANCEL_C4S_JOB, async (data) => void (await cancelC4s(data)), {
    concurrency: 5,
    lockLifetimeMs: CANCEL_RUN_MS,
  });

  // The SLA ladder: each row names the ticket and target; the SLA service looks at the ticket again
  // and posts once per ticket, target and step (services/sla.ts).
  for (const step of SLA_STEPS) due.register(slaDueKind(step), (row) => services.sla.runStep(step, row.key, row.data));

  return {
    migrationCancel: { run: cancelC4s },
    async startSweeps() {
      for (const name of [SWEEP_JOB, SWEEP_MAIL_JOB, PLAN_SWEEP_JOB]) await scheduler.every('1 minute', name);
    },
  };
}
