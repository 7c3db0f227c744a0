/**
 * The due-work runner itself (src/jobs/due-work.ts, due-runner.ts), with a kind of work registered
 * by the test: two bot processes on one database and one clock, the real Agenda scheduler waking
 * them. Work due at one instant runs exactly once across both; cancelled work never runs; failing
 * work is retried with back-off and then done once; Agenda holds one wake, not one job per row.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { settableClock, type SettableClock } from '../src/clock.js';
import { DUE_WAKE_JOB } from '../src/jobs/due-work.js';
import type { DueRow } from '../src/jobs/due-runner.js';
import { eventually, startTestApp, testDatabaseUri, type TestApp } from './support/test-app.js';

const KIND = 'test';
let clock: SettableClock;
let a: TestApp;
let b: TestApp;

/** Every run of the test kind, by key: which process, and when on the app clock. */
const runs = new Map<string, { by: string; at: Date }[]>();
/** Keys whose first run throws (as an unavailable billing system would). */
const failOnce = new Set<string>();
let inFlight = 0;
let maxInFlight = 0;

function handlerFor(name: string) {
  return async (row: DueRow) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      // The work itself takes a moment, so rows due together overlap and both processes get some.
      await new Promise((r) => setTimeout(r, 20));
      const seen = runs.get(row.key) ?? [];
      seen.push({ by: name, at: clock.now() });
      runs.set(row.key, seen);
      if (failOnce.delete(row.key)) throw new Error('not now');
      return 'ran';
    } finally {
      inFlight -= 1;
    }
  };
}

beforeAll(async () => {
  const databaseUri = testDatabaseUri();
  clock = settableClock(new Date('2031-05-01T10:00:00Z'));
  const env = { JOBS_PROCESS_EVERY_MS: '200', JOBS_DUE_CONCURRENCY: '4' };
  a = await startTestApp({ databaseUri, env, start: { clock, instanceName: 'due-a' } });
  b = await startTestApp({ databaseUri, env, start: { clock, instanceName: 'due-b' } });
  a.app.due.register(KIND, handlerFor('due-a'));
  b.app.due.register(KIND, handlerFor('due-b'));
});
afterAll(async () => {
  await b?.stop({ dropDatabase: false });
  await a?.stop();
});

const rowsLeft = (keys: string[]) =>
  a.app.db.models.DueWork.countDocuments({ _id: { $in: keys.map((k) => `${KIND}:${k}`) } });
const wakeJobs = () =>
  a.app.db.conn.collection('jobs').countDocuments({ name: DUE_WAKE_JOB, nextRunAt: { $ne: null } });

describe('due work with two processes', () => {
  it('when 400 rows fall due at the same instant, then both processes run them, each exactly once, with at most JOBS_DUE_CONCURRENCY at a time per process', async () => {
    const due = new Date(clock.now().getTime() + 3_600_000);
    const keys = Array.from({ length: 400 }, (_, i) => `burst-${i}`);
    // Written by both processes, as in production: each arms its own wake for the instant.
    for (const [i, key] of keys.entries()) await (i % 2 ? a : b).app.due.schedule(KIND, key, due);
    expect(await rowsLeft(keys)).toBe(400);
    // Agenda holds a wake per process for the instant, not a job per row.
    expect(await wakeJobs()).toBeLessThanOrEqual(2);
    // Time passes to two seconds before the instant: both processes arm Agenda for it again.
    clock.set(new Date(due.getTime() - 2000));

    await eventually(async () => (await rowsLeft(keys)) === 0, 'every row done and removed', 60_000);
    expect(keys.filter((k) => runs.get(k)?.length !== 1)).toEqual([]);
    const all = keys.map((k) => runs.get(k)![0]!);
    expect(all.every((r) => r.at.getTime() >= due.getTime())).toBe(true); // none before its time
    expect(new Set(all.map((r) => r.by))).toEqual(new Set(['due-a', 'due-b']));
    // Two processes in one test process: each runs at most 4, so never more than 8 at once.
    expect(maxInFlight).toBeLessThanOrEqual(8);
    expect(maxInFlight).toBeGreaterThan(1);
    // Each run was claimed once: one claim per row.
    expect(await a.app.db.models.DueClaim.countDocuments({ _id: { $in: keys.map((k) => `${KIND}:${k}#0`) } })).toBe(
      400,
    );
  }, 90_000);

  it('when work is cancelled before its time, then it never runs, while work beside it does', async () => {
    const due = new Date(clock.now().getTime() + 1500);
    await a.app.due.schedule(KIND, 'cancelled', due);
    await a.app.due.schedule(KIND, 'kept', new Date(due.getTime() + 500));
    expect(await a.app.due.cancel(KIND, 'cancelled')).toBe(1);
    expect(await a.app.due.cancel(KIND, 'cancelled')).toBe(0);
    // The later row ran, so the runner went past the cancelled one's time: it is not coming.
    await eventually(async () => (await rowsLeft(['kept'])) === 0, 'the later row done');
    expect(runs.get('kept')).toHaveLength(1);
    expect(runs.get('cancelled')).toBeUndefined();
  });

  it('when work is scheduled again for a later time, then it runs once, at the later time', async () => {
    const first = new Date(clock.now().getTime() + 1000);
    const later = new Date(clock.now().getTime() + 2500);
    await b.app.due.schedule(KIND, 'moved', first);
    await a.app.due.schedule(KIND, 'moved', later);
    await eventually(async () => (await rowsLeft(['moved'])) === 0, 'the moved row done');
    expect(runs.get('moved')).toHaveLength(1);
    expect(runs.get('moved')![0]!.at.getTime()).toBeGreaterThanOrEqual(later.getTime());
  });

  it('when a run fails, then the row is armed again with back-off, and the next run does it once', async () => {
    failOnce.add('flaky');
    const due = new Date(clock.now().getTime() + 1000);
    await a.app.due.schedule(KIND, 'flaky', due);
    const rearmed = await eventually(async () => {
      const row = await a.app.db.models.DueWork.findById(`${KIND}:flaky`).lean();
      return row && row.failures === 1 ? row : undefined;
    }, 'the failed row armed again');
    expect(rearmed).toMatchObject({ attempt: 1, lastError: 'not now' });
    expect(rearmed.runAt.getTime() - runs.get('flaky')![0]!.at.getTime()).toBeGreaterThanOrEqual(1500); // back-off, not at once
    expect(rearmed.dueAt.toISOString()).toBe(due.toISOString()); // lateness still counts from its time
    await eventually(async () => (await rowsLeft(['flaky'])) === 0, 'the retried row done');
    expect(runs.get('flaky')).toHaveLength(2);
    expect(
      await a.app.db.models.DueClaim.countDocuments({ _id: { $in: [`${KIND}:flaky#0`, `${KIND}:flaky#1`] } }),
    ).toBe(2);
  });

  it('when the clock is moved to just before a due instant, then Agenda wakes a runner at that instant (one wake job, no row polled)', async () => {
    clock.set(new Date('2031-06-01T00:00:00Z'));
    const due = new Date('2031-06-01T00:00:03Z');
    await a.app.due.schedule(KIND, 'far', new Date('2031-06-01T00:00:02.500Z'));
    // Before: nothing runs at once; Agenda knows one instant, in real time.
    const wake = await a.app.db.conn
      .collection('jobs')
      .findOne({ name: DUE_WAKE_JOB, nextRunAt: { $gt: new Date() } }, { sort: { nextRunAt: 1 } });
    expect(Math.abs(wake!.nextRunAt.getTime() - (Date.now() + 2500))).toBeLessThan(1500);
    await a.app.due.schedule(KIND, 'near', due);
    await eventually(async () => (await rowsLeft(['far', 'near'])) === 0, 'both rows done at their instant', 40_000);
    for (const key of ['far', 'near']) {
      const [run] = runs.get(key)!;
      expect(run!.at.getTime()).toBeGreaterThanOrEqual(
        new Date(key === 'far' ? '2031-06-01T00:00:02.500Z' : due).getTime(),
      );
      // Woken for the instant, not found by the minute's tick (a loaded machine may add seconds).
      expect(run!.at.getTime() - due.getTime()).toBeLessThan(30_000);
    }
  });
});
