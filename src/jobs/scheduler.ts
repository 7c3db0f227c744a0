/**
 * Agenda on the application's own MongoDB connection. Everything that should happen later (or
 * again, after a failure) is a persistent job here, shared by every bot process through Agenda's
 * locks. Locks are not enough on every engine, so each job guards its own side effect (see
 * ARCHITECTURE.md, "Guards are unique indexes").
 */
import { Agenda, type Job } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import type { Db } from 'mongodb';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../clock.js';

export type JobData = Record<string, string | number | boolean | null>;
export type JobHandler = (data: JobData, job: { name: string; scheduledFor: Date | undefined }) => Promise<void>;

export interface Scheduler {
  define(
    name: string,
    handler: JobHandler,
    opts?: { concurrency?: number; lockLifetimeMs?: number; lockLimit?: number },
  ): void;
  /** Runs as soon as a worker is free. */
  now(name: string, data: JobData): Promise<void>;
  /** Runs at `when` on the app's clock (Agenda itself keeps real time). */
  at(when: Date, name: string, data: JobData): Promise<void>;
  every(interval: string, name: string): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly agenda: Agenda;
}

export function createScheduler(
  db: Db,
  log: Logger,
  opts: { processEveryMs: number; name?: string; clock?: Clock },
): Scheduler {
  const clock = opts.clock ?? systemClock;
  /** How far the app's clock is ahead of real time (0 in production). */
  const skewMs = () => clock.now().getTime() - Date.now();
  const agenda = new Agenda({
    backend: new MongoBackend({ mongo: db, collection: 'jobs' }),
    name: opts.name ?? `bot-${process.pid}`,
    processEvery: opts.processEveryMs,
    defaultLockLifetime: 5 * 60 * 1000,
    maxConcurrency: 20,
    // Done one-time jobs are removed: the collection stays small, which keeps lock queries cheap.
    removeOnComplete: true,
  });
  const jobLog = log.child({ component: 'jobs' });
  agenda.on('error', (err: Error) => jobLog.error({ event: 'jobs.error', err: err.message }, 'scheduler error'));

  return {
    agenda,
    define(name, handler, defineOpts = {}) {
      agenda.define(
        name,
        async (job: Job) => {
          const data = (job.attrs.data ?? {}) as JobData;
          try {
            const due = job.attrs.nextRunAt;
            await handler(data, { name, scheduledFor: due ? new Date(due.getTime() + skewMs()) : undefined });
          } catch (err) {
            jobLog.error({ event: 'jobs.failed', job: name, err: (err as Error).message }, 'job failed');
            throw err;
          }
        },
        {
          concurrency: defineOpts.concurrency ?? 5,
          lockLifetime: defineOpts.lockLifetimeMs ?? 5 * 60 * 1000,
          ...(defineOpts.lockLimit ? { lockLimit: defineOpts.lockLimit } : {}),
        },
      );
    },
    async now(name, data) {
      await agenda.now(name, data);
    },
    async at(when, name, data) {
      await agenda.schedule(new Date(when.getTime() - skewMs()), name, data);
    },
    async every(interval, name) {
      await agenda.every(interval, name, {}, { skipImmediate: false });
    },
    async start() {
      await agenda.start();
    },
    async stop() {
      await agenda.stop();
    },
  };
}
