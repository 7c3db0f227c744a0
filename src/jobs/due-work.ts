/**
 * Work that falls due at a time, for every feature that has some (plan changes, the C4S
 * cancellation, later SLA steps): a feature registers a handler for its kind and writes, replaces
 * or removes its rows here; the runner (due-runner.ts) runs them. Agenda only wakes the runner: one
 * job at the next due instant this process knows of, a job asking another process to help when a
 * batch comes back full, and a tick every minute as the safety net. So Agenda holds a few locks,
 * never one per row. Times are on the app clock; when that clock jumps (tests), the next instant
 * is armed again in Agenda's real time.
 */
import { insertOnce } from '../db/claims.js';
import type { Models } from '../db/models.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { createDueRunner, type DueHandler } from './due-runner.js';
import type { Scheduler } from './scheduler.js';

/** One-time: a due instant has come (or another process asks for help). */
export const DUE_WAKE_JOB = 'due.wake';
/** Every minute: whatever is due and was not woken for (a lost wake, a retry, a dead process's row). */
export const DUE_TICK_JOB = 'due.tick';
/** How long a wake may hold its Agenda lock while its drain runs; past it another process may join. */
const WAKE_LOCK_MS = 10 * 60_000;

export type { DueHandler, DueRow } from './due-runner.js';

export interface DueWork {
  /** Sets what runs rows of `kind` (before `start`). */
  register(kind: string, handler: DueHandler): void;
  /** The work `kind:key` falls due at `at`: written, or replacing what was there for it. */
  schedule(kind: string, key: string, at: Date, data?: Record<string, unknown>): Promise<void>;
  /** Writes the row unless one is there already; true when it was written. */
  ensure(kind: string, key: string, at: Date, data?: Record<string, unknown>): Promise<boolean>;
  /** The work failed in a way its handler dealt with: run it again at `at` (its due time is kept). */
  retry(kind: string, key: string, at: Date, opts: { error: string; data?: Record<string, unknown> }): Promise<void>;
  /** Removes the work; returns how many rows went (0 or 1). */
  cancel(kind: string, key: string): Promise<number>;
  /** Runs what is due now in this process (start-up, after downtime); resolves when it is done. */
  wake(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createDueWork(deps: {
  models: Models;
  scheduler: Scheduler;
  log: Logger;
  clock: Clock;
  concurrency: number;
  processName: string;
}): DueWork {
  const { models, scheduler, clock } = deps;
  const log = deps.log.child({ component: 'due' });
  const now = () => clock.now();
  const handlers = new Map<string, DueHandler>();
  /** The earliest future instant this process has asked Agenda to wake it at (app clock, ms). */
  let nextWake: number | undefined;
  let started = false;
  let unsubscribe: (() => void) | undefined;

  const runner = createDueRunner({
    models,
    log,
    handlers,
    concurrency: deps.concurrency,
    processName: deps.processName,
    now,
    // A drain Agenda woke holds this process's only lock on `due.wake`, so another process takes
    // this one. (A drain started otherwise, at start or by a tick, may take it itself; the other
    // processes then join at their next tick.)
    onBusy: () => scheduler.now(DUE_WAKE_JOB, { help: true }),
    onRearmed: (at) => arm(at),
  });

  /** Runs the drain now without waiting for it; then arms the next instant. */
  function kick(): void {
    if (!started) return;
    void wake().catch((err: Error) =>
      log.error({ event: 'due.drain_failed', err: err.message }, 'due work drain failed; the next tick tries again'),
    );
  }

  async function wake(): Promise<void> {
    await runner.drain();
    await armNext();
  }

  /** Makes sure something wakes this process at `at`: at once when it has come, else an Agenda job. */
  async function arm(at: Date): Promise<void> {
    const nowMs = now().getTime();
    if (at.getTime() <= nowMs) return kick();
    if (nextWake !== undefined && nextWake > nowMs && nextWake <= at.getTime()) return;
    nextWake = at.getTime();
    await scheduler.at(at, DUE_WAKE_JOB, {});
  }

  async function armNext(): Promise<void> {
    const next = await models.DueWork.findOne({ runAt: { $gt: now() } })
      .sort({ runAt: 1 })
      .select({ runAt: 1 })
      .lean();
    if (next) await arm(next.runAt);
  }

  const id = (kind: string, key: string) => `${kind}:${key}`;
  const newRow = (kind: string, key: string, at: Date, data: Record<string, unknown> = {}) => ({
    _id: id(kind, key),
    kind,
    key,
    dueAt: at,
    runAt: at,
    attempt: 0,
    failures: 0,
    data,
  });

  scheduler.define(DUE_WAKE_JOB, async () => wake(), { concurrency: 1, lockLimit: 1, lockLifetimeMs: WAKE_LOCK_MS });
  scheduler.define(DUE_TICK_JOB, async () => kick(), { concurrency: 1, lockLifetimeMs: 60_000 });

  return {
    register(kind, handler) {
      handlers.set(kind, handler);
    },
    async schedule(kind, key, at, data = {}) {
      // An insert first: cheap on every engine, and the usual case (new work).
      if (!(await insertOnce(models.DueWork, newRow(kind, key, at, data)))) {
        const res = await models.DueWork.updateOne(
          { _id: id(kind, key) },
          { $set: { dueAt: at, runAt: at, failures: 0, data }, $unset: { lastError: '' }, $inc: { attempt: 1 } },
        );
        // Finished and removed between the two writes: this is new work again.
        if (res.matchedCount === 0) await insertOnce(models.DueWork, newRow(kind, key, at, data));
      }
      await arm(at);
    },
    async ensure(kind, key, at, data = {}) {
      const written = await insertOnce(models.DueWork, newRow(kind, key, at, data));
      if (written) await arm(at);
      return written;
    },
    async retry(kind, key, at, { error, data }) {
      const res = await models.DueWork.updateOne(
        { _id: id(kind, key) },
        { $set: { runAt: at, lastError: error.slice(0, 500) }, $inc: { attempt: 1, failures: 1 } },
      );
      if (res.matchedCount === 0)
        await insertOnce(models.DueWork, {
          ...newRow(kind, key, at, data),
          failures: 1,
          lastError: error.slice(0, 500),
        });
      await arm(at);
    },
    async cancel(kind, key) {
      return (await models.DueWork.deleteOne({ _id: id(kind, key) })).deletedCount;
    },
    wake,
    async start() {
      started = true;
      // A jump of the app's clock (tests) moves every future due time relative to Agenda's real
      // time: arm again. Work the jump left overdue is like work missed while down: the next tick
      // (or start) takes it, as it would in production.
      unsubscribe = clock.onJump?.(() => {
        nextWake = undefined;
        armNext().catch((err: Error) =>
          log.error(
            { event: 'due.arm_failed', err: err.message },
            'could not arm the next due instant; the next tick tries again',
          ),
        );
      });
      await scheduler.every('1 minute', DUE_TICK_JOB);
      kick(); // whatever fell due while no process ran, at once
    },
    async stop() {
      started = false;
      unsubscribe?.();
      await runner.stop();
    },
  };
}
