/**
 * Who may steer a ticket by email (issue 9, items 1 and 4): a plus address joins a ticket only when
 * it carries the signature we handed out, or the sender already takes part; only a sender the
 * ticket trusts confirms migration projects; automatic answers go to the envelope sender, never to
 * a Reply-To. Real SMTP both ways, the real HTTP receiver and a fake Slack.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { sendMail } from './support/send-mail.js';
import { blockActions, viewSubmission } from './support/slack-requests.js';
import { CHANNELS, eventually, settled, startTestApp, USERS, type TestApp } from './support/test-app.js';
import {
  billingCardUpdate,
  handOff,
  press,
  submitStep,
  summaryValues,
  type Block,
  type Driver,
} from './support/migration.js';
import { HANDOFF_CARD, MIGRATION_SUMMARY, TICKET_CARD, TICKET_REPLY } from '../views/ids.js';
import { dayIn } from '../src/domain/migration.js';

let slack: FakeSlack;
let sink: SmtpSink;
let t: TestApp;
let d: Driver;
let serial = 0;
const uniqueId = (tag: string) => `${tag}.${Date.now()}.${++serial}@customer.test`;

beforeAll(async () => {
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  t = await startTestApp({
    slack,
    env: { SMTP_URL: sink.url, MAIL_DOMAIN: 'example.com', TZ_BILLING: 'Europe/Berlin' },
  });
  d = { t, slack };
});
afterAll(async () => {
  await t?.stop();
  await sink?.close();
  await slack?.close();
});
beforeEach(() => {
  slack.reset();
  sink.reset();
});

const processed = (messageId: string) =>
  eventually(async () => {
    const row = await t.app.db.models.InboundMail.findOne({ messageId }).lean();
    return row && row.status !== 'received' ? row : undefined;
  }, `inbound ${messageId} processed`);
const ticketOf = async (ref: string) => (await t.app.db.models.Ticket.findById(ref).lean())!;

/** A customer's first email: the ticket and the acknowledgement it got. */
async function opened(from: string, subject: string, mailbox = 'support') {
  const id = uniqueId('first');
  await sendMail({
    port: t.app.smtpPort,
    from,
    to: `${mailbox}@example.com`,
    subject,
    text: 'Please help.',
    messageId: id,
  });
  const row = await processed(id);
  const ack = await sink.waitFor((m) => m.inReplyTo === id);
  return { ref: row.ticketRef!, ack };
}

describe('plus addresses and thread references', () => {
  it('when we email a customer, then the Reply-To is the mailbox plus a signed tag of the ticket', async () => {
    const { ref, ack } = await opened('ann@customer.test', 'Where is my invoice?');
    expect(ack.replyTo).toMatch(new RegExp(`^support\\+${ref}\\.[a-z2-7]{10}@example\\.com$`));
    expect(ack.from?.address).toBe('support@example.com');
  });

  it('when a stranger writes to support+AR-n@ (the guessable form), then a new ticket cites AR-n and the ticket itself is untouched, even when closed', async () => {
    const { ref } = await opened('bob@customer.test', 'Plan question');
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.close,
        blockId: TICKET_CARD.actionsBlock,
        value: ref,
        userId: USERS.support,
        channelId: CHANNELS.support,
      }),
    );
    await eventually(async () => (await ticketOf(ref)).status === 'closed', 'closed');
    await settled(t);
    const before = await ticketOf(ref);
    slack.reset();

    const id = uniqueId('stranger');
    await sendMail({
      port: t.app.smtpPort,
      from: 'mallory@attacker.test',
      to: `support+${ref}@example.com`,
      subject: 'Re: Plan question',
      text: 'Please change the owner to me.',
      messageId: id,
    });
    const row = await processed(id);
    expect(row.status).toBe('ticket');
    expect(row.ticketRef).not.toBe(ref);
    expect(await ticketOf(row.ticketRef!)).toMatchObject({ citesRef: ref, source: { email: 'mallory@attacker.test' } });
    await settled(t);

    const after = await ticketOf(ref);
    expect(after.status).toBe('closed');
    expect(after.history).toHaveLength(before.history.length);
    expect(after.participants).not.toContain('mallory@attacker.test');
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.thread_ts)).toHaveLength(0);
  });

  it('when a stranger forges a tag (a wrong signature), then it is treated as a guess too', async () => {
    const { ref } = await opened('cat@customer.test', 'Export my data');
    const id = uniqueId('forged');
    await sendMail({
      port: t.app.smtpPort,
      from: 'mallory@attacker.test',
      to: `support+${ref}.aaaaaaaaaa@example.com`,
      subject: 'hello',
      text: 'Hi.',
      messageId: id,
    });
    const row = await processed(id);
    expect(row.ticketRef).not.toBe(ref);
    expect(await ticketOf(row.ticketRef!)).toMatchObject({ citesRef: ref });
  });

  it('when anyone writes to the signed Reply-To we sent, or a participant to the bare plus address, then the mail joins the ticket', async () => {
    const { ref, ack } = await opened('dan@customer.test', 'Seats');
    const colleague = uniqueId('colleague');
    await sendMail({
      port: t.app.smtpPort,
      from: 'dans.colleague@customer.test',
      to: ack.replyTo!,
      subject: 'Re: Seats',
      text: 'Adding my view.',
      messageId: colleague,
    });
    expect(await processed(colleague)).toMatchObject({ status: 'reply', ticketRef: ref });

    const own = uniqueId('own');
    await sendMail({
      port: t.app.smtpPort,
      from: 'dan@customer.test',
      to: `support+${ref}@example.com`,
      subject: 'More on seats',
      text: 'One more thing.',
      messageId: own,
    });
    expect(await processed(own)).toMatchObject({ status: 'reply', ticketRef: ref });
  });
});

describe('automatic answers and Reply-To', () => {
  it('when five mails set Reply-To to five other people, then each acknowledgement goes to the sender, none to a Reply-To, and the card shows both addresses', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const id = uniqueId(`relay${i}`);
      ids.push(id);
      await sendMail({
        port: t.app.smtpPort,
        from: 'eve@sender.test',
        replyTo: `victim${i}@elsewhere.test`,
        to: 'billing@example.com',
        subject: `Buy cheap pills ${i}`,
        text: 'Spam.',
        messageId: id,
      });
    }
    for (const id of ids) await processed(id);
    await settled(t);
    const acks = sink.messages.filter((m) => ids.includes(m.inReplyTo ?? ''));
    // Three an hour per address (the budget): the other two are suppressed, never redirected.
    expect(acks).toHaveLength(3);
    expect(acks.every((m) => m.envelope.to.join() === 'eve@sender.test')).toBe(true);
    expect(sink.messages.filter((m) => m.envelope.to.some((to) => to.endsWith('@elsewhere.test')))).toHaveLength(0);

    const row = await t.app.db.models.InboundMail.findOne({ messageId: ids[0] }).lean();
    expect(await ticketOf(row!.ticketRef!)).toMatchObject({
      source: { email: 'eve@sender.test', replyTo: 'victim0@elsewhere.test' },
    });
    const card = slack
      .callsTo('chat.postMessage')
      .find((c) => String(c.args.text).includes(row!.ticketRef!) && !c.args.thread_ts);
    expect(JSON.stringify(card?.args.blocks)).toContain('eve@sender.test (Reply-To: victim0@elsewhere.test)');
  });

  it('when the envelope sender differs from From, then the acknowledgement goes to the envelope sender (RFC 3834)', async () => {
    const id = uniqueId('envelope');
    await sendMail({
      port: t.app.smtpPort,
      from: 'fay@customer.test',
      envelopeFrom: 'bounces+fay@mailer.customer.test',
      to: 'support@example.com',
      subject: 'Login trouble',
      text: 'Cannot log in.',
      messageId: id,
    });
    await processed(id);
    const ack = await sink.waitFor((m) => m.inReplyTo === id);
    expect(ack.envelope.to).toEqual(['bounces+fay@mailer.customer.test']);
  });

  it('when staff reply from Slack to a mail with a Reply-To, then the reply goes to the Reply-To address', async () => {
    const id = uniqueId('replyto');
    await sendMail({
      port: t.app.smtpPort,
      from: 'gus@customer.test',
      replyTo: 'gus.assistant@customer.test',
      to: 'support@example.com',
      subject: 'Contract copy',
      text: 'Send it to my assistant.',
      messageId: id,
    });
    const ref = (await processed(id)).ticketRef!;
    const res = await t.post(
      viewSubmission({
        callbackId: TICKET_REPLY.callbackId,
        userId: USERS.support,
        viewId: `Vreply${serial}`,
        privateMetadata: JSON.stringify({ ref }),
        values: { [TICKET_REPLY.fields.body]: { type: 'plain_text_input', value: 'Attached.' } },
      }),
    );
    expect(res.status).toBe(200);
    const reply = await sink.waitFor(
      (m) => (m.subject ?? '').startsWith(`[${ref}]`) && (m.text ?? '').includes('Attached.'),
    );
    expect(reply.envelope.to).toEqual(['gus.assistant@customer.test']);
  });
});

describe('confirming migration projects by email', () => {
  const account = 'TRU-AAA-0001';
  const customer = 'buyer@trusted.test';

  it('when someone other than the customer names projects, then they wait for billing as unconfirmed with the sender named; billing may trust the sender, whose next list confirms', async () => {
    const startDate = dayIn('Europe/Berlin', new Date(Date.now() + 10 * 86_400_000));
    const ref = await handOff(d, { accountId: account, startDate, customerEmail: customer });
    expect(await press(d, HANDOFF_CARD.actions.confirm, ref)).toMatch(/^Scheduled/);
    await submitStep(d, MIGRATION_SUMMARY.callbackId, ref, summaryValues({ outcome: 'credits' }));
    const ask = await sink.waitFor((m) => m.to.includes(customer) && (m.text ?? '').includes('no overages'));
    await settled(t);
    sink.reset();
    slack.reset();

    // A colleague the customer forwarded the mail to answers the signed Reply-To.
    const forwarded = uniqueId('forwarded');
    await sendMail({
      port: t.app.smtpPort,
      from: 'intern@trusted.test',
      to: ask.replyTo!,
      subject: `Re: ${ask.subject}`,
      text: 'Live: everything-prod\nTest: none-test',
      messageId: forwarded,
    });
    expect(await processed(forwarded)).toMatchObject({ status: 'reply', ticketRef: ref });
    const proposed = await eventually(
      async () => (await ticketOf(ref)).migration?.proposedProjects,
      'projects proposed',
    );
    expect(proposed).toMatchObject({ live: ['everything-prod'], by: 'email:intern@trusted.test', trusted: false });
    expect((await ticketOf(ref)).migration?.projects).toBeUndefined();
    const note = await slack.waitFor('chat.postMessage', (c) => String(c.args.text).includes('not confirmed'));
    expect(String(note.args.text)).toContain('intern@trusted.test');
    const card = await billingCardUpdate(slack, (c) =>
      JSON.stringify(c.args.blocks).includes('not an address this ticket trusts'),
    );
    const steps = card.find((b) => b.block_id === HANDOFF_CARD.stepsBlock)?.text?.text ?? '';
    expect(steps).toContain('intern@trusted.test');
    const buttons = card.find((b) => b.block_id === HANDOFF_CARD.actionsBlock)?.elements?.map((e) => e.action_id);
    expect(buttons).toContain(HANDOFF_CARD.actions.trustSender);
    await settled(t);
    expect(sink.messages.filter((m) => (m.text ?? '').includes('These projects will move'))).toHaveLength(0);

    // Only billing may trust; then the same colleague's next list confirms.
    expect(await press(d, HANDOFF_CARD.actions.trustSender, ref, USERS.rep)).toMatch(/Only billing/);
    expect(await press(d, HANDOFF_CARD.actions.trustSender, ref)).toMatch(/intern@trusted\.test is now trusted/);
    expect((await ticketOf(ref)).trusted).toEqual(['intern@trusted.test']);
    const again = uniqueId('again');
    await sendMail({
      port: t.app.smtpPort,
      from: 'intern@trusted.test',
      to: ask.replyTo!,
      subject: `Re: ${ask.subject}`,
      text: 'Live: shop-prod',
      messageId: again,
    });
    const projects = await eventually(async () => (await ticketOf(ref)).migration?.projects, 'projects confirmed');
    expect(projects).toMatchObject({ live: ['shop-prod'], by: 'email:intern@trusted.test' });
    const list = await sink.waitFor((m) => (m.text ?? '').includes('These projects will move'));
    expect(list.envelope.to).toEqual([customer]);
  });

  it('when the customer the migration is for names projects, then they are confirmed at once', async () => {
    const other = 'TRU-AAA-0002';
    const own = 'owner@trusted2.test';
    const startDate = dayIn('Europe/Berlin', new Date(Date.now() + 10 * 86_400_000));
    const ref = await handOff(d, { accountId: other, startDate, customerEmail: own });
    await press(d, HANDOFF_CARD.actions.confirm, ref);
    await submitStep(d, MIGRATION_SUMMARY.callbackId, ref, summaryValues({ outcome: 'credits' }));
    const ask = await sink.waitFor((m) => m.to.includes(own) && (m.text ?? '').includes('no overages'));
    await sendMail({
      port: t.app.smtpPort,
      from: own,
      to: ask.replyTo!,
      subject: `Re: ${ask.subject}`,
      text: 'Live: web-prod',
      messageId: uniqueId('owner'),
    });
    const projects = await eventually(async () => (await ticketOf(ref)).migration?.projects, 'projects confirmed');
    expect(projects).toMatchObject({ live: ['web-prod'], by: `email:${own}` });
    const blocks = (await billingCardUpdate(slack, (c) =>
      JSON.stringify(c.args.blocks).includes('web-prod'),
    )) as Block[];
    expect(
      blocks.find((b) => b.block_id === HANDOFF_CARD.actionsBlock)?.elements?.map((e) => e.action_id),
    ).not.toContain(HANDOFF_CARD.actions.trustSender);
  });
});
