/**
 * Migration to Enterprise, billing's step: Confirm & schedule writes the persistent due row that
 * cancels the C4S plan at 00:00 TZ_BILLING on the day before the Enterprise start; Withdraw removes
 * it; its effect happens once with two bot processes on one database. Real HTTP receiver, fake
 * Slack Web API, real scheduler (Agenda polling every 100 ms) waking the due-work runner.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { handOff, press as pressButton, REP_EMAIL } from './support/migration.js';
import {
  CHANNELS,
  eventually,
  settled,
  startTestApp,
  testDatabaseUri,
  USERS,
  type TestApp,
} from './support/test-app.js';
import { HANDOFF_CARD } from '../views/ids.js';
import { handoffCard } from '../views/handoff-card.js';
import { c4sCancellationAt, dayBefore, dayIn, localMidnight } from '../src/domain/migration.js';
import { formatInstant } from '../src/domain/dates.js';
import { C4S_DUE_KIND } from '../src/jobs/migration-cancel.js';
import { formatDuration } from '../src/domain/durations.js';
import { dueRowsOf } from './support/due-work.js';

const TZ = 'Europe/Berlin';
let slack: FakeSlack;
/** Bot process A (with Slack) and B (no Slack), sharing one database as two deployed processes would. */
let t: TestApp;
let t2: TestApp;

beforeAll(async () => {
  const databaseUri = testDatabaseUri();
  slack = await startFakeSlack();
  t = await startTestApp({ slack, databaseUri, env: { TZ_BILLING: TZ }, start: { instanceName: 'bot-a' } });
  t2 = await startTestApp({ databaseUri, env: { TZ_BILLING: TZ }, start: { instanceName: 'bot-b' } });
});
afterAll(async () => {
  await t2?.stop({ dropDatabase: false });
  await t?.stop();
  await slack?.close();
});
beforeEach(() => {
  slack.reset();
  slack.setUser(USERS.rep, { email: REP_EMAIL });
});

/** A billing day `days` after today in TZ_BILLING. */
const berlinDay = (days: number) => dayIn(TZ, new Date(Date.now() + days * 86_400_000));

/** The ticket's pending C4S cancellation, as a list (one while scheduled), shaped as the handler reads it. */
const jobsOf = async (ref: string) =>
  (await dueRowsOf(t, C4S_DUE_KIND, ref)).map((r) => ({
    nextRunAt: r.runAt,
    data: { ref: r.key, runAt: String(r.data.runAt) },
  }));
const ticketOf = (ref: string) => t.app.db.models.Ticket.findById(ref).lean();

/** Sales hands `accountId` off with the given start date; returns the ticket's ref once billing has the card. */
const handedOff = (accountId: string, startDate: string) => handOff({ t, slack }, { accountId, startDate });

/** Billing presses Confirm & schedule or Withdraw on the handoff card; returns the ephemeral answer. */
const press = (ref: string, verb: 'confirm' | 'withdraw', userId: string = USERS.billing) =>
  pressButton(
    { t, slack },
    verb === 'confirm' ? HANDOFF_CARD.actions.confirm : HANDOFF_CARD.actions.withdraw,
    ref,
    userId,
  );

describe('Confirm & schedule', () => {
  it('when billing confirms a start 10 days ahead, then one job runs at 00:00 Berlin the day before, the ticket says scheduled, and the card shows it', async () => {
    const start = berlinDay(10);
    const ref = await handedOff('SCH-AAA-0001', start);
    const cancelAt = localMidnight(dayBefore(start), TZ);

    const answer = await press(ref, 'confirm');
    expect(answer).toContain('Scheduled');
    expect(answer).toContain(
      `cancelled at ${dayBefore(start)} 00:00 (${TZ}), the day before the Enterprise start on ${start}.`,
    );
    expect(answer).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:/); // no raw ISO instant

    const jobs = await jobsOf(ref);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.nextRunAt?.toISOString()).toBe(cancelAt.toISOString());
    expect(jobs[0]!.data).toEqual({ ref, runAt: cancelAt.toISOString() });

    const ticket = await ticketOf(ref);
    expect(ticket?.migration?.stage).toBe('scheduled');
    expect(ticket?.migration?.cancelAt?.toISOString()).toBe(cancelAt.toISOString());
    const line = ticket!.history.at(-1)!;
    expect(line).toMatchObject({ action: 'scheduled', actor: `slack:${USERS.billing}` });
    expect(line.note).toContain(dayBefore(start));

    // The billing card is updated in place, and the sales card says it too.
    const updated = await slack.waitFor('chat.update', (c) => c.args.channel === CHANNELS.billing);
    expect(JSON.stringify(updated.args.blocks)).toContain(HANDOFF_CARD.scheduleBlock);
    // The handoff's own update of the sales card may come first (how soon depends on the
    // engine): wait for the one that says scheduled, then check no older state lands after it.
    const salesCard = (c: { args: Record<string, unknown> }) =>
      c.args.channel === CHANNELS.sales && String(c.args.text).includes(ref);
    await slack.waitFor(
      'chat.update',
      (c) => salesCard(c) && JSON.stringify(c.args.blocks).includes('C4S plan cancellation scheduled'),
    );
    await settled(t);
    expect(JSON.stringify(slack.callsTo('chat.update').filter(salesCard).at(-1)!.args.blocks)).toContain(
      'C4S plan cancellation scheduled',
    );
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === CHANNELS.billing)).toHaveLength(0);
  });

  it('when billing confirms again, then the earlier job is replaced: exactly one job; Withdraw then removes it', async () => {
    const ref = await handedOff('SCH-AAA-0002', berlinDay(12));
    await press(ref, 'confirm');
    const again = await press(ref, 'confirm');
    expect(again).toMatch(/replaces the earlier time/);
    expect(await jobsOf(ref)).toHaveLength(1);

    const withdrawn = await press(ref, 'withdraw');
    expect(withdrawn).toMatch(/^Withdrawn/);
    expect(await jobsOf(ref)).toHaveLength(0);
    const ticket = await ticketOf(ref);
    expect(ticket?.migration?.stage).toBe('handed_off');
    expect(ticket?.migration?.cancelAt).toBeUndefined();
    expect(ticket!.history.map((h) => h.action)).toEqual([
      'opened',
      'handed_off',
      'scheduled',
      'scheduled',
      'withdrawn',
    ]);

    // Nothing left to withdraw.
    expect(await press(ref, 'withdraw')).toMatch(/Nothing is scheduled/);
    expect((await ticketOf(ref))!.history).toHaveLength(5);
  });

  it('when the start is today or tomorrow, then the cancellation time has passed: refused with the reason, nothing scheduled or recorded', async () => {
    for (const [account, start] of [
      ['PST-AAA-0003', berlinDay(0)],
      ['PST-AAA-0004', berlinDay(1)],
    ] as const) {
      const ref = await handedOff(account, start);
      const answer = await press(ref, 'confirm');
      expect(answer).toMatch(/already passed/);
      expect(answer).toContain(start);
      expect(await jobsOf(ref)).toHaveLength(0);
      const ticket = await ticketOf(ref);
      expect(ticket?.migration?.stage).toBe('handed_off');
      expect(ticket!.history.map((h) => h.action)).toEqual(['opened', 'handed_off']);
    }
  });

  it('when someone outside billing presses Confirm & schedule, then it is refused and no job exists', async () => {
    const ref = await handedOff('OUT-AAA-0005', berlinDay(10));
    expect(await press(ref, 'confirm', USERS.rep)).toMatch(/Only billing/);
    expect(await jobsOf(ref)).toHaveLength(0);
    expect((await ticketOf(ref))?.migration?.stage).toBe('handed_off');
  });
});

describe('the cancellation job', () => {
  const cancelledLines = async (ref: string) =>
    (await ticketOf(ref))!.history.filter((h) => h.action === 'c4s_cancelled');

  it('when its time passed while the bots were down, then one of the two processes runs it at once, exactly once, and says how late', async () => {
    const ref = await handedOff('RUN-AAA-0006', berlinDay(10));
    await press(ref, 'confirm');
    // As if the bots had been down over the cancellation time: the ticket's time and the row's are an
    // hour ago; then both processes start (each runner takes what fell due while none ran).
    const past = new Date(Date.now() - 3_600_000);
    await t.app.db.models.Ticket.updateOne({ _id: ref }, { $set: { 'migration.cancelAt': past } });
    await t.app.db.models.DueWork.updateOne(
      { _id: `${C4S_DUE_KIND}:${ref}` },
      { $set: { dueAt: past, runAt: past, 'data.runAt': past.toISOString() } },
    );
    await Promise.all([t.app.due.wake(), t2.app.due.wake()]);

    const done = await eventually(async () => {
      const tk = await ticketOf(ref);
      return tk?.migration?.c4sCancelledAt ? tk : undefined;
    }, 'cancellation recorded');
    const lines = await cancelledLines(ref);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ actor: 'system' });
    expect(lines[0]!.note).toMatch(/1h 0m|1h \d+s|1h/);
    expect(lines[0]!.note).toContain(`after its time ${formatInstant(past, TZ)}`);
    expect(done.migration?.c4sCancelledAt).toBeInstanceOf(Date);
    expect(await t.app.db.models.MigrationEffect.countDocuments({ ref })).toBe(1);
    // The runner removes a finished row once its handler returned: no run is left to come.
    await eventually(async () => (await jobsOf(ref)).length === 0, 'the finished row removed');

    const claim = await t.app.db.models.MigrationEffect.findById(`cancel:${ref}`).lean();
    expect(['bot-a', 'bot-b']).toContain(claim?.by);

    // The billing card is queued for an update (process B has no Slack: A's outbox sweep sends it), and loses its buttons.
    expect(await t.app.db.models.Outbox.findById(`handoff-update:${ref}:c4s_cancelled`).lean()).not.toBeNull();
    const card = handoffCard({ ref, timeZone: TZ, migration: done.migration! });
    expect(JSON.stringify(card.blocks)).toContain('C4S plan cancellation recorded');
    expect(JSON.stringify(card.blocks)).not.toContain(HANDOFF_CARD.actions.confirm);
    // Neither button changes anything any more.
    expect(await press(ref, 'confirm')).toMatch(/already cancelled/);
    expect(await press(ref, 'withdraw')).toMatch(/already cancelled/);
    expect(await jobsOf(ref)).toHaveLength(0);
  });

  it('when both processes run the handler at the same moment (twice each), then the effect is recorded exactly once', async () => {
    const ref = await handedOff('RUN-AAA-0007', berlinDay(10));
    await press(ref, 'confirm');
    const [job] = await jobsOf(ref);
    const data = { ref, runAt: job!.data.runAt };
    const outcomes = await Promise.all([
      t.app.migrationCancel.run(data),
      t2.app.migrationCancel.run(data),
      t.app.migrationCancel.run(data),
      t2.app.migrationCancel.run(data),
    ]);
    expect(outcomes.filter((o) => o === 'cancelled')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'cancelled').every((o) => o === 'already_done')).toBe(true);
    await eventually(async () => !!(await ticketOf(ref))?.migration?.c4sCancelledAt, 'cancellation recorded');
    const lines = await cancelledLines(ref);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.note).toMatch(/before its time/); // it ran 10 days early here
    expect(await t.app.db.models.MigrationEffect.countDocuments({ ref })).toBe(1);
    // The billing system (the ledger here) got it once, under the migration's key.
    expect(await t.app.db.models.BillingLedger.find({ accountId: 'RUN-AAA-0007' }).lean()).toEqual([
      expect.objectContaining({ _id: `c4s-cancel:${ref}`, type: 'c4s_cancel', via: 'ledger' }),
    ]);
    // And once more, later: still once.
    expect(await t2.app.migrationCancel.run(data)).toBe('already_done');
    expect(await cancelledLines(ref)).toHaveLength(1);
  });

  it('when a process died after claiming the cancellation but before recording it, then the next run finishes it once; a fresh claim is left alone', async () => {
    const ref = await handedOff('RUN-AAA-0009', berlinDay(10));
    await press(ref, 'confirm');
    const [job] = await jobsOf(ref);
    const data = { ref, runAt: job!.data.runAt };
    // A claim made a moment ago belongs to a run still at work: nothing to do.
    await t.app.db.models.MigrationEffect.create({ _id: `cancel:${ref}`, ref, at: new Date(), by: 'bot-dead' });
    expect(await t.app.migrationCancel.run(data)).toBe('already_done');
    expect((await ticketOf(ref))?.migration?.c4sCancelledAt).toBeUndefined();
    // Two minutes on (past the job's lock), the claim is abandoned: the run completes it with the claim's time.
    const claimedAt = new Date(Date.now() - 120_000);
    await t.app.db.models.MigrationEffect.updateOne({ _id: `cancel:${ref}` }, { $set: { at: claimedAt } });
    const outcomes = await Promise.all([t.app.migrationCancel.run(data), t2.app.migrationCancel.run(data)]);
    expect(outcomes).toContain('cancelled');
    const ticket = await ticketOf(ref);
    expect(ticket?.migration?.c4sCancelledAt?.toISOString()).toBe(claimedAt.toISOString());
    expect(await cancelledLines(ref)).toHaveLength(1);
    expect(await t.app.migrationCancel.run(data)).toBe('already_done');
  });

  it('when a job does not match the ticket (withdrawn meanwhile), then it does nothing', async () => {
    const ref = await handedOff('RUN-AAA-0008', berlinDay(10));
    await press(ref, 'confirm');
    const [job] = await jobsOf(ref);
    await press(ref, 'withdraw');
    expect(await t.app.migrationCancel.run({ ref, runAt: job!.data.runAt })).toBe('stale');
    expect(await t.app.db.models.MigrationEffect.countDocuments({ ref })).toBe(0);
    expect((await ticketOf(ref))?.migration?.stage).toBe('handed_off');
  });
});

describe('local midnight in TZ_BILLING', () => {
  it('when the clocks change, then midnight is still 00:00 local: CET before, CEST after (and back in autumn)', () => {
    // Europe/Berlin springs forward on 2030-03-31 at 02:00 and falls back on 2030-10-27 at 03:00.
    expect(localMidnight('2030-03-31', 'Europe/Berlin').toISOString()).toBe('2030-03-30T23:00:00.000Z');
    expect(localMidnight('2030-04-01', 'Europe/Berlin').toISOString()).toBe('2030-03-31T22:00:00.000Z');
    expect(localMidnight('2030-10-27', 'Europe/Berlin').toISOString()).toBe('2030-10-26T22:00:00.000Z');
    expect(localMidnight('2030-10-28', 'Europe/Berlin').toISOString()).toBe('2030-10-27T23:00:00.000Z');
    expect(localMidnight('2030-03-10', 'America/New_York').toISOString()).toBe('2030-03-10T05:00:00.000Z');
    expect(localMidnight('2030-03-11', 'America/New_York').toISOString()).toBe('2030-03-11T04:00:00.000Z');
    expect(localMidnight('2030-06-01', 'Asia/Kolkata').toISOString()).toBe('2030-05-31T18:30:00.000Z');
    expect(localMidnight('2030-01-01', 'UTC').toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('when a DST change skips midnight itself, then the day starts at 01:00 local', () => {
    // Chile sprang forward at 00:00 on 2019-09-08: the day began at 01:00 -03 = 04:00Z.
    expect(localMidnight('2019-09-08', 'America/Santiago').toISOString()).toBe('2019-09-08T04:00:00.000Z');
    expect(localMidnight('2019-09-07', 'America/Santiago').toISOString()).toBe('2019-09-07T04:00:00.000Z');
  });

  it('when the start is the day after the change, then the cancellation is midnight of the change day; bad dates are refused', () => {
    expect(dayBefore('2030-03-01')).toBe('2030-02-28');
    expect(dayBefore('2030-01-01')).toBe('2029-12-31');
    expect(c4sCancellationAt('2030-04-01', 'Europe/Berlin').toISOString()).toBe('2030-03-30T23:00:00.000Z');
    expect(() => localMidnight('2030-02-30', 'Europe/Berlin')).toThrow();
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(90_061_000)).toBe('1d 1h 1m 1s');
    expect(formatDuration(400)).toBe('0s');
  });
});
