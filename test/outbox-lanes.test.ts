/**
 * Issue 9, item 9: work a person is waiting for never queues behind bulk ingestion. While a flood
 * of inbound mail is being processed and its cards and acknowledgements delivered (Slack a little
 * slow, so bulk deliveries hold their slots), a `/ticket new` card and a staff reply email go out
 * while most of the backlog that was already waiting when they were submitted still waits. With
 * one shared queue they would come after all of it.
 */
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { viewSubmission } from './support/slack-requests.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { CHANNELS, eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { TICKET_NEW, TICKET_REPLY } from '../views/ids.js';

const FLOOD = 60;
const SLACK_LATENCY_MS = 400;

let slack: FakeSlack;
let sink: SmtpSink;
let t: TestApp;

beforeAll(async () => {
  sink = await startSmtpSink();
  slack = await startFakeSlack();
  t = await startTestApp({ slack, env: { SMTP_URL: sink.url } });
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
  await sink?.close();
});

/** Sends every email at once over a pool of four connections, as a busy relay would; resolves once all are accepted. */
async function flood(count: number): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: t.app.smtpPort,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 4,
    maxMessages: Infinity,
  });
  try {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        transport.sendMail({
          from: `flood${i}@customer.test`,
          to: 'support@example.com',
          subject: `Flood ${i}`,
          text: 'Our invoice looks wrong.',
          messageId: `<flood.${i}.${Date.now()}@customer.test>`,
        }),
      ),
    );
  } finally {
    transport.close();
  }
}

const models = () => t.app.db.models;

/** What was waiting: mail not yet processed and bulk rows not yet delivered. */
async function backlog(): Promise<{ mail: string[]; bulk: string[] }> {
  const mail = (await models().InboundMail.find({ status: 'received' }).select({ _id: 1 }).lean()).map((r) =>
    String(r._id),
  );
  const bulk = (await models().Outbox.find({ status: 'pending', lane: 'bulk' }).select({ _id: 1 }).lean()).map((r) =>
    String(r._id),
  );
  return { mail, bulk };
}

/** How much of a backlog is still waiting. */
async function stillWaiting(b: { mail: string[]; bulk: string[] }): Promise<number> {
  const mail = await models().InboundMail.countDocuments({ _id: { $in: b.mail }, status: 'received' });
  const bulk = await models().Outbox.countDocuments({ _id: { $in: b.bulk }, status: 'pending' });
  return mail + bulk;
}

describe('lanes', () => {
  it('when a flood of email is being ingested, then a /ticket new card is posted and a staff reply emailed before most of the backlog waiting at the time', async () => {
    // An email ticket for staff to answer, delivered before the flood.
    await flood(1);
    const asked = await eventually(
      () => models().Ticket.findOne({ title: 'Flood 0' }).lean(),
      'the ticket to answer',
      20_000,
    );
    await eventually(
      async () => (await models().Outbox.countDocuments({ status: 'pending' })) === 0,
      'its card and acknowledgement out',
      20_000,
    );
    slack.setLatency('chat.postMessage', SLACK_LATENCY_MS);

    await flood(FLOOD);
    const waiting = await backlog();
    const total = waiting.mail.length + waiting.bulk.length;
    // Without a backlog this test would prove nothing.
    expect(total).toBeGreaterThanOrEqual(FLOOD / 2);

    const [opened, replied] = await Promise.all([
      t.post(
        viewSubmission({
          callbackId: TICKET_NEW.callbackId,
          userId: USERS.rep,
          viewId: 'VLANENEW',
          values: {
            [TICKET_NEW.fields.kind]: {
              type: 'static_select',
              selected_option: { value: 'billing', text: { type: 'plain_text', text: 'billing' } },
            },
            [TICKET_NEW.fields.title]: { type: 'plain_text_input', value: 'Lane probe: card' },
            [TICKET_NEW.fields.accountId]: { type: 'plain_text_input', value: null },
            [TICKET_NEW.fields.description]: { type: 'plain_text_input', value: null },
          },
        }),
      ),
      t.post(
        viewSubmission({
          callbackId: TICKET_REPLY.callbackId,
          userId: USERS.support,
          viewId: 'VLANEREPLY',
          privateMetadata: JSON.stringify({ ref: asked.ref }),
          values: {
            [TICKET_REPLY.fields.body]: { type: 'plain_text_input', value: 'Lane probe: reply. We are on it.' },
          },
        }),
      ),
    ]);
    expect([opened.status, replied.status]).toEqual([200, 200]);

    // The card in the team channel, not the note to the submitter that names the same title.
    await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === CHANNELS.billing && String(c.args.text).includes('Lane probe: card'),
      30_000,
    );
    const leftAtCard = await stillWaiting(waiting);
    await sink.waitFor((m) => m.text?.includes('Lane probe: reply') === true, 30_000);
    const leftAtReply = await stillWaiting(waiting);

    expect({ total, leftAtCard: leftAtCard >= total / 2, leftAtReply: leftAtReply >= total / 2 }).toEqual({
      total,
      leftAtCard: true,
      leftAtReply: true,
    });

    // Bulk work waited; it was not dropped.
    await eventually(
      async () =>
        (await models().InboundMail.countDocuments({ status: 'received' })) === 0 &&
        (await models().Outbox.countDocuments({ status: 'pending' })) === 0,
      'the flood processed and delivered',
      120_000,
    );
    expect(await models().Ticket.countDocuments({ title: /^Flood / })).toBe(FLOOD + 1);
  }, 180_000);
});
