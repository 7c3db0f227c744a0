import { describe, expect, it } from '@jest/globals';
import { classifyInbound, shouldAutoReply } from '../../src/mail/loop-guard.js';
import { parseMail, type ParsedMail } from '../../src/mail/parse.js';
import { postfixBounce, rawMail } from './build-mail.js';

const OURS = ['billing@example.com', 'sales@example.com', 'support@example.com', 'selfserve@example.com'];

async function mail(headers: Record<string, string>, body?: string): Promise<ParsedMail> {
  return fromRaw(rawMail(headers, body));
}

async function fromRaw(raw: Buffer): Promise<ParsedMail> {
  const result = await parseMail(raw);
  if (!result.ok) throw new Error(result.reason);
  return result.mail;
}

describe('shouldAutoReply', () => {
  it('when a customer writes an ordinary mail, then it may be acknowledged', async () => {
    expect(shouldAutoReply(await mail({}), OURS)).toEqual({ ok: true });
  });

  it('when Auto-Submitted is "no", then the mail is still treated as written by a person', async () => {
    expect(shouldAutoReply(await mail({ 'Auto-Submitted': 'no' }), OURS)).toEqual({ ok: true });
  });

  it.each([
    [{ 'Auto-Submitted': 'auto-replied' }, /Auto-Submitted: auto-replied/],
    [{ 'Auto-Submitted': 'auto-generated; owner-email="x@y"' }, /Auto-Submitted: auto-generated/],
    [{ Precedence: 'bulk' }, /Precedence: bulk/],
    [{ Precedence: 'junk' }, /Precedence: junk/],
    [{ Precedence: 'list' }, /Precedence: list/],
    [{ 'List-Id': '<news.customer.example>' }, /List-Id/],
    [{ From: 'MAILER-DAEMON@mx.customer.example' }, /no-reply sender/],
    [{ From: 'postmaster@customer.example' }, /no-reply sender/],
    [{ From: 'No Reply <noreply@customer.example>' }, /no-reply sender/],
    [{ From: 'no-reply+alerts@customer.example' }, /no-reply sender/],
    [{ From: 'do-not-reply@customer.example' }, /no-reply sender/],
    [{ 'Reply-To': 'donotreply@customer.example' }, /no-reply sender/],
    [{ From: '' }, /no From/],
    [{ 'Return-Path': '<>' }, /null Return-Path/],
    [{ From: 'Billing <Billing@Example.com>' }, /our own address/],
    [{ From: 'support+ar-1001@example.com' }, /our own address/],
    [{ 'X-Autoreply': 'yes' }, /X-Autoreply/],
    [{ Subject: 'Automatic reply: Your request' }, /auto-reply/],
    [{ 'X-Auto-Response-Suppress': 'All' }, /X-Auto-Response-Suppress/],
  ])('when the mail has %j, then no auto-reply is sent', async (headers, reason) => {
    const decision = shouldAutoReply(await mail(headers), OURS);
    expect(decision).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });

  it('when X-Auto-Response-Suppress only suppresses read receipts, then an acknowledgement is fine', async () => {
    expect(shouldAutoReply(await mail({ 'X-Auto-Response-Suppress': 'RN, NRN' }), OURS)).toEqual({ ok: true });
  });

  it('when a delivery report arrives, then it is never answered', async () => {
    expect(shouldAutoReply(await fromRaw(postfixBounce()), OURS)).toEqual({
      ok: false,
      reason: expect.stringMatching(/^bounce/),
    });
  });
});

describe('classifyInbound', () => {
  it('when a delivery status report arrives, then it is a bounce', async () => {
    expect(classifyInbound(await fromRaw(postfixBounce()))).toBe('bounce');
  });

  it('when a plain-text bounce comes from MAILER-DAEMON, then it is a bounce', async () => {
    const m = await mail({
      From: 'Mail Delivery System <MAILER-DAEMON@mx.example.net>',
      Subject: 'Mail delivery failed: returning message to sender',
    });
    expect(classifyInbound(m)).toBe('bounce');
  });

  it('when a customer forwards a bounce asking for help, then it is normal mail', async () => {
    const m = await mail({ Subject: 'Fwd: Undelivered Mail Returned to Sender' }, 'Why did this bounce?\r\n');
    expect(classifyInbound(m)).toBe('normal');
  });

  it('when an out-of-office reply arrives, then it is an auto-reply', async () => {
    expect(classifyInbound(await mail({ 'Auto-Submitted': 'auto-replied', Subject: 'Away until May 5' }))).toBe(
      'auto-reply',
    );
    expect(classifyInbound(await mail({ Subject: 'Out of Office: [AR-1001] Your request' }))).toBe('auto-reply');
  });

  it('when only X-Auto-Response-Suppress is set, then the mail is not taken for an auto-reply', async () => {
    expect(classifyInbound(await mail({ 'X-Auto-Response-Suppress': 'All' }))).toBe('normal');
  });

  it('when a customer writes with "out of office" inside the subject, then it is normal mail', async () => {
    expect(classifyInbound(await mail({ Subject: 'Pause while we are out of office' }))).toBe('normal');
  });
});
