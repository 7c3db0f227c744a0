/**
 * The billing port's webhook adapter against a local HTTP server: the event is signed JSON with an
 * idempotency key; a non-2xx is "retry later" (the change waits, nothing is lost), and the retry
 * job applies it once the billing system says 2xx. Also the C4S cancellation the migration flow uses.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signBody, SIGNATURE_HEADER } from '../src/billing/webhook.js';
import { eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { dayIn } from '../src/domain/migration.js';
import { C4S_DUE_KIND } from '../src/jobs/migration-cancel.js';
import { BILLING_RETRY_MS } from '../src/services/migration-cancel.js';
import { dueRowOf } from './support/due-work.js';

const SECRET = 'whsec-test';
let server: Server;
let t: TestApp;
const received: { headers: Record<string, string | string[] | undefined>; body: string; answered: number }[] = [];
const answers: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      received.push({ headers: req.headers, body, answered: status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/billing`;
  t = await startTestApp({ env: { BILLING_WEBHOOK_URL: url, BILLING_WEBHOOK_SECRET: SECRET } });
  await t.app.services.accounts.create({
    id: 'WHK-AAA-0001',
    name: 'Webhook Co',
    contactEmail: 'owner@webhook.test',
    tier: 'startup-10k',
    status: 'active',
    signupDate: '2029-12-01',
    billingAnchor: '2029-12-01',
    billingDetailsComplete: true,
  });
});
afterAll(async () => {
  await t?.stop();
  await new Promise((r) => server.close(r));
});

describe('billing webhook', () => {
  it('when billing answers 503, then the upgrade waits (nothing applied, nothing lost) and the retry applies it once billing says 200, signed', async () => {
    answers.push(503);
    const res = await t.app.services.plans.request({
      userId: USERS.billing,
      accountId: 'WHK-AAA-0001',
      request: { type: 'upgrade', tier: 'startup-25k' },
      requestKey: 'wh1',
    });
    expect(res.outcome).toBe('pending_billing');
    expect(res.message).toMatch(/retried automatically/);
    expect((await t.app.db.models.Account.findById('WHK-AAA-0001').lean())?.tier).toBe('startup-10k');
    expect(await t.app.db.models.BillingLedger.countDocuments({})).toBe(0);
    expect(await t.app.db.models.PlanChange.findById('upgrade:wh1').lean()).toMatchObject({
      status: 'scheduled',
      billingAttempts: 1,
      lastBillingError: 'billing webhook answered 503',
    });

    await eventually(
      async () => (await t.app.db.models.PlanChange.findById('upgrade:wh1').lean())?.status === 'applied',
      'upgrade applied after the retry',
      15_000,
    );
    expect((await t.app.db.models.Account.findById('WHK-AAA-0001').lean())?.tier).toBe('startup-25k');
    expect(received.map((r) => r.answered)).toEqual([503, 200]);
    const last = received.at(-1)!;
    expect(last.headers['idempotency-key']).toBe('upgrade:wh1');
    const sig = String(last.headers[SIGNATURE_HEADER]);
    const ts = Number(/t=(\d+)/.exec(sig)?.[1]);
    expect(sig).toBe(signBody(SECRET, ts, last.body));
    expect(signBody('wrong-secret', ts, last.body)).not.toBe(sig);
    expect(JSON.parse(last.body)).toMatchObject({
      id: 'upgrade:wh1',
      type: 'upgrade',
      accountId: 'WHK-AAA-0001',
      data: { tier: 'startup-25k', fromTier: 'startup-10k' },
    });
    expect(await t.app.db.models.BillingLedger.find({}).lean()).toEqual([
      expect.objectContaining({ _id: 'upgrade:wh1', via: 'webhook', httpStatus: 200 }),
    ]);
    // Applying it again sends nothing more.
    expect(await t.app.services.plans.apply('upgrade:wh1')).toBe('already_done');
    expect(received).toHaveLength(2);
  });

  it('when the migration flow cancels a C4S plan through the port, then it is sent and recorded once per key, and the account is marked migrated', async () => {
    const at = new Date('2030-03-30T22:00:00Z');
    expect(
      await t.app.services.plans.cancelC4sPlan({ key: 'c4s:AR-1234', accountId: 'WHK-AAA-0001', at, ref: 'AR-1234' }),
    ).toMatchObject({ first: true, via: 'webhook' });
    expect(
      await t.app.services.plans.cancelC4sPlan({ key: 'c4s:AR-1234', accountId: 'WHK-AAA-0001', at, ref: 'AR-1234' }),
    ).toMatchObject({ first: false });
    expect(received.filter((r) => JSON.parse(r.body).type === 'c4s_cancel')).toHaveLength(1);
    expect(await t.app.db.models.BillingLedger.countDocuments({ _id: 'c4s:AR-1234' })).toBe(1);
    expect((await t.app.db.models.Account.findById('WHK-AAA-0001').lean())?.status).toBe('migrated');
  });

  it('when the C4S cancellation job meets a billing system answering 503, then it is tried again a minute on, and recorded once when billing says 200', async () => {
    const m = t.app.services.migrations;
    const { ticket } = await m.handOff({
      userId: USERS.rep,
      viewId: 'VWHK1',
      customerName: 'Webhook Co',
      accountId: 'WHK-AAA-0002',
      salespersonEmail: 'rep@sales.example.com',
      enterprisePlan: 'Enterprise',
      enterpriseStartDate: dayIn('UTC', new Date(Date.now() + 10 * 86_400_000)),
    });
    expect(await m.billingAction(ticket.ref, USERS.billing, 'confirm')).toMatch(/^Scheduled/);
    const row = () => dueRowOf(t, C4S_DUE_KIND, ticket.ref);
    const job = { data: { ref: ticket.ref, runAt: String((await row())!.data.runAt) } };
    const sent = () =>
      received.filter(
        (r) => JSON.parse(r.body).type === 'c4s_cancel' && JSON.parse(r.body).accountId === 'WHK-AAA-0002',
      );

    answers.push(503);
    const before = Date.now();
    expect(await t.app.migrationCancel.run(job.data)).toBe('retry_later');
    expect((await t.app.db.models.Ticket.findById(ticket.ref).lean())?.migration?.c4sCancelledAt).toBeUndefined();
    expect(await t.app.db.models.MigrationEffect.countDocuments({ ref: ticket.ref })).toBe(0);
    const rearmed = await row();
    expect(rearmed!.runAt.getTime()).toBeGreaterThanOrEqual(before + BILLING_RETRY_MS - 1000);
    expect(rearmed).toMatchObject({ failures: 1, lastError: 'billing webhook answered 503' });
    const retry = { data: { ref: ticket.ref, runAt: String(rearmed!.data.runAt) } };
    expect(retry.data).toEqual(job.data); // same time to measure lateness against

    expect(await t.app.migrationCancel.run(retry.data)).toBe('cancelled');
    expect(sent().map((r) => r.answered)).toEqual([503, 200]);
    expect(sent().map((r) => r.headers['idempotency-key'])).toEqual([
      `c4s-cancel:${ticket.ref}`,
      `c4s-cancel:${ticket.ref}`,
    ]);
    expect(await t.app.db.models.BillingLedger.countDocuments({ _id: `c4s-cancel:${ticket.ref}` })).toBe(1);
    const line = (await t.app.db.models.Ticket.findById(ticket.ref).lean())!.history.filter(
      (h) => h.action === 'c4s_cancelled',
    );
    expect(line).toHaveLength(1);
    expect(line[0]!.note).toMatch(/C4S plan cancelled for WHK-AAA-0002 in the billing system \(webhook\)/);
    expect(await t.app.migrationCancel.run(retry.data)).toBe('already_done');
    expect(sent()).toHaveLength(2);
  });
});
