/**
 * Bounded storage (services/retention.ts, jobs/retention.ts): on the app's clock, operational rows
 * older than RETENTION_OPERATIONAL_DAYS go and younger ones stay; closed tickets and their mail go
 * after RETENTION_DAYS from their last activity, while open tickets and tickets with pending work
 * stay; one log line counts what went; two processes run the daily row once.
 */
import { Writable } from 'node:stream';
import type { Collection, Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { settableClock, type SettableClock } from '../src/clock.js';
import { createLogger } from '../src/logger.js';
import { RETENTION_DUE_KIND } from '../src/jobs/retention.js';
import { eventually, startTestApp, testDatabaseUri, type TestApp } from './support/test-app.js';

const DAY = 86_400_000;
let clock: SettableClock;
let a: TestApp;
let b: TestApp;
const lines: Record<string, unknown>[] = [];

function capture(process: string) {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push({ ...(JSON.parse(line) as Record<string, unknown>), process });
      done();
    },
  });
  return createLogger('info', stream);
}
const doneLines = () => lines.filter((l) => l.event === 'retention.done');

beforeAll(async () => {
  const databaseUri = testDatabaseUri();
  // Both processes write the row (03:00 UTC that day) at start; the test then moves the clock near it.
  clock = settableClock(new Date('2031-03-10T02:00:00Z'));
  const env = { JOBS_PROCESS_EVERY_MS: '200', RETENTION_OPERATIONAL_DAYS: '30', RETENTION_DAYS: '1095' };
  a = await startTestApp({
    databaseUri,
    env,
    log: capture('a'),
    start: { clock, instanceName: 'ret-a', scheduleRetention: true },
  });
  b = await startTestApp({
    databaseUri,
    env,
    log: capture('b'),
    start: { clock, instanceName: 'ret-b', scheduleRetention: true },
  });
});
afterAll(async () => {
  await b?.stop({ dropDatabase: false });
  await a?.stop();
});

describe('retention', () => {
  it('when the daily run falls due with two processes, then one of them runs it, once, and arms it for the next day', async () => {
    expect(
      (await a.app.db.models.DueWork.find({ kind: RETENTION_DUE_KIND }).lean()).map((r) => [
        r._id,
        r.runAt.toISOString(),
        r.attempt,
      ]),
    ).toEqual([['retention:daily', '2031-03-10T03:00:00.000Z', 0]]);
    clock.set(new Date('2031-03-10T02:59:58Z'));
    const row = await eventually(
      async () => {
        const r = await a.app.db.models.DueWork.findById(`${RETENTION_DUE_KIND}:daily`).lean();
        return r && r.runAt.toISOString() === '2031-03-11T03:00:00.000Z' ? r : undefined;
      },
      'the run done and armed for the next day',
      20_000,
    );
    expect(row.attempt).toBe(1);
    expect(doneLines()).toHaveLength(1);
    expect(await a.app.db.models.DueClaim.countDocuments({ _id: `${RETENTION_DUE_KIND}:daily#0` })).toBe(1);
  });

  it('when rows are older than their retention, then they go, younger ones stay, open tickets and tickets with pending work stay, and the log line counts what went', async () => {
    const m = a.app.db.models;
    const now = clock.now().getTime();
    const ago = (days: number) => new Date(now - days * DAY);
    const old = ago(31);
    const young = ago(29);
    const insert = (model: { collection: Pick<Collection, 'insertMany'> }, docs: Document[]) =>
      model.collection.insertMany(docs);

    await insert(m.SlackDelivery, [
      { _id: 'event:old', at: old },
      { _id: 'event:young', at: young },
    ]);
    await insert(m.AckSlot, [
      { _id: 'a@x.example:1:0', at: old },
      { _id: 'a@x.example:2:0', at: young },
    ]);
    await insert(m.Lease, [{ _id: 'imap:billing:1', holder: 'x', at: old }]);
    await insert(m.StripeEvent, [
      { _id: 'evt_old', type: 'paid', at: old },
      { _id: 'evt_young', type: 'paid', at: young },
    ]);
    const outboxRow = (id: string, status: string, at: Date) => ({
      _id: id,
      key: id,
      channel: 'email',
      kind: 'email',
      payload: {},
      status,
      attempts: 1,
      nextAttemptAt: at,
      createdAt: at,
      updatedAt: at,
    });
    await insert(m.Outbox, [
      outboxRow('sent-old', 'sent', old),
      outboxRow('dead-old', 'dead', old),
      outboxRow('sent-young', 'sent', young),
      outboxRow('pending-old', 'pending', old),
    ]);
    await insert(m.OutboxClaim, [
      { _id: 'sent-old:0', at: old },
      { _id: 'pending-old:0', at: old },
      { _id: 'sent-young:0', at: young },
    ]);
    const inbound = (id: string, status: string, at: Date, extra: Record<string, unknown> = {}) => ({
      _id: id,
      key: id,
      mailbox: 'support',
      via: 'smtp',
      size: 10,
      rawChunks: 1,
      rawId: `raw:${id}`,
      status,
      createdAt: at,
      updatedAt: at,
      ...extra,
    });
    await insert(m.InboundMail, [inbound('support:waiting', 'received', old)]);
    await insert(m.MailClaim, [
      { _id: 'support:waiting:0', at: old },
      { _id: 'support:gone:0', at: old },
    ]);
    await insert(m.DueWork, [
      {
        _id: 'test:pending',
        kind: 'test',
        key: 'pending',
        dueAt: ago(-400),
        runAt: ago(-400),
        attempt: 0,
        failures: 0,
        data: {},
      },
    ]);
    await insert(m.DueClaim, [
      { _id: 'test:pending#0', at: old },
      { _id: 'test:finished#0', at: old },
    ]);

    // Tickets: the customer retention counts from the last activity (the history's last line).
    const longAgo = ago(1100);
    const recently = ago(1000);
    const ticket = (n: number, status: string, last: Date, extra: Record<string, unknown> = {}) => ({
      _id: `AR-${n}`,
      number: n,
      ref: `AR-${n}`,
      kind: 'support',
      status,
      title: 't',
      team: 'support',
      source: { channel: 'email', mailbox: 'support', email: 'c@x.example' },
      idempotencyKey: `email:k${n}`,
      participants: [],
      trusted: [],
      history: [
        { at: ago(1200), actor: 'system', action: 'opened' },
        { at: last, actor: 'system', action: 'closed' },
      ],
      createdAt: ago(1200),
      updatedAt: longAgo,
      ...extra,
    });
    await insert(m.Ticket, [
      ticket(9001, 'closed', longAgo), // goes, with its mail
      ticket(9002, 'closed', recently), // closed, but active within the retention
      ticket(9003, 'claimed', longAgo), // open
      ticket(9004, 'closed', longAgo), // a plan change still scheduled
      ticket(9005, 'closed', longAgo), // due work still pending
    ]);
    await insert(m.TicketKey, [
      { _id: 'email:k9001', ref: 'AR-9001' },
      { _id: 'email:k9002', ref: 'AR-9002' },
    ]);
    await insert(m.InboundMail, [
      inbound('support:t9001', 'ticket', ago(1200), { ticketRef: 'AR-9001' }),
      inbound('support:t9002', 'ticket', ago(1200), { ticketRef: 'AR-9002' }),
      inbound('support:review-old', 'review', ago(1100)),
      inbound('support:review-young', 'review', ago(1000)),
    ]);
    await insert(
      m.RawMailChunk,
      ['t9001', 't9002', 'review-old', 'review-young'].map((k) => ({
        _id: `raw:support:${k}#0`,
        data: Buffer.from('x'),
      })),
    );
    await insert(m.MailMessage, [
      { _id: '<a@x>', ticketRef: 'AR-9001', direction: 'in', at: ago(1200) },
      { _id: '<b@x>', ticketRef: 'AR-9002', direction: 'in', at: ago(1200) },
    ]);
    await insert(m.SlackPost, [{ _id: 'card:AR-9001', channel: 'C0SUPPORT', ts: '1.1', at: ago(1200) }]);
    await insert(m.CsatAnswer, [
      { _id: 'AR-9001', score: 'good', at: longAgo },
      { _id: 'AR-9002', score: 'good', at: recently },
    ]);
    await insert(m.Outbox, [{ ...outboxRow('email:AR-9001:ack', 'sent', longAgo), ticketRef: 'AR-9001' }]);
    await insert(m.PlanChange, [
      {
        _id: 'chg-1',
        accountId: 'ACC',
        type: 'downgrade',
        status: 'scheduled',
        dueAt: ago(-10),
        effectiveDay: '2031-03-20',
        set: {},
        summary: 's',
        requestedBy: 'system',
        ticketRef: 'AR-9004',
      },
    ]);
    await insert(m.DueWork, [
      {
        _id: 'c4s:AR-9005',
        kind: 'c4s',
        key: 'AR-9005',
        dueAt: ago(-10),
        runAt: ago(-10),
        attempt: 0,
        failures: 0,
        data: {},
      },
    ]);
    await insert(m.Undeliverable, [
      { _id: 'gone@x.example', at: ago(1100) },
      { _id: 'bounced@x.example', at: ago(10) },
    ]);

    lines.length = 0;
    const report = await a.app.retention.run();

    const ids = async (model: { collection: Pick<Collection, 'find'> }) =>
      (await model.collection.find({}, { projection: { _id: 1 } }).toArray()).map((r) => String(r._id)).sort();
    expect(await ids(m.SlackDelivery)).toEqual(['event:young']);
    expect(await ids(m.AckSlot)).toEqual(['a@x.example:2:0']);
    expect(await ids(m.Lease)).toEqual([]);
    expect(await ids(m.StripeEvent)).toEqual(['evt_young']);
    expect(await ids(m.Outbox)).toEqual(['pending-old', 'sent-young']);
    expect(await ids(m.OutboxClaim)).toEqual(['pending-old:0', 'sent-young:0']);
    expect(await ids(m.MailClaim)).toEqual(['support:waiting:0']);
    expect((await ids(m.DueClaim)).filter((id) => id.startsWith('test:'))).toEqual(['test:pending#0']);
    expect(await ids(m.Ticket)).toEqual(['AR-9002', 'AR-9003', 'AR-9004', 'AR-9005']);
    expect(await ids(m.TicketKey)).toEqual(['email:k9002']);
    expect(await ids(m.InboundMail)).toEqual(['support:review-young', 'support:t9002', 'support:waiting']);
    expect(await ids(m.RawMailChunk)).toEqual(['raw:support:review-young#0', 'raw:support:t9002#0']);
    expect(await ids(m.MailMessage)).toEqual(['<b@x>']);
    expect(await ids(m.SlackPost)).toEqual([]);
    expect(await ids(m.CsatAnswer)).toEqual(['AR-9002']);
    expect(await ids(m.Undeliverable)).toEqual(['bounced@x.example']);

    const expected = {
      slack_deliveries: 1,
      ack_slots: 1,
      leases: 1,
      stripe_events: 1,
      outbox: 3,
      outbox_claims: 1,
      mail_claims: 1,
      due_claims: 1,
      tickets: 1,
      ticket_keys: 1,
      inbound_mail: 2,
      raw_mail_chunks: 2,
      mail_messages: 1,
      slack_posts: 1,
      migration_effects: 0,
      migration_handoffs: 0,
      csat_answers: 1,
      undeliverable_addresses: 1,
    };
    expect(report).toEqual({ deleted: expected, ticketsKeptPending: 2 });
    expect(doneLines()).toHaveLength(1);
    expect(doneLines()[0]).toMatchObject({
      process: 'a',
      deleted: expected,
      ticketsKeptPending: 2,
      operationalDays: 30,
      customerDays: 1095,
    });
  });

  it('when nothing is past its retention, then a run deletes nothing and still says so', async () => {
    lines.length = 0;
    const report = await b.app.retention.run();
    expect(Object.values(report.deleted).every((n) => n === 0)).toBe(true);
    expect(doneLines()).toHaveLength(1);
    expect(await a.app.db.models.Ticket.countDocuments({})).toBe(4);
  });
});
