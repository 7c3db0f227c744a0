/** Customer mail end to end: real SMTP in, tickets and replies in MongoDB, Slack cards, acknowledgements out. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { sendMail, sendRaw } from './support/send-mail.js';
import { blockActions, slashCommand, viewSubmission } from './support/slack-requests.js';
import { TICKET_CARD, TICKET_REPLY } from '../views/ids.js';
import { CHANNELS, eventually, postOf, settled, startTestApp, USERS, type TestApp } from './support/test-app.js';

let slack: FakeSlack;
let sink: SmtpSink;
let t: TestApp;
let serial = 0;
const uniqueId = (tag: string) => `${tag}.${Date.now()}.${++serial}@customer.test`;

beforeAll(async () => {
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  t = await startTestApp({
    slack,
    env: { SMTP_URL: sink.url, MAIL_DOMAIN: 'example.com', SMTP_INBOUND_MAX_BYTES: '200000' },
  });
});
afterAll(async () => {
  await t.stop();
  await sink.close();
  await slack.close();
});
beforeEach(() => {
  slack.reset();
  sink.reset();
});

const inbound = (messageId: string) =>
  eventually(async () => {
    const row = await t.app.db.models.InboundMail.findOne({ messageId }).lean();
    return row && row.status !== 'received' ? row : undefined;
  }, `inbound ${messageId} processed`);

describe('a new email to a mailbox', () => {
  it('when a customer writes to billing@, then a billing ticket is opened, its card posted, and an acknowledgement threads with their mail', async () => {
    const id = uniqueId('new');
    const sent = await sendMail({
      port: t.app.smtpPort,
      from: 'Jane Doe <jane@customer.test>',
      to: 'billing@example.com',
      subject: 'Invoice for account R74-ZWR-R44Z is wrong',
      text: 'Hello,\nthe March invoice charges us twice.\nJane',
      messageId: id,
    });
    expect(sent.response).toMatch(/^250/);
    const row = await inbound(id);
    expect(row.status).toBe('ticket');
    const ticket = await t.app.db.models.Ticket.findOne({ ref: row.ticketRef }).lean();
    expect(ticket).toMatchObject({
      kind: 'billing',
      team: 'billing',
      accountId: 'R74-ZWR-R44Z',
      source: { channel: 'email', mailbox: 'billing', email: 'jane@customer.test' },
      participants: ['jane@customer.test'],
    });
    expect(ticket?.rule).toBeTruthy();

    const card = await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === CHANNELS.billing && String(c.args.text).includes(ticket!.ref),
    );
    expect(JSON.stringify(card.args.blocks)).toContain('jane@customer.test');
    expect(JSON.stringify(card.args.blocks)).toContain('ticket_reply');

    const ack = await sink.waitFor((m) => m.inReplyTo === id);
    expect(ack.subject).toBe(`[${ticket!.ref}] Re: Invoice for account R74-ZWR-R44Z is wrong`);
    expect(ack.envelope.to).toEqual(['jane@customer.test']);
    expect(ack.from?.address).toBe('billing@example.com');
    expect(ack.autoSubmitted).toBe('auto-replied');
    expect(ack.autoResponseSuppress).toBe('All');
    expect(ack.references).toContain(id);
    expect(ack.messageId).toMatch(/@example\.com$/);
  });

  it('when the same message is delivered twice, then it is stored once and makes one ticket', async () => {
    const id = uniqueId('dup');
    const mail = {
      port: t.app.smtpPort,
      from: 'bob@customer.test',
      to: 'support@example.com',
      subject: 'Login broken',
      text: 'Cannot log in.',
      messageId: id,
    };
    await sendMail(mail);
    await sendMail(mail);
    await inbound(id);
    await settled(t);
    expect(await t.app.db.models.InboundMail.countDocuments({ messageId: id })).toBe(1);
    expect(await t.app.db.models.Ticket.countDocuments({ idempotencyKey: `email:support:${id}` })).toBe(1);
  });

  it('when mail is addressed to an unknown mailbox, then RCPT is refused with 550 and nothing is stored', async () => {
    const before = await t.app.db.models.InboundMail.countDocuments();
    await expect(
      sendMail({ port: t.app.smtpPort, from: 'x@customer.test', to: 'ceo@example.com', subject: 'hi', text: 'hi' }),
    ).rejects.toMatchObject({ responseCode: 550 });
    await expect(
      sendMail({ port: t.app.smtpPort, from: 'x@customer.test', to: 'billing@other.test', subject: 'hi', text: 'hi' }),
    ).rejects.toMatchObject({ responseCode: 550 });
    expect(await t.app.db.models.InboundMail.countDocuments()).toBe(before);
  });

  it('when a message is over the size limit, then it gets 552 and nothing is stored', async () => {
    const before = await t.app.db.models.InboundMail.countDocuments();
    await expect(
      sendMail({
        port: t.app.smtpPort,
        from: 'big@customer.test',
        to: 'support@example.com',
        subject: 'big',
        text: 'x'.repeat(300_000),
      }),
    ).rejects.toMatchObject({ responseCode: 552 });
    expect(await t.app.db.models.InboundMail.countDocuments()).toBe(before);
  });
});

describe('replies and threading', () => {
  async function ticketFromCustomer(from: string, subject: string) {
    const id = uniqueId('thread');
    await sendMail({
      port: t.app.smtpPort,
      from,
      to: 'support@example.com',
      subject,
      text: 'First message.',
      messageId: id,
    });
    const row = await inbound(id);
    const ack = await sink.waitFor((m) => m.inReplyTo === id);
    await eventually(async () => (await postOf(t, row.ticketRef!))?.ts, 'card posted');
    return { ref: row.ticketRef!, firstId: id, ack };
  }

  it('when the customer replies to our acknowledgement, then the reply joins the ticket and shows in its Slack thread', async () => {
    const { ref, firstId, ack } = await ticketFromCustomer('carol@customer.test', 'Export fails');
    const replyId = uniqueId('reply');
    await sendMail({
      port: t.app.smtpPort,
      from: 'carol@customer.test',
      to: 'support@example.com',
      subject: `Re: ${ack.subject}`,
      text: 'Still failing today.\n\nOn Mon, 21 Nov 2026 at 10:00, Support <support@example.com> wrote:\n> old text',
      messageId: replyId,
      inReplyTo: ack.messageId!,
      references: [firstId, ack.messageId!],
    });
    const row = await inbound(replyId);
    expect(row).toMatchObject({ status: 'reply', ticketRef: ref });
    const ticket = await t.app.db.models.Ticket.findOne({ ref }).lean();
    const reply = ticket?.history.find((h) => h.action === 'customer_replied');
    expect(reply?.note).toBe('Still failing today.');
    const posted = await postOf(t, ref);
    const thread = await slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === posted?.ts);
    expect(String(thread.args.text)).toContain('Still failing today.');
    expect(await t.app.db.models.Ticket.countDocuments({ 'source.email': 'carol@customer.test' })).toBe(1);
  });

  it('when [AR-n] is in the subject from someone on the ticket, then it joins; from a stranger, then a new ticket cites it', async () => {
    const { ref } = await ticketFromCustomer('dave@customer.test', 'Pause question');
    const joinId = uniqueId('cite-ok');
    await sendMail({
      port: t.app.smtpPort,
      from: 'dave@customer.test',
      to: 'support@example.com',
      subject: `About [${ref}]`,
      text: 'One more thing.',
      messageId: joinId,
    });
    expect(await inbound(joinId)).toMatchObject({ status: 'reply', ticketRef: ref });

    const strangerId = uniqueId('cite-stranger');
    await sendMail({
      port: t.app.smtpPort,
      from: 'mallory@elsewhere.test',
      to: 'support@example.com',
      subject: `About [${ref}]`,
      text: 'Let me in.',
      messageId: strangerId,
    });
    const row = await inbound(strangerId);
    expect(row.status).toBe('ticket');
    expect(row.ticketRef).not.toBe(ref);
    expect(await t.app.db.models.Ticket.findOne({ ref: row.ticketRef }).lean()).toMatchObject({ citesRef: ref });
  });

  it('when the customer writes to support+AR-n@, then it joins that ticket (strangers: see trust-mail.test.ts)', async () => {
    const { ref } = await ticketFromCustomer('erin@customer.test', 'Add-on question');
    const id = uniqueId('plus');
    await sendMail({
      port: t.app.smtpPort,
      from: 'erin@customer.test',
      to: `support+${ref}@example.com`,
      subject: 'Following up',
      text: 'One more thing.',
      messageId: id,
    });
    expect(await inbound(id)).toMatchObject({ status: 'reply', ticketRef: ref });
  });
});

describe('mail that must not be answered', () => {
  it('when an out-of-office reply arrives, then it is recorded, opens no ticket and gets no answer', async () => {
    const id = uniqueId('ooo');
    await sendMail({
      port: t.app.smtpPort,
      from: 'frank@customer.test',
      to: 'sales@example.com',
      subject: 'Out of office',
      text: 'I am away.',
      messageId: id,
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    const row = await inbound(id);
    expect(row.status).toBe('auto-reply');
    expect(row.ticketRef).toBeUndefined();
    await settled(t);
    expect(sink.messages.filter((m) => m.inReplyTo === id)).toHaveLength(0);
  });

  it('when a mailing list writes, then a ticket is opened but no acknowledgement is sent', async () => {
    const id = uniqueId('list');
    await sendMail({
      port: t.app.smtpPort,
      from: 'news@list.test',
      to: 'sales@example.com',
      subject: 'Weekly digest',
      text: 'News.',
      messageId: id,
      headers: { 'List-Id': '<news.list.test>', Precedence: 'list' },
    });
    const row = await inbound(id);
    const ticket = await t.app.db.models.Ticket.findOne({ ref: row.ticketRef }).lean();
    expect(ticket?.history.map((h) => h.action)).toContain('ack_suppressed');
    await settled(t);
    expect(sink.messages.filter((m) => m.inReplyTo === id)).toHaveLength(0);
  });

  it('when our acknowledgement bounces, then the bounce attaches to the ticket, the address is marked undeliverable and no ticket is opened', async () => {
    const id = uniqueId('bounce-src');
    await sendMail({
      port: t.app.smtpPort,
      from: 'gone@customer.test',
      to: 'billing@example.com',
      subject: 'Refund please',
      text: 'Refund.',
      messageId: id,
    });
    const row = await inbound(id);
    const ack = await sink.waitFor((m) => m.inReplyTo === id);
    const tickets = await t.app.db.models.Ticket.countDocuments();
    const dsn = [
      'From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>',
      'To: billing@example.com',
      'Subject: Undelivered Mail Returned to Sender',
      `Message-ID: <${uniqueId('dsn')}>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
      '',
      '--B',
      'Content-Type: text/plain',
      '',
      'Your message could not be delivered.',
      '--B',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.customer.test',
      '',
      'Final-Recipient: rfc822; gone@customer.test',
      'Action: failed',
      'Status: 5.1.1',
      '',
      '--B',
      'Content-Type: text/rfc822-headers',
      '',
      `Message-ID: <${ack.messageId}>`,
      'From: billing@example.com',
      'To: gone@customer.test',
      `Subject: ${ack.subject}`,
      '',
      '--B--',
      '',
    ].join('\r\n');
    await sendRaw(t.app.smtpPort, Buffer.from(dsn), { from: '', to: ['billing@example.com'] });
    await eventually(
      async () =>
        (await t.app.db.models.InboundMail.findOne({ status: 'bounce', ticketRef: row.ticketRef }).lean()) ?? undefined,
      'bounce recorded',
    );
    expect(await t.app.db.models.Ticket.countDocuments()).toBe(tickets);
    expect(await t.app.db.models.Undeliverable.exists({ _id: 'gone@customer.test' })).toBeTruthy();
    const ticket = await t.app.db.models.Ticket.findOne({ ref: row.ticketRef }).lean();
    expect(ticket?.history.map((h) => h.action)).toContain('bounced');
  });

  it('when one address writes many times in an hour, then it gets at most three acknowledgements', async () => {
    const ids = Array.from({ length: 5 }, () => uniqueId('flood'));
    for (const id of ids)
      await sendMail({
        port: t.app.smtpPort,
        from: 'flood@customer.test',
        to: 'support@example.com',
        subject: `Question ${id}`,
        text: 'Hello?',
        messageId: id,
      });
    for (const id of ids) await inbound(id);
    await settled(t);
    expect(sink.messages.filter((m) => m.envelope.to.includes('flood@customer.test'))).toHaveLength(3);
  });
});

describe('mail kept for review', () => {
  it('when a message cannot be parsed, then it is kept with its reason, announced in Slack and listed by /ticket review', async () => {
    // No header/body separator and a nesting bomb: stored, never dropped.
    const bomb =
      `From: odd@customer.test\r\nTo: support@example.com\r\nMessage-ID: <${uniqueId('bomb')}>\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n` +
      Array.from(
        { length: 60 },
        (_, i) => `--b${i}\r\nContent-Type: multipart/mixed; boundary="b${i + 1}"\r\n\r\n`,
      ).join('');
    const before = await t.app.db.models.InboundMail.countDocuments({ status: 'review' });
    await sendRaw(t.app.smtpPort, Buffer.from(bomb), { from: 'odd@customer.test', to: ['support@example.com'] });
    const row = await eventually(
      async () =>
        (await t.app.db.models.InboundMail.countDocuments({ status: 'review' })) > before &&
        (await t.app.db.models.InboundMail.findOne({ status: 'review' }).sort({ createdAt: -1 }).lean()),
      'review row',
    );
    expect(row.reason).toMatch(/nested/);
    const notice = await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === CHANNELS.support && String(c.args.text).includes('kept for review'),
    );
    expect(String(notice.args.text)).toContain('support@');
    await t.post(
      slashCommand({
        command: '/ticket',
        text: 'review',
        userId: USERS.support,
        channelId: 'C0X',
        responseUrl: slack.responseUrl('review'),
      }),
    );
    const list = await slack.waitFor('response_url', (c) => c.responseUrlId === 'review');
    expect(JSON.stringify(list.args.blocks)).toContain(String(row._id));
  });
});

describe('IMAP mailboxes', () => {
  it('when a message sits in an IMAP mailbox, then the app ingests it into a ticket and flags it \\Seen', async () => {
    const { startDovecot } = await import('./support/dovecot.js');
    const dovecot = await startDovecot();
    const imapSlack = await startFakeSlack();
    const app = await startTestApp({
      slack: imapSlack,
      env: { SMTP_URL: sink.url, IMAP_URL_SALES: dovecot.url('sales') },
    });
    try {
      const id = uniqueId('imap');
      const raw = `From: Ivy <ivy@customer.test>\r\nTo: sales@example.com\r\nSubject: We want Enterprise\r\nMessage-ID: <${id}>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\nPlease migrate account R74-ZWR-R44Z to Enterprise.\r\n`;
      const uid = await dovecot.appendMessage('sales', raw);
      const row = await eventually(
        async () => {
          const r = await app.app.db.models.InboundMail.findOne({ messageId: id }).lean();
          return r && r.status !== 'received' ? r : undefined;
        },
        'IMAP message ingested',
        20_000,
      );
      expect(row).toMatchObject({ via: 'imap', mailbox: 'sales', status: 'ticket' });
      const ticket = await app.app.db.models.Ticket.findOne({ ref: row.ticketRef }).lean();
      expect(ticket).toMatchObject({ kind: 'migration', team: 'sales', accountId: 'R74-ZWR-R44Z' });
      await imapSlack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNELS.sales);
      const flags = await dovecot.listFlags('sales');
      expect(flags.find((f) => f.uid === uid)?.flags).toContain('\\Seen');
    } finally {
      await app.stop();
      await imapSlack.close();
      await dovecot.stop();
    }
  });
});

describe('staff working an email ticket in Slack', () => {
  async function emailTicket(from: string) {
    const id = uniqueId('staff');
    await sendMail({
      port: t.app.smtpPort,
      from,
      to: 'billing@example.com',
      subject: 'Card declined',
      text: 'Our card was declined.',
      messageId: id,
    });
    const row = await inbound(id);
    await sink.waitFor((m) => m.inReplyTo === id);
    return { ref: row.ticketRef!, id };
  }

  it('when billing presses Reply and submits, then the customer gets the email threaded on their conversation and the ticket waits on them', async () => {
    const { ref, id } = await emailTicket('kim@customer.test');
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.reply,
        value: ref,
        userId: USERS.billing,
        channelId: CHANNELS.billing,
        triggerId: 'trig-reply',
      }),
    );
    const open = await slack.waitFor('views.open', (c) => c.args.trigger_id === 'trig-reply');
    const view = open.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(TICKET_REPLY.callbackId);
    const res = await t.post(
      viewSubmission({
        callbackId: TICKET_REPLY.callbackId,
        userId: USERS.billing,
        viewId: 'VREPLY1',
        privateMetadata: view.private_metadata,
        values: {
          [TICKET_REPLY.fields.body]: { type: 'plain_text_input', value: 'We retried the charge; it went through.' },
        },
      }),
    );
    expect(res.status).toBe(200);
    const mail = await sink.waitFor(
      (m) => m.envelope.to.includes('kim@customer.test') && m.autoSubmitted === undefined,
    );
    expect(mail.subject).toBe(`[${ref}] Re: Card declined`);
    expect(mail.text).toContain('We retried the charge');
    expect(mail.references).toContain(id);
    const ticket = await eventually(async () => {
      const tk = await t.app.db.models.Ticket.findOne({ ref }).lean();
      return tk?.status === 'waiting_on_customer' ? tk : undefined;
    }, 'ticket waiting on customer');
    expect(ticket.history.find((h) => h.action === 'emailed')?.actor).toBe(`slack:${USERS.billing}`);
  });

  it('when someone outside billing submits a reply, then no email is sent and they are told why', async () => {
    const { ref } = await emailTicket('lee@customer.test');
    sink.reset();
    await t.post(
      viewSubmission({
        callbackId: TICKET_REPLY.callbackId,
        userId: USERS.outsider,
        viewId: 'VREPLY2',
        privateMetadata: JSON.stringify({ ref }),
        values: { [TICKET_REPLY.fields.body]: { type: 'plain_text_input', value: 'Sneaky reply' } },
      }),
    );
    const told = await slack.waitFor('chat.postMessage', (c) => c.args.channel === USERS.outsider);
    expect(String(told.args.text)).toMatch(/Only billing team members can reply/);
    await settled(t);
    expect(sink.messages).toHaveLength(0);
  });

  it('when the reply is empty, then the modal shows an inline error', async () => {
    const res = await t.post(
      viewSubmission({
        callbackId: TICKET_REPLY.callbackId,
        userId: USERS.billing,
        viewId: 'VREPLY3',
        privateMetadata: JSON.stringify({ ref: 'AR-1001' }),
        values: { [TICKET_REPLY.fields.body]: { type: 'plain_text_input', value: null } },
      }),
    );
    expect(res.json).toEqual({
      response_action: 'errors',
      errors: { [TICKET_REPLY.fields.body]: 'Write the reply to send.' },
    });
  });

  it('when staff change the kind, then the ticket and its history say so', async () => {
    const { ref } = await emailTicket('max@customer.test');
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.changeKind,
        userId: USERS.billing,
        channelId: CHANNELS.billing,
        action: {
          type: 'static_select',
          selected_option: { value: `${ref}|upgrade`, text: { type: 'plain_text', text: 'x' } },
        },
      }),
    );
    const ticket = await eventually(async () => {
      const tk = await t.app.db.models.Ticket.findOne({ ref }).lean();
      return tk?.kind === 'upgrade' ? tk : undefined;
    }, 'kind changed');
    expect(ticket.history.find((h) => h.action === 'kind_changed')?.note).toBe('billing → upgrade');
  });
});
