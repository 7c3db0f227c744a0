/**
 * Migration to Enterprise after billing has scheduled it: billing summary, payments (a failure
 * blocks every later step), projects from billing or the customer's reply, start and completion,
 * and App Home. Real HTTP receiver, fake Slack Web API, real SMTP both ways, real scheduler.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { sendMail } from './support/send-mail.js';
import { eventCallback } from './support/slack-requests.js';
import { eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';
import {
  billingCardUpdate,
  completeValues,
  failPayment,
  handOff,
  openStep,
  press,
  projectsValues,
  selectPayment,
  submitStep,
  summaryValues,
  type Block,
  type Driver,
} from './support/migration.js';
import { HANDOFF_CARD, HOME, MIGRATION_COMPLETE, MIGRATION_PROJECTS, MIGRATION_SUMMARY } from '../views/ids.js';
import { dayIn } from '../src/domain/migration.js';
import { C4S_DUE_KIND } from '../src/jobs/migration-cancel.js';
import { dueRowOf } from './support/due-work.js';

const TZ = 'Europe/Berlin';
const A = HANDOFF_CARD.actions;
let slack: FakeSlack;
let sink: SmtpSink;
let t: TestApp;
let d: Driver;

beforeAll(async () => {
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  t = await startTestApp({ slack, env: { TZ_BILLING: TZ, SMTP_URL: sink.url } });
  d = { t, slack };
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
  await sink?.close();
});
beforeEach(() => slack.reset());

const berlinDay = (days: number) => dayIn(TZ, new Date(Date.now() + days * 86_400_000));
const ticketOf = async (ref: string) => (await t.app.db.models.Ticket.findById(ref).lean())!;
const customer = (accountId: string) => `buyer.${accountId.toLowerCase()}@customer.example`;
const mailTo = (ref: string, to: string, contains: string) =>
  sink.waitFor(
    (m) => m.to.includes(to) && (m.subject ?? '').startsWith(`[${ref}]`) && (m.text ?? '').includes(contains),
  );

/** Handed off and confirmed by billing, the customer emailed the dates; returns the ref. */
async function scheduled(accountId: string, startInDays = 10): Promise<string> {
  const ref = await handOff(d, { accountId, startDate: berlinDay(startInDays), customerEmail: customer(accountId) });
  expect(await press(d, A.confirm, ref)).toMatch(/^Scheduled/);
  await mailTo(ref, customer(accountId), 'scheduled to start');
  return ref;
}

describe('billing summary', () => {
  it('when billing records credits, then the customer is emailed the credit and asked for projects, no payment is needed, and the card shows it', async () => {
    const ref = await scheduled('STP-AAA-0001');
    const scheduledMail = await mailTo(ref, customer('STP-AAA-0001'), 'scheduled to start');
    expect(scheduledMail.from?.address).toBe('billing@example.com');

    const opened = await openStep(d, A.summary, ref);
    expect(opened.view?.callback_id).toBe(MIGRATION_SUMMARY.callbackId);
    const { told } = await submitStep(
      d,
      MIGRATION_SUMMARY.callbackId,
      ref,
      summaryValues({ outcome: 'credits', amount: '120.50' }),
    );
    expect(told).toContain('credits of EUR 120.50');

    const m = (await ticketOf(ref)).migration!;
    expect(m.stage).toBe('payment');
    expect(m.billing).toMatchObject({
      outcome: 'credits',
      amountCents: 12050,
      currency: 'EUR',
      by: `slack:${USERS.billing}`,
    });
    expect(m.payment?.status).toBe('not_needed');
    expect((await ticketOf(ref)).history.at(-1)).toMatchObject({
      action: 'billing_summary',
      actor: `slack:${USERS.billing}`,
    });

    const mail = await mailTo(ref, customer('STP-AAA-0001'), 'no overages');
    expect(mail.text).toContain('EUR 120.50');
    expect(mail.text).toContain('Live: shop-prod');
    expect(mail.inReplyTo).toBe(scheduledMail.messageId); // threads with the earlier email

    const card = await billingCardUpdate(slack, (c) => JSON.stringify(c.args.blocks).includes('no overages'));
    expect(JSON.stringify(card.find((b) => b.block_id === HANDOFF_CARD.progressBlock))).toMatch(
      /white_check_mark: scheduled.*arrow_right: \*payment not needed/,
    );
    const buttons = card.find((b) => b.block_id === HANDOFF_CARD.actionsBlock)?.elements?.map((e) => e.action_id);
    expect(buttons).toContain(A.projects);
    expect(buttons).not.toContain(A.payment); // nothing to pay
    expect(buttons).not.toContain(A.withdraw); // the customer's steps have begun
  });

  it('when the summary has bad or missing fields, then each comes back inline on its field and nothing is recorded', async () => {
    const ref = await scheduled('STP-AAA-0002');
    const S = MIGRATION_SUMMARY.fields;
    const cases: [Parameters<typeof summaryValues>[0], string, RegExp][] = [
      [{}, S.outcome, /credits or an amount due/],
      [{ outcome: 'dues', method: 'card' }, S.amount, /Give the amount due/],
      [{ outcome: 'dues', amount: '12,50.0.1', method: 'card' }, S.amount, /like 1,250.00/],
      [{ outcome: 'dues', amount: '-5', method: 'card' }, S.amount, /like 1,250.00/],
      [{ outcome: 'dues', amount: '0', method: 'card' }, S.amount, /more than 0/],
      [{ outcome: 'dues', amount: '100' }, S.method, /card or eMandate/],
      [{ outcome: 'dues', amount: '100', method: 'card', payNow: true }, S.payNow, /eMandate accounts only/],
      [{ outcome: 'credits', method: 'card' }, S.method, /nothing is due/],
      [{ outcome: 'dues', amount: '100', method: 'card', currency: 'XYZ' }, S.currency, /./],
    ];
    for (const [values, field, message] of cases) {
      const { errors } = await submitStep(d, MIGRATION_SUMMARY.callbackId, ref, summaryValues(values));
      expect(errors?.[field]).toMatch(message);
    }
    const ticket = await ticketOf(ref);
    expect(ticket.migration?.billing).toBeUndefined();
    expect(ticket.migration?.stage).toBe('scheduled');
    expect(ticket.history.map((h) => h.action)).toEqual(['opened', 'handed_off', 'scheduled']);
  });

  it('when the summary is submitted before billing confirmed the schedule, then it is refused with the reason', async () => {
    const ref = await handOff(d, {
      accountId: 'STP-AAA-0003',
      startDate: berlinDay(10),
      customerEmail: customer('STP-AAA-0003'),
    });
    const { refusal } = await openStep(d, A.summary, ref);
    expect(refusal).toMatch(/has not confirmed the schedule.*handed off/);
    const { errors } = await submitStep(d, MIGRATION_SUMMARY.callbackId, ref, summaryValues({ outcome: 'credits' }));
    expect(errors?.[MIGRATION_SUMMARY.fields.outcome]).toMatch(/has not confirmed/);
    expect((await ticketOf(ref)).migration?.billing).toBeUndefined();
  });

  it('when no customer email is on file (a Slack handoff without one), then the step is recorded, nothing is emailed, and billing and the history say so', async () => {
    const ref = await handOff(d, { accountId: 'STP-AAA-0009', startDate: berlinDay(10) });
    expect(await press(d, A.confirm, ref)).toMatch(/The customer was not emailed \(no customer email on file/);
    const { told } = await submitStep(d, MIGRATION_SUMMARY.callbackId, ref, summaryValues({ outcome: 'credits' }));
    expect(told).toMatch(/No email went out: there is no customer email on file\./);
    const ticket = await ticketOf(ref);
    expect(ticket.migration?.billing?.outcome).toBe('credits');
    expect(ticket.history.at(-1)?.note).toMatch(/no email sent: no customer email on file/);
    expect(await t.app.db.models.Outbox.countDocuments({ _id: { $regex: `^email:migration:${ref}:` } })).toBe(0);
  });

  it('when the same submission is retried, then it is recorded and emailed once', async () => {
    const ref = await scheduled('STP-AAA-0004');
    const values = summaryValues({ outcome: 'dues', amount: '99', method: 'card' });
    const first = await submitStep(d, MIGRATION_SUMMARY.callbackId, ref, values, { viewId: 'VSUMMARYRETRY' });
    expect(first.told).toMatch(/EUR 99.00 due, card/);
    const again = await submitStep(d, MIGRATION_SUMMARY.callbackId, ref, values, { viewId: 'VSUMMARYRETRY' });
    expect(again.told).toMatch(/already recorded/);
    const ticket = await ticketOf(ref);
    expect(ticket.history.filter((h) => h.action === 'billing_summary')).toHaveLength(1);
    expect(await t.app.db.models.Outbox.countDocuments({ _id: { $regex: `^email:migration:${ref}:summary:` } })).toBe(
      1,
    );
  });
});

describe('who may act', () => {
  it('when someone outside billing presses billing buttons or forges billing submissions, then each is refused and nothing changes', async () => {
    const ref = await scheduled('STP-AAA-0005');
    const before = await ticketOf(ref);

    const pressed = await openStep(d, A.summary, ref, USERS.rep);
    expect(pressed.refusal).toMatch(/Only billing team members can record the billing summary/);
    expect(slack.callsTo('views.open')).toHaveLength(0);
    expect(await selectPayment(d, ref, 'succeeded', USERS.support)).toMatch(/Only billing/);
    expect(await press(d, A.start, ref, USERS.outsider)).toMatch(/Only billing/);
    expect((await openStep(d, A.projects, ref, USERS.rep)).refusal).toMatch(/Only billing/);
    expect(await press(d, A.confirm, ref, USERS.rep)).toMatch(/Only billing/);

    const forged = await submitStep(d, MIGRATION_SUMMARY.callbackId, ref, summaryValues({ outcome: 'credits' }), {
      userId: USERS.rep,
    });
    expect(forged.errors?.[MIGRATION_SUMMARY.fields.outcome]).toMatch(/Only billing/);
    const forgedProjects = await submitStep(d, MIGRATION_PROJECTS.callbackId, ref, projectsValues('shop'), {
      userId: USERS.support,
    });
    expect(forgedProjects.errors?.[MIGRATION_PROJECTS.fields.live]).toMatch(/Only billing/);
    const forgedComplete = await submitStep(d, MIGRATION_COMPLETE.callbackId, ref, completeValues({ csm: 'U0CSM' }), {
      userId: USERS.outsider,
    });
    expect(forgedComplete.errors?.[MIGRATION_COMPLETE.fields.csm]).toMatch(/Only billing/);

    const after = await ticketOf(ref);
    expect(after.history).toHaveLength(before.history.length);
    expect(after.migration).toEqual(before.migration);
  });
});

describe('payments and projects', () => {
  it('when a payment fails, then every later step says why until a success is recorded; projects the customer names meanwhile wait for billing', async () => {
    const account = 'STP-AAA-0006';
    const ref = await scheduled(account);
    const summary = await submitStep(
      d,
      MIGRATION_SUMMARY.callbackId,
      ref,
      summaryValues({ outcome: 'dues', amount: '1,250', method: 'emandate', payNow: true }),
    );
    expect(summary.told).toMatch(/EUR 1,250.00 due, eMandate \(may pay now by card\); payment pending/);
    const summaryMail = await mailTo(ref, customer(account), 'EUR 1,250.00');
    expect(summaryMail.text).toMatch(/eMandate, or you can pay it now by card/);
    expect((await ticketOf(ref)).migration?.payment?.status).toBe('pending');

    expect(await failPayment(d, ref)).toMatch(/failed\. Every later step is blocked/);
    const failedMail = await mailTo(ref, customer(account), 'did not go through');
    const card = await billingCardUpdate(slack, (c) => JSON.stringify(c.args.blocks).includes('payment failed'));
    expect(JSON.stringify(card.find((b) => b.block_id === HANDOFF_CARD.progressBlock))).toContain(
      ':no_entry: *payment failed*',
    );

    const blocked = /Blocked: the payment on AR-\d+ failed \(Card declined\)\. Record a successful payment first\./;
    expect((await openStep(d, A.projects, ref)).refusal).toMatch(blocked);
    expect((await openStep(d, A.summary, ref)).refusal).toMatch(blocked);
    expect(await press(d, A.start, ref)).toMatch(blocked);
    expect((await openStep(d, A.complete, ref)).refusal).toMatch(blocked);
    const stale = await submitStep(d, MIGRATION_PROJECTS.callbackId, ref, projectsValues('shop-prod'));
    expect(stale.errors?.[MIGRATION_PROJECTS.fields.live]).toMatch(blocked);
    expect(await selectPayment(d, ref, 'pending')).toMatch(/only a successful payment lifts the block/);
    expect((await ticketOf(ref)).migration?.payment?.status).toBe('failed');

    // The customer answers with their projects while the payment is blocked: kept, not confirmed.
    await sendMail({
      port: t.app.smtpPort,
      from: customer(account),
      to: 'billing@example.com',
      subject: `Re: ${failedMail.subject}`,
      inReplyTo: failedMail.messageId!,
      text: 'Hi,\n\nLive: shop-prod, api\nTest: shop-staging\n\nThanks',
    });
    const proposed = await eventually(
      async () => (await ticketOf(ref)).migration?.proposedProjects,
      'projects proposed',
    );
    expect(proposed).toMatchObject({
      live: ['shop-prod', 'api'],
      test: ['shop-staging'],
      by: `email:${customer(account)}`,
    });
    expect((await ticketOf(ref)).migration?.projects).toBeUndefined();
    const note = await slack.waitFor('chat.postMessage', (c) => String(c.args.text).includes('not confirmed'));
    expect(String(note.args.text)).toMatch(blocked);

    expect(await selectPayment(d, ref, 'succeeded')).toMatch(/succeeded; the block is lifted/);
    await mailTo(ref, customer(account), 'payment has gone through');
    const opened = await openStep(d, A.projects, ref);
    const liveBlock = (opened.view?.blocks as { block_id: string; element: { initial_value?: string } }[]).find(
      (b) => b.block_id === MIGRATION_PROJECTS.fields.live,
    );
    expect(liveBlock?.element.initial_value).toBe('shop-prod\napi');

    const bad = await submitStep(d, MIGRATION_PROJECTS.callbackId, ref, projectsValues('shop-prod\n<script>', ''));
    expect(bad.errors?.[MIGRATION_PROJECTS.fields.live]).toMatch(/Not a project name/);
    const both = await submitStep(d, MIGRATION_PROJECTS.callbackId, ref, projectsValues('shop-prod', 'shop-prod'));
    expect(both.errors?.[MIGRATION_PROJECTS.fields.test]).toMatch(/both live and test/);
    const none = await submitStep(d, MIGRATION_PROJECTS.callbackId, ref, projectsValues(''));
    expect(none.errors?.[MIGRATION_PROJECTS.fields.live]).toMatch(/at least one live project/);

    const confirmed = await submitStep(
      d,
      MIGRATION_PROJECTS.callbackId,
      ref,
      projectsValues('shop-prod\napi', 'shop-staging'),
    );
    expect(confirmed.told).toMatch(/Projects confirmed: live shop-prod, api; test shop-staging/);
    const m = (await ticketOf(ref)).migration!;
    expect(m.stage).toBe('projects_confirmed');
    expect(m.projects).toMatchObject({
      live: ['shop-prod', 'api'],
      test: ['shop-staging'],
      by: `slack:${USERS.billing}`,
    });
    expect(m.proposedProjects).toBeUndefined();
    const listMail = await mailTo(ref, customer(account), 'These projects will move');
    expect(listMail.text).toMatch(/Live:\n {2}- shop-prod\n {2}- api/);

    const actions = (await ticketOf(ref)).history.map((h) => h.action);
    expect(actions.slice(actions.indexOf('billing_summary'))).toEqual([
      'billing_summary',
      'payment_failed',
      'customer_replied',
      'projects_proposed',
      'payment_succeeded',
      'projects_confirmed',
    ]);
  });

  it('when the customer names projects in a reply and nothing blocks it, then they are confirmed at once and emailed back', async () => {
    const account = 'STP-AAA-0007';
    const ref = await scheduled(account);
    await submitStep(d, MIGRATION_SUMMARY.callbackId, ref, summaryValues({ outcome: 'credits' }));
    const ask = await mailTo(ref, customer(account), 'no overages');
    await sendMail({
      port: t.app.smtpPort,
      from: customer(account),
      to: 'billing@example.com',
      subject: `Re: ${ask.subject}`,
      inReplyTo: ask.messageId!,
      text: 'Live projects: web-prod\nTesting: web-test\n\n> quoted',
    });
    const projects = await eventually(async () => (await ticketOf(ref)).migration?.projects, 'projects confirmed');
    expect(projects).toMatchObject({ live: ['web-prod'], test: ['web-test'], by: `email:${customer(account)}` });
    expect((await ticketOf(ref)).migration?.stage).toBe('projects_confirmed');
    await mailTo(ref, customer(account), 'web-prod');
  });
});

describe('start and completion', () => {
  it('when billing starts or completes out of order, then each is refused with the reason; in order, the customer and the salesperson are told once', async () => {
    const account = 'STP-AAA-0008';
    const ref = await scheduled(account);
    await submitStep(
      d,
      MIGRATION_SUMMARY.callbackId,
      ref,
      summaryValues({ outcome: 'dues', amount: '10', method: 'card' }),
    );
    expect(await press(d, A.start, ref)).toMatch(/Waiting for the payment on AR-\d+: it is pending/);
    await selectPayment(d, ref, 'succeeded');
    expect(await press(d, A.start, ref)).toMatch(/Confirm the live and test projects/);
    expect((await openStep(d, A.complete, ref)).refusal).toMatch(/Start the migration on AR-\d+ first/);
    await submitStep(d, MIGRATION_PROJECTS.callbackId, ref, projectsValues('only-prod'));
    expect(await press(d, A.start, ref)).toMatch(/^Started/);
    expect(await press(d, A.start, ref)).toMatch(/already migrating/);
    expect((await ticketOf(ref)).migration?.stage).toBe('migrating');

    // The C4S plan is cancelled ten days from now: completing before that is refused.
    expect((await openStep(d, A.complete, ref)).refusal).toMatch(/C4S plan on AR-\d+ is not cancelled yet/);
    const row = await dueRowOf(t, C4S_DUE_KIND, ref);
    expect(await t.app.migrationCancel.run({ ref, runAt: String(row!.data.runAt) })).toBe('cancelled');

    expect((await openStep(d, A.complete, ref)).view?.callback_id).toBe(MIGRATION_COMPLETE.callbackId);
    const missing = await submitStep(d, MIGRATION_COMPLETE.callbackId, ref, completeValues({}));
    expect(missing.errors?.[MIGRATION_COMPLETE.fields.csm]).toMatch(/Customer Success Manager/);
    const done = await submitStep(
      d,
      MIGRATION_COMPLETE.callbackId,
      ref,
      completeValues({ csm: 'U0CSM', kam: 'U0KAM' }),
    );
    expect(done.told).toMatch(/^Completed/);
    const dm = await slack.waitFor('chat.postMessage', (c) => c.args.channel === USERS.rep);
    expect(String(dm.args.text)).toMatch(
      new RegExp(`${ref}.*Acme GmbH.*Customer Success Manager <@U0CSM>, Key Account Manager <@U0KAM>`),
    );
    expect(String(dm.args.text)).not.toContain('Technical Account Manager');
    const card = await billingCardUpdate(slack, (c) =>
      JSON.stringify(c.args.blocks).includes(':white_check_mark: completed'),
    );
    expect(card.find((b) => b.block_id === HANDOFF_CARD.actionsBlock)).toBeUndefined();
    await mailTo(ref, customer(account), 'is now on the Enterprise plan');
    const m = (await ticketOf(ref)).migration!;
    expect(m.stage).toBe('completed');
    // The names are Slack's (users.info), for the customer's page, which cannot show Slack IDs.
    expect(m.accountTeam).toEqual({ csm: 'U0CSM', kam: 'U0KAM', csmName: 'User U0CSM', kamName: 'User U0KAM' });

    const again = await submitStep(d, MIGRATION_COMPLETE.callbackId, ref, completeValues({ csm: 'U0CSM' }), {
      viewId: 'VCOMPLETEAGAIN',
    });
    expect(again.errors?.[MIGRATION_COMPLETE.fields.csm]).toMatch(/already completed/);
    expect(await t.app.db.models.Outbox.countDocuments({ _id: `dm:${ref}:introduce` })).toBe(1);
  });
});

describe('App Home', () => {
  const home = async (user: string) => {
    slack.reset();
    await t.post(eventCallback({ event: { type: 'app_home_opened', user, channel: `D${user}`, tab: 'home' } }));
    const call = await slack.waitFor('views.publish', (c) => c.args.user_id === user);
    const blocks = (call.args.view as { blocks: Block[] }).blocks;
    return (id: string) => blocks.find((b) => b.block_id === id)?.text?.text;
  };

  it('when billing and sales open App Home, then billing sees its queues and sales its own handoffs; others see neither', async () => {
    const waiting = await handOff(d, {
      accountId: 'HOM-AAA-0001',
      startDate: berlinDay(20),
      customerEmail: customer('HOM-AAA-0001'),
    });
    const soon = await scheduled('HOM-AAA-0002', 3);
    const failing = await scheduled('HOM-AAA-0003', 30);
    await submitStep(
      d,
      MIGRATION_SUMMARY.callbackId,
      failing,
      summaryValues({ outcome: 'dues', amount: '5', method: 'card' }),
    );
    await failPayment(d, failing);

    const billing = await home(USERS.billing);
    expect(billing(HOME.billingAwaitingBlock)).toMatch(new RegExp(`${waiting}.*confirm & schedule`));
    expect(billing(HOME.billingAwaitingBlock)).toMatch(new RegExp(`${soon}.*record the billing summary`));
    expect(billing(HOME.billingAwaitingBlock)).not.toContain(failing);
    expect(billing(HOME.billingBlockedBlock)).toContain(failing);
    expect(billing(HOME.billingBlockedBlock)).not.toContain(soon);
    expect(billing(HOME.billingCancellationsBlock)).toContain(soon);
    expect(billing(HOME.billingCancellationsBlock)).not.toContain(failing); // due in 29 days
    expect(billing(HOME.salesHandoffsBlock)).toBeUndefined();

    const sales = await home(USERS.rep);
    expect(sales(HOME.salesHandoffsBlock)).toMatch(
      new RegExp(`${waiting}.*handed off; next: confirm & schedule \\(billing\\)`),
    );
    expect(sales(HOME.salesHandoffsBlock)).toMatch(new RegExp(`${failing}.*payment failed`));
    expect(sales(HOME.billingAwaitingBlock)).toBeUndefined();

    const other = await home(USERS.support);
    expect(other(HOME.billingAwaitingBlock)).toBeUndefined();
    expect(other(HOME.salesHandoffsBlock)).toBeUndefined();
    expect(other(HOME.ticketsBlock)).toBeDefined();
  });
});
