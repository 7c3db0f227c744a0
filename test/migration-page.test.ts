/**
 * The customer's migration page over HTTP: the link in the emails, the progress, card payment
 * through the Stripe adapter against a fake Stripe on loopback (webhooks signed with the SDK's own
 * test-header helper), projects confirmed on the page, and every way in that must be refused
 * (tampered, expired, replaced and other tickets' links, forms without CSRF, bad or replayed
 * webhooks, the same event twice): each answered with a 4xx and nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startFakeStripe, type FakeStripe } from './support/fake-stripe.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { CHANNELS, eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { handOff, press, selectPayment, submitStep, summaryValues, type Driver } from './support/migration.js';
import { csrfIn, linkIn, pageClient, tokenOf } from './support/page-client.js';
import { HANDOFF_CARD, HOME, MIGRATION_SUMMARY, TICKET_CARD } from '../views/ids.js';
import { eventCallback } from './support/slack-requests.js';
import { dayIn } from '../src/domain/migration.js';
import { linkClaims, linkKey, readLink, signLink, withoutLinkTokens } from '../src/domain/migration-link.js';
import { migrationPage } from '../src/web/pages/migration.js';
import type { PageView } from '../src/services/migration-page.js';

const TZ = 'Europe/Berlin';
const APP_SECRET = 'page-test-application-secret-0123456789';
const A = HANDOFF_CARD.actions;
let slack: FakeSlack;
let sink: SmtpSink;
let stripe: FakeStripe;
let t: TestApp;
let d: Driver;
const logLines: string[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  stripe = await startFakeStripe();
  t = await startTestApp({
    slack,
    servesLinks: true,
    logLines,
    env: {
      TZ_BILLING: TZ,
      SMTP_URL: sink.url,
      APP_SECRET,
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
      STRIPE_API_URL: stripe.apiUrl,
    },
  });
  stripe.deliverTo(`${t.baseUrl}/webhooks/stripe`);
  d = { t, slack };
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
  await sink?.close();
  await stripe?.close();
});

const ticketOf = async (ref: string) => (await t.app.db.models.Ticket.findById(ref).lean())!;
const customer = (accountId: string) => `buyer.${accountId.toLowerCase()}@customer.example`;
const mailTo = (ref: string, to: string, contains: string) =>
  sink.waitFor(
    (m) => m.to.includes(to) && (m.subject ?? '').startsWith(`[${ref}]`) && (m.text ?? '').includes(contains),
  );
const current = (html: string) => /<li class="[a-z]+" aria-current="step" data-step="([a-z_]+)"/.exec(html)?.[1];

/** Handed off and scheduled; returns the ref and the link in the scheduled email. */
async function scheduled(accountId: string): Promise<{ ref: string; link: string }> {
  const ref = await handOff(d, {
    accountId,
    startDate: dayIn(TZ, new Date(Date.now() + 10 * 86_400_000)),
    customerEmail: customer(accountId),
  });
  expect(await press(d, A.confirm, ref)).toMatch(/^Scheduled/);
  const link = linkIn(await mailTo(ref, customer(accountId), 'scheduled to start'));
  expect(link).toMatch(new RegExp(`^${t.baseUrl}/migrate/`));
  return { ref, link: link! };
}

describe('the page', () => {
  it('when the customer opens the link from the scheduled email, then the progress shows with the dates in TZ_BILLING, the page is guarded by its headers, and billing sees the visit once', async () => {
    const { ref, link } = await scheduled('PGE-AAA-0001');
    const browser = pageClient();
    const res = await browser.get(link);
    expect(res.status).toBe(200);
    expect(current(res.text)).toBe('summary');
    expect(res.text).toContain('Billing is preparing the final bill');
    expect(res.text).toMatch(
      /Startup \(C4S\) plan<\/dt><dd>to be cancelled at 00:00 \(Europe\/Berlin\) on \d{4}-\d{2}-\d{2}/,
    );
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');

    await browser.get(link);
    const opened = (await ticketOf(ref)).history.filter((h) => h.action === 'page_opened');
    expect(opened).toEqual([
      expect.objectContaining({
        actor: `email:${customer('PGE-AAA-0001')}`,
        note: expect.stringContaining(`customer (${customer('PGE-AAA-0001')}) opened the migration page`),
      }),
    ]);
    const card = await slack.waitFor(
      'chat.update',
      (c) => c.args.channel === CHANNELS.billing && JSON.stringify(c.args.blocks).includes(HANDOFF_CARD.customerBlock),
    );
    expect(JSON.stringify(card.args.blocks)).toContain('opened the migration page');
    const status = await browser.get(`${link}/status`);
    expect(JSON.parse(status.text)).toMatchObject({ ok: true, version: expect.any(String) });
  });

  it('when the customer pays by card, fails, tries again and succeeds, then each step is recorded once through the payment path, later steps wait for the success, and projects confirmed on the page lock', async () => {
    const account = 'PGE-AAA-0002';
    const to = customer(account);
    await t.app.services.accounts.create({
      id: account,
      name: 'Page Co',
      contactEmail: to,
      tier: 'startup-10k',
      status: 'active',
      signupDate: '2025-01-01',
      projects: [
        { name: 'shop-prod', kind: 'live' },
        { name: 'shop-staging', kind: 'test' },
      ],
    });
    const { ref, link } = await scheduled(account);
    const token = tokenOf(link);
    await submitStep(
      d,
      MIGRATION_SUMMARY.callbackId,
      ref,
      summaryValues({ outcome: 'dues', amount: '480', method: 'card' }),
    );
    const summaryMail = await mailTo(ref, to, 'EUR 480.00 is due');
    // Each email carries a link of its own (30 days from that email), for the same page and generation.
    const summaryLink = readLink(linkKey(Buffer.from(APP_SECRET, 'utf8')), tokenOf(linkIn(summaryMail)!), new Date());
    expect(summaryLink).toMatchObject({ ok: true, claims: { ref, email: to, generation: 1 } });
    expect(summaryMail.text).not.toContain('dashboard');

    const browser = pageClient();
    const page = await browser.get(link);
    expect(current(page.text)).toBe('summary');
    expect(page.text).toContain('Pay by card');
    expect(page.text).not.toContain('projects-form');
    const csrf = csrfIn(page.text)!;

    // Without the CSRF token (or with another link's), the form changes nothing and Stripe hears nothing.
    expect((await browser.post(`${link}/pay`, {})).status).toBe(403);
    const otherLink = (await scheduled('PGE-AAA-0003')).link;
    expect((await browser.post(`${otherLink}/pay`, { _csrf: csrf })).status).toBe(403);
    expect(stripe.calls).toHaveLength(0);

    // Pay by card: a Checkout Session in payment mode, the summary's amount, the ref and attempt, a key per attempt.
    const pay = await browser.post(`${link}/pay`, { _csrf: csrf });
    expect(pay.status).toBe(303);
    expect(pay.location).toBe(`/migrate/${token}/checkout`);
    const handover = await browser.get(`${t.baseUrl}${pay.location}`);
    const session = [...stripe.sessions.values()][0]!;
    expect(handover.text).toContain(`content="0;url=${session.url}"`);
    expect(stripe.calls).toHaveLength(1);
    expect(stripe.calls[0]).toMatchObject({
      path: '/v1/checkout/sessions',
      status: 200,
      headers: { 'idempotency-key': `migration-checkout:${ref}:1` },
      body: {
        mode: 'payment',
        customer_email: to,
        metadata: { ref, attempt: '1' },
        payment_intent_data: { metadata: { ref, attempt: '1' } },
        line_items: { '0': { quantity: '1', price_data: { currency: 'eur', unit_amount: '48000' } } },
      },
    });
    expect(String(stripe.calls[0]!.body.success_url)).toBe(`${link}?paid`);
    // Pressing again while that payment is open sends the customer to the same page: never two payments.
    await browser.post(`${link}/pay`, { _csrf: csrf });
    expect(stripe.calls).toHaveLength(1);

    // The card is declined: the reason on the page, the block on the server, billing told on both threads.
    const declined = await stripe.sendEvent('payment_intent.payment_failed', {
      id: session.payment_intent,
      object: 'payment_intent',
      metadata: { ref, attempt: '1' },
      last_payment_error: { message: 'Your card was declined.', code: 'card_declined' },
    });
    expect(declined.status).toBe(200);
    const failedPage = await browser.get(link);
    expect(failedPage.text).toContain('The payment did not go through: Your card was declined.');
    expect(failedPage.text).toContain('Try again');
    expect(current(failedPage.text)).toBe('payment');
    expect(failedPage.text).toContain('data-step="payment" data-state="blocked"');
    const failedLine = (await ticketOf(ref)).history.at(-1)!;
    expect(failedLine).toMatchObject({
      action: 'payment_failed',
      actor: 'stripe',
      note: `customer (${to})'s card payment of EUR 480.00 failed: Your card was declined.`,
    });
    await mailTo(ref, to, 'did not go through');
    await slack.waitFor(
      'chat.postMessage',
      (c) =>
        c.args.channel === CHANNELS.billing &&
        typeof c.args.thread_ts === 'string' &&
        String(c.args.text).includes('card payment of EUR 480.00 failed'),
    );
    // App Home's queues follow the customer's payment as they follow billing's.
    slack.reset();
    await t.post(
      eventCallback({
        event: { type: 'app_home_opened', user: USERS.billing, channel: `D${USERS.billing}`, tab: 'home' },
      }),
    );
    const home = await slack.waitFor('views.publish', (c) => c.args.user_id === USERS.billing);
    const blocked = (home.args.view as { blocks: { block_id?: string; text?: { text: string } }[] }).blocks.find(
      (b) => b.block_id === HOME.billingBlockedBlock,
    )?.text?.text;
    expect(blocked).toContain(ref);
    expect(blocked).toContain('Your card was declined');
    const forged = await browser.post(`${link}/projects`, { _csrf: csrfIn(failedPage.text)!, live: 'shop-prod' });
    expect(forged.status).toBe(409);
    expect(forged.text).toContain('The payment did not go through');
    expect((await ticketOf(ref)).migration?.projects?.live ?? []).toEqual([]);

    // Try again: attempt 2, the first session closed so it can no longer be paid.
    const again = await browser.post(`${link}/pay`, { _csrf: csrfIn(failedPage.text)! });
    expect(again.status).toBe(303);
    expect(stripe.calls.map((c) => c.path)).toEqual([
      '/v1/checkout/sessions',
      `/v1/checkout/sessions/${session.id}/expire`,
      '/v1/checkout/sessions',
    ]);
    expect(stripe.calls[2]!.headers['idempotency-key']).toBe(`migration-checkout:${ref}:2`);
    const second = [...stripe.sessions.values()][1]!;

    // A webhook with a bad signature or a stale one is refused; the real one is handled once.
    const completed = { ...second, status: 'complete', payment_status: 'paid' };
    const forgedEvent = await stripe.sendEvent('checkout.session.completed', completed, {
      secret: 'whsec_someone_else',
    });
    expect(forgedEvent.status).toBe(400);
    const stale = await stripe.sendEvent('checkout.session.completed', completed, {
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    expect(stale.status).toBe(400);
    expect((await ticketOf(ref)).migration?.payment?.status).toBe('failed');
    const paid = await stripe.sendEvent('checkout.session.completed', completed);
    expect(JSON.parse(paid.body)).toMatchObject({ outcome: 'succeeded recorded' });
    const replay = await stripe.resend(paid);
    expect(JSON.parse(replay.body)).toMatchObject({ outcome: 'duplicate' });
    // Stripe's own retry: the same event id, freshly signed.
    const retried = await stripe.sendEvent('checkout.session.completed', completed, {
      id: JSON.parse(paid.payload).id,
    });
    expect(retried.status).toBe(200);
    expect(JSON.parse(retried.body)).toMatchObject({ outcome: 'duplicate' });
    const m = (await ticketOf(ref)).migration!;
    expect(m.payment).toMatchObject({ status: 'succeeded', by: 'stripe' });
    expect((await ticketOf(ref)).history.filter((h) => h.action === 'payment_succeeded')).toEqual([
      expect.objectContaining({ note: `customer (${to}) paid EUR 480.00 by card` }),
    ]);
    await mailTo(ref, to, 'your payment has gone through');

    // Projects: offered from the account, one added by name; confirmed as billing's modal confirms them, then locked.
    const paidPage = await browser.get(`${link}?paid`);
    expect(current(paidPage.text)).toBe('projects');
    expect(paidPage.text).toContain('value="shop-prod"');
    expect(paidPage.text).toContain('value="shop-staging"');
    const bad = await browser.post(`${link}/projects`, {
      _csrf: csrfIn(paidPage.text)!,
      live: 'shop-prod',
      add_test: '<script>',
    });
    expect(bad.status).toBe(400);
    const none = await browser.post(`${link}/projects`, { _csrf: csrfIn(paidPage.text)!, test: 'shop-staging' });
    expect(none.status).toBe(400);
    const ok = await browser.post(`${link}/projects`, {
      _csrf: csrfIn(paidPage.text)!,
      live: 'shop-prod',
      test: 'shop-staging',
      add_test: 'shop-qa',
    });
    expect(ok.status).toBe(303);
    const confirmed = (await ticketOf(ref)).migration!;
    expect(confirmed.projects).toMatchObject({
      live: ['shop-prod'],
      test: ['shop-staging', 'shop-qa'],
      by: `email:${to}`,
    });
    expect(confirmed.stage).toBe('projects_confirmed');
    expect((await ticketOf(ref)).history.at(-1)).toMatchObject({
      action: 'projects_confirmed',
      actor: `email:${to}`,
      note: 'Projects confirmed: live shop-prod; test shop-staging, shop-qa',
    });
    await mailTo(ref, to, 'These projects will move');
    const locked = await browser.post(`${link}/projects`, { _csrf: csrfIn(paidPage.text)!, live: 'other' });
    expect(locked.status).toBe(409);
    const sales = await slack.waitFor(
      'chat.update',
      (c) =>
        c.args.channel === CHANNELS.sales &&
        JSON.stringify(c.args.blocks).includes('confirmed the projects on the migration page'),
    );
    expect(JSON.stringify(sales.args.blocks)).toContain(TICKET_CARD.customerBlock);
    const done = await browser.get(link);
    expect(current(done.text)).toBe('migrating');
    expect(done.text).toContain('<li>shop-qa</li>');
  });
});

describe('billing settles the payment in Slack', () => {
  it('when billing records the payment while the customer’s card checkout is open, then the checkout is closed so it cannot be paid twice', async () => {
    const { ref, link } = await scheduled('PGE-CCC-0001');
    await submitStep(
      d,
      MIGRATION_SUMMARY.callbackId,
      ref,
      summaryValues({ outcome: 'dues', amount: '75', method: 'card' }),
    );
    const browser = pageClient();
    const page = await browser.get(link);
    expect((await browser.post(`${link}/pay`, { _csrf: csrfIn(page.text)! })).status).toBe(303);
    const sessionId = (await ticketOf(ref)).migration?.checkout?.sessionId;
    expect(stripe.sessions.get(sessionId!)?.status).toBe('open');

    expect(await selectPayment(d, ref, 'succeeded')).toMatch(/^Recorded: the payment on .* succeeded/);
    expect(stripe.calls.filter((c) => c.path === `/v1/checkout/sessions/${sessionId}/expire`)).toEqual([
      expect.objectContaining({ status: 200 }),
    ]);
    expect(stripe.sessions.get(sessionId!)?.status).toBe('expired');
    const hosted = await fetch(stripe.sessions.get(sessionId!)!.url);
    expect(await hosted.text()).toContain('This session is expired.');
    expect(current((await browser.get(link)).text)).toBe('projects');
  });
});

describe('links that must not open the page', () => {
  it('when a link is tampered with, expired, for another ticket, or replaced by billing, then a plain 4xx page says so and nothing changes; no token reaches a log line', async () => {
    const { ref, link } = await scheduled('PGE-BBB-0001');
    const { ref: otherRef, link: otherLink } = await scheduled('PGE-BBB-0002');
    const browser = pageClient();
    const token = tokenOf(link);
    const before = (await ticketOf(ref)).history.length;
    const key = linkKey(Buffer.from(APP_SECRET, 'utf8'));

    const flipped = token.slice(0, 5) + (token[5] === 'A' ? 'B' : 'A') + token.slice(6);
    const tampered = await browser.get(`${t.baseUrl}/migrate/${flipped}`);
    expect(tampered.status).toBe(404);
    expect(tampered.text).toContain('This link is not valid');
    expect(tampered.text).not.toContain(ref);

    // Another ticket's claims under this ticket's signature, and a signed link naming the wrong customer.
    const otherBody = tokenOf(otherLink).split('.')[0];
    expect((await browser.get(`${t.baseUrl}/migrate/${otherBody}.${token.split('.')[1]}`)).status).toBe(404);
    const wrongPerson = signLink(
      key,
      linkClaims({ ref: otherRef, email: customer('PGE-BBB-0001'), generation: 1, now: new Date(), ttlDays: 30 }),
    );
    expect((await browser.get(`${t.baseUrl}/migrate/${wrongPerson}`)).status).toBe(404);

    const old = signLink(
      key,
      linkClaims({
        ref,
        email: customer('PGE-BBB-0001'),
        generation: 1,
        now: new Date(Date.now() - 31 * 86_400_000),
        ttlDays: 30,
      }),
    );
    const expired = await browser.get(`${t.baseUrl}/migrate/${old}`);
    expect(expired.status).toBe(410);
    expect(expired.text).toContain('This link has expired');
    expect((await browser.get(`${t.baseUrl}/migrate/${old}/status`)).status).toBe(410);
    expect((await browser.get(`${t.baseUrl}/migrate/not-a-token`)).status).toBe(404);
    expect((await ticketOf(ref)).history).toHaveLength(before);

    // Billing sends a new link: the old one is replaced, the new one (emailed) opens the page.
    expect(await press(d, A.newLink, ref)).toMatch(/^Sent: .* has a new link/);
    const fresh = linkIn(await mailTo(ref, customer('PGE-BBB-0001'), 'Here is a new link'));
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(link);
    const replaced = await browser.get(link);
    expect(replaced.status).toBe(410);
    expect(replaced.text).toMatch(/this link was replaced; use the newest email/i);
    expect((await browser.post(`${link}/pay`, { _csrf: 'x' })).status).toBe(403);
    expect((await browser.get(fresh!)).status).toBe(200);
    expect((await ticketOf(ref)).history.filter((h) => h.action === 'link_replaced')).toHaveLength(1);
    expect(await press(d, A.newLink, ref, USERS.outsider)).toMatch(/^Only billing/);

    await eventually(async () => logLines.some((l) => l.includes('web.link_refused')), 'refusals logged');
    for (const secret of [token, flipped, old, tokenOf(fresh!), tokenOf(otherLink)])
      expect(logLines.filter((l) => l.includes(secret))).toEqual([]);
  });
});

describe('log lines', () => {
  it('when a library error names a page link, then the line keeps the path and drops the token', () => {
    const token = signLink(
      linkKey(Buffer.from(APP_SECRET, 'utf8')),
      linkClaims({ ref: 'AR-1', email: 'a@b.example', generation: 1, now: new Date(), ttlDays: 30 }),
    );
    const line = withoutLinkTokens(`Invalid success_url: https://bot.example.com/migrate/${token}?paid`);
    expect(line).toBe('Invalid success_url: https://bot.example.com/migrate/<token>?paid');
    expect(line).not.toContain(token.split('.')[1]);
  });
});

describe('the page without card payments (manual adapter)', () => {
  it('when no Stripe key is set, then the summary says billing confirms the payment and offers no button', () => {
    const view: PageView = {
      ref: 'AR-1001',
      customerName: 'Acme',
      enterprisePlan: 'Enterprise 250k',
      enterpriseStartDate: '2030-01-10',
      c4sCancellation: 'at 00:00 (Europe/Berlin) on 2030-01-09',
      c4sCancelled: false,
      timeZone: TZ,
      steps: [],
      current: 'summary',
      summary: { outcome: 'dues', amount: 'EUR 480.00', method: 'card', card: 'required' },
      payment: { status: 'pending', reason: undefined, attempt: undefined },
      paymentAdapter: 'manual',
      payRefusal: undefined,
      projects: {
        confirmed: undefined,
        offered: [],
        refusal: 'Choose your projects once the payment has gone through.',
      },
      accountTeam: [],
      started: false,
      completed: false,
    };
    const html = migrationPage(view, { base: '/migrate/x', csrf: 'c', version: 'v' });
    expect(html).toContain('Billing will confirm your payment by email');
    expect(html).not.toContain('/pay"');
    const stripeHtml = migrationPage(
      { ...view, paymentAdapter: 'stripe', customerName: '<img src=x onerror=alert(1)>' },
      { base: '/migrate/x', csrf: 'c', version: 'v' },
    );
    expect(stripeHtml).toContain('action="/migrate/x/pay"');
    expect(stripeHtml).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(stripeHtml).not.toContain('<img');
  });

  it('when the summary is credits, or dues by eMandate with or without the card option, then the page says so and offers the card only where billing allowed it', () => {
    const base: PageView = {
      ref: 'AR-1002',
      customerName: 'Acme',
      enterprisePlan: 'Enterprise 250k',
      enterpriseStartDate: '2030-01-10',
      c4sCancellation: 'at 00:00 (Europe/Berlin) on 2030-01-09',
      c4sCancelled: false,
      timeZone: TZ,
      steps: [],
      current: 'summary',
      summary: undefined,
      payment: { status: 'pending', reason: undefined, attempt: undefined },
      paymentAdapter: 'stripe',
      payRefusal: undefined,
      projects: {
        confirmed: undefined,
        offered: [],
        refusal: 'Choose your projects once the payment has gone through.',
      },
      accountTeam: [],
      started: false,
      completed: false,
    };
    const ctx = { base: '/migrate/x', csrf: 'c', version: 'v' };
    const credits = migrationPage(
      {
        ...base,
        summary: { outcome: 'credits', credit: 'EUR 12.00' },
        payment: { status: 'not_needed', reason: undefined, attempt: undefined },
      },
      ctx,
    );
    expect(credits).toContain(
      'No overages on your current plan: your remaining credit of <strong>EUR 12.00</strong> goes to your next invoice',
    );
    expect(credits).not.toContain('id="pay"');
    const mandate = migrationPage(
      { ...base, summary: { outcome: 'dues', amount: 'EUR 90.00', method: 'emandate', card: 'none' } },
      ctx,
    );
    expect(mandate).toContain('Will be collected by eMandate');
    expect(mandate).not.toContain('id="pay"');
    const mandateOrCard = migrationPage(
      { ...base, summary: { outcome: 'dues', amount: 'EUR 90.00', method: 'emandate', card: 'optional' } },
      ctx,
    );
    expect(mandateOrCard).toContain('Will be collected by eMandate');
    expect(mandateOrCard).toMatch(/<button type="submit" class="secondary" id="pay">Pay now by card<\/button>/);
  });
});
