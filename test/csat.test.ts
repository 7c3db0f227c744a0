/**
 * CSAT (CSAT_BILLING=on): closing an email ticket sends the closing email with two signed links;
 * the first click is recorded and shows a one-line thank-you, a second is told it was counted, a
 * tampered or expired link is refused and changes nothing; the score joins `/ticket stats`. A team
 * without CSAT closes without asking.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { sendMail } from './support/send-mail.js';
import { blockActions, slashCommand } from './support/slack-requests.js';
import { CHANNELS, eventually, settled, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { TICKET_CARD } from '../views/ids.js';
import { csatPath, readCsatPath } from '../src/domain/csat.js';

let slack: FakeSlack;
let sink: SmtpSink;
let t: TestApp;
let serial = 0;

beforeAll(async () => {
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  t = await startTestApp({ slack, env: { SMTP_URL: sink.url, MAIL_DOMAIN: 'example.com', CSAT_BILLING: 'on' } });
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

async function closedEmailTicket(mailbox: 'billing' | 'support', from: string): Promise<string> {
  const id = `csat.${Date.now()}.${++serial}@customer.test`;
  await sendMail({
    port: t.app.smtpPort,
    from,
    to: `${mailbox}@example.com`,
    subject: 'Help with my invoice',
    text: 'Please help.',
    messageId: id,
  });
  const row = await eventually(async () => {
    const r = await t.app.db.models.InboundMail.findOne({ messageId: id }).lean();
    return r?.ticketRef ? r : undefined;
  }, 'ticket opened');
  const ref = row.ticketRef!;
  const user = mailbox === 'billing' ? USERS.billing : USERS.support;
  await t.post(
    blockActions({ actionId: TICKET_CARD.actions.close, value: ref, userId: user, channelId: CHANNELS[mailbox] }),
  );
  await eventually(async () => (await t.app.db.models.Ticket.findById(ref).lean())?.status === 'closed', 'closed');
  return ref;
}

const links = (text: string) => ({ good: /Good: (\S+)/.exec(text)?.[1], bad: /Not good: (\S+)/.exec(text)?.[1] });
const open = (url: string) =>
  fetch(`${t.baseUrl}${new URL(url).pathname}`).then(async (r) => ({ status: r.status, body: await r.text() }));

describe('CSAT', () => {
  it('when a billing email ticket closes, then the closing email carries two signed links, and the first click is recorded once', async () => {
    const ref = await closedEmailTicket('billing', 'dana@customer.test');
    const mail = await sink.waitFor(
      (m) => m.envelope.to.includes('dana@customer.test') && (m.text ?? '').includes('We have closed your request'),
    );
    expect(mail.subject).toBe(`[${ref}] Re: Help with my invoice`);
    const { good, bad } = links(mail.text ?? '');
    expect(good).toMatch(new RegExp(`/csat/${ref}/good/\\d+/[a-z2-7]{26}$`));
    expect(bad).toMatch(new RegExp(`/csat/${ref}/bad/\\d+/[a-z2-7]{26}$`));

    const first = await open(good!);
    expect(first.status).toBe(200);
    expect(first.body).toContain('Thank you! Your answer was recorded.');
    const again = await open(bad!);
    expect(again.body).toContain('already recorded');
    const ticket = await t.app.db.models.Ticket.findById(ref).lean();
    expect(ticket?.csat?.score).toBe('good');
    expect(ticket?.history.filter((h) => h.action === 'csat')).toHaveLength(1);

    await t.post(
      slashCommand({
        command: '/ticket',
        text: 'stats 7d',
        userId: USERS.billing,
        channelId: CHANNELS.billing,
        responseUrl: slack.responseUrl('csat-stats'),
      }),
    );
    const stats = await slack.waitFor('response_url', (c) => c.responseUrlId === 'csat-stats', 15_000);
    expect(JSON.stringify(stats.args.blocks)).toContain('Customer satisfaction: 100 % good (1 of 1 answers)');
  });

  it('when a link is tampered with (another answer, ticket or expiry) or has expired, then it is refused and nothing is recorded', async () => {
    const ref = await closedEmailTicket('billing', 'eli@customer.test');
    const mail = await sink.waitFor(
      (m) => m.envelope.to.includes('eli@customer.test') && (m.text ?? '').includes('Not good:'),
    );
    const { bad } = links(mail.text ?? '');
    const path = new URL(bad!).pathname;
    const [, , , , expires, sig] = path.split('/');
    for (const forged of [
      path.replace('/bad/', '/good/'),
      path.replace(ref, 'AR-1001'),
      path.replace(`/${expires}/`, `/${Number(expires) + 1}/`),
      `${path.slice(0, -1)}${sig!.endsWith('a') ? 'b' : 'a'}`,
    ]) {
      const res = await fetch(`${t.baseUrl}${forged}`);
      expect({ forged, status: res.status }).toEqual({ forged, status: 403 });
    }
    // A well-signed link past its expiry reads as expired, not as valid.
    expect(
      readCsatPath(Buffer.alloc(32, 1), csatPath(Buffer.alloc(32, 1), ref, 'bad', Date.now() - 1000), new Date()),
    ).toEqual({ ok: false, why: 'expired' });
    expect(await t.app.db.models.CsatAnswer.findById(ref).lean()).toBeNull();
    expect((await t.app.db.models.Ticket.findById(ref).lean())?.csat).toBeFalsy();
  });

  it('when a team without CSAT closes an email ticket, then no closing email is sent', async () => {
    const ref = await closedEmailTicket('support', 'finn@customer.test');
    await settled(t);
    expect(sink.messages.filter((m) => (m.text ?? '').includes('We have closed your request'))).toEqual([]);
    expect(await t.app.db.models.Outbox.findById(`email:csat:${ref}`).lean()).toBeNull();
  });
});
