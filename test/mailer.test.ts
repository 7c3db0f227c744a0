/** Outbound mail: real SMTP to a loopback sink, .eml files without a relay, failures sorted for the outbox. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Types } from 'mongoose';
import type { OutboxDoc } from '../src/db/models/outbox.js';
import { DeliveryError } from '../src/jobs/outbox.js';
import { createLogger } from '../src/logger.js';
import {
  composeEmail,
  createEmailDeliverer,
  createMailer,
  toEmailDeliveryError,
  type Mailer,
} from '../src/mail/mailer.js';
import type { EmailPayload } from '../src/domain/email.js';
import { acknowledgement, ourMessageId, staffReply, ticketSubject } from '../src/domain/email-templates.js';
import { readMail, startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const INJECTION = '\r\nBcc: victim@evil.test';

let sink: SmtpSink;
let mailer: Mailer;
let outboxDir: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log });
  outboxDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-outbox-'));
});
afterAll(async () => {
  await mailer.close();
  await sink.close();
  await fs.rm(outboxDir, { recursive: true, force: true });
});
beforeEach(() => sink.reset());

function payload(overrides: Partial<EmailPayload> = {}): EmailPayload {
  const ack = acknowledgement({
    ref: 'AR-1001',
    subject: 'Invoice question',
    mailbox: 'billing',
    domain: 'example.com',
  });
  return {
    from: 'billing@example.com',
    fromName: 'Example Billing',
    to: 'customer@client.test',
    subject: ack.subject,
    text: ack.text,
    messageId: ourMessageId('example.com'),
    inReplyTo: 'original-1@client.test',
    references: ['thread-0@client.test', 'original-1@client.test'],
    automatic: true,
    ...overrides,
  };
}

const row = (p: unknown): OutboxDoc =>
  ({
    _id: new Types.ObjectId(),
    key: 'test',
    channel: 'email',
    payload: p,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: new Date(),
  }) as unknown as OutboxDoc;

async function deliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

/** A port nothing listens on: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('mailer over SMTP', () => {
  it('when an acknowledgement is sent, then it arrives threaded, marked automatic, with [AR-n] in the subject', async () => {
    const p = payload();
    const sent = await mailer.send(p);
    expect(sent.messageId).toBe(p.messageId);
    expect(sent.response).toMatch(/^250/);
    const mail = await sink.waitFor((m) => m.messageId === p.messageId);
    expect(mail.subject).toBe('[AR-1001] Re: Invoice question');
    expect(mail.inReplyTo).toBe('original-1@client.test');
    expect(mail.references).toEqual(['thread-0@client.test', 'original-1@client.test']);
    expect(mail.autoSubmitted).toBe('auto-replied');
    expect(mail.autoResponseSuppress).toBe('All');
    expect(mail.from).toEqual({ address: 'billing@example.com', name: 'Example Billing' });
    expect(mail.envelope).toEqual({ from: 'billing@example.com', to: ['customer@client.test'] });
    expect(mail.text).toContain('AR-1001');
  });

  it('when a staff reply is sent without thread ids, then it has no Auto-Submitted and no threading headers', async () => {
    const reply = staffReply({
      ref: 'AR-1001',
      subject: 'Re: Invoice question',
      body: 'Your credit is applied.',
      staffName: 'Dana',
    });
    const p = payload({
      subject: reply.subject,
      text: reply.text,
      automatic: false,
      inReplyTo: undefined,
      references: undefined,
    });
    await mailer.send(p);
    const mail = await sink.waitFor((m) => m.messageId === p.messageId);
    expect(mail.subject).toBe('[AR-1001] Re: Invoice question');
    expect(mail.autoSubmitted).toBeUndefined();
    expect(mail.autoResponseSuppress).toBeUndefined();
    expect(mail.inReplyTo).toBeUndefined();
    expect(mail.references).toEqual([]);
  });

  it('when the subject and display name carry CRLF and a Bcc header, then no Bcc header or extra recipient is created', async () => {
    const p = payload({
      subject: `[AR-1001] Re: Hello${INJECTION}`,
      fromName: `Billing${INJECTION}`,
      inReplyTo: `original-1@client.test${INJECTION}`,
    });
    await mailer.send(p);
    const mail = await sink.waitFor((m) => m.messageId === p.messageId);
    const head = mail.raw.toString('latin1').split('\r\n\r\n')[0] ?? '';
    expect(head).not.toMatch(/^bcc:/im);
    expect(mail.bcc).toEqual([]);
    expect(mail.envelope.to).toEqual(['customer@client.test']);
    expect(mail.to).toEqual(['customer@client.test']);
    expect(mail.subject).toBe('[AR-1001] Re: Hello Bcc: victim@evil.test');
    expect(mail.from?.name).toBe('Billing Bcc: victim@evil.test');
    // An id that is not one id after collapsing is left out rather than sent.
    expect(mail.inReplyTo).toBeUndefined();
  });

  it('when header fields carry control characters, then they are one line before nodemailer sees them', () => {
    const { options } = composeEmail(
      payload({ subject: `Hi${INJECTION}\u2028x\u0000y`, fromName: `Billing${INJECTION}` }),
    );
    expect(options.subject).toBe('Hi Bcc: victim@evil.test x y');
    expect(options.from).toEqual({ name: 'Billing Bcc: victim@evil.test', address: 'billing@example.com' });
    expect(options.envelope).toEqual({ from: 'billing@example.com', to: ['customer@client.test'] });
  });

  it('when the recipient is not a single plain address, then sending is refused before any SMTP', async () => {
    for (const to of [
      'a@client.test, b@evil.test',
      'Eve <a@client.test>',
      `a@client.test${INJECTION}`,
      'no-at-sign',
      '<a@client.test>',
    ]) {
      await expect(mailer.send(payload({ to }))).rejects.toThrow(/to is not a single valid address/);
    }
    expect(sink.messages).toHaveLength(0);
  });
});

describe('mailer without a relay', () => {
  it('when no SMTP_URL is set, then the message is written as an .eml file that parses back with the same headers', async () => {
    const fileMailer = createMailer({ smtpUrl: undefined, outboxDir: path.join(outboxDir, 'nested'), log });
    const p = payload({ subject: `[AR-1001] Re: Hello${INJECTION}` });
    const sent = await fileMailer.send(p);
    await fileMailer.close();
    expect(sent.file).toBe(path.join(outboxDir, 'nested', `${p.messageId}.eml`));
    expect(await fs.readdir(path.join(outboxDir, 'nested'))).toEqual([`${p.messageId}.eml`]);
    const raw = await fs.readFile(sent.file!);
    expect(raw.toString('latin1')).toContain('\r\n');
    const mail = await readMail(raw, { from: '', to: [] });
    expect(mail.messageId).toBe(p.messageId);
    expect(mail.subject).toBe('[AR-1001] Re: Hello Bcc: victim@evil.test');
    expect(mail.inReplyTo).toBe('original-1@client.test');
    expect(mail.references).toEqual(['thread-0@client.test', 'original-1@client.test']);
    expect(mail.autoSubmitted).toBe('auto-replied');
    expect(mail.autoResponseSuppress).toBe('All');
    expect(mail.bcc).toEqual([]);
  });

  it('when a message id has characters a file name must not, then the file stays inside the outbox directory', async () => {
    const fileMailer = createMailer({ smtpUrl: undefined, outboxDir, log });
    const sent = await fileMailer.send(payload({ messageId: '../../etc/passwd@example.com' }));
    expect(path.dirname(sent.file!)).toBe(outboxDir);
    expect(path.basename(sent.file!)).toBe('__.._etc_passwd@example.com.eml');
  });
});

describe('email deliverer', () => {
  const FIRST = { number: 0 };
  it('when the row is sent, then the result records the message id and the relay answer', async () => {
    const p = payload();
    const result = await createEmailDeliverer(mailer)(row(p), FIRST);
    expect(result).toMatchObject({ messageId: p.messageId, response: expect.stringMatching(/^250/) });
  });

  it('when the relay answers 451, then the failure is retryable', async () => {
    sink.failNext(451, 'Try again later');
    const err = await deliveryError(createEmailDeliverer(mailer)(row(payload()), FIRST));
    expect(err.opts.permanent).not.toBe(true);
    expect(err.message).toMatch(/smtp 451/);
  });

  it('when the relay answers 550, then the failure is permanent', async () => {
    sink.failNext(550, 'Mailbox unavailable');
    const err = await deliveryError(createEmailDeliverer(mailer)(row(payload()), FIRST));
    expect(err.opts.permanent).toBe(true);
    expect(err.message).toMatch(/smtp 550/);
  });

  it('when the relay refuses connections, then the failure is retryable', async () => {
    const down = createMailer({ smtpUrl: `smtp://127.0.0.1:${await closedPort()}`, outboxDir, log });
    try {
      const err = await deliveryError(createEmailDeliverer(down)(row(payload()), FIRST));
      expect(err.opts.permanent).not.toBe(true);
      expect(err.message).toMatch(/smtp unreachable/);
    } finally {
      await down.close();
    }
  });

  it('when the relay times out, then the failure is retryable', () => {
    const timeout = Object.assign(new Error('Greeting never received'), {
      code: 'ETIMEDOUT',
      timeoutType: 'GREETING_TIMEOUT',
    });
    expect(toEmailDeliveryError(timeout).opts.permanent).not.toBe(true);
    expect(toEmailDeliveryError(Object.assign(new Error('busy'), { responseCode: 421 })).opts.permanent).toBe(false);
  });

  it('when the recipient is invalid, then the failure is permanent and nothing is sent', async () => {
    const err = await deliveryError(
      createEmailDeliverer(mailer)(row(payload({ to: 'x@client.test, y@evil.test' })), FIRST),
    );
    expect(err.opts.permanent).toBe(true);
    expect(sink.messages).toHaveLength(0);
  });

  it('when the payload is missing fields, then the failure is permanent', async () => {
    const err = await deliveryError(createEmailDeliverer(mailer)(row({ to: 'customer@client.test' }), FIRST));
    expect(err.opts.permanent).toBe(true);
    expect(err.message).toMatch(/from/);
  });
});

describe('templates', () => {
  it('when the subject already starts with Re:, then it is not doubled', () => {
    expect(ticketSubject('AR-1001', 'Re: Invoice')).toBe('[AR-1001] Re: Invoice');
    expect(ticketSubject('AR-1001', 'RE: Aw: re[2]: Invoice')).toBe('[AR-1001] Re: Invoice');
  });

  it('when the subject already carries [AR-n], then the tag is not added again', () => {
    expect(ticketSubject('AR-1001', '[AR-1001] Re: Invoice')).toBe('[AR-1001] Re: Invoice');
    expect(ticketSubject('AR-1001', 'Re: [ar-1001] Invoice')).toBe('[AR-1001] Re: Invoice');
    expect(ticketSubject('AR-1001', 'About [AR-1001] again')).toBe('Re: About [AR-1001] again');
    expect(ticketSubject('AR-1001', '[AR-10012] other')).toBe('[AR-1001] Re: [AR-10012] other');
  });

  it('when the subject has CR/LF or is very long, then it becomes one line of at most 200 characters', () => {
    expect(ticketSubject('AR-1001', `Hello${INJECTION}\tthere`)).toBe(
      '[AR-1001] Re: Hello Bcc: victim@evil.test there',
    );
    const long = ticketSubject('AR-1001', 'x'.repeat(500));
    expect(Array.from(long).length).toBeLessThanOrEqual(200);
    expect(long.endsWith('…')).toBe(true);
    expect(ticketSubject('AR-1001', '  ')).toBe('[AR-1001] Re: Your request');
  });

  it('when a ticket is acknowledged, then the text names the reference, the team, the subject rule and says it is automatic', () => {
    const ack = acknowledgement({ ref: 'AR-1002', subject: 'Need help', mailbox: 'selfserve', domain: 'example.com' });
    expect(ack.subject).toBe('[AR-1002] Re: Need help');
    expect(ack.text).toContain('filed it as AR-1002');
    expect(ack.text).toContain('support team');
    expect(ack.text).toContain('keep "AR-1002" in the subject');
    expect(ack.text).toMatch(/automatic answer from selfserve@example\.com/);
    expect(
      acknowledgement({
        ref: 'AR-1003',
        subject: 'Move to Enterprise',
        mailbox: 'billing',
        domain: 'example.com',
        kind: 'migration',
      }).text,
    ).toContain('sales team');
  });

  it('when a staff reply is rendered, then the body is kept and the name and reference follow it', () => {
    const reply = staffReply({
      ref: 'AR-1001',
      subject: 'Invoice',
      body: 'Line one\r\nLine two  \r\n',
      staffName: `Dana${INJECTION}`,
    });
    expect(reply.subject).toBe('[AR-1001] Re: Invoice');
    expect(reply.text).toBe(
      'Line one\nLine two\n\nDana Bcc: victim@evil.test\n\nReference: AR-1001. Please keep it in the subject when you reply.\n',
    );
  });

  it('when message ids are generated, then they are unique, unbracketed and on the domain', () => {
    const a = ourMessageId('Example.COM');
    expect(a).toMatch(/^[a-z0-9.]+@example\.com$/);
    expect(ourMessageId('example.com')).not.toBe(a);
  });
});
