/**
 * Service levels end to end, with the real scheduler and the app clock: a billing email unanswered
 * through its first-response target gets the 75 % reminder, the breach post and the owner's DM,
 * then the admins, each once, with two bot processes and a restart of one between the steps; a
 * reply cancels what is pending and the ticket waits on the customer, whose next mail resumes the
 * clock; a step that runs for a ticket closed meanwhile posts nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { settableClock, type SettableClock } from '../src/clock.js';
import { startFakeSlack, type FakeSlack, type StoredMessage } from './support/fake-slack.js';
import { sendMail } from './support/send-mail.js';
import { blockActions, viewSubmission } from './support/slack-requests.js';
import {
  CHANNELS,
  eventually,
  settled,
  startTestApp,
  testDatabaseUri,
  USERS,
  type TestApp,
} from './support/test-app.js';
import { dueRowOf } from './support/due-work.js';
import { TICKET_CARD, TICKET_REPLY } from '../views/ids.js';

const ENV = { TZ_BILLING: 'Europe/Berlin', JOBS_PROCESS_EVERY_MS: '200', MAIL_DOMAIN: 'example.com' };
let slack: FakeSlack;
let clock: SettableClock;
let databaseUri: string;
let a: TestApp;
let b: TestApp;
let serial = 0;

beforeAll(async () => {
  slack = await startFakeSlack();
  databaseUri = testDatabaseUri();
  // Friday 2026-11-06 at 17:30 in Berlin: after hours, before a weekend.
  clock = settableClock(new Date('2026-11-06T16:30:00Z'));
  a = await startTestApp({ slack, databaseUri, env: ENV, start: { clock, instanceName: 'sla-a' } });
  b = await startTestApp({ slack, databaseUri, env: ENV, start: { clock, instanceName: 'sla-b' } });
});
afterAll(async () => {
  await b?.stop({ dropDatabase: false });
  await a?.stop();
  await slack?.close();
});

async function billingEmail(from: string, subject: string): Promise<string> {
  const id = `sla.${Date.now()}.${++serial}@customer.test`;
  await sendMail({
    port: a.app.smtpPort,
    from,
    to: 'billing@example.com',
    subject,
    text: 'Please look at our invoice.',
    messageId: id,
  });
  const row = await eventually(async () => {
    const r = await a.app.db.models.InboundMail.findOne({ messageId: id }).lean();
    return r?.ticketRef ? r : undefined;
  }, 'the ticket of the email');
  return row.ticketRef!;
}

const ticketOf = (ref: string) => a.app.db.models.Ticket.findById(ref).lean();
/** Our posts for a ticket's SLA steps, by outbox key (every post carries its key in metadata). */
const slaPosts = (ref: string): StoredMessage[] =>
  slack.messages().filter((m) => String(m.metadata?.event_payload?.key ?? '').startsWith(`sla:${ref}:`));
const keysOf = (posts: StoredMessage[]) => posts.map((m) => String(m.metadata?.event_payload?.key)).sort();

describe('an unanswered billing email', () => {
  it('when it comes on Friday at 17:30, then it is due Monday 13:00, and the reminder, breach, DM and admins each come once across two processes and a restart', async () => {
    const ref = await billingEmail('Ada <ada@customer.test>', 'Invoice is wrong');
    const opened = await ticketOf(ref);
    expect(opened?.sla?.policy).toBe('billing-email');
    // 4 business hours from Monday 09:00 Berlin (CET, UTC+1).
    const dueAt = opened!.sla!.firstResponse.dueAt;
    expect(dueAt.toISOString()).toBe('2026-11-09T12:00:00.000Z');
    expect(opened!.sla!.firstResponse.remindAt?.toISOString()).toBe('2026-11-09T11:00:00.000Z');
    // One row per target at a time: its next step (the reminder); each step arms the next.
    expect((await dueRowOf(a, 'sla.remind', `${ref}:firstResponse`))?.dueAt.toISOString()).toBe(
      '2026-11-09T11:00:00.000Z',
    );
    expect(await dueRowOf(a, 'sla.breach', `${ref}:firstResponse`)).toBeNull();

    const card = await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === CHANNELS.billing && String(c.args.text).includes(ref),
      15_000,
    );
    const slaLine = JSON.stringify(
      (card.args.blocks as { block_id?: string }[]).find((blk) => blk.block_id === TICKET_CARD.slaBlock),
    );
    expect(slaLine).toContain('first response due in 2 d 19 h');
    expect(slaLine).toContain('2026-11-09 13:00 (Europe/Berlin)');

    // Billing claims it (an owner, not an answer).
    await a.post(
      blockActions({
        actionId: TICKET_CARD.actions.claim,
        value: ref,
        userId: USERS.billing,
        channelId: CHANNELS.billing,
      }),
    );
    await eventually(async () => (await ticketOf(ref))?.assignee === USERS.billing, 'claimed');

    // Monday 12:00: the reminder in the thread, mentioning the owner.
    clock.set(new Date(new Date('2026-11-09T11:00:00Z').getTime() - 2000));
    const reminder = await slack.waitFor(
      'chat.postMessage',
      (c) =>
        Boolean(c.args.thread_ts) && String(c.args.text).includes(':alarm_clock:') && String(c.args.text).includes(ref),
      30_000,
    );
    expect(String(reminder.args.text)).toContain(`<@${USERS.billing}>`);
    expect(String(reminder.args.text)).toContain('2026-11-09 13:00 (Europe/Berlin)');

    expect(
      (
        await eventually(() => dueRowOf(a, 'sla.breach', `${ref}:firstResponse`), 'the breach armed by the reminder')
      ).dueAt.toISOString(),
    ).toBe(dueAt.toISOString());

    // One process restarts between the steps.
    await b.stop({ dropDatabase: false });
    b = await startTestApp({ slack, databaseUri, env: ENV, start: { clock, instanceName: 'sla-b2' } });

    // Monday 13:00: the breach in the team channel (no SLACK_CHANNEL_ESCALATION) and the owner's DM.
    clock.set(new Date(dueAt.getTime() - 2000));
    const breach = await slack.waitFor(
      'chat.postMessage',
      (c) =>
        c.args.channel === CHANNELS.billing && !c.args.thread_ts && String(c.args.text).includes(':rotating_light:'),
      30_000,
    );
    expect(String(breach.args.text)).toContain(ref);
    await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === USERS.billing && String(c.args.text).includes(ref),
      30_000,
    );
    const breached = await eventually(async () => {
      const tk = await ticketOf(ref);
      return tk?.sla?.firstResponse.breachedAt ? tk : undefined;
    }, 'the breach recorded');
    expect(breached.history.filter((h) => h.action === 'sla_breached')).toHaveLength(1);
    // The card turns red.
    const update = await slack.waitFor(
      'chat.update',
      (c) => JSON.stringify(c.args.blocks).includes('first response overdue by'),
      30_000,
    );
    expect(JSON.stringify(update.args.blocks)).toContain(':red_circle:');

    // Two business hours later: the admins.
    clock.set(new Date(new Date('2026-11-09T14:00:00Z').getTime() - 2000));
    await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === USERS.admin && String(c.args.text).includes(ref),
      30_000,
    );

    // Generous: on a machine shared with other test runs the last card updates can take a while.
    await settled(a, 60_000);
    await settled(b, 60_000);
    expect(keysOf(slaPosts(ref))).toEqual([
      `sla:${ref}:firstResponse:admins:${USERS.admin}`,
      `sla:${ref}:firstResponse:breach`,
      `sla:${ref}:firstResponse:breach-dm`,
      `sla:${ref}:firstResponse:remind`,
    ]);
    // One run of each step, whichever process took it.
    for (const step of ['remind', 'breach', 'admins']) {
      expect(
        await a.app.db.models.DueClaim.countDocuments({ _id: { $regex: `^sla\\.${step}:${ref}:firstResponse#` } }),
      ).toBe(1);
    }
    // Counted once, by whichever process ran the step.
    const counted = async (t: TestApp) =>
      (await t.app.metrics.slaBreached.get()).values.find(
        (v) => v.labels.kind === 'billing' && v.labels.target === 'firstResponse',
      )?.value ?? 0;
    expect((await counted(a)) + (await counted(b))).toBe(1);
    const metrics = await (await fetch(`${a.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/tickets_sla_overdue \d+/);
    expect(Number(/tickets_sla_overdue (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('when billing replies before the breach, then what is pending is cancelled, the ticket waits on the customer, and their answer resumes the clock', async () => {
    // Tuesday 09:00 Berlin.
    clock.set(new Date('2026-11-10T08:00:00Z'));
    const ref = await billingEmail('bo@customer.test', 'Refund please');
    await a.post(
      blockActions({
        actionId: TICKET_CARD.actions.claim,
        value: ref,
        userId: USERS.billing,
        channelId: CHANNELS.billing,
      }),
    );
    await eventually(async () => (await ticketOf(ref))?.assignee === USERS.billing, 'claimed');
    expect(await dueRowOf(a, 'sla.remind', `${ref}:firstResponse`)).not.toBeNull();

    await a.post(
      viewSubmission({
        callbackId: TICKET_REPLY.callbackId,
        userId: USERS.billing,
        viewId: `VSLA${ref}`,
        privateMetadata: JSON.stringify({ ref }),
        values: { [TICKET_REPLY.fields.body]: { type: 'plain_text_input', value: 'Which invoice number is it?' } },
      }),
    );
    const paused = await eventually(async () => {
      const tk = await ticketOf(ref);
      return tk?.sla?.pausedAt ? tk : undefined;
    }, 'the clock paused');
    expect(paused.status).toBe('waiting_on_customer');
    expect(paused.sla!.firstResponse.metAt).toBeTruthy();
    // The pause is written first (a step running meanwhile sees it), then the rows are removed.
    const pending = () =>
      a.app.db.models.DueWork.countDocuments({ key: { $in: [`${ref}:firstResponse`, `${ref}:resolution`] } });
    await eventually(async () => (await pending()) === 0, 'every pending step cancelled');

    // Past the first-response target: nothing is due, so nothing can be posted for it.
    clock.set(new Date('2026-11-10T14:00:00Z'));
    // The customer answers on Wednesday at 10:00 Berlin: the resolution clock goes on from there.
    clock.set(new Date('2026-11-11T09:00:00Z'));
    await sendMail({
      port: a.app.smtpPort,
      from: 'bo@customer.test',
      to: 'billing@example.com',
      subject: `Re: [${ref}] Refund please`,
      text: 'It is INV-42.',
      messageId: `sla.answer.${Date.now()}@customer.test`,
    });
    const resumed = await eventually(async () => {
      const tk = await ticketOf(ref);
      return tk && !tk.sla?.pausedAt && tk.status !== 'waiting_on_customer' ? tk : undefined;
    }, 'the clock resumed');
    const before = paused.sla!.resolution.dueAt.getTime();
    expect(resumed.sla!.resolution.dueAt.getTime()).toBeGreaterThan(before);
    // The timers are written first, then the resolution's ladder is armed again.
    const row = await eventually(
      () => dueRowOf(a, 'sla.remind', `${ref}:resolution`),
      'the resolution reminder armed again',
    );
    expect(row.dueAt.toISOString()).toBe(resumed.sla!.resolution.remindAt!.toISOString());
    expect(resumed.sla!.resolution.remindAt!.getTime()).toBeGreaterThan(paused.sla!.resolution.remindAt!.getTime());
    expect(await dueRowOf(a, 'sla.breach', `${ref}:firstResponse`)).toBeNull(); // the first response stays met

    await settled(a);
    expect(slaPosts(ref)).toEqual([]);
  }, 120_000);

  it('when a step runs for a ticket closed meanwhile, then it posts nothing', async () => {
    clock.set(new Date('2026-11-12T08:00:00Z'));
    const ref = await billingEmail('cy@customer.test', 'Close me');
    const ticket = (await ticketOf(ref))!;
    await a.post(
      blockActions({
        actionId: TICKET_CARD.actions.close,
        value: ref,
        userId: USERS.billing,
        channelId: CHANNELS.billing,
      }),
    );
    await eventually(
      async () => (await dueRowOf(a, 'sla.remind', `${ref}:firstResponse`)) === null,
      'the steps cancelled on close',
    );
    // A step row the cancel missed (a run already under way in another process): it looks and finds the ticket closed.
    const at = ticket.sla!.firstResponse.dueAt;
    await a.app.due.schedule('sla.breach', `${ref}:firstResponse`, new Date(clock.now().getTime() + 1500), {
      at: at.toISOString(),
    });
    await eventually(
      async () => (await dueRowOf(a, 'sla.breach', `${ref}:firstResponse`)) === null,
      'the stray step run',
      30_000,
    );
    await settled(a);
    expect(slaPosts(ref)).toEqual([]);
    expect((await ticketOf(ref))?.sla?.resolution.metAt).toBeTruthy();
  }, 60_000);
});
