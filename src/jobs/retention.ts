/**
 * The daily retention run (services/retention.ts) as due work: one row `retention:daily`, due at
 * the next 03:00 UTC. Every process writes it if absent at start; the due runner's claims let one
 * process run each day's attempt, however many run; the run arms the row for the next day before
 * it returns, so the runner keeps it (a re-armed row survives the delete of the attempt that ran).
 * A run that fails is retried with the due runner's back-off.
 */
import type { Clock } from '../clock.js';
import type { Models } from '../db/models.js';
import type { Logger } from '../logger.js';
import { purgeExpired, type RetentionPolicy, type RetentionReport } from '../services/retention.js';
import type { DueWork } from './due-work.js';

export const RETENTION_DUE_KIND = 'retention';
const KEY = 'daily';
/** Past the night's mail and before people start: 03:00 UTC. */
const RUN_HOUR_UTC = 3;

/** The next 03:00 UTC strictly after `now`. */
export function nextRetentionRun(now: Date): Date {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), RUN_HOUR_UTC));
  return at.getTime() > now.getTime() ? at : new Date(at.getTime() + 86_400_000);
}

export interface RetentionJob {
  /** Deletes what is past its retention now, logs one line with the counts, and returns them. */
  run(): Promise<RetentionReport>;
  /** Writes the daily row unless it is there (every process, at start). */
  start(): Promise<void>;
}

export function createRetentionJob(deps: {
  models: Models;
  due: DueWork;
  clock: Clock;
  policy: RetentionPolicy;
  log: Logger;
}): RetentionJob {
  const { models, due, clock, policy } = deps;
  const log = deps.log.child({ component: 'retention' });

  async function run(): Promise<RetentionReport> {
    const started = Date.now();
    const report = await purgeExpired(models, policy, clock.now());
    log.info(
      {
        event: 'retention.done',
        operationalDays: policy.operationalDays,
        customerDays: policy.customerDays,
        deleted: report.deleted,
        ticketsKeptPending: report.ticketsKeptPending,
        ms: Date.now() - started,
      },
      'retention run: rows past their retention deleted',
    );
    return report;
  }

  due.register(RETENTION_DUE_KIND, async () => {
    const report = await run();
    await due.schedule(RETENTION_DUE_KIND, KEY, nextRetentionRun(clock.now()));
    return `deleted ${Object.values(report.deleted).reduce((a, b) => a + b, 0)}`;
  });

  return {
    run,
    async start() {
      await due.ensure(RETENTION_DUE_KIND, KEY, nextRetentionRun(clock.now()));
    },
  };
}
