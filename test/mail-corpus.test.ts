/**
 * Every message of the shared email corpus through the real SMTP listener: each ends as a ticket,
 * a reply, a bounce record, an auto-reply record or a stored-for-review record. None is lost.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { MAILBOXES } from '../src/config.js';
import { describeWithShared, sharedPath } from './support/shared-data.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

const CORPUS = sharedPath('corpus', 'email');

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(full)));
    else if (!/(^|\/)(LICENSE|README\.md)$/.test(full)) out.push(full);
  }
  return out.sort();
}

let t: TestApp;

describeWithShared(CORPUS, 'the public email corpus (../shared/corpus/email) was not replayed over SMTP')(
  'the email corpus over SMTP',
  () => {
    beforeAll(async () => {
      t = await startTestApp({ env: { JOBS_PROCESS_EVERY_MS: '500' } });
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('when every corpus message is delivered, then every one is accounted for and none crashes the bot', async () => {
      const all = await files(CORPUS!);
      expect(all.length).toBeGreaterThan(900);
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: t.app.smtpPort,
        secure: false,
        ignoreTLS: true,
        pool: true,
        maxConnections: 4,
      });
      const refused: string[] = [];
      const started = Date.now();
      let accepted = 0;
      await Promise.all(
        all.map(async (file, i) => {
          const raw = await fs.readFile(file);
          const mailbox = MAILBOXES[i % MAILBOXES.length]!;
          try {
            await transport.sendMail({
              envelope: { from: 'corpus@customer.test', to: [`${mailbox}@example.com`] },
              raw: raw.length > 0 ? raw : Buffer.from('\r\n'),
            });
            accepted += 1;
          } catch (err) {
            refused.push(`${path.relative(CORPUS!, file)}: ${(err as Error).message}`);
          }
        }),
      );
      transport.close();
      const sentMs = Date.now() - started;
      // The listener refuses nothing of the corpus: every message is under the size limit and addressed to a mailbox.
      expect(refused).toEqual([]);
      expect(accepted).toBe(all.length);

      const M = t.app.db.models.InboundMail;
      await eventually(
        async () => (await M.countDocuments({ status: 'received' })) === 0,
        'every stored message processed',
        480_000,
      ); // FerretDB shares 2 cores with the 200-change plan test
      const processedMs = Date.now() - started;
      const stored = await M.countDocuments();
      const counts: Record<string, number> = {};
      for (const status of ['ticket', 'reply', 'bounce', 'auto-reply', 'review'] as const)
        counts[status] = await M.countDocuments({ status });
      const duplicates = accepted - stored;
      const reasons: Record<string, number> = {};
      for (const r of await M.find({ status: 'review' }).select({ reason: 1 }).lean()) {
        const k = (r.reason ?? '').replace(/[0-9]+/g, 'N').slice(0, 60);
        reasons[k] = (reasons[k] ?? 0) + 1;
      }
      process.stderr.write(
        `corpus over SMTP: ${all.length} sent, ${stored} stored (${duplicates} repeats of a stored Message-ID), outcomes ${JSON.stringify(counts)}; review reasons ${JSON.stringify(reasons)}; all accepted after ${sentMs} ms, all processed after ${processedMs} ms\n`,
      );
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(stored);
      expect(counts.ticket).toBeGreaterThan(0);
      expect(counts.bounce).toBeGreaterThan(500);
      // Every review row carries its reason for the person who looks at it.
      expect(await M.countDocuments({ status: 'review', reason: { $in: [null, ''] } })).toBe(0);
      // Only messages that ended as `ticket` opened one: bounces, auto-replies and reviews opened none.
      const opened = new Set(
        (await M.find({ status: 'ticket' }).select({ ticketRef: 1 }).lean()).map((r) => r.ticketRef),
      );
      expect(await t.app.db.models.Ticket.countDocuments()).toBe(opened.size);
      // The bot still answers afterwards.
      expect((await fetch(`${t.baseUrl}/readyz`)).status).toBe(200);
    }, 560_000);
  },
);
