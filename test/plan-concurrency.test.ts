/**
 * JOBS_PLAN_CONCURRENCY: how many `plan.apply` jobs (left in a database by versions before due
 * rows) one process applies at once. Seen from the outside: the billing system's webhook is held
 * open, and while it is, no more than that many changes are being applied; once it answers, the
 * rest follow and every change is applied once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { PLAN_APPLY_JOB } from '../src/jobs/plan-changes.js';

const LIMIT = 2;
const CHANGES = 6;
let server: Server;
let t: TestApp;
/** Webhook calls not yet answered, and the most there were at one time. */
const held: { res: ServerResponse; key: string }[] = [];
let mostHeld = 0;
let holding = true;

function answer(res: ServerResponse) {
  res.writeHead(200).end();
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      if (!holding) return answer(res);
      held.push({ res, key: String(req.headers['idempotency-key']) });
      mostHeld = Math.max(mostHeld, held.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/billing`;
  t = await startTestApp({
    env: { JOBS_PLAN_CONCURRENCY: String(LIMIT), BILLING_WEBHOOK_URL: url, BILLING_WEBHOOK_SECRET: 'whsec-test' },
  });
});
afterAll(async () => {
  holding = false;
  for (const h of held.splice(0)) answer(h.res);
  await t?.stop();
  await new Promise((r) => server.close(r));
});

/** Resolves when Agenda has started a job of `name` scheduled now: one more of its polling rounds has run. */
async function pollingRound(name: string): Promise<void> {
  const started = new Promise<void>((resolve) => t.app.scheduler.agenda.once(`start:${name}`, () => resolve()));
  await t.app.scheduler.now(name, {});
  await started;
}

it(`when ${CHANGES} plan.apply jobs are due and JOBS_PLAN_CONCURRENCY is ${LIMIT}, then ${LIMIT} are applied at a time and all of them in the end`, async () => {
  const ids: string[] = [];
  for (let i = 1; i <= CHANGES; i += 1) {
    const accountId = `CNC-AAA-000${i}`;
    await t.app.services.accounts.create({
      id: accountId,
      name: `Concurrent ${i}`,
      contactEmail: `owner${i}@concurrent.test`,
      tier: 'startup-10k',
      status: 'active',
      signupDate: '2029-12-01',
      billingAnchor: '2029-12-01',
      billingDetailsComplete: true,
    });
    const res = await t.app.services.plans.request({
      userId: USERS.billing,
      accountId,
      request: { type: 'downgrade', tier: 'startup-5k' },
      requestKey: `cnc${i}`,
    });
    expect(res.outcome).toBe('scheduled');
    ids.push(`downgrade:cnc${i}`);
  }
  let started = 0;
  t.app.scheduler.agenda.on(`start:${PLAN_APPLY_JOB}`, () => (started += 1));
  // A job of another name: when it has started, Agenda has been round its due jobs again.
  t.app.scheduler.define('test.polling-round', async () => undefined);

  for (const changeId of ids) await t.app.scheduler.now(PLAN_APPLY_JOB, { changeId });
  await eventually(async () => held.length >= LIMIT, `${LIMIT} webhook calls open`, 30_000);
  // Two more rounds in which the other four were due and a slot would have taken them.
  await pollingRound('test.polling-round');
  await pollingRound('test.polling-round');
  expect(started).toBe(LIMIT);
  expect(held).toHaveLength(LIMIT);

  // Answered one by one: each answer frees one slot, and the next change takes it.
  for (let answered = 0; held.length > 0; answered += 1) {
    answer(held.shift()!.res);
    if (answered + LIMIT < CHANGES)
      await eventually(async () => held.length === LIMIT, 'the next change in the freed slot', 30_000);
  }
  await eventually(
    async () => (await t.app.db.models.PlanChange.countDocuments({ _id: { $in: ids }, status: 'applied' })) === CHANGES,
    'every change applied',
    30_000,
  );
  expect(mostHeld).toBe(LIMIT);
  expect(started).toBe(CHANGES);
  expect(await t.app.db.models.BillingLedger.countDocuments({ _id: { $in: ids } })).toBe(CHANGES);
}, 120_000);
