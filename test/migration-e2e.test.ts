/**
 * The whole migration to Enterprise, end to end, through the real parts: the customer's email over
 * SMTP to the bot's listener, Slack requests signed and sent to the HTTP receiver, the fake Slack
 * Web API, outbound mail into an SMTP sink, and the real Agenda scheduler. The app's clock is set
 * seconds before 00:00 Europe/Berlin when billing confirms, so the C4S cancellation (due at that
 * midnight, the day before the Enterprise start) fires for real while the test watches.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from './support/smtp-sink.js';
import { sendMail } from './support/send-mail.js';
import { blockActions } from './support/slack-requests.js';
import { CHANNELS, eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';
import {
  completeValues,
  failPayment,
  handOff,
  openStep,
  press,
  selectPayment,
  submitStep,
  summaryValues,
  type Block,
  type Driver,
} from './support/migration.js';
import { HANDOFF_CARD, MIGRATION_COMPLETE, MIGRATION_SUMMARY, TICKET_CARD } from '../views/ids.js';
import { dayBefore, dayIn, localMidnight } from '../src/domain/migration.js';
import { settableClock, type SettableClock } from '../src/clock.js';
import { C4S_DUE_KIND } from '../src/jobs/migration-cancel.js';
import { dueRowsOf } from './support/due-work.js';

const TZ = 'Europe/Berlin';
const CUSTOMER = 'cto@bigco.example';
const ACCOUNT = 'R74-ZWR-R44Z';
/** How long before the cancellation's midnight billing confirms: enough for the confirmation itself. */
const LEAD_MS = 8_000;
const A = HANDOFF_CARD.actions;

let slack: FakeSlack;
let sink: SmtpSink;
let t: TestApp;
let d: Driver;
/** 00:00 Berlin tomorrow (as the app's clock reads it): when the C4S plan must be cancelled. */
let cancelAt: Date;
let startDate: string;
let clock: SettableClock;

beforeAll(async () => {
  // Today and tomorrow as Berlin reads them now: the C4S plan ends at tomorrow's midnight.
  const today = dayIn(TZ, new Date());
  const tomorrow = dayIn(TZ, new Date(localMidnight(today, TZ).getTime() + 36 * 3_600_000));
  cancelAt = localMidnight(tomorrow, TZ);
  startDate = dayIn(TZ, new Date(cancelAt.getTime() + 36 * 3_600_000)); // the day after tomorrow
  expect(dayBefore(startDate)).toBe(tomorrow);
  // The evening before; billing's confirmation moves the clock to just before midnight.
  // Never behind real time: rows are stamped in real time and deliveries compare with this clock,
  // so a clock set before now (a run between 23:00 and midnight Berlin) held every email back.
  clock = settableClock(new Date(Math.max(Date.now(), cancelAt.getTime() - 3_600_000)));
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  t = await startTestApp({
    slack,
    env: { TZ_BILLING: TZ, SMTP_URL: sink.url, JOBS_PROCESS_EVERY_MS: '100' },
    start: { clock },
  });
  d = { t, slack };
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
  await sink?.close();
});

const ticketOf = async (ref: string) => (await t.app.db.models.Ticket.findById(ref).lean())!;
const mailWith = (ref: string, text: string) =>
  sink.waitFor(
    (m) => m.to.includes(CUSTOMER) && (m.subject ?? '').startsWith(`[${ref}]`) && (m.text ?? '').includes(text),
    15_000,
  );
const reply = (to: ReceivedMail, text: string) =>
  sendMail({
    port: t.app.smtpPort,
    from: CUSTOMER,
    to: 'sales@example.com',
    subject: `Re: ${to.subject}`,
    inReplyTo: to.messageId!,
    references: [...to.references, to.messageId!],
    text,
  });

it('when a customer asks to move to Enterprise, then sales, billing, the scheduler and the customer take it from the first email to the account-team introduction', async () => {
  // 1. The customer writes to sales@: a migration ticket, acknowledged, with its card in the sales channel.
  await sendMail({
    port: t.app.smtpPort,
    from: CUSTOMER,
    to: 'sales@example.com',
    subject: 'Moving to Enterprise',
    text: `Hello, we would like to migrate account ${ACCOUNT} to an Enterprise plan.`,
    messageId: 'first.e2e@bigco.example',
  });
  const ack = await sink.waitFor((m) => m.to.includes(CUSTOMER) && /^\[AR-\d+\]/.test(m.subject ?? ''));
  const ref = /^\[(AR-\d+)\]/.exec(ack.subject!)![1]!;
  expect(await ticketOf(ref)).toMatchObject({ kind: 'migration', accountId: ACCOUNT, team: 'sales' });
  const card = await slack.waitFor(
    'chat.postMessage',
    (c) => c.args.channel === CHANNELS.sales && String(c.args.text).includes(ref),
  );
  const startButton = (card.args.blocks as Block[])
    .find((b) => b.block_id === TICKET_CARD.actionsBlock)
    ?.elements?.find((e) => e.action_id === TICKET_CARD.actions.startHandoff);
  expect(startButton?.value).toBe(`${ref}|${ACCOUNT}`);
  await eventually(async () => (await t.app.db.models.SlackPost.findById(`card:${ref}`).lean())?.ts, 'card stored');

  // 2. The rep presses Start handoff and submits the modal: the same ticket, handed off to billing.
  await t.post(
    blockActions({
      actionId: TICKET_CARD.actions.startHandoff,
      blockId: TICKET_CARD.actionsBlock,
      value: startButton!.value!,
      userId: USERS.rep,
      channelId: CHANNELS.sales,
    }),
  );
  expect((await slack.waitFor('views.open')).args.view).toMatchObject({ callback_id: 'migration_handoff' });
  expect(await handOff(d, { accountId: ACCOUNT, startDate, customerName: 'BigCo' })).toBe(ref);

  // 3. Seconds before midnight (nothing is scheduled yet, so the jump moves nothing), billing
  //    confirms: one due row, at 00:00 Berlin the day before the start; the customer gets the dates.
  clock.set(new Date(cancelAt.getTime() - LEAD_MS));
  expect(await press(d, A.confirm, ref)).toContain(
    `${dayBefore(startDate)} 00:00 (${TZ}), the day before the Enterprise start on ${startDate}`,
  );
  const scheduledMail = await mailWith(ref, 'scheduled to start');
  expect(scheduledMail.references).toContain('first.e2e@bigco.example');
  const rows = await dueRowsOf(t, C4S_DUE_KIND, ref);
  expect(rows).toHaveLength(1);
  expect(rows[0]!.runAt.toISOString()).toBe(cancelAt.toISOString());
  expect((await ticketOf(ref)).migration?.c4sCancelledAt).toBeUndefined();
  expect(t.app.clock.now().getTime()).toBeLessThan(cancelAt.getTime());

  // 4. Midnight comes: the runner is woken and cancels once, at its time (lateness within a few poll intervals).
  const cancelled = await eventually(
    async () => (await ticketOf(ref)).migration?.c4sCancelledAt,
    'the C4S cancellation',
    LEAD_MS + 15_000,
  );
  expect(cancelled.getTime()).toBeGreaterThanOrEqual(cancelAt.getTime());
  expect(cancelled.getTime() - cancelAt.getTime()).toBeLessThan(10_000); // polls every 100 ms; slack for a loaded machine
  // The runner removes a finished row after its handler returns: once it is gone, no run is left to come.
  await eventually(async () => (await dueRowsOf(t, C4S_DUE_KIND, ref)).length === 0, 'the finished row removed');
  expect((await ticketOf(ref)).history.filter((h) => h.action === 'c4s_cancelled')).toHaveLength(1);
  expect(await t.app.db.models.MigrationEffect.countDocuments({ _id: `cancel:${ref}` })).toBe(1);
  expect(await t.app.db.models.BillingLedger.find({ accountId: ACCOUNT }).lean()).toEqual([
    expect.objectContaining({ _id: `c4s-cancel:${ref}`, type: 'c4s_cancel' }),
  ]);

  // 5. Billing summary: dues by card.
  const summary = await submitStep(
    d,
    MIGRATION_SUMMARY.callbackId,
    ref,
    summaryValues({ outcome: 'dues', amount: '480', method: 'card' }),
  );
  expect(summary.told).toMatch(/EUR 480.00 due, card/);
  await mailWith(ref, 'EUR 480.00 is due');

  // 6. The payment fails (later steps answer why), then succeeds.
  await failPayment(d, ref);
  await mailWith(ref, 'did not go through');
  expect((await openStep(d, A.projects, ref)).refusal).toMatch(/Blocked: the payment on .* failed/);
  expect(await press(d, A.start, ref)).toMatch(/Blocked/);
  await selectPayment(d, ref, 'succeeded');
  // With PUBLIC_URL set the email offers the page too; replying with the list still works.
  const askProjects = await mailWith(ref, 'with the projects to move');

  // 7. The customer names the projects in a reply: confirmed and emailed back.
  await reply(askProjects, 'Live: bigco-prod, bigco-eu\nTest: bigco-staging\n\nBest, CTO');
  await eventually(async () => (await ticketOf(ref)).migration?.stage === 'projects_confirmed', 'projects confirmed');
  await mailWith(ref, 'These projects will move');

  // 8. Billing starts and completes the migration: the customer is told, the rep asked to introduce the account team.
  expect(await press(d, A.start, ref)).toMatch(/^Started/);
  const done = await submitStep(
    d,
    MIGRATION_COMPLETE.callbackId,
    ref,
    completeValues({ csm: 'U0CSM', tam: 'U0TAM', kam: 'U0KAM' }),
  );
  expect(done.told).toMatch(/^Completed/);
  const completion = await mailWith(ref, 'Your account is now on the Enterprise plan');
  expect(completion.text).toContain('All 3 projects have moved');
  const prompt = await slack.waitFor(
    'chat.postMessage',
    (c) => c.args.channel === USERS.rep && String(c.args.text).includes('introduce'),
  );
  expect(String(prompt.args.text)).toContain(
    'Customer Success Manager <@U0CSM>, Technical Account Manager <@U0TAM>, Key Account Manager <@U0KAM>',
  );
  expect(String(prompt.args.text)).toContain(CUSTOMER);

  // Every email threads on the customer's first message; the history tells the story, who and when.
  const ours = sink.messages.filter((m) => m.to.includes(CUSTOMER));
  expect(ours).toHaveLength(7); // acknowledgement, scheduled, summary, failed, succeeded, projects, completed: none twice
  for (const m of ours) {
    expect(m.subject).toMatch(new RegExp(`^\\[${ref}\\]`));
    expect(m.references).toContain('first.e2e@bigco.example');
  }
  const history = (await ticketOf(ref)).history;
  expect(history.map((h) => h.action)).toEqual([
    'opened',
    'acknowledged',
    'handed_off',
    'scheduled',
    'c4s_cancelled',
    'billing_summary',
    'payment_failed',
    'payment_succeeded',
    'customer_replied',
    'projects_confirmed',
    'migrating',
    'completed',
  ]);
  expect(history.find((h) => h.action === 'handed_off')?.actor).toBe(`slack:${USERS.rep}`);
  expect(history.find((h) => h.action === 'c4s_cancelled')?.actor).toBe('system');
  expect(history.find((h) => h.action === 'projects_confirmed')?.actor).toBe(`email:${CUSTOMER}`);
  expect(history.find((h) => h.action === 'completed')?.actor).toBe(`slack:${USERS.billing}`);
  const sales = await slack.waitFor(
    'chat.update',
    (c) => c.args.channel === CHANNELS.sales && JSON.stringify(c.args.blocks).includes(':white_check_mark: completed'),
  );
  expect(JSON.stringify(sales.args.blocks)).toContain(TICKET_CARD.progressBlock);
}, 90_000);
