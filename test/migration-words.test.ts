/**
 * What a migration says to people, through the real parts (signed Slack requests, the fake Slack
 * Web API, SMTP both ways): the C4S cancellation named the same way in the customer's email,
 * billing's answer, the history and the cards; a failed payment with its reason; the completed
 * card with the account team; the project count; and emails sent as billing@ "Billing" whose
 * replies still join the ticket. The app's clock reads 2030-11-20 in Berlin (ahead of real time,
 * as the outbox stamps a row's first attempt with the real time).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { settableClock } from '../src/clock.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { sendMail } from './support/send-mail.js';
import { eventCallback } from './support/slack-requests.js';
import { CHANNELS, eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';
import {
  billingCardUpdate,
  choosePaymentFailed,
  completeValues,
  failPayment,
  handOff,
  openStep,
  paymentFailedValues,
  press,
  projectsValues,
  selectPayment,
  submitStep,
  summaryValues,
  type Block,
  type Driver,
} from './support/migration.js';
import {
  HANDOFF_CARD,
  HOME,
  MIGRATION_COMPLETE,
  MIGRATION_PAYMENT_FAILED,
  MIGRATION_PROJECTS,
  MIGRATION_SUMMARY,
} from '../views/ids.js';
import { C4S_DUE_KIND } from '../src/jobs/migration-cancel.js';
import { dueRowOf } from './support/due-work.js';

const TZ = 'Europe/Berlin';
const A = HANDOFF_CARD.actions;
const START = '2030-12-03';
/** The C4S cancellation for a 2030-12-03 start, as every message must name it. */
const CANCELLATION = `2030-12-02 00:00 (${TZ}), the day before the Enterprise start on ${START}`;
const ISO_INSTANT = /\d{4}-\d\d-\d\dT\d\d:\d\d/;

let slack: FakeSlack;
let sink: SmtpSink;
let t: TestApp;
let d: Driver;

beforeAll(async () => {
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  t = await startTestApp({
    slack,
    env: { TZ_BILLING: TZ, SMTP_URL: sink.url },
    start: { clock: settableClock(new Date('2030-11-20T10:00:00Z')) },
  });
  d = { t, slack };
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
  await sink?.close();
});
beforeEach(() => slack.reset());

const ticketOf = async (ref: string) => (await t.app.db.models.Ticket.findById(ref).lean())!;
const customer = (accountId: string) => `buyer.${accountId.toLowerCase()}@customer.example`;
const mailTo = (ref: string, to: string, contains: string) =>
  sink.waitFor(
    (m) => m.to.includes(to) && (m.subject ?? '').startsWith(`[${ref}]`) && (m.text ?? '').includes(contains),
  );
const textOf = (blocks: Block[], id: string) => JSON.stringify(blocks.find((b) => b.block_id === id) ?? null);

/** Handed off and confirmed, with dues to pay; returns the ref. */
async function withDues(accountId: string): Promise<string> {
  const ref = await handOff(d, { accountId, startDate: START, customerEmail: customer(accountId) });
  expect(await press(d, A.confirm, ref)).toMatch(/^Scheduled/);
  await submitStep(
    d,
    MIGRATION_SUMMARY.callbackId,
    ref,
    summaryValues({ outcome: 'dues', amount: '480', method: 'card' }),
  );
  return ref;
}

describe('the C4S cancellation, named once for everyone', () => {
  it('when billing confirms a start on 2030-12-03, then the email, the answer, the history and both cards name 00:00 Berlin on 2030-12-02, the day before; no raw ISO time', async () => {
    const account = 'WRD-AAA-0001';
    const ref = await handOff(d, { accountId: account, startDate: START, customerEmail: customer(account) });
    const answer = await press(d, A.confirm, ref);
    expect(answer).toContain(`C4S plan is cancelled at ${CANCELLATION}.`);
    expect(answer).not.toMatch(ISO_INSTANT);

    const mail = await mailTo(ref, customer(account), 'scheduled to start');
    expect(mail.text).toContain(
      `Your startup (C4S) plan is cancelled at 00:00 (${TZ}) on 2030-12-02, the day before your Enterprise start on ${START}, so you are never billed for both.`,
    );
    expect(mail.text).not.toContain('2030-12-01');

    expect((await ticketOf(ref)).history.at(-1)?.note).toBe(`C4S plan cancellation scheduled for ${CANCELLATION}`);
    const billingCard = await billingCardUpdate(slack, (c) =>
      JSON.stringify(c.args.blocks).includes(HANDOFF_CARD.scheduleBlock),
    );
    expect(textOf(billingCard, HANDOFF_CARD.scheduleBlock)).toContain(
      `C4S plan cancellation scheduled for ${CANCELLATION}`,
    );
    const salesCard = await slack.waitFor(
      'chat.update',
      (c) =>
        c.args.channel === CHANNELS.sales && JSON.stringify(c.args.blocks).includes('C4S plan cancellation scheduled'),
    );
    expect(JSON.stringify(salesCard.args.blocks)).toContain(
      `C4S plan cancellation scheduled for 2030-12-02 00:00 (${TZ})`,
    );
  });

  it('when billing completes before the C4S plan is cancelled, then the refusal gives the due time in Berlin, not UTC ISO', async () => {
    const ref = await withDues('WRD-AAA-0002');
    await selectPayment(d, ref, 'succeeded');
    await submitStep(d, MIGRATION_PROJECTS.callbackId, ref, projectsValues('shop-prod'));
    expect(await press(d, A.start, ref)).toMatch(/^Started/);
    const { refusal } = await openStep(d, A.complete, ref);
    expect(refusal).toContain(`The C4S plan on ${ref} is not cancelled yet (due 2030-12-02 00:00 (${TZ}))`);
    expect(refusal).not.toMatch(ISO_INSTANT);
  });
});

describe('a failed payment and its reason', () => {
  it('when billing chooses "Payment failed", then a modal asks why; an empty reason is refused inline; the reason is stored, shown on the card and App Home, and given to the customer', async () => {
    const account = 'WRD-AAA-0003';
    const ref = await withDues(account);
    const { view } = await choosePaymentFailed(d, ref);
    expect(view?.callback_id).toBe(MIGRATION_PAYMENT_FAILED.callbackId);
    expect(JSON.parse(String(view?.private_metadata))).toEqual({ ref, channel: CHANNELS.billing });
    expect((await ticketOf(ref)).migration?.payment?.status).toBe('pending'); // opening the form records nothing

    const R = MIGRATION_PAYMENT_FAILED.fields;
    const empty = await submitStep(d, MIGRATION_PAYMENT_FAILED.callbackId, ref, paymentFailedValues({}));
    expect(empty.errors?.[R.reason]).toMatch(/Choose why the payment failed/);
    const otherWithoutWords = await submitStep(
      d,
      MIGRATION_PAYMENT_FAILED.callbackId,
      ref,
      paymentFailedValues({ reason: 'other' }),
    );
    expect(otherWithoutWords.errors?.[R.detail]).toMatch(/Say why the payment failed/);
    expect((await ticketOf(ref)).migration?.payment?.status).toBe('pending');

    const told = await submitStep(
      d,
      MIGRATION_PAYMENT_FAILED.callbackId,
      ref,
      paymentFailedValues({ reason: 'card_expired', detail: 'expired in October' }),
    );
    expect(told.told).toMatch(/failed\. Every later step is blocked/);
    const payment = (await ticketOf(ref)).migration?.payment;
    expect(payment).toMatchObject({
      status: 'failed',
      reason: 'Card expired: expired in October',
      by: `slack:${USERS.billing}`,
    });

    const mail = await mailTo(ref, customer(account), 'did not go through');
    expect(mail.text).toContain('did not go through (Card expired: expired in October)');
    const card = await billingCardUpdate(slack, (c) => JSON.stringify(c.args.blocks).includes('payment failed'));
    expect(textOf(card, HANDOFF_CARD.stepsBlock)).toContain('*Payment:* failed (Card expired: expired in October)');
    expect((await openStep(d, A.projects, ref)).refusal).toContain(
      `the payment on ${ref} failed (Card expired: expired in October)`,
    );

    slack.reset();
    await t.post(
      eventCallback({
        event: { type: 'app_home_opened', user: USERS.billing, channel: `D${USERS.billing}`, tab: 'home' },
      }),
    );
    const home = await slack.waitFor('views.publish', (c) => c.args.user_id === USERS.billing);
    const blocked = (home.args.view as { blocks: Block[] }).blocks.find((b) => b.block_id === HOME.billingBlockedBlock)
      ?.text?.text;
    expect(blocked).toContain(`${ref}*`);
    expect(blocked).toContain('payment failed: Card expired: expired in October');

    // Failed again: refused before a form opens.
    expect((await choosePaymentFailed(d, ref)).refusal).toMatch(/already recorded as failed \(Card expired/);
  });

  it('when someone outside billing chooses "Payment failed" or forges its submission, then no modal opens and nothing is recorded', async () => {
    const ref = await withDues('WRD-AAA-0004');
    const tried = await choosePaymentFailed(d, ref, USERS.rep);
    expect(tried.refusal).toMatch(/Only billing team members can record payments/);
    expect(slack.callsTo('views.open')).toHaveLength(0);
    const forged = await submitStep(
      d,
      MIGRATION_PAYMENT_FAILED.callbackId,
      ref,
      paymentFailedValues({ reason: 'card_declined' }),
      { userId: USERS.support },
    );
    expect(forged.errors?.[MIGRATION_PAYMENT_FAILED.fields.reason]).toMatch(/Only billing/);
    expect((await ticketOf(ref)).migration?.payment?.status).toBe('pending');
  });

  it('when a payment succeeds, then the payment select is gone from the card', async () => {
    const ref = await withDues('WRD-AAA-0005');
    expect(await failPayment(d, ref)).toMatch(/failed\./);
    const failedCard = await billingCardUpdate(slack, (c) => JSON.stringify(c.args.blocks).includes('payment failed'));
    const select = failedCard
      .find((b) => b.block_id === HANDOFF_CARD.actionsBlock)
      ?.elements?.find((e) => e.action_id === A.payment) as { options?: { value: string }[] } | undefined;
    expect(select?.options?.map((o) => o.value)).toEqual([`${ref}|succeeded`]); // failed again or pending would only be refused

    expect(await selectPayment(d, ref, 'succeeded')).toMatch(/succeeded; the block is lifted/);
    const card = await billingCardUpdate(slack, (c) => JSON.stringify(c.args.blocks).includes('payment succeeded'));
    const actions = card.find((b) => b.block_id === HANDOFF_CARD.actionsBlock)?.elements?.map((e) => e.action_id);
    expect(actions).toContain(A.projects);
    expect(actions).not.toContain(A.payment);
  });
});

describe('completion', () => {
  it('when billing completes, then the card shows the account team, and the customer reads "Both projects have moved"', async () => {
    const account = 'WRD-AAA-0006';
    const ref = await withDues(account);
    await selectPayment(d, ref, 'succeeded');
    await submitStep(d, MIGRATION_PROJECTS.callbackId, ref, projectsValues('shop-prod', 'shop-staging'));
    await press(d, A.start, ref);
    const row = await dueRowOf(t, C4S_DUE_KIND, ref);
    expect(await t.app.migrationCancel.run({ ref, runAt: String(row!.data.runAt) })).toBe('cancelled');
    const cancelledLine = (await ticketOf(ref)).history.find((h) => h.action === 'c4s_cancelled')?.note;
    expect(cancelledLine).toContain(`its time 2030-12-02 00:00 (${TZ})`);

    expect(
      (
        await submitStep(
          d,
          MIGRATION_COMPLETE.callbackId,
          ref,
          completeValues({ csm: 'U0CSM', tam: 'U0TAM', kam: 'U0KAM' }),
        )
      ).told,
    ).toMatch(/^Completed/);
    const card = await billingCardUpdate(slack, (c) =>
      JSON.stringify(c.args.blocks).includes(':white_check_mark: completed'),
    );
    const team = card.find((b) => b.block_id === HANDOFF_CARD.teamBlock)?.text?.text;
    expect(team).toBe(
      '*Account team*\nCustomer Success Manager: <@U0CSM>\nTechnical Account Manager: <@U0TAM>\nKey Account Manager: <@U0KAM>',
    );
    const done = await mailTo(ref, customer(account), 'is now on the Enterprise plan');
    expect(done.text).toContain('Both projects have moved');
    expect(done.text).not.toContain('All 2');
  });
});

describe('who the migration emails come from', () => {
  it('when the customer first wrote to selfserve@, then migration emails come from billing@ as "Billing", and the customer’s reply to one still joins the ticket', async () => {
    const from = 'cto@selfserve-co.example';
    await sendMail({
      port: t.app.smtpPort,
      from,
      to: 'selfserve@example.com',
      subject: 'Moving to Enterprise',
      text: 'Hello, please move account WRD-SSV-0007 to Enterprise.',
      messageId: 'first.words@selfserve-co.example',
    });
    const ack = await sink.waitFor((m) => m.to.includes(from) && /^\[AR-\d+\]/.test(m.subject ?? ''));
    expect(ack.from).toEqual({ address: 'selfserve@example.com', name: 'Self-serve' }); // the acknowledgement stays with the mailbox written to
    const ref = /^\[(AR-\d+)\]/.exec(ack.subject!)![1]!;
    await eventually(async () => (await t.app.db.models.SlackPost.findById(`card:${ref}`).lean())?.ts, 'card posted');
    expect(await handOff(d, { accountId: 'WRD-SSV-0007', startDate: START, customerName: 'Selfserve Co' })).toBe(ref);
    await press(d, A.confirm, ref);

    const scheduled = await mailTo(ref, from, 'scheduled to start');
    expect(scheduled.from).toEqual({ address: 'billing@example.com', name: 'Billing' });
    expect(scheduled.references).toContain('first.words@selfserve-co.example');

    const tickets = await t.app.db.models.Ticket.countDocuments({});
    await sendMail({
      port: t.app.smtpPort,
      from,
      to: 'billing@example.com',
      subject: `Re: ${scheduled.subject}`,
      inReplyTo: scheduled.messageId!,
      references: [...scheduled.references, scheduled.messageId!],
      text: 'Thanks, the dates work for us.',
    });
    const replied = await eventually(
      async () => (await ticketOf(ref)).history.find((h) => h.action === 'customer_replied'),
      'the reply joined the ticket',
    );
    expect(replied.actor).toBe(`email:${from}`);
    expect(await t.app.db.models.Ticket.countDocuments({})).toBe(tickets);
  });
});
