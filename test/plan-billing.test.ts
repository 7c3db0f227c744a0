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
  await t.app.services.accounts.create({ id: 'WHK-AAA-0001', name: 'Webhook Co', contactEmail: 'owner@webhook.test', tier: 'startup-10k', status: 'active', signupDate: '2029-12-01', billingAnchor: '2029-12-01', billingDetailsComplete: true });
});
afterAll(async () => {
  await t?.stop();
  await new Promise((r) => server.close(r));
});

describe('billing webhook', () => {
  it('when billing answers 503, then the upgrade waits (nothing applied, nothing lost) and the retry applies it once billing says 200, signed', async () => {
    answers.push(503);
    const res = await t.app.services.plans.request({ userId: USERS.billing, accountId: 'WHK-AAA-0001', request: { type: 'upgrade', tier: 'startup-25k' }, requestKey: 'wh1' });
    expect(res.outcome).toBe('pending_billing');
    expect(res.message).toMatch(/retried automatically/);
    expect((await t.app.db.models.Account.findById('WHK-AAA-0001').lean())?.tier).toBe('startup-10k');
    expect(await t.app.db.models.BillingLedger.countDocuments({})).toBe(0);
    expect(await t.app.db.models.PlanChange.findById('upgrade:wh1').lean()).toMatchObject({ status: 'scheduled', billingAttempts: 1, lastBillingError: 'billing webhook answered 503' });

    await eventually(async () => (await t.app.db.models.PlanChange.findById('upgrade:wh1').lean())?.status === 'applied', 'upgrade applied after the retry', 15_000);
    expect((await t.app.db.models.Account.findById('WHK-AAA-0001').lean())?.tier).toBe('startup-25k');
    expect(received.map((r) => r.answered)).toEqual([503, 200]);
    const last = received.at(-1)!;
    expect(last.headers['idempotency-key']).toBe('upgrade:wh1');
    const sig = String(last.headers[SIGNATURE_HEADER]);
    const ts = Number(/t=(\d+)/.exec(sig)?.[1]);
    expect(sig).toBe(signBody(SECRET, ts, last.body));
    expect(signBody('wrong-secret', ts, last.body)).not.toBe(sig);
    expect(JSON.parse(last.body)).toMatchObject({ id: 'upgrade:wh1', type: 'upgrade', accountId: 'WHK-AAA-0001', data: { tier: 'startup-25k', fromTier: 'startup-10k' } });
    expect(await t.app.db.models.BillingLedger.find({}).lean()).toEqual([expect.objectContaining({ _id: 'upgrade:wh1', via: 'webhook', httpStatus: 200 })]);
    // Applying it again sends nothing more.
    expect(await t.app.services.plans.apply('upgrade:wh1')).toBe('already_done');
    expect(received).toHaveLength(2);
  });

  it('when the migration flow cancels a C4S plan through the port, then it is sent and recorded once per key, and the account is marked migrated', async () => {
    const at = new Date('2030-03-30T22:00:00Z');
    expect(await t.app.services.plans.cancelC4sPlan({ key: 'c4s:AR-1234', accountId: 'WHK-AAA-0001', at, ref: 'AR-1234' })).toEqual({ first: true });
    expect(await t.app.services.plans.cancelC4sPlan({ key: 'c4s:AR-1234', accountId: 'WHK-AAA-0001', at, ref: 'AR-1234' })).toEqual({ first: false });
    expect(received.filter((r) => JSON.parse(r.body).type === 'c4s_cancel')).toHaveLength(1);
    expect(await t.app.db.models.BillingLedger.countDocuments({ _id: 'c4s:AR-1234' })).toBe(1);
    expect((await t.app.db.models.Account.findById('WHK-AAA-0001').lean())?.status).toBe('migrated');
  });
});
