/**
 * The customer's journey in a real browser (Debian's Chromium through playwright-core): from the
 * link in the email the SMTP sink received, through a declined and then a successful card payment
 * on the fake Stripe's Checkout page, to the projects, while billing works in Slack and the open
 * page follows without a reload. axe-core checks every state; screenshots go to test/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startFakeStripe, type FakeStripe } from './support/fake-stripe.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { completeValues, handOff, press, submitStep, summaryValues, type Driver } from './support/migration.js';
import { linkIn, tokenOf } from './support/page-client.js';
import { axeViolations, hasChromium, launchChromium, screenshot } from './support/browser.js';
import { HANDOFF_CARD, MIGRATION_COMPLETE, MIGRATION_SUMMARY } from '../views/ids.js';
import { dayIn } from '../src/domain/migration.js';
import { C4S_DUE_KIND } from '../src/jobs/migration-cancel.js';
import { dueRowOf } from './support/due-work.js';

const TZ = 'Europe/Berlin';
const A = HANDOFF_CARD.actions;
/** The page polls every 3 s; a change must show within a few polls. */
const FOLLOWS_MS = 15_000;
let slack: FakeSlack;
let sink: SmtpSink;
let stripe: FakeStripe;
let t: TestApp;
let d: Driver;
let browser: Browser;
let context: BrowserContext;

const run = hasChromium() ? describe : describe.skip;
if (!hasChromium())
  console.warn('migration-browser: /usr/bin/chromium is not installed (apt-get install chromium); skipped');

beforeAll(async () => {
  if (!hasChromium()) return;
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  stripe = await startFakeStripe();
  t = await startTestApp({
    slack,
    servesLinks: true,
    env: {
      TZ_BILLING: TZ,
      SMTP_URL: sink.url,
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
      STRIPE_API_URL: stripe.apiUrl,
    },
  });
  stripe.deliverTo(`${t.baseUrl}/webhooks/stripe`);
  d = { t, slack };
  browser = await launchChromium();
  // A phone's viewport: the page must read there without sideways scrolling.
  context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
}, 60_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await t?.stop();
  await slack?.close();
  await sink?.close();
  await stripe?.close();
});

const ticketOf = async (ref: string) => (await t.app.db.models.Ticket.findById(ref).lean())!;
const currentStep = (page: Page) => page.getAttribute('[aria-current="step"]', 'data-step');
/** Set on the open document; still there later means the page changed without a reload. */
const markDocument = (page: Page) => page.evaluate('window.__sameDocument = true');
const sameDocument = (page: Page) => page.evaluate('window.__sameDocument === true');

async function expectAccessible(page: Page, state: string): Promise<void> {
  const violations = await axeViolations(page);
  expect({ state, violations }).toEqual({ state, violations: [] });
  expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
}

run('the customer in a browser', () => {
  it('when the customer follows the emailed link, pays after a decline and confirms projects, then billing starts and completes in Slack and the open page follows without a reload', async () => {
    const account = 'BRW-AAA-0001';
    const to = `buyer.${account.toLowerCase()}@customer.example`;
    await t.app.services.accounts.create({
      id: account,
      name: 'Browser Co',
      contactEmail: to,
      tier: 'startup-10k',
      status: 'active',
      signupDate: '2025-01-01',
      projects: [
        { name: 'shop-prod', kind: 'live' },
        { name: 'shop-staging', kind: 'test' },
      ],
    });
    const ref = await handOff(d, {
      accountId: account,
      startDate: dayIn(TZ, new Date(Date.now() + 10 * 86_400_000)),
      customerEmail: to,
      customerName: 'Browser Co',
    });
    expect(await press(d, A.confirm, ref)).toMatch(/^Scheduled/);
    const mail = await sink.waitFor((m) => m.to.includes(to) && (m.text ?? '').includes('scheduled to start'));
    const link = linkIn(mail)!;
    expect(link).toMatch(new RegExp(`^${t.baseUrl}/migrate/`));
    const path = `/migrate/${tokenOf(link)}`;
    const page = await context.newPage();

    // Scheduled: the bar names the billing summary as where things stand.
    expect((await page.goto(link))?.status()).toBe(200);
    expect(await currentStep(page)).toBe('summary');
    expect(await page.textContent('#progress')).toContain('Enterprise start');
    await screenshot(page, 'journey-1-scheduled');
    await expectAccessible(page, 'scheduled');

    // Billing records the dues in Slack: "Pay by card" appears on the open page.
    await markDocument(page);
    await submitStep(
      d,
      MIGRATION_SUMMARY.callbackId,
      ref,
      summaryValues({ outcome: 'dues', amount: '480', method: 'card' }),
    );
    await page.locator('#pay').waitFor({ timeout: FOLLOWS_MS });
    expect(await sameDocument(page)).toBe(true);
    expect(await page.textContent('#step')).toContain('EUR 480.00 is due');
    await screenshot(page, 'journey-2-summary-dues');
    await expectAccessible(page, 'summary with dues');

    // Declined on the Checkout page: back on the page, the reason, "Try again", no projects form.
    stripe.failNextPayment('Your card was declined.');
    await page.click('#pay');
    await page.waitForURL(/\/pay\/cs_test_fake\d+$/);
    await page.click('#fake-pay');
    await page.waitForURL((u) => u.pathname === path);
    expect(await page.textContent('#step')).toContain('The payment did not go through: Your card was declined.');
    expect(await page.textContent('#pay')).toBe('Try again');
    expect(await page.getAttribute('[data-step="payment"]', 'data-state')).toBe('blocked');
    expect(await page.locator('#projects-form').count()).toBe(0);
    await screenshot(page, 'journey-3-payment-failed');
    await expectAccessible(page, 'payment failed');

    // A forged projects form (with the page's own CSRF token) is refused on the server.
    const csrf = await page.inputValue('input[name="_csrf"]');
    const forged = await page.evaluate(
      `fetch(location.pathname + '/projects', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'live=shop-prod&_csrf=' + encodeURIComponent(${JSON.stringify(csrf)}) }).then((r) => r.status)`,
    );
    expect(forged).toBe(409);
    expect((await ticketOf(ref)).migration?.projects?.live ?? []).toEqual([]);

    // Try again, paid: back on the page with the projects offered from the account.
    await page.click('#pay');
    await page.waitForURL(/\/pay\/cs_test_fake\d+$/);
    await page.click('#fake-pay');
    await page.waitForURL((u) => u.pathname === path && u.search === '?paid');
    await page.locator('#projects-form').waitFor();
    expect(await page.getAttribute('[data-step="payment"]', 'data-state')).toBe('done');
    expect(await currentStep(page)).toBe('projects');
    expect((await ticketOf(ref)).migration?.payment?.status).toBe('succeeded');
    expect(await page.textContent('#step')).toContain('EUR 480.00 was due');
    await screenshot(page, 'journey-4-projects');
    await expectAccessible(page, 'projects');

    await page.check('input[name="live"][value="shop-prod"]');
    await page.check('input[name="test"][value="shop-staging"]');
    await page.fill('#add_test', 'shop-qa');
    await page.click('#confirm-projects');
    await page.waitForURL((u) => u.search === '?confirmed');
    expect(await page.textContent('#step')).toContain('Thank you: your projects are confirmed.');
    expect((await ticketOf(ref)).migration?.projects).toMatchObject({
      live: ['shop-prod'],
      test: ['shop-staging', 'shop-qa'],
      by: `email:${to}`,
    });
    await page.locator('#moving-soon').waitFor();
    await screenshot(page, 'journey-5-projects-confirmed');
    await expectAccessible(page, 'projects confirmed');

    // Billing starts in Slack: the page says the move is under way, without a reload.
    await markDocument(page);
    expect(await press(d, A.start, ref)).toMatch(/^Started/);
    await page.locator('#moving-now').waitFor({ timeout: FOLLOWS_MS });
    expect(await sameDocument(page)).toBe(true);
    expect(await currentStep(page)).toBe('migrating');
    await screenshot(page, 'journey-6-migrating');

    // The C4S plan is cancelled and billing completes: the page shows the plan and the account team.
    const row = await dueRowOf(t, C4S_DUE_KIND, ref);
    expect(await t.app.migrationCancel.run({ ref, runAt: String(row!.data.runAt) })).toBe('cancelled');
    expect(
      (
        await submitStep(
          d,
          MIGRATION_COMPLETE.callbackId,
          ref,
          completeValues({ csm: 'U0CSM', tam: 'U0TAM', kam: 'U0KAM' }),
        )
      ).told,
    ).toMatch(/^Completed/);
    await page.locator('#done-h').waitFor({ timeout: FOLLOWS_MS });
    expect(await sameDocument(page)).toBe(true);
    expect(await page.getAttribute('[data-step="completed"]', 'data-state')).toBe('done');
    const done = await page.textContent('#step');
    expect(done).toContain('Customer Success Manager');
    expect(done).toContain('User U0CSM');
    expect(done).toContain('User U0KAM');
    await screenshot(page, 'journey-7-completed');
    await expectAccessible(page, 'completed');
    await page.close();
  }, 120_000);

  it('when a page has an unlabelled field and low contrast, then the axe check reports them (the check can fail)', async () => {
    const page = await context.newPage();
    await page.setContent(
      '<!doctype html><html lang="en"><head><title>bad</title></head><body><main><h1>Bad</h1><input type="text"><p style="color:#bbb;background:#fff">faint</p></main></body></html>',
    );
    const ids = (await axeViolations(page)).map((v) => v.id);
    expect(ids).toEqual(expect.arrayContaining(['label', 'color-contrast']));
    await page.close();
  });

  it('when a link was tampered with, then the browser shows the plain refusal page with a 4xx and no ticket', async () => {
    const page = await context.newPage();
    const res = await page.goto(`${t.baseUrl}/migrate/${'A'.repeat(40)}.${'a'.repeat(32)}`);
    expect(res?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('This link does not work');
    await screenshot(page, 'refused-link');
    await expectAccessible(page, 'refused link');
    await page.close();
  });
});
