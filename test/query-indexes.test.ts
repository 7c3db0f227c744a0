/**
 * Every query on a hot path has an index it can use. The app runs its hot paths for real (mail in
 * and its reply threaded, a ticket opened in Slack, `/ticket AR-n`, `/ticket mine`, App Home,
 * `/account`, the due-work drain, the outbox and mail sweeps) while mongoose's debug hook writes
 * down every filter the app sends; each one must name `_id`, or a top-level field that leads an
 * index declared in src/db/models (FerretDB uses an index only for a top-level field, so a dotted
 * filter is a scan there). The test's own waits use the driver, not mongoose, so only
 * the app's queries are listed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { sendMail } from './support/send-mail.js';
import { eventCallback, slashCommand } from './support/slack-requests.js';
import { upgradeData } from '../src/db/upgrades.js';
import { eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';

interface Seen {
  collection: string;
  method: string;
  filter: Record<string, unknown>;
}

const FILTER_FIRST = new Set([
  'find',
  'findOne',
  'countDocuments',
  'updateOne',
  'updateMany',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndDelete',
  'replaceOne',
]);
let recording = false;
const seen: Seen[] = [];

let slack: FakeSlack;
let t: TestApp;

beforeAll(async () => {
  mongoose.set('debug', (collection: string, method: string, ...args: unknown[]) => {
    if (!recording || !FILTER_FIRST.has(method)) return;
    seen.push({ collection, method, filter: (args[0] ?? {}) as Record<string, unknown> });
  });
  slack = await startFakeSlack();
  t = await startTestApp({ slack });
  await t.app.services.accounts.create({
    id: 'IDX-AAA-0001',
    name: 'Index Co',
    contactEmail: 'owner@index.test',
    tier: 'startup-10k',
    status: 'active',
    signupDate: '2029-12-01',
    billingAnchor: '2030-01-01',
    billingDetailsComplete: true,
  });
});
afterAll(async () => {
  mongoose.set('debug', false);
  await t?.stop();
  await slack?.close();
});

/** What the indexes of each collection start with (`_id` always). */
function leadingFields(): Map<string, Set<string>> {
  const byCollection = new Map<string, Set<string>>();
  for (const model of Object.values(t.app.db.models)) {
    const leading = new Set(['_id']);
    for (const [fields] of model.schema.indexes()) leading.add(Object.keys(fields)[0]!);
    byCollection.set(model.collection.collectionName, leading);
  }
  return byCollection;
}

/** A condition an index can serve: an equality, `$in` or a range; not a negation. */
function usable(condition: unknown): boolean {
  if (condition === null || typeof condition !== 'object' || condition instanceof Date || Array.isArray(condition))
    return true;
  const ops = Object.keys(condition);
  if (!ops.every((op) => op.startsWith('$'))) return true; // an embedded document, matched whole
  return ops.some((op) => ['$eq', '$in', '$lt', '$lte', '$gt', '$gte'].includes(op));
}

/** Why the filter has no index to use, or undefined when it has one. */
function missingIndex(filter: Record<string, unknown>, leading: Set<string>): string | undefined {
  const fields = Object.keys(filter).filter((k) => !k.startsWith('$'));
  if (fields.some((f) => !f.includes('.') && leading.has(f) && usable(filter[f]))) return undefined;
  if (
    Array.isArray(filter.$and) &&
    filter.$and.some((part) => missingIndex(part as Record<string, unknown>, leading) === undefined)
  )
    return undefined;
  // An $or uses indexes when every branch has one (MongoDB unions them).
  if (
    Array.isArray(filter.$or) &&
    filter.$or.every((part) => missingIndex(part as Record<string, unknown>, leading) === undefined)
  )
    return undefined;
  return `no index leads with a top-level field of {${fields.join(', ')}}`;
}

describe('hot-path queries and the indexes they use', () => {
  it('when the hot paths run, then every filter the app sends names _id or the top-level field that leads an index', async () => {
    const db = t.app.db.conn.db!;
    const smtp = t.app.smtpPort;
    recording = true;

    // Mail in, then the customer's reply, threaded by In-Reply-To.
    await sendMail({
      port: smtp,
      from: 'cara@customer.test',
      to: 'support@example.com',
      subject: 'Export fails',
      text: 'The CSV export fails.',
      messageId: 'idx-first@customer.test',
    });
    const ticket = await eventually(
      async () => db.collection('tickets').findOne({ 'source.email': 'cara@customer.test' }),
      'the mail ticket',
    );
    await sendMail({
      port: smtp,
      from: 'cara@customer.test',
      to: 'support@example.com',
      subject: 'Re: Export fails',
      text: 'Still failing.',
      messageId: 'idx-reply@customer.test',
      inReplyTo: 'idx-first@customer.test',
    });
    await eventually(
      async () =>
        (await db.collection('tickets').findOne({ _id: ticket._id }))?.history.some(
          (h: { action: string }) => h.action === 'customer_replied',
        ),
      'the reply threaded',
    );

    // Slack: a ticket opened and claimed, /ticket AR-n, /ticket mine, App Home, /account.
    const { ticket: own } = await t.app.services.tickets.open({
      kind: 'billing',
      title: 'VAT number',
      source: { channel: 'slack', slackUserId: USERS.billing },
      idempotencyKey: 'idx:vat',
      actor: 'test',
    });
    await t.app.services.tickets.claim(own.ref, USERS.billing);
    for (const [text, id] of [
      [own.ref, 'show'],
      ['mine', 'mine'],
    ] as const) {
      await t.post(
        slashCommand({
          command: '/ticket',
          text,
          userId: USERS.billing,
          channelId: 'C0X',
          responseUrl: slack.responseUrl(id),
        }),
      );
      await slack.waitFor('response_url', (c) => c.responseUrlId === id);
    }
    await t.post(
      eventCallback({
        event: { type: 'app_home_opened', user: USERS.billing, channel: 'D0BILL', tab: 'home' },
        eventId: 'Ev0IDX1',
      }),
    );
    await slack.waitFor('views.publish');
    await t.post(
      slashCommand({
        command: '/account',
        text: 'IDX-AAA-0001',
        userId: USERS.billing,
        channelId: 'C0X',
        responseUrl: slack.responseUrl('acct'),
      }),
    );
    await slack.waitFor('response_url', (c) => c.responseUrlId === 'acct');

    // The background work's queries.
    await t.app.due.wake();
    await t.app.outboxWorker.sweep(0);
    await t.app.mail.sweep(0);
    await eventually(
      async () => (await db.collection('outbox').countDocuments({ status: 'pending' })) === 0,
      'the outbox delivered',
    );
    recording = false;

    const leading = leadingFields();
    const problems = seen
      .map((q) => ({
        ...q,
        why: leading.has(q.collection)
          ? missingIndex(q.filter, leading.get(q.collection)!)
          : 'not a collection of src/db/models',
      }))
      .filter((q) => q.why !== undefined)
      .map((q) => `${q.collection}.${q.method}(${JSON.stringify(q.filter)}): ${q.why}`);
    expect([...new Set(problems)]).toEqual([]);
    // The paths above ran (a listing that recorded nothing would pass vacuously).
    const collections = new Set(seen.map((q) => q.collection));
    for (const c of [
      'tickets',
      'mail_messages',
      'inbound_mail',
      'outbox',
      'accounts',
      'plan_changes',
      'due_work',
      'roles',
    ])
      expect(collections).toContain(c);
  }, 60_000);

  it('when a filter leads with a dotted field, an unindexed field, a negation, or an $or with such a branch, then the check reports it (the check can fail)', () => {
    const leading = new Set(['_id', 'status', 'source.slackUserId', 'assignee']);
    expect(missingIndex({ 'source.slackUserId': 'U1' }, leading)).toMatch(/no index/);
    expect(missingIndex({ kind: 'migration' }, leading)).toMatch(/no index/);
    expect(missingIndex({ status: { $ne: 'closed' } }, leading)).toMatch(/no index/);
    expect(missingIndex({ $or: [{ 'source.slackUserId': 'U1' }, { assignee: 'U1' }] }, leading)).toMatch(/no index/);
    expect(missingIndex({ $or: [{ assignee: 'U1' }, { status: 'new' }] }, leading)).toBeUndefined();
    expect(missingIndex({}, leading)).toMatch(/no index/);
    expect(missingIndex({ status: 'pending', nextAttemptAt: { $lte: new Date() } }, leading)).toBeUndefined();
    expect(missingIndex({ _id: { $in: ['a'] } }, leading)).toBeUndefined();
  });

  it('when tickets were opened in Slack before `openedBy` and `openFor` existed, then the upgrade gives them both once and /ticket mine lists them', async () => {
    const m = t.app.db.models;
    await m.Ticket.collection.insertOne({
      _id: 'AR-9100' as never,
      number: 9100,
      ref: 'AR-9100',
      kind: 'support',
      status: 'new',
      title: 'Old one',
      team: 'support',
      source: { channel: 'slack', slackUserId: USERS.support },
      idempotencyKey: 'old:9100',
      participants: [],
      trusted: [],
      history: [],
    });
    expect((await t.app.services.tickets.mine(USERS.support)).map((x) => x.ref)).not.toContain('AR-9100');
    await m.Counter.deleteMany({ _id: { $in: ['upgrade:ticket-opened-by', 'upgrade:ticket-open-for'] } });
    expect(await upgradeData(m)).toEqual({ 'upgrade:ticket-opened-by': 1, 'upgrade:ticket-open-for': 1 });
    expect(await upgradeData(m)).toEqual({}); // once per database
    expect((await t.app.services.tickets.mine(USERS.support)).map((x) => x.ref)).toContain('AR-9100');
  });
});
