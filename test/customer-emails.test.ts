/**
 * Every email the bot writes to customers, rendered from the pure templates with what staff may
 * type in Slack (mentions, channel and special mentions, links, emoji codes): none of Slack's
 * markup reaches the customer. A template added to src/domain/*-emails.ts without inputs here
 * fails the first test, so new templates are checked too.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import * as base from '../src/domain/email-templates.js';
import * as migration from '../src/domain/migration-emails.js';
import * as plan from '../src/domain/plan-emails.js';
import { localMidnight } from '../src/domain/dates.js';
import { c4sCancellationAt } from '../src/domain/migration.js';
import type { RenderedMail } from '../src/domain/email-templates.js';

/** The template modules; the first test checks that no other one exists in src/domain. */
const MODULES: Record<string, Record<string, unknown>> = {
  'email-templates.ts': base,
  'migration-emails.ts': migration,
  'plan-emails.ts': plan,
};
const { migrationCompletedMail, migrationScheduledMail } = migration;

const STAFF = '<@U0BILL>';
/** What staff might write into a field that ends up in a customer's email. */
const hostile = (words: string) =>
  `${words} ${STAFF} <!here> <#C0BILLING|billing> <https://wiki.internal.example/x|runbook> :rotating_light:`;

const ctx = {
  ref: 'AR-1001',
  subject: `Migration to Enterprise: ${hostile('Acme')}`,
  customerName: hostile('Acme GmbH'),
  enterprisePlan: hostile('Enterprise 250k'),
  enterpriseStartDate: '2026-12-03',
};
const planCommon = {
  ref: 'AR-1002',
  subject: hostile('Enterprise lead'),
  accountId: 'R74-ZWR-R44Z',
  accountName: hostile('Acme'),
};
const projects = { live: ['shop-prod'], test: ['shop-staging'] };

/** Representative inputs for every template, by exported name. */
const RENDER: Record<string, () => RenderedMail> = {
  acknowledgement: () =>
    base.acknowledgement({
      ref: 'AR-1003',
      subject: hostile('Help'),
      mailbox: 'support',
      domain: 'example.com',
      kind: 'support',
    }),
  closingMail: () =>
    base.closingMail({
      ref: 'AR-1003',
      subject: hostile('Help'),
      goodUrl: 'https://bot.example.com/csat/AR-1003/good/1900000000000/abc',
      badUrl: 'https://bot.example.com/csat/AR-1003/bad/1900000000000/abc',
    }),
  staffReply: () =>
    base.staffReply({
      ref: 'AR-1003',
      subject: 'Help',
      body: `Hi ${STAFF}, :wave:\n\n${hostile('See')}\n\nBest`,
      staffName: hostile('Anna'),
    }),
  migrationScheduledMail: () =>
    migrationScheduledMail({
      ...ctx,
      c4sCancelAt: c4sCancellationAt('2026-12-03', 'Europe/Berlin'),
      timeZone: 'Europe/Berlin',
    }),
  billingSummaryMail: () =>
    migration.billingSummaryMail(ctx, {
      outcome: 'dues',
      amountCents: 48_000,
      currency: 'EUR',
      method: 'emandate',
      payNowByCard: true,
    }),
  paymentFailedMail: () => migration.paymentFailedMail(ctx, hostile('card declined')),
  migrationLinkMail: () => migration.migrationLinkMail({ ...ctx, link: 'https://bot.example.com/migrate/abc.def' }),
  paymentSucceededMail: () => migration.paymentSucceededMail(ctx, false),
  projectsConfirmedMail: () => migration.projectsConfirmedMail(ctx, projects),
  migrationCompletedMail: () => migrationCompletedMail(ctx, projects),
  changeScheduledMail: () =>
    plan.changeScheduledMail({
      ...planCommon,
      summary: 'Downgrade to Startup 10,000 MAU on 2030-02-01 00:00 (Europe/Berlin).',
    }),
  changeCancelledMail: () =>
    plan.changeCancelledMail({
      ...planCommon,
      summary: 'Downgrade to Startup 10,000 MAU',
      why: `cancelled by ${STAFF} before it took effect`,
    }),
  changeAppliedMail: () =>
    plan.changeAppliedMail({
      ...planCommon,
      summary: 'Upgrade',
      invoice: {
        lines: [{ description: 'Startup 10,000 MAU → Startup 25,000 MAU', cents: 4839 }],
        totalCents: 4839,
        periodEnd: '2030-02-01',
      },
    }),
};
/** Exports of the template modules that are helpers, not emails. */
const HELPERS = new Set(['oneLine', 'ticketSubject', 'ourMessageId', 'withoutSlackSyntax', 'staffLine']);

/** Slack's markup as it would appear in text: mentions, links, dates, emoji codes. */
const SLACK_SYNTAX = [
  /<[@!#][^>]*>/,
  /<(?:https?|mailto):[^>]*>/,
  /(?<![\w:]):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])/i,
  /U0BILL|C0BILLING/,
];

describe('customer emails', () => {
  it('when every template is rendered with staff text full of Slack markup, then no Slack syntax (nor a Slack ID) reaches the customer', async () => {
    const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'domain');
    const files = (await fs.readdir(dir)).filter((f) => f.endsWith('-emails.ts') || f === 'email-templates.ts');
    expect(files.sort()).toEqual(Object.keys(MODULES).sort());
    const templates = Object.values(MODULES).flatMap((m) =>
      Object.entries(m)
        .filter(([name, v]) => typeof v === 'function' && !HELPERS.has(name))
        .map(([name]) => name),
    );
    expect(templates.filter((name) => !RENDER[name])).toEqual([]); // every template has inputs here
    expect(templates.length).toBeGreaterThanOrEqual(11);
    for (const name of templates) {
      const mail = RENDER[name]!();
      for (const part of [mail.subject, mail.text]) {
        for (const pattern of SLACK_SYNTAX)
          expect({ name, found: pattern.exec(part)?.[0] }).toEqual({ name, found: undefined });
      }
    }
  });

  it('when staff text is cleaned, then Slack markup becomes plain words and ordinary text is kept', () => {
    const w = base.withoutSlackSyntax;
    expect(w('cancelled by <@U0BILL> before it took effect')).toBe('cancelled by our team before it took effect');
    expect(w('Hi <!channel>, :wave: ask <@U1ANNA|anna> or see <https://dash.example/x|the dashboard>.')).toBe(
      'Hi, ask anna or see the dashboard (https://dash.example/x).',
    );
    expect(w('at 10:30:00, <b>bold</b> stays; Live: shop-prod')).toBe(
      'at 10:30:00, <b>bold</b> stays; Live: shop-prod',
    );
    expect(w('List:\n  - kept indentation :tada:\n:tada: line')).toBe('List:\n  - kept indentation\nline');
  });

  it('when the Enterprise start is 2026-12-03 in Berlin, then the scheduled email names the cancellation at 00:00 (Europe/Berlin) on 2026-12-02, the day before', () => {
    const cancelAt = c4sCancellationAt('2026-12-03', 'Europe/Berlin');
    expect(cancelAt.toISOString()).toBe('2026-12-01T23:00:00.000Z');
    const { text } = migrationScheduledMail({
      ...ctx,
      customerName: 'Acme',
      c4sCancelAt: cancelAt,
      timeZone: 'Europe/Berlin',
    });
    expect(text).toContain(
      'Your startup (C4S) plan is cancelled at 00:00 (Europe/Berlin) on 2026-12-02, the day before your Enterprise start on 2026-12-03, so you are never billed for both.',
    );
    expect(text).not.toContain('2026-12-01');
  });

  it('when midnight does not exist on the cancellation day (DST), then the email names the real time, still the day before', () => {
    // Chile sprang forward at 00:00 on 2019-09-08: that day began at 01:00.
    const cancelAt = c4sCancellationAt('2019-09-09', 'America/Santiago');
    const { text } = migrationScheduledMail({
      ...ctx,
      enterpriseStartDate: '2019-09-09',
      c4sCancelAt: cancelAt,
      timeZone: 'America/Santiago',
    });
    expect(text).toContain(
      'cancelled at 01:00 (America/Santiago) on 2019-09-08, the day before your Enterprise start on 2019-09-09',
    );
  });

  it('when the stored cancellation is not the day before the start (a start changed since), then the email does not claim it is', () => {
    const { text } = migrationScheduledMail({
      ...ctx,
      enterpriseStartDate: '2026-12-10',
      c4sCancelAt: localMidnight('2026-12-02', 'Europe/Berlin'),
      timeZone: 'Europe/Berlin',
    });
    expect(text).toContain(
      'cancelled at 00:00 (Europe/Berlin) on 2026-12-02, before your Enterprise start on 2026-12-10',
    );
    expect(text).not.toContain('the day before');
  });

  it('when one, two or three projects moved, then the completion email counts them in English', () => {
    const said = (live: string[], test: string[]) =>
      /(Your project has|Both projects have|All \d+ projects have) moved/.exec(
        migrationCompletedMail(ctx, { live, test }).text,
      )?.[1];
    expect(said(['a'], [])).toBe('Your project has');
    expect(said(['a'], ['b'])).toBe('Both projects have');
    expect(said(['a', 'b'], ['c'])).toBe('All 3 projects have');
  });
});
