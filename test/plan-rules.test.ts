/**
 * Plan changes end to end below Slack: the real app (services, MongoDB/FerretDB, the real Agenda
 * scheduler polling every 100 ms, waking the due-work runner) with a settable clock. Each rule of
 * CONTRACT.md "Plan changes" and each refusal is checked on what was written: accounts, changes,
 * guards, ledger, due rows, emails.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { settableClock, type SettableClock } from '../src/clock.js';
import { PLAN_DUE_KIND } from '../src/jobs/plan-changes.js';
import { localMidnight } from '../src/domain/dates.js';
import type { AccountInput } from '../src/services/accounts.js';
import type { EmailPayload } from '../src/domain/email.js';
import { eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { dueRowsOf } from './support/due-work.js';

const TZ = 'Europe/Berlin';
let t: TestApp;
let clock: SettableClock;

beforeAll(async () => {
  clock = settableClock(new Date('2030-01-17T10:00:00Z'));
  t = await startTestApp({ env: { TZ_BILLING: TZ }, start: { clock, instanceName: 'rules' } });
});
afterAll(async () => {
  await t?.stop();
});

const svc = () => t.app.services;

/** The support ticket a customer's email asking to reactivate `accountId` opens. */
async function reactivationTicket(accountId: string, title: string, idempotencyKey: string) {
  const owner = `owner@${accountId.toLowerCase()}.test`;
  const { ticket } = await svc().tickets.open({
    kind: 'reactivation',
    title,
    accountId,
    source: { channel: 'email', mailbox: 'support', email: owner },
    idempotencyKey,
    actor: `email:${owner}`,
  });
  return ticket;
}
const models = () => t.app.db.models;
let serial = 0;
const key = () => `k${++serial}`;

async function account(id: string, over: Partial<AccountInput> = {}) {
  const { account: doc } = await svc().accounts.create({
    id,
    name: `Company ${id}`,
    contactEmail: `owner@${id.toLowerCase()}.test`,
    tier: 'startup-10k',
    status: 'active',
    signupDate: '2029-12-01',
    billingAnchor: '2030-01-01',
    billingDetailsComplete: true,
    ...over,
  });
  return doc;
}
const request = (
  accountId: string,
  r: Parameters<TestApp['app']['services']['plans']['request']>[0]['request'],
  o: { userId?: string; requestKey?: string } = {},
) =>
  svc().plans.request({ userId: o.userId ?? USERS.billing, accountId, request: r, requestKey: o.requestKey ?? key() });
const accountOf = (id: string) => models().Account.findById(id).lean();
const changeOf = (id: string) => models().PlanChange.findById(id).lean();
/** The change's pending due row, as a list: one while it is scheduled, none once done or cancelled. */
const jobsOf = (changeId: string) => dueRowsOf(t, PLAN_DUE_KIND, changeId);
const emailOf = async (changeId: string, kind: 'scheduled' | 'cancelled' | 'applied') =>
  (await models().Outbox.findById(`email:plan:${changeId}:${kind}`).lean())?.payload as EmailPayload | undefined;
const counts = async (accountId: string) => ({
  changes: await models().PlanChange.countDocuments({ accountId }),
  ledger: await models().BillingLedger.countDocuments({ accountId }),
});

describe('upgrade', () => {
  it('when an active account upgrades mid-period, then it applies at once, is charged pro rata with add-ons, recorded once and invoiced by email', async () => {
    clock.set(new Date('2030-01-17T10:00:00Z'));
    await account('UPG-AAA-0001', { addons: ['sso', 'priority-support'] });
    const res = await request('UPG-AAA-0001', { type: 'upgrade', tier: 'startup-25k' }, { requestKey: 'up1' });
    expect(res.outcome).toBe('applied');
    expect(res.message).toMatch(/€58\.07 prorated for the 15 of 31 days left until 2030-02-01/);

    expect(await accountOf('UPG-AAA-0001')).toMatchObject({
      tier: 'startup-25k',
      addons: ['sso', 'priority-support'],
      status: 'active',
    });
    const change = await changeOf('upgrade:up1');
    expect(change).toMatchObject({
      status: 'applied',
      amountCents: 5807,
      ticketRef: res.ticketRef,
      fromTier: 'startup-10k',
    });
    const ledger = await models().BillingLedger.find({ accountId: 'UPG-AAA-0001' }).lean();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ _id: 'upgrade:up1', type: 'upgrade', amountCents: 5807, via: 'ledger' });

    const mail = await emailOf('upgrade:up1', 'applied');
    expect(mail?.to).toBe('owner@upg-aaa-0001.test');
    expect(mail?.subject).toContain(`[${res.ticketRef}]`);
    expect(mail?.text).toContain('Startup 10,000 MAU → Startup 25,000 MAU: €48.39');
    expect(mail?.text).toContain('Add-on: Priority support (20% of the tier): €9.68');
    expect(mail?.text).toContain('Total: €58.07');
    const ticket = await models().Ticket.findById(res.ticketRef).lean();
    expect(ticket).toMatchObject({ kind: 'upgrade', accountId: 'UPG-AAA-0001' });
    expect(ticket!.history.map((h) => h.action)).toEqual(['opened', 'plan_upgrade_requested', 'plan_upgrade_applied']);

    // The same request again (a Slack retry) changes nothing more.
    await request('UPG-AAA-0001', { type: 'upgrade', tier: 'startup-25k' }, { requestKey: 'up1' }).catch(
      () => undefined,
    );
    expect(await counts('UPG-AAA-0001')).toEqual({ changes: 1, ledger: 1 });
  });

  it('when the upgrade goes above 100,000 MAU, then it is refused as self-serve and becomes an Enterprise lead for sales; the account is unchanged', async () => {
    await account('UPG-AAA-0002');
    const res = await request('UPG-AAA-0002', { type: 'upgrade', tier: 'enterprise' });
    expect(res.outcome).toBe('lead');
    expect(res.message).toMatch(/not self-serve/);
    const lead = await models().Ticket.findById(res.ticketRef).lean();
    expect(lead).toMatchObject({ kind: 'sales', team: 'sales', accountId: 'UPG-AAA-0002' });
    expect(lead!.history.at(-1)?.action).toBe('enterprise_lead');
    expect((await accountOf('UPG-AAA-0002'))?.tier).toBe('startup-10k');
    expect(await counts('UPG-AAA-0002')).toEqual({ changes: 0, ledger: 0 });
  });
});

describe('downgrade', () => {
  it('when an active account downgrades, then one job is due at 00:00 Berlin on the next period’s first day; the real scheduler applies it then, and the customer hears twice', async () => {
    // Three seconds before the period ends (23:59:57 Berlin on 31 January).
    clock.set(new Date('2030-01-31T22:59:57Z'));
    await account('DWN-AAA-0001', { tier: 'startup-25k' });
    const res = await request('DWN-AAA-0001', { type: 'downgrade', tier: 'startup-10k' }, { requestKey: 'd1' });
    expect(res.outcome).toBe('scheduled');
    const due = localMidnight('2030-02-01', TZ);
    const change = await changeOf('downgrade:d1');
    expect(change).toMatchObject({ status: 'scheduled', effectiveDay: '2030-02-01' });
    expect(change!.dueAt.toISOString()).toBe(due.toISOString());
    expect(await jobsOf('downgrade:d1')).toHaveLength(1);
    expect((await jobsOf('downgrade:d1'))[0]!.runAt.toISOString()).toBe(due.toISOString());
    expect((await emailOf('downgrade:d1', 'scheduled'))?.text).toContain('2030-02-01 00:00 (Europe/Berlin)');
    expect((await accountOf('DWN-AAA-0001'))?.tier).toBe('startup-25k');

    const applied = await eventually(async () => {
      const c = await changeOf('downgrade:d1');
      return c?.status === 'applied' ? c : undefined;
    }, 'downgrade applied by the scheduler');
    expect(applied.appliedAt!.getTime()).toBeGreaterThanOrEqual(due.getTime());
    expect(applied.lateMs).toBeLessThan(5000);
    expect((await accountOf('DWN-AAA-0001'))?.tier).toBe('startup-10k');
    // The slot is freed just after the change is marked applied: wait for it, not for luck.
    await eventually(
      async () => (await models().PlanSlot.findById('DWN-AAA-0001:downgrade').lean()) === null,
      'the downgrade slot freed',
    );
    expect(await models().BillingLedger.countDocuments({ _id: 'downgrade:d1' })).toBe(1);
    expect((await emailOf('downgrade:d1', 'applied'))?.subject).toContain(`[${res.ticketRef}]`);
    await eventually(async () => (await jobsOf('downgrade:d1')).length === 0, 'done row removed');
  });

  it('when a trial account downgrades, then it applies at once', async () => {
    clock.set(new Date('2030-02-10T10:00:00Z'));
    await account('DWN-AAA-0002', {
      status: 'trial',
      tier: 'startup-25k',
      signupDate: '2030-02-01',
      billingAnchor: undefined,
      billingDetailsComplete: false,
    });
    const res = await request('DWN-AAA-0002', { type: 'downgrade', tier: 'startup-5k' });
    expect(res.outcome).toBe('applied');
    expect((await accountOf('DWN-AAA-0002'))?.tier).toBe('startup-5k');
  });

  it('when a downgrade is to the current or a higher tier, or a second one while one is pending, then it is refused and nothing is written', async () => {
    clock.set(new Date('2030-02-10T10:00:00Z'));
    await account('DWN-AAA-0003', { tier: 'startup-25k' });
    await expect(request('DWN-AAA-0003', { type: 'downgrade', tier: 'startup-25k' })).rejects.toMatchObject({
      code: 'rule_refused',
      field: 'target_tier',
      message: expect.stringMatching(/not below/),
    });
    await expect(request('DWN-AAA-0003', { type: 'downgrade', tier: 'startup-50k' })).rejects.toMatchObject({
      field: 'target_tier',
    });
    expect(await counts('DWN-AAA-0003')).toEqual({ changes: 0, ledger: 0 });

    await request('DWN-AAA-0003', { type: 'downgrade', tier: 'startup-10k' }, { requestKey: 'd3' });
    await expect(request('DWN-AAA-0003', { type: 'downgrade', tier: 'startup-5k' })).rejects.toMatchObject({
      field: 'target_tier',
      message: expect.stringMatching(/already scheduled for 2030-03-01 00:00 \(Europe\/Berlin\)/),
    });
    expect(await counts('DWN-AAA-0003')).toEqual({ changes: 1, ledger: 0 });
    expect(await jobsOf('downgrade:d3')).toHaveLength(1);
  });

  it('when two downgrades race, then the slot lets exactly one be scheduled', async () => {
    await account('DWN-AAA-0004', { tier: 'startup-50k' });
    const results = await Promise.allSettled([
      request('DWN-AAA-0004', { type: 'downgrade', tier: 'startup-10k' }),
      request('DWN-AAA-0004', { type: 'downgrade', tier: 'startup-25k' }),
      request('DWN-AAA-0004', { type: 'downgrade', tier: 'startup-5k' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await models().PlanChange.countDocuments({ accountId: 'DWN-AAA-0004', status: 'scheduled' })).toBe(1);
  });

  it('when an upgrade comes before the scheduled downgrade, then the downgrade is cancelled (job removed, customer told) and the upgrade says so', async () => {
    clock.set(new Date('2030-02-10T10:00:00Z'));
    await account('DWN-AAA-0005', { tier: 'startup-25k' });
    await request('DWN-AAA-0005', { type: 'downgrade', tier: 'startup-10k' }, { requestKey: 'd5' });
    const up = await request('DWN-AAA-0005', { type: 'upgrade', tier: 'startup-50k' }, { requestKey: 'u5' });
    expect(up.message).toMatch(/cancels the downgrade to Startup 10,000 MAU scheduled for 2030-03-01/);
    expect(await changeOf('downgrade:d5')).toMatchObject({ status: 'cancelled' });
    expect(await jobsOf('downgrade:d5')).toHaveLength(0);
    expect(await models().PlanEffect.findById('downgrade:d5').lean()).toMatchObject({ outcome: 'cancelled' });
    expect((await emailOf('downgrade:d5', 'cancelled'))?.text).toMatch(/replaced by the upgrade/);
    expect((await accountOf('DWN-AAA-0005'))?.tier).toBe('startup-50k');
    // The cancelled job, had it run anyway, does nothing.
    expect(await svc().plans.apply('downgrade:d5')).toBe('cancelled');
    expect((await accountOf('DWN-AAA-0005'))?.tier).toBe('startup-50k');
  });

  it('when staff cancel the scheduled downgrade from /account, then it is removed; the deletion of a paused account cannot be cancelled there', async () => {
    await account('DWN-AAA-0006', { tier: 'startup-25k' });
    await request('DWN-AAA-0006', { type: 'downgrade', tier: 'startup-10k' }, { requestKey: 'd6' });
    await expect(svc().plans.cancelScheduled('downgrade:d6', USERS.outsider)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await svc().plans.cancelScheduled('downgrade:d6', USERS.support)).toMatch(/^Cancelled/);
    expect(await jobsOf('downgrade:d6')).toHaveLength(0);
    expect(await models().PlanSlot.findById('DWN-AAA-0006:downgrade').lean()).toBeNull();
    // The customer reads which team cancelled it, never Slack markup; the history keeps the person.
    const cancelled = await emailOf('downgrade:d6', 'cancelled');
    expect(cancelled?.text).toContain('Why: cancelled by our support team before it took effect');
    expect(cancelled?.text).not.toMatch(/<[@!#]/);
    const line = (await models()
      .Ticket.findById((await changeOf('downgrade:d6'))!.ticketRef)
      .lean())!.history.find((h) => h.action === 'plan_downgrade_cancelled');
    expect(line?.note).toContain(`cancelled by <@${USERS.support}> before it took effect`);
    // Now a new downgrade may be scheduled again.
    expect((await request('DWN-AAA-0006', { type: 'downgrade', tier: 'startup-5k' })).outcome).toBe('scheduled');
  });
});

describe('add-ons', () => {
  it('when an add-on is added, then at once with its prorated charge; removal needs a reason from the list and is recorded with it', async () => {
    clock.set(new Date('2030-02-10T10:00:00Z'));
    await account('ADD-AAA-0001');
    const added = await request('ADD-AAA-0001', { type: 'addon_add', addon: 'audit-log' }, { requestKey: 'a1' });
    expect(added.outcome).toBe('applied');
    // €29 × 19/28 days (10 Feb → 1 Mar) = €19.68.
    expect(await changeOf('addon_add:a1')).toMatchObject({ amountCents: 1968, status: 'applied' });
    expect((await accountOf('ADD-AAA-0001'))?.addons).toEqual(['audit-log']);

    await expect(request('ADD-AAA-0001', { type: 'addon_remove', addon: 'audit-log' })).rejects.toMatchObject({
      field: 'reason',
    });
    const removed = await request(
      'ADD-AAA-0001',
      { type: 'addon_remove', addon: 'audit-log', reason: 'not-used' },
      { requestKey: 'a2' },
    );
    expect(removed.outcome).toBe('applied');
    expect(await changeOf('addon_remove:a2')).toMatchObject({ reason: 'not-used', status: 'applied' });
    expect((await accountOf('ADD-AAA-0001'))?.addons).toEqual([]);
    expect(removed.ticketRef).toBe(added.ticketRef); // one open add-on ticket for the account
  });
});

describe('pause and reactivation', () => {
  it('when an account is paused, then at once for 60 days with a deletion job on day 60; reactivation without a support ticket is refused', async () => {
    clock.set(new Date('2030-09-01T10:00:00Z'));
    await account('PAU-AAA-0001');
    const res = await request('PAU-AAA-0001', { type: 'pause' }, { requestKey: 'p1' });
    expect(res.outcome).toBe('applied');
    const acc = await accountOf('PAU-AAA-0001');
    expect(acc).toMatchObject({ status: 'paused', pausedOn: '2030-09-01' });
    expect(acc?.deletionDueAt?.toISOString()).toBe('2030-10-30T23:00:00.000Z'); // 31 Oct 00:00 CET
    const deletion = await changeOf('pause:p1:pause_delete');
    expect(deletion).toMatchObject({ type: 'pause_delete', status: 'scheduled', ticketRef: res.ticketRef });
    expect(await jobsOf('pause:p1:pause_delete')).toHaveLength(1);
    expect((await emailOf('pause:p1', 'applied'))?.text).toMatch(
      /deleted permanently on 2030-10-31 00:00 \(Europe\/Berlin\)/,
    );

    await expect(request('PAU-AAA-0001', { type: 'reactivate' }, { userId: USERS.support })).rejects.toMatchObject({
      message: expect.stringMatching(/through a support ticket/),
    });
    await expect(request('PAU-AAA-0001', { type: 'upgrade', tier: 'startup-25k' })).rejects.toMatchObject({
      message: expect.stringMatching(/paused/),
    });
    expect((await accountOf('PAU-AAA-0001'))?.status).toBe('paused');
  });

  it('when the customer emails to reactivate and support approves within 60 days, then the account is active and the deletion is cancelled', async () => {
    clock.set(new Date('2030-09-01T10:00:00Z'));
    await account('PAU-AAA-0002');
    await request('PAU-AAA-0002', { type: 'pause' }, { requestKey: 'p2' });
    clock.set(new Date('2030-10-20T10:00:00Z'));
    const ticket = await reactivationTicket(
      'PAU-AAA-0002',
      'Please reactivate PAU-AAA-0002',
      'email:support:reactivate-2',
    );
    await expect(svc().plans.approveReactivation(ticket.ref, USERS.billing)).rejects.toMatchObject({
      code: 'forbidden',
    });
    const msg = await svc().plans.approveReactivation(ticket.ref, USERS.support);
    expect(msg).toMatch(/Reactivate at once/);
    expect(await accountOf('PAU-AAA-0002')).toMatchObject({ status: 'active' });
    expect((await accountOf('PAU-AAA-0002'))?.deletionDueAt).toBeUndefined();
    expect(await changeOf('pause:p2:pause_delete')).toMatchObject({ status: 'cancelled' });
    expect(await jobsOf('pause:p2:pause_delete')).toHaveLength(0);
    // The customer's own ticket carries the answer, threaded from support@.
    const mail = await emailOf(`reactivate:${ticket.ref}`, 'applied');
    expect(mail).toMatchObject({ to: 'owner@pau-aaa-0002.test', from: 'support@example.com' });
    expect(mail?.subject).toContain(`[${ticket.ref}]`);
  });

  it('when day 60 passes (the bot was down at its time), then the real scheduler deletes the account through billing, schedules the backup purge, and reactivation is refused', async () => {
    clock.set(new Date('2030-09-01T10:00:00Z'));
    await account('PAU-AAA-0003');
    await request('PAU-AAA-0003', { type: 'pause' }, { requestKey: 'p3' });
    const dueAt = (await changeOf('pause:p3:pause_delete'))!.dueAt;
    // As if the bots were down over day 60: the app's time is a minute past it, and a process starts
    // (its runner takes what fell due while none ran).
    clock.set(new Date(dueAt.getTime() + 60_000));
    expect(await jobsOf('pause:p3:pause_delete')).toHaveLength(1);
    await t.app.due.wake();
    const done = await eventually(async () => {
      const c = await changeOf('pause:p3:pause_delete');
      return c?.status === 'applied' ? c : undefined;
    }, 'deletion applied');
    expect(done.lateMs).toBeGreaterThanOrEqual(60_000);
    const acc = await accountOf('PAU-AAA-0003');
    expect(acc).toMatchObject({ status: 'cancelled' });
    expect(acc?.deletedAt).toBeInstanceOf(Date);
    expect(await models().BillingLedger.findById('pause:p3:pause_delete').lean()).toMatchObject({
      type: 'delete_account',
    });
    const purge = await changeOf('pause:p3:pause_delete:backup_purge');
    expect(purge?.status).toBe('scheduled');
    expect(purge!.dueAt.getTime() - acc!.deletedAt!.getTime()).toBeLessThanOrEqual(60 * 86_400_000);
    const ticket = await models().Ticket.findById(done.ticketRef).lean();
    // The clock passed the ticket's SLA targets too: their breach lines sit beside the plan's.
    expect(ticket!.history.filter((h) => h.action !== 'sla_breached').at(-1)?.note).toMatch(
      /1m \d+s after its time|1m after its time/,
    );
    await expect(request('PAU-AAA-0003', { type: 'reactivate' }, { userId: USERS.support })).rejects.toMatchObject({
      code: 'rule_refused',
    });
  });

  it('when reactivation is asked after day 60 while the deletion job has not run yet, then it is refused and the account stays paused', async () => {
    clock.set(new Date('2030-09-01T10:00:00Z'));
    await account('PAU-AAA-0004');
    await request('PAU-AAA-0004', { type: 'pause' }, { requestKey: 'p4' });
    const ticket = await reactivationTicket('PAU-AAA-0004', 'Reactivate please', 'email:support:reactivate-4');
    clock.set(new Date('2030-10-31T08:00:00Z'));
    await expect(svc().plans.approveReactivation(ticket.ref, USERS.support)).rejects.toMatchObject({
      message: expect.stringMatching(/more than 60 days ago/),
    });
    expect((await accountOf('PAU-AAA-0004'))?.status).toBe('paused');
    expect(await changeOf('pause:p4:pause_delete')).toMatchObject({ status: 'scheduled' });
  });
});

describe('cancellation', () => {
  it('when a non-admin or a request without DELETE exactly cancels, then it is refused and nothing happens', async () => {
    clock.set(new Date('2030-02-10T10:00:00Z'));
    await account('CAN-AAA-0001');
    await expect(
      request('CAN-AAA-0001', { type: 'cancel', reason: 'other', confirm: 'DELETE' }, { userId: USERS.billing }),
    ).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/Only admins/) });
    await expect(
      request('CAN-AAA-0001', { type: 'cancel', reason: 'other', confirm: 'delete' }, { userId: USERS.admin }),
    ).rejects.toMatchObject({ field: 'confirm_delete' });
    expect(await counts('CAN-AAA-0001')).toEqual({ changes: 0, ledger: 0 });
    expect((await accountOf('CAN-AAA-0001'))?.status).toBe('active');
  });

  it('when an admin cancels with a reason and DELETE, then projects and data are deleted through billing, recorded, and backups purged within 60 days', async () => {
    await account('CAN-AAA-0002');
    const res = await request(
      'CAN-AAA-0002',
      { type: 'cancel', reason: 'project-ended', confirm: 'DELETE' },
      { userId: USERS.admin, requestKey: 'c2' },
    );
    expect(res.outcome).toBe('applied');
    expect(await accountOf('CAN-AAA-0002')).toMatchObject({ status: 'cancelled' });
    expect(await models().BillingLedger.findById('cancel:c2').lean()).toMatchObject({
      type: 'delete_account',
      details: expect.objectContaining({ reason: 'project-ended' }),
    });
    const purge = await changeOf('cancel:c2:backup_purge');
    expect(purge).toMatchObject({ type: 'backup_purge', status: 'scheduled' });
    expect(purge!.dueAt.getTime() - clock.now().getTime()).toBeLessThanOrEqual(60 * 86_400_000);
    expect(await jobsOf('cancel:c2:backup_purge')).toHaveLength(1);
    expect((await models().Ticket.findById(res.ticketRef).lean())?.kind).toBe('cancellation');
    await expect(request('CAN-AAA-0002', { type: 'upgrade', tier: 'startup-25k' })).rejects.toMatchObject({
      message: expect.stringMatching(/cancelled/),
    });
  });
});

describe('trial', () => {
  it('when a trial starts without billing details, then lock (day 23) and end (day 30) are scheduled; completing the details cancels the lock only', async () => {
    clock.set(new Date('2030-03-10T10:00:00Z'));
    await account('TRI-AAA-0001', {
      status: 'trial',
      signupDate: '2030-03-10',
      billingAnchor: undefined,
      billingDetailsComplete: false,
    });
    const lock = await changeOf('TRI-AAA-0001:trial_lock:2030-04-02');
    const end = await changeOf('TRI-AAA-0001:trial_end:2030-04-09');
    expect(lock?.dueAt.toISOString()).toBe('2030-04-01T22:00:00.000Z');
    expect(end?.dueAt.toISOString()).toBe('2030-04-08T22:00:00.000Z');
    expect(await jobsOf(lock!._id)).toHaveLength(1);
    expect(await jobsOf(end!._id)).toHaveLength(1);

    await expect(svc().accounts.completeBillingDetails('TRI-AAA-0001', USERS.support)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await svc().accounts.completeBillingDetails('TRI-AAA-0001', USERS.billing)).toMatch(/lock is cancelled/);
    expect(await changeOf(lock!._id)).toMatchObject({ status: 'cancelled' });
    expect(await jobsOf(lock!._id)).toHaveLength(0);
    expect(await jobsOf(end!._id)).toHaveLength(1);
    expect(await accountOf('TRI-AAA-0001')).toMatchObject({ billingDetailsComplete: true, status: 'trial' });
  });

  it('when day 23 comes without billing details, then the real scheduler locks the dashboard; at day 30 the trial ends (locked without details, active with)', async () => {
    // 23:59:58 Berlin on day 22 of a trial that began on 2030-03-10.
    clock.set(new Date('2030-04-01T21:59:58Z'));
    await account('TRI-AAA-0002', {
      status: 'trial',
      signupDate: '2030-03-10',
      billingAnchor: undefined,
      billingDetailsComplete: false,
    });
    // The change is marked applied last (after the account, the ledger and the history), so wait for that.
    await eventually(
      async () => (await changeOf('TRI-AAA-0002:trial_lock:2030-04-02'))?.status === 'applied',
      'lock applied on day 23',
    );
    expect((await accountOf('TRI-AAA-0002'))?.status).toBe('locked');
    expect(await models().BillingLedger.countDocuments({ accountId: 'TRI-AAA-0002', type: 'trial_lock' })).toBe(1);

    // Billing details after the lock: unlocked, and at day 30 the account becomes paying.
    await svc().accounts.completeBillingDetails('TRI-AAA-0002', USERS.billing);
    expect((await accountOf('TRI-AAA-0002'))?.status).toBe('trial');
    clock.set(new Date('2030-04-08T22:00:01Z'));
    expect(await svc().plans.apply('TRI-AAA-0002:trial_end:2030-04-09')).toBe('applied');
    expect(await accountOf('TRI-AAA-0002')).toMatchObject({ status: 'active', billingAnchor: '2030-04-09' });
  });
});

describe('retention, regions and unknown accounts', () => {
  it('when data is asked for another region, then it is an Enterprise lead and the account stays in the EU; retention defaults to 3 years', async () => {
    await account('REG-AAA-0001');
    const res = await request('REG-AAA-0001', { type: 'region', region: 'us' });
    expect(res.outcome).toBe('lead');
    const lead = await models().Ticket.findById(res.ticketRef).lean();
    expect(lead?.kind).toBe('sales');
    // The lead's card says what was asked and whom to contact.
    expect(lead?.description).toMatch(
      /^Data in the .+ region asked in Slack for Company REG-AAA-0001 \(REG-AAA-0001\), now on Startup 10,000 MAU\. C4S data stays in the .+ region, so nothing was changed\.\nContact: Company REG-AAA-0001, owner@reg-aaa-0001\.test$/,
    );
    expect(await accountOf('REG-AAA-0001')).toMatchObject({ region: 'eu', retentionYears: 3 });
    expect(await counts('REG-AAA-0001')).toEqual({ changes: 0, ledger: 0 });
  });

  it('when the account is unknown, then the request is refused on the account field and nothing is written', async () => {
    const before = await models().PlanChange.countDocuments({});
    await expect(request('NOP-AAA-0000', { type: 'upgrade', tier: 'startup-25k' })).rejects.toMatchObject({
      code: 'not_found',
      field: 'account_id',
    });
    expect(await models().PlanChange.countDocuments({})).toBe(before);
  });

  it('when the account overview is asked, then it lists plan, status, pending changes with dates, and open tickets', async () => {
    clock.set(new Date('2030-02-10T10:00:00Z'));
    await account('OVR-AAA-0001', { tier: 'startup-25k' });
    const res = await request('OVR-AAA-0001', { type: 'downgrade', tier: 'startup-10k' }, { requestKey: 'o1' });
    const o = await svc().accounts.overview('OVR-AAA-0001', USERS.support);
    expect(o.account).toMatchObject({ tier: 'startup-25k', status: 'active', retentionYears: 3 });
    expect(o.pending.map((c) => c._id)).toEqual(['downgrade:o1']);
    expect(o.tickets.map((x) => x.ref)).toContain(res.ticketRef);
  });
});
