/** Slack posts go through the persisted outbox: an outage delays them, a 429 is honoured, nothing is lost. */
import { describe, expect, it } from '@jest/globals';
import type { FakeSlack } from './support/fake-slack.js';
import { useSlackApp } from './support/slack-app-fixture.js';
import { CHANNELS, eventually, settled, USERS, type TestApp } from './support/test-app.js';

let slack: FakeSlack;
let t: TestApp;

useSlackApp((c) => ({ slack, t } = c));

const open = (title: string) =>
  t.app.services.tickets.open({
    kind: 'support',
    title,
    source: { channel: 'slack', slackUserId: USERS.rep },
    idempotencyKey: `outbox:${title}`,
    actor: 'test',
  });

describe('outbox delivery', () => {
  it('when Slack answers 429 with Retry-After, then the post is retried no sooner than Slack asked', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const { ticket } = await open('Rate limited card');
    const posted = await slack.waitFor(
      'chat.postMessage',
      (c) => c.ok && String(c.args.text).includes(ticket.ref),
      10_000,
    );
    const attempts = slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes(ticket.ref));
    expect(attempts.map((c) => c.ok)).toEqual([false, true]);
    expect(posted.at - attempts[0]!.at).toBeGreaterThanOrEqual(1000);
    const row = await eventually(async () => {
      const r = await t.app.db.models.Outbox.findOne({ ticketRef: ticket.ref }).lean();
      return r?.status === 'sent' ? r : undefined;
    }, 'row marked sent');
    expect(row.attempts).toBe(2);
  });

  it('when Slack is down, then the card waits in the outbox and is posted once Slack is back', async () => {
    slack.setDown(true);
    const { ticket } = await open('Card during an outage');
    await eventually(async () => {
      const row = await t.app.db.models.Outbox.findOne({ ticketRef: ticket.ref }).lean();
      return row && row.attempts >= 1 && row.status === 'pending' ? row : undefined;
    }, 'a failed attempt recorded');
    expect(slack.calls.filter((c) => c.ok)).toHaveLength(0);
    slack.setDown(false);
    const row = await t.app.db.models.Outbox.findOne({ ticketRef: ticket.ref }).lean();
    // Bring the retry forward instead of waiting out the back-off; the job and the guard are real.
    await t.app.db.models.Outbox.updateOne({ _id: row!._id }, { $set: { nextAttemptAt: new Date() } });
    await t.app.outboxWorker.deliver(String(row!._id));
    const post = await slack.waitFor('chat.postMessage', (c) => c.ok && String(c.args.text).includes(ticket.ref));
    expect(post.args.channel).toBe(CHANNELS.support);
    expect(await t.app.db.models.Outbox.findById(row!._id).lean()).toMatchObject({ status: 'sent' });
  });

  it('when Slack says the blocks are invalid, then the row is kept as dead with the reason, not retried forever', async () => {
    slack.failNext('chat.postMessage', { error: 'invalid_blocks' });
    const { ticket } = await open('Card Slack refuses');
    const row = await eventually(async () => {
      const r = await t.app.db.models.Outbox.findOne({ ticketRef: ticket.ref }).lean();
      return r?.status === 'dead' ? r : undefined;
    }, 'row marked dead');
    expect(row.lastError).toBe('slack: invalid_blocks');
  });

  it('when two workers deliver the same row at once, then Slack gets one post', async () => {
    const { ticket } = await open('Raced card');
    const row = await t.app.db.models.Outbox.findOne({ ticketRef: ticket.ref }).lean();
    await Promise.all([
      t.app.outboxWorker.deliver(String(row!._id)),
      t.app.outboxWorker.deliver(String(row!._id)),
      t.app.outboxWorker.deliver(String(row!._id)),
    ]);
    await eventually(async () => (await t.app.db.models.Outbox.findById(row!._id).lean())?.status === 'sent', 'sent');
    await settled(t);
    expect(slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes(ticket.ref))).toHaveLength(1);
  });

  it('when a ticket is opened and then claimed, then its rows say what they do: the first posts the card, the next updates it', async () => {
    const { ticket } = await open('Rows that say what they are');
    await slack.waitFor('chat.postMessage', (c) => c.ok && String(c.args.text).includes(ticket.ref));
    await t.app.services.tickets.claim(ticket.ref, USERS.support);
    await slack.waitFor('chat.update', (c) => c.ok && String(c.args.text).includes(ticket.ref));
    const rows = await t.app.db.models.Outbox.find({ ticketRef: ticket.ref }).sort({ createdAt: 1 }).lean();
    expect(rows.map((r) => r.kind)).toEqual(['post', 'update']);
  });

  it('when rows written before rows had a kind are pending, then their kind is read from their keys once: the update waits for the post, the post goes once', async () => {
    slack.failNext('chat.postMessage', { error: 'invalid_blocks' });
    const { ticket } = await open('Card from an older version');
    await eventually(
      async () => (await t.app.db.models.Outbox.findOne({ ticketRef: ticket.ref }).lean())?.status === 'dead',
      'the first card refused',
    );
    const posts = () => slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes(ticket.ref));
    const before = posts().length;
    const legacy = (id: string, key: string) => ({
      _id: id as never,
      key,
      channel: 'slack',
      payload: { type: 'ticket_card', ref: ticket.ref },
      ticketRef: ticket.ref,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: new Date(0),
      createdAt: new Date(),
    });
    const outbox = t.app.db.models.Outbox.collection;
    await outbox.insertOne(legacy('legacy-update', `ticket-card:${ticket.ref}:claimed:2`));
    expect(await t.app.outboxWorker.deliver('legacy-update')).toBe('retry'); // an update: waits for the card
    expect(posts()).toHaveLength(before);
    await outbox.insertOne(legacy('legacy-opened', `ticket-card:${ticket.ref}:opened`));
    expect(await t.app.outboxWorker.deliver('legacy-opened')).toBe('sent');
    expect(posts().filter((c) => c.ok)).toHaveLength(1);
    await outbox.updateOne({ _id: 'legacy-update' as never }, { $set: { nextAttemptAt: new Date(0) } });
    expect(await t.app.outboxWorker.deliver('legacy-update')).toBe('sent');
    expect(slack.callsTo('chat.update').filter((c) => c.ok && String(c.args.text).includes(ticket.ref))).toHaveLength(
      1,
    );
    expect(posts().filter((c) => c.ok)).toHaveLength(1);
  });
});
