/**
 * registerJobs (src/jobs/index.ts) without a database: each job and kind of due work calls the
 * service that does its work, with what its row or Agenda document carries, and every sweep put
 * on Agenda has a definition. What the services then do is tested with the real app elsewhere.
 */
import { describe, expect, it } from '@jest/globals';
import { registerJobs, SWEEP_MAIL_JOB } from '../src/jobs/index.js';
import type { DueHandler, DueRow, DueWork } from '../src/jobs/due-work.js';
import type { JobData, JobHandler, Scheduler } from '../src/jobs/scheduler.js';
import { C4S_DUE_KIND, CANCEL_C4S_JOB } from '../src/jobs/migration-cancel.js';
import { PLAN_APPLY_JOB, PLAN_DUE_KIND, PLAN_SWEEP_JOB } from '../src/jobs/plan-changes.js';
import { DELIVER_JOB, SWEEP_JOB } from '../src/jobs/outbox.js';
import type { Services } from '../src/services/index.js';

function wire() {
  const calls: unknown[][] = [];
  const defined = new Map<string, { handler: JobHandler; opts: unknown }>();
  const every: string[] = [];
  const kinds = new Map<string, DueHandler>();
  const scheduler = {
    define: (name: string, handler: JobHandler, opts?: unknown) => void defined.set(name, { handler, opts }),
    every: async (_interval: string, name: string) => void every.push(name),
  } as unknown as Scheduler;
  const due = { register: (kind: string, handler: DueHandler) => void kinds.set(kind, handler) } as unknown as DueWork;
  const services = {
    plans: {
      apply: async (changeId: string) => (calls.push(['plans.apply', changeId]), 'applied'),
      sweep: async () => (calls.push(['plans.sweep']), 0),
    },
    migrations: { cancelC4s: async (data: unknown) => (calls.push(['migrations.cancelC4s', data]), 'cancelled') },
    sla: {
      runStep: async (step: string, key: string, data: unknown) => (
        calls.push(['sla.runStep', step, key, data]),
        'reminded'
      ),
    },
  } as unknown as Services;
  const jobs = registerJobs(scheduler, due, services, {
    outbox: {
      deliverSoon: (id, lane) => (calls.push(['outbox.deliverSoon', id, lane]), true),
      sweep: async () => (calls.push(['outbox.sweep']), 0),
    },
    mail: { sweep: async () => (calls.push(['mail.sweep']), 0) },
    planConcurrency: 3,
  });
  const runJob = (name: string, data: JobData = {}) =>
    defined.get(name)!.handler(data, { name, scheduledFor: undefined });
  const row = (
    kind: string,
    key: string,
    data: Record<string, unknown>,
    dueAt = new Date('2031-03-31T22:00:00.000Z'),
  ) => ({ _id: `${kind}:${key}`, kind, key, dueAt, runAt: dueAt, attempt: 0, failures: 0, data }) as unknown as DueRow;
  return { calls, defined, every, kinds, jobs, runJob, row };
}

describe('registerJobs', () => {
  it('when an SLA step row falls due, then the SLA service runs that step for its ticket and target', async () => {
    const { calls, kinds, row } = wire();
    expect([...kinds.keys()].filter((k) => k.startsWith('sla.')).sort()).toEqual([
      'sla.admins',
      'sla.breach',
      'sla.remind',
    ]);
    expect(
      await kinds.get('sla.remind')!(row('sla.remind', 'AR-7:firstResponse', { at: '2031-03-31T22:00:00.000Z' })),
    ).toBe('reminded');
    await kinds.get('sla.breach')!(row('sla.breach', 'AR-7:resolution', { at: 'x' }));
    expect(calls).toEqual([
      ['sla.runStep', 'remind', 'AR-7:firstResponse', { at: '2031-03-31T22:00:00.000Z' }],
      ['sla.runStep', 'breach', 'AR-7:resolution', { at: 'x' }],
    ]);
  });

  it('when a plan change falls due, by its due row or an Agenda job an earlier version left, then the plan service applies that change', async () => {
    const { calls, kinds, runJob, row, defined } = wire();
    expect(await kinds.get(PLAN_DUE_KIND)!(row(PLAN_DUE_KIND, 'chg-1', {}))).toBe('applied');
    await runJob(PLAN_APPLY_JOB, { changeId: 'chg-2' });
    await runJob(PLAN_SWEEP_JOB);
    expect(calls).toEqual([['plans.apply', 'chg-1'], ['plans.apply', 'chg-2'], ['plans.sweep']]);
    expect(defined.get(PLAN_APPLY_JOB)!.opts).toEqual({ concurrency: 3, lockLimit: 3, lockLifetimeMs: 300_000 });
  });

  it('when the C4S cancellation falls due, then the migration service cancels for the ticket and the time on its row (its due time when the row has none)', async () => {
    const { calls, kinds, runJob, row, jobs } = wire();
    await kinds.get(C4S_DUE_KIND)!(row(C4S_DUE_KIND, 'AR-7', { runAt: '2031-03-31T22:00:00.000Z' }));
    await kinds.get(C4S_DUE_KIND)!(row(C4S_DUE_KIND, 'AR-8', {}, new Date('2031-04-30T22:00:00.000Z')));
    await runJob(CANCEL_C4S_JOB, { ref: 'AR-9', runAt: '2031-05-31T22:00:00.000Z' });
    expect(await jobs.migrationCancel.run({ ref: 'AR-10', runAt: '2031-06-30T22:00:00.000Z' })).toBe('cancelled');
    expect(calls).toEqual([
      ['migrations.cancelC4s', { ref: 'AR-7', runAt: '2031-03-31T22:00:00.000Z' }],
      ['migrations.cancelC4s', { ref: 'AR-8', runAt: '2031-04-30T22:00:00.000Z' }],
      ['migrations.cancelC4s', { ref: 'AR-9', runAt: '2031-05-31T22:00:00.000Z' }],
      ['migrations.cancelC4s', { ref: 'AR-10', runAt: '2031-06-30T22:00:00.000Z' }],
    ]);
  });

  it('when an outbox retry is due, then its row goes to the lane it names (interactive unless bulk); the sweeps run the outbox and mail sweeps', async () => {
    const { calls, runJob } = wire();
    await runJob(DELIVER_JOB, { id: 'row-1', lane: 'bulk' });
    await runJob(DELIVER_JOB, { id: 'row-2' });
    await runJob(SWEEP_JOB);
    await runJob(SWEEP_MAIL_JOB);
    expect(calls).toEqual([
      ['outbox.deliverSoon', 'row-1', 'bulk'],
      ['outbox.deliverSoon', 'row-2', 'interactive'],
      ['outbox.sweep'],
      ['mail.sweep'],
    ]);
  });

  it('when the sweeps are started, then each is put on Agenda every minute and each has a definition', async () => {
    const { every, defined, jobs } = wire();
    expect(every).toEqual([]);
    await jobs.startSweeps();
    expect(every).toEqual([SWEEP_JOB, SWEEP_MAIL_JOB, PLAN_SWEEP_JOB]);
    for (const name of every) expect(defined.has(name)).toBe(true);
  });
});
