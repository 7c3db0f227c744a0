/**
 * The project's own mail fixtures (test/fixtures/mail/, written for this project): one or more
 * messages for each class of mail the public corpus covers (bounces, auto-replies, list mail,
 * broken MIME, charsets, attachments, nested multipart, HTML), so a clone without ../shared still
 * tests them. First the pure part (parse and classify), then the real SMTP listener end to end.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { classifyInbound, shouldAutoReply, type InboundClass } from '../../src/mail/loop-guard.js';
import { parseMail, type ParsedMail } from '../../src/mail/parse.js';
import { eventually, startTestApp, type TestApp } from '../support/test-app.js';

const DIR = path.resolve(process.cwd(), 'test', 'fixtures', 'mail');
const raw = (name: string) => readFileSync(path.join(DIR, name));

async function parsed(name: string): Promise<ParsedMail> {
  const result = await parseMail(raw(name));
  if (!result.ok) throw new Error(`${name} did not parse: ${result.reason}`);
  return result.mail;
}

/** What each fixture is: its class, whether it may be acknowledged, and what ingestion makes of it. */
const EXPECTED: Record<string, { cls: InboundClass; ack: boolean; status: string }> = {
  'bounce-dsn.eml': { cls: 'bounce', ack: false, status: 'bounce' },
  'bounce-plain.eml': { cls: 'bounce', ack: false, status: 'bounce' },
  'auto-reply-ooo.eml': { cls: 'auto-reply', ack: false, status: 'auto-reply' },
  'auto-reply-x-autoreply.eml': { cls: 'auto-reply', ack: false, status: 'auto-reply' },
  'list-mail.eml': { cls: 'normal', ack: false, status: 'ticket' },
  'broken-mime.eml': { cls: 'normal', ack: true, status: 'ticket' },
  'charset-latin1.eml': { cls: 'normal', ack: true, status: 'ticket' },
  'charset-iso2022jp.eml': { cls: 'normal', ack: true, status: 'ticket' },
  'charset-win1252.eml': { cls: 'normal', ack: true, status: 'ticket' },
  'attachment-pdf.eml': { cls: 'normal', ack: true, status: 'ticket' },
  'nested-multipart.eml': { cls: 'normal', ack: true, status: 'ticket' },
  'html-accented-cjk.eml': { cls: 'normal', ack: true, status: 'ticket' },
  'headerless-fragment.eml': { cls: 'normal', ack: false, status: 'review' },
};

describe('the project’s own mail fixtures', () => {
  it('when the folder is listed, then every fixture has an expectation (none is left untested)', () => {
    expect(
      readdirSync(DIR)
        .filter((n) => n.endsWith('.eml'))
        .sort(),
    ).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED).filter(([name]) => name !== 'headerless-fragment.eml'))(
    'when %s is parsed, then it is classified as expected',
    async (name, want) => {
      const mail = await parsed(name);
      expect(classifyInbound(mail)).toBe(want.cls);
      expect(
        shouldAutoReply(mail, [
          'support@example.com',
          'billing@example.com',
          'sales@example.com',
          'selfserve@example.com',
        ]).ok,
      ).toBe(want.ack);
    },
  );

  it('when a delivery status report is parsed, then the failed recipient and our returned message are read from it', async () => {
    const mail = await parsed('bounce-dsn.eml');
    expect(mail.isDeliveryReport).toBe(true);
    expect(mail.failedRecipients).toEqual(['gone@customer.test']);
    expect(mail.originalMessageId).toBe('our.original.1@example.com');
  });

  it('when mail comes in ISO-8859-1, ISO-2022-JP or windows-1252, then subjects, names and bodies are decoded', async () => {
    const latin = await parsed('charset-latin1.eml');
    expect(latin.subject).toBe('Kündigung des Zusatzdienstes');
    expect(latin.from?.name).toBe('Jürgen Weiß');
    expect(latin.text).toContain('Viele Grüße');
    const jp = await parsed('charset-iso2022jp.eml');
    expect(jp.subject).toBe('プラン変更のお願い');
    expect(jp.text).toContain('アカウントのプランを変更したいです');
    const win = await parsed('charset-win1252.eml');
    expect(win.text).toContain('We’re being charged €49 twice – please check “Invoice 2026-11”.');
  });

  it('when mail comes as HTML only with named accents and CJK character references, then subject and text read as written', async () => {
    const mail = await parsed('html-accented-cjk.eml');
    expect(mail.subject).toBe('Reçu et 日本語');
    expect(mail.from?.name).toBe('Chloé');
    expect(mail.text).toBe(
      'Bonjour, le reçu de décembre est erroné : « Übersicht » & €42.\n\n日本語の請求書も必要です。\n\nMerci…',
    );
    expect(mail.text).not.toMatch(/alert|color:red|&[a-z]+;/);
  });

  it('when a message has attachments or nested parts, then the text is found and the attachments listed', async () => {
    const pdf = await parsed('attachment-pdf.eml');
    expect(pdf.text).toContain('Our purchase order is attached.');
    expect(pdf.attachments.map((a) => [a.filename, a.contentType])).toEqual([['po-4711.pdf', 'application/pdf']]);
    const nested = await parsed('nested-multipart.eml');
    expect(nested.text).toContain('The usage chart shows zero for November.');
    expect(nested.attachments.map((a) => a.contentType).sort()).toEqual(['image/png', 'text/csv']);
  });

  it('when the MIME structure is broken, then the readable text is still kept rather than lost', async () => {
    const mail = await parsed('broken-mime.eml');
    expect(mail.subject).toBe('Screenshot of the error');
    expect(mail.text).toContain('The export fails with error 500');
  });

  it('when a message has no header block at all, then it is refused with a reason or kept without a sender', async () => {
    const result = await parseMail(raw('headerless-fragment.eml'));
    if (result.ok) expect(result.mail.from).toBeUndefined();
    else expect(result.reason).toMatch(/\S/);
  });
});

describe('the fixtures over SMTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MAIL_DOMAIN: 'example.com' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('when every fixture is delivered, then each ends as its class says: a ticket, a bounce or auto-reply record, or a row kept for review', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: t.app.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    const names = Object.keys(EXPECTED);
    try {
      for (const name of names)
        await transport.sendMail({
          envelope: { from: 'fixtures@customer.test', to: ['support@example.com'] },
          raw: raw(name),
        });
    } finally {
      transport.close();
    }
    const M = t.app.db.models.InboundMail;
    await eventually(
      async () => (await M.countDocuments({ status: 'received' })) === 0 && (await M.countDocuments()) === names.length,
      'every fixture processed',
      60_000,
    );
    const rows = await M.find().lean();
    const byMessageId = new Map(rows.map((r) => [r.messageId ?? '(none)', r]));
    for (const name of names) {
      const id = /^message-id:\s*<([^>]+)>/im.exec(raw(name).toString('latin1'))?.[1] ?? '(none)';
      expect([name, byMessageId.get(id)?.status]).toEqual([name, EXPECTED[name]!.status]);
    }
    expect(rows.filter((r) => r.status === 'review').every((r) => (r.reason ?? '').length > 0)).toBe(true);
  });
});
