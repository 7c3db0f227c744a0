/**
 * Large mail and many senders: a message is streamed into storage as it arrives (never held
 * whole), refused part-way when too large without leaving pieces behind, and SMTP sessions are
 * bounded by SMTP_INBOUND_MAX_CLIENTS. Real SMTP over loopback.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { PIECE_BYTES, rawStore } from '../src/mail/raw-store.js';
import { withLargeAttachment } from './mail/build-mail.js';
import { sendRaw } from './support/send-mail.js';
import { openSmtpSession, type SmtpSession } from './support/smtp-session.js';
import { eventually, settled, startTestApp, type TestApp } from './support/test-app.js';

// Each test moves several 4 MiB pieces through the database; on a loaded 2-core machine that
// alone can take longer than the suite's 30 s per test.
jest.setTimeout(120_000);

const MAX_BYTES = 3 * PIECE_BYTES;
const MAX_CLIENTS = 3;
let t: TestApp;
let serial = 0;
const uniqueId = (tag: string) => `${tag}.${Date.now()}.${++serial}@customer.test`;

beforeAll(async () => {
  t = await startTestApp({
    env: {
      MAIL_DOMAIN: 'example.com',
      SMTP_INBOUND_MAX_BYTES: String(MAX_BYTES),
      SMTP_INBOUND_MAX_CLIENTS: String(MAX_CLIENTS),
    },
  });
});
afterAll(async () => {
  // What the tests stored is processed before the database goes.
  await settled(t, 60_000);
  await t.stop();
});

const pieces = () => t.app.db.models.RawMailChunk.countDocuments();
const rowOf = (messageId: string) => t.app.db.models.InboundMail.findOne({ messageId }).lean();

async function readBack(row: { _id: string; rawId?: string | null; rawChunks: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of rawStore(t.app.db.models).read(row)) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function startData(session: SmtpSession, from: string, to: string[]): Promise<void> {
  expect(await session.command('EHLO sender.customer.test')).toMatch(/^250/);
  expect(await session.command(`MAIL FROM:<${from}>`)).toMatch(/^250/);
  for (const rcpt of to) expect(await session.command(`RCPT TO:<${rcpt}>`)).toMatch(/^250/);
  expect(await session.command('DATA')).toMatch(/^354/);
}

describe('a large message', () => {
  it('when it arrives, then its first pieces are stored before its last byte, and once accepted it reads back byte-identical with its Return-Path and becomes a ticket', async () => {
    const id = uniqueId('large');
    const message = withLargeAttachment(id, 2 * PIECE_BYTES);
    const before = await pieces();
    const session = await openSmtpSession(t.app.smtpPort);
    try {
      await startData(session, 'ann@customer.test', ['support@example.com']);
      const part = Math.floor(message.length * 0.7);
      await session.write(message.subarray(0, part));
      // A piece is in the database while the sender still holds the rest of the message.
      await eventually(async () => (await pieces()) >= before + 1, 'a piece stored mid-message');
      expect(await rowOf(id)).toBeNull();
      await session.write(message.subarray(part));
      expect(await session.endData()).toMatch(/^250/);
    } finally {
      await session.close();
    }
    const row = (await rowOf(id))!;
    const stored = Buffer.concat([Buffer.from('Return-Path: <ann@customer.test>\r\n'), message]);
    expect(row.rawChunks).toBe(Math.ceil(stored.length / PIECE_BYTES));
    expect(row.size).toBe(stored.length);
    expect((await readBack(row)).equals(stored)).toBe(true);
    const done = await eventually(
      async () => {
        const r = await rowOf(id);
        return r?.status !== 'received' ? r : undefined;
      },
      'large message processed',
      30_000,
    );
    expect(done).toMatchObject({ status: 'ticket' });
    const ticket = await t.app.db.models.Ticket.findOne({ ref: done!.ticketRef }).lean();
    expect(ticket).toMatchObject({ title: 'Signed contract attached', source: { email: 'ann@customer.test' } });
  });

  it('when it is over SMTP_INBOUND_MAX_BYTES, then it gets 552 and the pieces stored on the way are removed', async () => {
    const id = uniqueId('too-large');
    const message = withLargeAttachment(id, MAX_BYTES);
    const before = await pieces();
    const session = await openSmtpSession(t.app.smtpPort);
    try {
      await startData(session, 'ann@customer.test', ['support@example.com']);
      await session.write(message.subarray(0, 2 * PIECE_BYTES));
      await eventually(async () => (await pieces()) >= before + 1, 'a piece stored before the limit');
      await session.write(message.subarray(2 * PIECE_BYTES));
      expect(await session.endData()).toMatch(/^552/);
      // The session goes on: the next message is accepted.
      expect(
        await session.deliver({
          from: 'ann@customer.test',
          to: ['support@example.com'],
          message: `Message-ID: <${uniqueId('after-552')}>\r\nSubject: small\r\n\r\nsmall\r\n`,
        }),
      ).toMatch(/^250/);
    } finally {
      await session.close();
    }
    expect(await rowOf(id)).toBeNull();
    await eventually(async () => (await pieces()) <= before + 1, 'pieces of the refused message removed');
  });

  it('when the sender leaves in the middle of it, then nothing of it is kept', async () => {
    const id = uniqueId('left');
    const message = withLargeAttachment(id, 2 * PIECE_BYTES);
    const before = await pieces();
    const session = await openSmtpSession(t.app.smtpPort);
    await startData(session, 'ann@customer.test', ['support@example.com']);
    await session.write(message.subarray(0, 1.5 * PIECE_BYTES));
    await eventually(async () => (await pieces()) >= before + 1, 'a piece stored mid-message');
    session.destroy();
    await eventually(async () => (await pieces()) === before, 'pieces removed after the sender left', 60_000);
    expect(await rowOf(id)).toBeNull();
  });

  it('when the same message is delivered twice, then one row and one copy of its pieces remain', async () => {
    const id = uniqueId('twice');
    const message = withLargeAttachment(id, PIECE_BYTES);
    const before = await pieces();
    for (let i = 0; i < 2; i += 1)
      expect(
        await sendRaw(t.app.smtpPort, message, { from: 'ann@customer.test', to: ['support@example.com'] }),
      ).toMatch(/^250/);
    const row = (await rowOf(id))!;
    expect(await t.app.db.models.InboundMail.countDocuments({ messageId: id })).toBe(1);
    expect(await pieces()).toBe(before + row.rawChunks);
  });

  it('when it is sent to two mailboxes, then each has its row and both share one copy of the bytes', async () => {
    const id = uniqueId('two-boxes');
    const message = withLargeAttachment(id, PIECE_BYTES);
    const before = await pieces();
    expect(
      await sendRaw(t.app.smtpPort, message, {
        from: 'ann@customer.test',
        to: ['support@example.com', 'billing@example.com'],
      }),
    ).toMatch(/^250/);
    const rows = await t.app.db.models.InboundMail.find({ messageId: id }).lean();
    expect(rows.map((r) => r.mailbox).sort()).toEqual(['billing', 'support']);
    expect(rows[0]!.rawId).toBe(rows[1]!.rawId);
    expect(await pieces()).toBe(before + rows[0]!.rawChunks);
    expect(
      (await readBack(rows[1]!)).equals(Buffer.concat([Buffer.from('Return-Path: <ann@customer.test>\r\n'), message])),
    ).toBe(true);
  });
});

describe('concurrent SMTP sessions', () => {
  it('when SMTP_INBOUND_MAX_CLIENTS sessions are open, then a new connection gets 421 while the open ones still deliver, and one is let in again once a session ends', async () => {
    const open: SmtpSession[] = [];
    try {
      for (let i = 0; i < MAX_CLIENTS; i += 1) {
        const s = await openSmtpSession(t.app.smtpPort);
        open.push(s);
        expect(s.greeting).toMatch(/^220/);
        expect(await s.command('EHLO sender.customer.test')).toMatch(/^250/);
      }
      const extra = await openSmtpSession(t.app.smtpPort);
      open.push(extra);
      expect(extra.greeting).toMatch(/^421/);

      const ids = open.slice(0, MAX_CLIENTS).map(() => uniqueId('held'));
      const answers = await Promise.all(
        open.slice(0, MAX_CLIENTS).map((s, i) =>
          s.deliver({
            from: 'ann@customer.test',
            to: ['support@example.com'],
            message: `Message-ID: <${ids[i]}>\r\nFrom: ann@customer.test\r\nSubject: held ${i}\r\n\r\nstill delivering\r\n`,
          }),
        ),
      );
      expect(answers.every((a) => a.startsWith('250'))).toBe(true);
      for (const id of ids) expect(await rowOf(id)).not.toBeNull();

      await open.shift()!.close();
      const next = await eventually(async () => {
        const s = await openSmtpSession(t.app.smtpPort);
        if (s.greeting.startsWith('220')) return s;
        await s.close();
        return undefined;
      }, 'a session let in after one ended');
      open.push(next);
    } finally {
      for (const s of open) await s.close();
    }
  });
});
