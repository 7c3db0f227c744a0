/**
 * The page without card payments (no STRIPE_SECRET_KEY: the `manual` adapter), the account's
 * projects as the seed file and billing's Slack modal set them, and the page's rate limits.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { CHANNELS, settled, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { handOff, press, selectPayment, submitStep, summaryValues, type Driver } from './support/migration.js';
import { viewSubmission } from './support/slack-requests.js';
import { csrfIn, linkIn, pageClient, tokenOf } from './support/page-client.js';
import { ACCOUNT_PROJECTS, HANDOFF_CARD, MIGRATION_SUMMARY } from '../views/ids.js';
import { dayIn } from '../src/domain/migration.js';

const TZ = 'Europe/Berlin';
/** Per link per minute; per client address it is twice that. Every request of this file counts. */
const LIMIT = 8;
let slack: FakeSlack;
let sink: SmtpSink;
let t: TestApp;
let d: Driver;
let seedDir: string;

const SEEDED = {
  id: 'MAN-AAA-0001',
  name: 'Seeded Co',
  contactEmail: 'buyer@seeded.example',
  tier: 'startup-10k',
  status: 'active',
  signupDate: '2025-01-01',
  projects: [
    { name: 'web-prod', kind: 'live' },
    { name: 'web-staging', kind: 'test' },
  ],
};

beforeAll(async () => {
  seedDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-seed-'));
  const seedFile = path.join(seedDir, 'accounts.json');
  await fs.writeFile(seedFile, JSON.stringify([SEEDED]));
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  t = await startTestApp({
    slack,
    servesLinks: true,
    env: {
      TZ_BILLING: TZ,
      SMTP_URL: sink.url,
      ACCOUNTS_SEED_FILE: seedFile,
      WEB_RATE_LIMIT_PER_MINUTE: String(LIMIT),
      WEB_TRUSTED_PROXIES: '1',
    },
  });
  d = { t, slack };
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
  await sink?.close();
  if (seedDir) await fs.rm(seedDir, { recursive: true, force: true });
});

const ticketOf = async (ref: string) => (await t.app.db.models.Ticket.findById(ref).lean())!;
const projectsOf = async (accountId: string) =>
  (await t.app.db.models.Account.findById(accountId).lean())?.projects?.map((p) => `${p.kind}:${p.name}`);

async function scheduled(accountId: string, to: string): Promise<{ ref: string; link: string }> {
  const ref = await handOff(d, {
    accountId,
    startDate: dayIn(TZ, new Date(Date.now() + 10 * 86_400_000)),
    customerEmail: to,
  });
  expect(await press(d, HANDOFF_CARD.actions.confirm, ref)).toMatch(/^Scheduled/);
  const link = linkIn(
    await sink.waitFor(
      (m) =>
        m.to.includes(to) && (m.subject ?? '').startsWith(`[${ref}]`) && (m.text ?? '').includes('scheduled to start'),
    ),
  );
  return { ref, link: link! };
}

describe('card payments off (manual adapter)', () => {
  it('when no Stripe key is set, then the page says billing confirms the payment, a forged Pay is refused, there is no webhook, and billing’s Record payment unlocks the seeded projects', async () => {
    const { ref, link } = await scheduled(SEEDED.id, SEEDED.contactEmail);
    await submitStep(
      d,
      MIGRATION_SUMMARY.callbackId,
      ref,
      summaryValues({ outcome: 'dues', amount: '120', method: 'card' }),
    );
    const browser = pageClient();
    const page = await browser.get(link);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Billing will confirm your payment by email');
    expect(page.text).not.toContain('/pay"');

    const before = (await ticketOf(ref)).history.length;
    // No form on the page, so no CSRF token: the post is refused before the rule; the rule holds by itself too.
    expect(csrfIn(page.text)).toBeUndefined();
    expect((await browser.post(`${link}/pay`, { _csrf: 'made-up' })).status).toBe(403);
    await expect(
      t.app.services.migrationPage.pay(tokenOf(link), { success: `${link}?paid`, cancel: link }),
    ).rejects.toMatchObject({
      code: 'rule_refused',
      userMessage: expect.stringContaining('billing will confirm your payment by email'),
    });
    const webhook = await fetch(`${t.baseUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
      body: '{}',
    });
    expect(webhook.status).toBe(404);
    await settled(t);
    expect((await ticketOf(ref)).history).toHaveLength(before);

    expect(await selectPayment(d, ref, 'succeeded')).toMatch(/^Recorded: the payment on .* succeeded/);
    const paid = await browser.get(link);
    expect(paid.text).toContain('id="projects-form"');
    expect(paid.text).toContain('value="web-prod"');
    expect(paid.text).toContain('value="web-staging"');
  });
});

describe('the account’s projects in Slack', () => {
  const submit = (userId: string, live: string, test: string) =>
    t.post(
      viewSubmission({
        callbackId: ACCOUNT_PROJECTS.callbackId,
        userId,
        viewId: `VPROJ${Date.now()}`,
        privateMetadata: JSON.stringify({ accountId: SEEDED.id, channel: CHANNELS.billing }),
        values: {
          [ACCOUNT_PROJECTS.fields.live]: { type: 'plain_text_input', value: live },
          [ACCOUNT_PROJECTS.fields.test]: { type: 'plain_text_input', value: test },
        },
      }),
    );

  it('when billing saves the Projects modal, then the account offers those projects; a bad name comes back inline and someone outside billing changes nothing', async () => {
    expect(await projectsOf(SEEDED.id)).toEqual(['live:web-prod', 'test:web-staging']);

    const bad = await submit(USERS.billing, 'web-prod\n<b>x</b>', '');
    expect(JSON.parse(bad.text)).toMatchObject({
      response_action: 'errors',
      errors: { [ACCOUNT_PROJECTS.fields.live]: expect.stringContaining('Not a project name') },
    });
    const both = await submit(USERS.billing, 'web-prod', 'web-prod');
    expect(JSON.parse(both.text)).toMatchObject({
      response_action: 'errors',
      errors: { [ACCOUNT_PROJECTS.fields.test]: 'web-prod is listed as both live and test.' },
    });

    slack.reset();
    await submit(USERS.outsider, 'mine', '');
    const refused = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.outsider);
    expect(String(refused.args.text)).toMatch(/billing/i);
    expect(await projectsOf(SEEDED.id)).toEqual(['live:web-prod', 'test:web-staging']);

    slack.reset();
    await submit(USERS.billing, 'web-prod\napi-prod', 'web-qa');
    const told = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.billing);
    expect(String(told.args.text)).toBe(`${SEEDED.id}'s projects: live web-prod, api-prod; test web-qa.`);
    expect(await projectsOf(SEEDED.id)).toEqual(['live:web-prod', 'live:api-prod', 'test:web-qa']);
  });
});

describe('rate limits', () => {
  it('when one link is asked more than WEB_RATE_LIMIT_PER_MINUTE times in a minute, then it gets a plain 429 and another customer’s link still opens', async () => {
    const { link } = await scheduled('MAN-BBB-0001', 'buyer@limited.example');
    const { link: other } = await scheduled('MAN-BBB-0002', 'buyer@other.example');
    const browser = pageClient();
    for (let i = 0; i < LIMIT; i += 1) expect((await browser.get(`${link}/status`)).status).toBe(200);
    const limited = await browser.get(link);
    expect(limited.status).toBe(429);
    expect(limited.text).toContain('Too many requests');
    expect((await browser.get(other)).status).toBe(200);
  });

  it('when the bot is behind a proxy (WEB_TRUSTED_PROXIES=1), then each customer’s forwarded address has its own limit, not the proxy’s', async () => {
    const links = await Promise.all(
      ['MAN-CCC-0001', 'MAN-CCC-0002', 'MAN-CCC-0003'].map((id, i) =>
        scheduled(id, `buyer${i}@proxied.example`).then((s) => s.link),
      ),
    );
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    // One address uses up its limit (twice the per-link one) across two links...
    for (const link of links.slice(0, 2))
      for (let i = 0; i < LIMIT; i += 1) expect((await fetch(`${link}/status`, from('198.51.100.7'))).status).toBe(200);
    expect((await fetch(links[2]!, from('198.51.100.7'))).status).toBe(429);
    // ...while another customer behind the same proxy still gets in.
    expect((await fetch(links[2]!, from('203.0.113.9'))).status).toBe(200);
  });
});
