/** Nothing a customer sent is lost: not when the bot dies right after 250, not when the database is down. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { afterAll, describe, expect, it } from '@jest/globals';
import { startFerret } from '../src/db/ferretdb.js';
import { createLogger } from '../src/logger.js';
import { PIECE_BYTES, rawStore } from '../src/mail/raw-store.js';
import { withLargeAttachment } from './mail/build-mail.js';
import { ownEngineBackend } from './support/own-engine.js';
import { killBotProcesses, startBotProcess as bootProcess } from './support/bot-process.js';
import { sendMail, sendRaw } from './support/send-mail.js';
import { openSmtpSession } from './support/smtp-session.js';
import { eventually, startTestApp, testDatabaseUri } from './support/test-app.js';

const dirs: string[] = [];
afterAll(async () => {
  killBotProcesses();
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

describe('durability of inbound mail', () => {
  it('when the bot is killed right after answering 250, then the message is ingested after restart', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-crash-'));
    dirs.push(dataDir);
    const uri = testDatabaseUri();
    const first = await bootProcess({ MONGODB_URI: uri, DATA_DIR: dataDir, JOBS_PROCESS_EVERY_MS: '600000' });
    const id = `crash.${Date.now()}@customer.test`;
    const sent = await sendMail({
      port: first.smtpPort,
      from: 'nina@customer.test',
      to: 'support@example.com',
      subject: 'Do not lose me',
      text: 'Important.',
      messageId: id,
    });
    first.child.kill('SIGKILL');
    expect(sent.response).toMatch(/^250/);

    const conn = await mongoose.createConnection(uri).asPromise();
    try {
      // Stored before the 250; whether processing had begun when the kill came is up to chance.
      expect(await conn.collection('inbound_mail').countDocuments({ messageId: id })).toBe(1);
      // If processing had begun, the dead process's claim holds the message until its lease (10
      // minutes) runs out; the restart here stands for one that comes that much later.
      await conn.collection('mail_claims').updateMany({}, { $set: { at: new Date(Date.now() - 11 * 60_000) } });

      const second = await bootProcess({ MONGODB_URI: uri, DATA_DIR: dataDir, JOBS_PROCESS_EVERY_MS: '200' });
      const row = await eventually(
        async () => {
          const r = await conn.collection('inbound_mail').findOne({ messageId: id });
          return r?.status === 'ticket' ? r : undefined;
        },
        'message processed after restart',
        30_000,
      );
      const ticket = await conn.collection('tickets').findOne({ ref: row.ticketRef });
      expect(ticket?.title).toBe('Do not lose me');
      expect(await conn.collection('tickets').countDocuments()).toBe(1);
      second.child.kill('SIGTERM');
    } finally {
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    }
  }, 120_000);

  it('when the database is down, then SMTP answers 451 so the sender retries, and accepts again once it is back', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-451-'));
    dirs.push(dir);
    const log = createLogger('silent');
    const listen = `127.0.0.1:${20000 + Math.floor(Math.random() * 20000)}`;
    let ferret = await startFerret(dir, log, listen, { backend: ownEngineBackend() });
    const t = await startTestApp({ databaseUri: `${ferret.uri.replace(/\/?$/, '/')}smtp_down` });
    try {
      await ferret.stop();
      await expect(
        sendMail({
          port: t.app.smtpPort,
          from: 'omar@customer.test',
          to: 'billing@example.com',
          subject: 'During outage',
          text: 'x',
          messageId: `down.${Date.now()}@customer.test`,
        }),
      ).rejects.toMatchObject({ responseCode: 451 });

      ferret = await startFerret(dir, log, listen, { backend: ownEngineBackend() });
      const id = `up.${Date.now()}@customer.test`;
      const sent = await eventually(
        () =>
          sendMail({
            port: t.app.smtpPort,
            from: 'omar@customer.test',
            to: 'billing@example.com',
            subject: 'After outage',
            text: 'x',
            messageId: id,
          }).catch(() => undefined),
        'accepted after the database is back',
        30_000,
      );
      expect(sent.response).toMatch(/^250/);
      expect(await t.app.db.models.InboundMail.countDocuments({ messageId: id })).toBe(1);
    } finally {
      await t.stop({ dropDatabase: false });
      await ferret.stop();
    }
  }, 90_000);

  it('when the database fails in the middle of a message, then 451, and the message sent again is stored once and whole', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-451-mid-'));
    dirs.push(dir);
    const log = createLogger('silent');
    const listen = `127.0.0.1:${20000 + Math.floor(Math.random() * 20000)}`;
    let ferret = await startFerret(dir, log, listen);
    const t = await startTestApp({ databaseUri: `${ferret.uri.replace(/\/?$/, '/')}smtp_mid` });
    try {
      const id = `mid.${Date.now()}@customer.test`;
      const message = withLargeAttachment(id, 2 * PIECE_BYTES);
      const session = await openSmtpSession(t.app.smtpPort);
      try {
        for (const line of [
          'EHLO sender.customer.test',
          'MAIL FROM:<ann@customer.test>',
          'RCPT TO:<support@example.com>',
        ])
          expect(await session.command(line)).toMatch(/^250/);
        expect(await session.command('DATA')).toMatch(/^354/);
        await session.write(message.subarray(0, 1.5 * PIECE_BYTES));
        await eventually(
          async () => (await t.app.db.models.RawMailChunk.countDocuments()) >= 1,
          'a piece stored mid-message',
        );
        await ferret.stop();
        await session.write(message.subarray(1.5 * PIECE_BYTES));
        expect(await session.endData()).toMatch(/^451/);
      } finally {
        await session.close();
      }

      ferret = await startFerret(dir, log, listen);
      const answer = await eventually(
        () =>
          sendRaw(t.app.smtpPort, message, { from: 'ann@customer.test', to: ['support@example.com'] }).catch(
            () => undefined,
          ),
        'accepted after the database is back',
        30_000,
      );
      expect(answer).toMatch(/^250/);
      const rows = await t.app.db.models.InboundMail.find({ messageId: id }).lean();
      expect(rows).toHaveLength(1);
      const parts: Buffer[] = [];
      for await (const part of rawStore(t.app.db.models).read(rows[0]!)) parts.push(part as Buffer);
      expect(
        Buffer.concat(parts).equals(Buffer.concat([Buffer.from('Return-Path: <ann@customer.test>\r\n'), message])),
      ).toBe(true);
    } finally {
      await t.stop({ dropDatabase: false });
      await ferret.stop();
    }
  }, 90_000);
});
