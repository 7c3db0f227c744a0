/**
 * Scheduled plan changes with several bot processes and a restart: two apps share one database
 * (as two deployed processes would) and one settable clock; the real Agenda scheduler wakes the
 * due-work runners at the due instant. Each change must be applied exactly once, and a change
 * whose time passed while no bot ran must run at the next start, late, saying how late.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pLimit from 'p-limit';
import { settableClock, type SettableClock } from '../src/clock.js';
import { localMidnight } from '../src/domain/dates.js';
import { PLAN_DUE_KIND } from '../src/jobs/plan-changes.js';
import { eventually, startTestApp, testDatabaseUri, USERS, type TestApp } from './support/test-app.js';

const TZ = 'Europe/Berlin';
const COUNT = 200;
/** Day 23 of trials that began on 2030-01-01. */
const LOCK_DUE = localMidnight('2030-01-24', TZ);
const env = { TZ_BILLING: TZ, JOBS_PROCESS_EVERY_MS: '2000' };

let databaseUri: string;
let clock: SettableClock;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  databaseUri = testDatabaseUri();
  clock = settableClock(new Date('2030-01-20T10:00:00Z'));
  a = await startTestApp({ databaseUri, env, start: { clock, instanceName: 'bot-a' } });
  b = await startTestApp({ databaseUri, env, start: { clock, instanceName: 'bot-b' } });
});
afterAll(async () => {
  await b?.stop({ dropDatabase: false });
  await a?.stop();
});

/**
 * FerretDB's SQLite answers "database is locked" under bursts of concurrent writes; the request is
 * then retried as Slack retries it (same request key, so it is the same change).
 */
async function retried<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5 || !/database is locked|SQLITE_BUSY/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
const id = (i: number) => `TWO-AAA-${String(i).padStart(4, '0')}`;
const newAccount = (t: TestApp, accountId: string) =>
  t.app.services.accounts.create({
    id: accountId,
    name: `Company ${accountId}`,
    contactEmail: `owner@${accountId.toLowerCase()}.test`,
    tier: 'startup-25k',
    status: 'active',
    signupDate: '2029-12-01',
    billingAnchor: '2030-01-01',
    billingDetailsComplete: true,
  });

describe('two scheduler processes', () => {
  it(`when ${COUNT} trial locks fall due in the same second, then both processes work on them and each is applied exactly once`, async () => {
    // 200 trials that began on 1 January without billing details: all lock at 00:00 Berlin on day 23.
    clock.set(new Date('2030-01-10T10:00:00Z'));
    const limit = pLimit(4);
    const started = Date.now();
    await Promise.all(
      Array.from({ length: COUNT }, (_, i) =>
        limit(() =>
          retried(() =>
            (i % 2 ? a : b).app.services.accounts.create({
              id: id(i),
              name: `Trial ${i}`,
              contactEmail: `owner${i}@trial.test`,
              tier: 'startup-10k',
              status: 'trial',
              signupDate: '2030-01-01',
              billingDetailsComplete: false,
            }),
          ),
        ),
      ),
    );
    const createdMs = Date.now() - started;
    process.stderr.write(`plan-jobs: accounts in ${createdMs} ms\n`);
    const ids = Array.from({ length: COUNT }, (_, i) => `${id(i)}:trial_lock:2030-01-24`);
    const models = a.app.db.models;
    const rows = () => models.DueWork.countDocuments({ _id: { $in: ids.map((x) => `${PLAN_DUE_KIND}:${x}`) } });
    expect(await rows()).toBe(COUNT);
    expect(
      await models.DueWork.countDocuments({ _id: { $in: ids.map((x) => `${PLAN_DUE_KIND}:${x}`) }, runAt: LOCK_DUE }),
    ).toBe(COUNT);
    expect(await models.PlanChange.countDocuments({ _id: { $in: ids }, status: 'scheduled', dueAt: LOCK_DUE })).toBe(
      COUNT,
    );

    // Time passes to two seconds before the locks: both processes arm Agenda for that instant (in
    // real time), and their runners take the locks when it comes.
    clock.set(new Date(LOCK_DUE.getTime() - 2000));
    const dueStarted = Date.now();
    process.stderr.write(`plan-jobs: time moved\n`);
    await eventually(
      async () => (await models.PlanChange.countDocuments({ _id: { $in: ids }, status: 'applied' })) === COUNT,
      `all ${COUNT} applied`,
      400_000,
    ); // FerretDB shares 2 cores with the corpus test
    const appliedMs = Date.now() - dueStarted;
    // Once every row is gone no run is left to come: what was applied by then is all there is.
    await eventually(async () => (await rows()) === 0, 'done rows removed', 60_000);

    const effects = await models.PlanEffect.find({ _id: { $in: ids } }).lean();
    expect(effects).toHaveLength(COUNT);
    expect(effects.every((e) => e.outcome === 'applied')).toBe(true);
    expect(await models.BillingLedger.countDocuments({ _id: { $in: ids }, type: 'trial_lock' })).toBe(COUNT);
    expect(
      await models.Account.countDocuments({
        _id: { $in: Array.from({ length: COUNT }, (_, i) => id(i)) },
        status: 'locked',
      }),
    ).toBe(COUNT);
    const changes = await models.PlanChange.find({ _id: { $in: ids } }).lean();
    expect(changes.every((c) => c.appliedAt!.getTime() >= LOCK_DUE.getTime())).toBe(true); // none before its time
    const byProcess = new Set(changes.map((c) => c.appliedBy));
    expect([...byProcess].sort()).toEqual(['bot-a', 'bot-b']);
    const late = changes.map((c) => c.lateMs ?? 0).sort((x, y) => x - y);
    process.stderr.write(
      `plan-jobs: ${COUNT} accounts+rows in ${createdMs} ms; all applied ${appliedMs} ms after the clock reached due - 2 s; by ${[...byProcess].join('+')}; lateness p50 ${late[Math.floor(COUNT / 2)]} ms, max ${late.at(-1)} ms\n`,
    );
  }, 480_000);

  it('when both processes run one change’s job at the same moment (twice each), then it is applied once and the others see it done', async () => {
    clock.set(new Date('2030-02-10T10:00:00Z'));
    await newAccount(a, 'TWO-BBB-0001');
    await a.app.services.plans.request({
      userId: USERS.billing,
      accountId: 'TWO-BBB-0001',
      request: { type: 'downgrade', tier: 'startup-5k' },
      requestKey: 'race',
    });
    const runs = await Promise.all([a, b, a, b].map((t) => t.app.services.plans.apply('downgrade:race')));
    expect(runs.filter((r) => r === 'applied')).toHaveLength(1);
    expect(runs.filter((r) => r !== 'applied').every((r) => r === 'already_done')).toBe(true);
    expect(await a.app.db.models.BillingLedger.countDocuments({ _id: 'downgrade:race' })).toBe(1);
    const ticketRef = (await a.app.db.models.PlanChange.findById('downgrade:race').lean())!.ticketRef;
    await eventually(
      async () => (await a.app.db.models.PlanChange.findById('downgrade:race').lean())?.status === 'applied',
      'applied',
    );
    const ticket = await a.app.db.models.Ticket.findById(ticketRef).lean();
    expect(ticket!.history.filter((h) => h.action === 'plan_downgrade_applied')).toHaveLength(1);
    // Later re-runs (Agenda firing the job after all) change nothing.
    expect(await b.app.services.plans.apply('downgrade:race')).toBe('already_done');
  });
});

describe('a restart after a missed due time', () => {
  it('when the only bot was down when a downgrade fell due, then the next start applies it at once and the history says how late', async () => {
    const dbUri = testDatabaseUri();
    const due = localMidnight('2030-03-01', TZ);
    const first = settableClock(new Date(due.getTime() - 3_600_000));
    let t = await startTestApp({ databaseUri: dbUri, env, start: { clock: first, instanceName: 'before' } });
    await t.app.services.accounts.create({
      id: 'RST-AAA-0001',
      name: 'Restart GmbH',
      contactEmail: 'owner@restart.test',
      tier: 'startup-25k',
      status: 'active',
      signupDate: '2029-12-01',
      billingAnchor: '2030-01-01',
      billingDetailsComplete: true,
    });
    // The bot's scheduler goes down (Agenda and the due-work runner it wakes); the downgrade is
    // asked two seconds before its time and stored.
    await t.app.due.stop();
    await t.app.scheduler.stop();
    first.set(new Date(due.getTime() - 2000));
    const res = await t.app.services.plans.request({
      userId: USERS.billing,
      accountId: 'RST-AAA-0001',
      request: { type: 'downgrade', tier: 'startup-10k' },
      requestKey: 'rst',
    });
    expect(res.outcome).toBe('scheduled');
    await t.stop({ dropDatabase: false });
    // Down over the due time (real seconds pass), then back two hours later by the app's clock.
    await new Promise((r) => setTimeout(r, 3500));
    t = await startTestApp({
      databaseUri: dbUri,
      env,
      start: { clock: settableClock(new Date(due.getTime() + 2 * 3_600_000)), instanceName: 'after' },
    });
    try {
      const change = await eventually(async () => {
        const c = await t.app.db.models.PlanChange.findById('downgrade:rst').lean();
        return c?.status === 'applied' ? c : undefined;
      }, 'missed downgrade applied at start');
      expect(change.appliedBy).toBe('after');
      expect(change.lateMs).toBeGreaterThanOrEqual(2 * 3_600_000);
      expect((await t.app.db.models.Account.findById('RST-AAA-0001').lean())?.tier).toBe('startup-10k');
      const ticket = await t.app.db.models.Ticket.findById(res.ticketRef).lean();
      const line = ticket!.history.find((h) => h.action === 'plan_downgrade_applied');
      // How late, against its time as billing reads it (the start may take a few seconds more).
      expect(line?.note).toContain(`applied, 2h `);
      expect(line?.note).toMatch(/applied, 2h (\d+s )?after its time 2030-03-01 00:00 \(Europe\/Berlin\)/);
      expect(await t.app.db.models.PlanEffect.countDocuments({ _id: 'downgrade:rst' })).toBe(1);
    } finally {
      await t.stop();
    }
  }, 60_000);
});
