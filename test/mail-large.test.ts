/**
 * Many senders at once: SMTP sessions are bounded by SMTP_INBOUND_MAX_CLIENTS. Real SMTP over
 * loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSmtpSession, type SmtpSession } from './support/smtp-session.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

const MAX_CLIENTS = 3;
let t: TestApp;
let serial = 0;
const uniqueId = (tag: string) => `${tag}.${Date.now()}.${++serial}@customer.test`;

beforeAll(async () => {
  t = await startTestApp({ env: { MAIL_DOMAIN: 'example.com', SMTP_INBOUND_MAX_CLIENTS: String(MAX_CLIENTS) } });
});
afterAll(async () => {
  await t.stop();
});

const rowOf = (messageId: string) => t.app.db.models.InboundMail.findOne({ messageId }).lean();

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
        open.slice(0, MAX_CLIENTS).map((s, i) => s.deliver({ from: 'ann@customer.test', to: ['support@example.com'], message: `Message-ID: <${ids[i]}>\r\nFrom: ann@customer.test\r\nSubject: held ${i}\r\n\r\nstill delivering\r\n` })),
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
