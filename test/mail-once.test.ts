/**
 * A stored mail is processed once (issue 9, item 6): this process's queue, its sweep and another
 * process's sweep may all take it up at the same moment; one of them wins its claim, the others
 * leave it. A claim whose process died is taken over after its lease. Two app instances on one
 * database play two bot processes; the mail is stored without starting the queue, so the test
 * decides who runs when.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { settableClock, type SettableClock } from '../src/clock.js';
import { rawStore } from '../src/mail/raw-store.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { eventually, settled, startTestApp, testDatabaseUri, type TestApp } from './support/test-app.js';

let sink: SmtpSink;
let a: TestApp;
let b: TestApp;
let clock: SettableClock;
let serial = 0;

beforeAll(async () => {
  sink = await startSmtpSink();
  clock = settableClock(new Date());
  const databaseUri = testDatabaseUri();
  const env = { SMTP_URL: sink.url, MAIL_DOMAIN: 'example.com' };
  a = await startTestApp({ databaseUri, env, start: { instanceName: 'bot-a', clock } });
  b = await startTestApp({ databaseUri, env, start: { instanceName: 'bot-b', clock } });
});
afterAll(async () => {
  await b?.stop({ dropDatabase: false });
  await a?.stop();
  await sink?.close();
});

/** Stores a message the way the SMTP listener does, but without handing it to a queue. */
async function stored(from: string, subject: string): Promise<{ id: string; messageId: string }> {
  const messageId = `once.${Date.now()}.${++serial}@customer.test`;
  const raw = Buffer.from(
    `Return-Path: <${from}>\r\nFrom: ${from}\r\nTo: support@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${messageId}>\r\n\r\nPlease help.\r\n`,
  );
  const key = `support:${messageId}`;
  const models = a.app.db.models;
  const upload = rawStore(models).upload();
  await upload.write(raw);
  const rawChunks = await upload.finish();
  await models.InboundMail.create({
    _id: key,
    key,
    mailbox: 'support',
    via: 'smtp',
    envelopeFrom: from,
    size: raw.length,
    rawId: upload.rawId,
    rawChunks,
    messageId,
    status: 'received',
  });
  return { id: key, messageId };
}

const ticketFor = async (id: string) => {
  const row = await a.app.db.models.InboundMail.findById(id).lean();
  return row?.ticketRef ? a.app.db.models.Ticket.findById(row.ticketRef).lean() : null;
};

describe('one message, many takers', () => {
  it('when both processes run it and sweep at the same moment, then it makes one ticket, one acknowledgement and one history line each', async () => {
    const { id, messageId } = await stored('hana@customer.test', 'Two at once');
    const runs = await Promise.all([
      a.app.mail.process(id),
      b.app.mail.process(id),
      a.app.mail.sweep(0),
      b.app.mail.sweep(0),
      a.app.mail.process(id),
    ]);
    expect(runs.filter((r) => typeof r === 'object' && r !== null)).toHaveLength(1);
    await settled(a);

    const ticket = await ticketFor(id);
    expect(ticket?.history.map((h) => h.action)).toEqual(['opened', 'acknowledged']);
    expect(await a.app.db.models.TicketKey.countDocuments({ ref: ticket!.ref })).toBe(1);
    expect(sink.messages.filter((m) => m.inReplyTo === messageId)).toHaveLength(1);
    // One acknowledgement slot used of the address's three an hour.
    expect(await a.app.db.models.AckSlot.countDocuments({ _id: { $regex: '^hana@customer\\.test:' } })).toBe(1);
  });

  it('when another process holds a fresh claim, then a sweep leaves the message to it', async () => {
    const { id } = await stored('ivan@customer.test', 'Held elsewhere');
    await a.app.db.models.MailClaim.create({ _id: `${id}:0`, at: clock.now() });
    // The sweep hands the row to b's mail lane; b's run finds the claim and leaves the row.
    expect(await b.app.mail.sweep(0)).toBeGreaterThanOrEqual(1);
    await eventually(async () => b.app.lanes.mail.depth() === 0, "b's mail lane to empty");
    expect((await a.app.db.models.InboundMail.findById(id).lean())?.status).toBe('received');
    expect(
      await a.app.db.models.MailClaim.countDocuments({ _id: { $regex: `^${id.replace(/[.+]/g, '\\$&')}:` } }),
    ).toBe(1);
    expect(sink.messages.filter((m) => m.subject?.includes('Held elsewhere'))).toHaveLength(0);
    // Nobody will finish it: out of the way of the next test's wait for the app to settle.
    await a.app.db.models.InboundMail.deleteOne({ _id: id });
  });

  it('when the process holding the claim died (the claim is older than its lease), then the next sweep takes the message over and processes it once', async () => {
    const { id, messageId } = await stored('jana@customer.test', 'Crashed midway');
    await a.app.db.models.MailClaim.create({ _id: `${id}:0`, at: new Date(clock.now().getTime() - 11 * 60_000) });
    expect(await b.app.mail.sweep(0)).toBeGreaterThanOrEqual(1);
    await settled(b);
    const row = await a.app.db.models.InboundMail.findById(id).lean();
    expect(row).toMatchObject({ status: 'ticket', attempts: 1 });
    expect((await ticketFor(id))?.history.filter((h) => h.action === 'acknowledged')).toHaveLength(1);
    expect(sink.messages.filter((m) => m.inReplyTo === messageId)).toHaveLength(1);
  });
});
