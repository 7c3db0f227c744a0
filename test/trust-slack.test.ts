/**
 * Who may see and steer tickets in Slack (issue 9, items 2, 3 and 7): reads are for staff only,
 * relabelling is for the ticket's team and admins and never pulls a kind out from under its work,
 * and nothing a customer wrote can ping anyone or disguise a link, in blocks or in `text`.
 * Real HTTP receiver with signed requests, fake Slack Web API, real SMTP both ways.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack, type RecordedCall } from './support/fake-slack.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { sendMail } from './support/send-mail.js';
import { blockActions, eventCallback, slashCommand } from './support/slack-requests.js';
import { CHANNELS, eventually, postOf, settled, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { handOff, press, projectsValues, submitStep, summaryValues, type Driver } from './support/migration.js';
import { HANDOFF_CARD, HOME, MIGRATION_PROJECTS, MIGRATION_SUMMARY, PLAN_MODAL, TICKET_CARD } from '../views/ids.js';
import { dayIn } from '../src/domain/migration.js';

let slack: FakeSlack;
let sink: SmtpSink;
let t: TestApp;
let d: Driver;
let serial = 0;

beforeAll(async () => {
  slack = await startFakeSlack();
  sink = await startSmtpSink();
  t = await startTestApp({
    slack,
    env: { SMTP_URL: sink.url, MAIL_DOMAIN: 'example.com', TZ_BILLING: 'Europe/Berlin' },
  });
  d = { t, slack };
});
afterAll(async () => {
  await t?.stop();
  await sink?.close();
  await slack?.close();
});
beforeEach(() => {
  slack.reset();
  sink.reset();
});

const ticketOf = async (ref: string) => (await t.app.db.models.Ticket.findById(ref).lean())!;

/** A ticket opened by a customer's email; returns its ref once its card is posted. */
async function fromCustomer(subject: string, text: string, mailbox = 'billing', from = 'kim@customer.test') {
  const messageId = `trust.${Date.now()}.${++serial}@customer.test`;
  await sendMail({ port: t.app.smtpPort, from, to: `${mailbox}@example.com`, subject, text, messageId });
  const row = await eventually(async () => {
    const r = await t.app.db.models.InboundMail.findOne({ messageId }).lean();
    return r?.ticketRef ? r : undefined;
  }, 'ticket opened');
  await eventually(async () => (await postOf(t, row.ticketRef!))?.ts, 'card posted');
  return { ref: row.ticketRef!, messageId };
}

async function command(command: string, text: string, userId: string): Promise<RecordedCall> {
  const id = `r${++serial}`;
  const res = await t.post(
    slashCommand({ command, text, userId, channelId: 'C0X', responseUrl: slack.responseUrl(id) }),
  );
  expect(res.status).toBe(200);
  return slack.waitFor('response_url', (c) => c.responseUrlId === id);
}

describe('reading customer data needs a staff role', () => {
  it('when someone without a role asks for a ticket, the review queue, their tickets or an account, then each answer is one line saying whom to ask and shows nothing', async () => {
    const { ref } = await fromCustomer('Card declined for R74-ZWR-R44Z', 'Our card number ends in 4242.');
    await t.app.services.accounts.create({
      id: 'R74-ZWR-R44Z',
      name: 'Kim Corp',
      contactEmail: 'kim@customer.test',
      tier: 'startup-25k',
      status: 'active',
      signupDate: '2026-01-01',
      billingAnchor: '2026-01-01',
      billingDetailsComplete: true,
    });
    for (const [cmd, text] of [
      ['/ticket', ref],
      ['/ticket', 'review'],
      ['/ticket', 'mine'],
      ['/account', 'R74-ZWR-R44Z'],
    ] as const) {
      const answer = await command(cmd, text, USERS.outsider);
      expect(answer.args.response_type).toBe('ephemeral');
      expect(answer.args.blocks).toBeUndefined();
      expect(String(answer.args.text)).toMatch(
        /^Only sales, billing, support and admin team members can .+\. Ask an admin \(<@U0ADMIN>\) to add you\.$/,
      );
      expect(JSON.stringify(answer.args)).not.toMatch(/kim@customer\.test|4242|Kim Corp|Card declined/);
    }
    // Staff still read them.
    expect(JSON.stringify((await command('/ticket', ref, USERS.support)).args.blocks)).toContain('Card declined');
    expect(JSON.stringify((await command('/account', 'R74-ZWR-R44Z', USERS.rep)).args.blocks)).toContain('Kim Corp');
  });

  it('when someone without a plan role runs /plan, then the modal is replaced by the refusal and they are told whom to ask', async () => {
    for (const userId of [USERS.outsider, USERS.rep]) {
      slack.reset();
      const answer = await command('/plan', 'R74-ZWR-R44Z', userId);
      expect(String(answer.args.text)).toMatch(
        /^Only support or billing team members can change plans\. Ask an admin \(<@U0ADMIN>\) to add you\.$/,
      );
      const replaced = await slack.waitFor('views.update');
      expect(JSON.stringify((replaced.args.view as { blocks: unknown[] }).blocks)).toContain(PLAN_MODAL.refusedBlock);
    }
    slack.reset();
    await t.post(
      slashCommand({
        command: '/plan',
        text: 'R74-ZWR-R44Z',
        userId: USERS.support,
        channelId: 'C0X',
        responseUrl: slack.responseUrl('plan-ok'),
      }),
    );
    expect((await slack.waitFor('views.open')).args.view).toMatchObject({ callback_id: PLAN_MODAL.callbackId });
  });

  it('when someone without a role opens App Home, then it says whom to ask and lists nothing', async () => {
    await t.post(
      eventCallback({
        event: {
          type: 'app_home_opened',
          user: USERS.outsider,
          channel: 'D0OUT',
          tab: 'home',
          event_ts: `${Date.now() / 1000}`,
        },
      }),
    );
    const home = await slack.waitFor('views.publish', (c) => c.args.user_id === USERS.outsider);
    const blocks = (home.args.view as { blocks: { block_id?: string; type: string }[] }).blocks;
    expect(blocks.map((b) => b.block_id).filter(Boolean)).toEqual([HOME.refusedBlock]);
    expect(JSON.stringify(blocks)).toContain('Ask an admin');
  });
});

describe('changing a ticket’s kind', () => {
  const changeKind = (ref: string, kind: string, userId: string) =>
    t.post(
      blockActions({
        actionId: TICKET_CARD.actions.changeKind,
        blockId: TICKET_CARD.actionsBlock,
        userId,
        channelId: CHANNELS.billing,
        action: {
          type: 'static_select',
          selected_option: { text: { type: 'plain_text', text: kind }, value: `${ref}|${kind}` },
        },
      }),
    );
  const refusal = (userId: string) => slack.waitFor('chat.postEphemeral', (c) => c.args.user === userId);

  it('when another team relabels a ticket, then it is refused; its own team and admins may', async () => {
    const { ref } = await fromCustomer('VAT number wrong', 'Please fix the VAT number.');
    expect((await ticketOf(ref)).team).toBe('billing');
    await changeKind(ref, 'support', USERS.rep);
    expect(String((await refusal(USERS.rep)).args.text)).toMatch(
      /^Only billing team members can change the kind of AR-\d+\./,
    );
    await settled(t);
    expect((await ticketOf(ref)).kind).toBe('billing');

    await changeKind(ref, 'upgrade', USERS.billing);
    await eventually(async () => (await ticketOf(ref)).kind === 'upgrade', 'billing relabelled it');
    await changeKind(ref, 'billing', USERS.admin);
    await eventually(async () => (await ticketOf(ref)).kind === 'billing', 'an admin relabelled it');
  });

  it('when a migration has a handoff, then nobody relabels it away, and the refusal says why', async () => {
    const ref = await handOff(d, {
      accountId: 'KND-AAA-0001',
      startDate: dayIn('Europe/Berlin', new Date(Date.now() + 10 * 86_400_000)),
    });
    await changeKind(ref, 'support', USERS.admin);
    expect(String((await refusal(USERS.admin)).args.text)).toMatch(/stays a migration: it has a handoff to billing/);
    await settled(t);
    expect((await ticketOf(ref)).kind).toBe('migration');
  });

  it('when a ticket has a plan change still scheduled, then it keeps its kind', async () => {
    await t.app.services.accounts.create({
      id: 'KND-BBB-0001',
      name: 'Down Co',
      contactEmail: 'down@customer.test',
      tier: 'startup-25k',
      status: 'active',
      signupDate: '2026-01-01',
      billingAnchor: '2026-01-01',
      billingDetailsComplete: true,
    });
    await t.app.services.plans.request({
      userId: USERS.billing,
      accountId: 'KND-BBB-0001',
      request: { type: 'downgrade', tier: 'startup-5k' },
      requestKey: 'kind-test',
    });
    const change = await t.app.db.models.PlanChange.findById('downgrade:kind-test').lean();
    expect(change?.status).toBe('scheduled');
    await changeKind(change!.ticketRef!, 'support', USERS.billing);
    expect(String((await refusal(USERS.billing)).args.text)).toMatch(/has plan changes still scheduled/);
    await settled(t);
    expect((await ticketOf(change!.ticketRef!)).kind).toBe('downgrade');
  });
});

describe('customer text in Slack', () => {
  const HOSTILE = [
    '<!channel>',
    '<!everyone>',
    '<!here>',
    '<@U0VICTIM>',
    '<#C0SECRET>',
    '<https://evil.test/login|Slack SSO>',
    '<!subteam^S0ALL>',
  ];
  const hostile = HOSTILE.join(' ');

  it('when a customer writes mentions and disguised links in the subject, body, reply and project list, then no posted payload carries one unescaped', async () => {
    // The customer's mail and reply, a migration handoff with their name pasted in, billing's steps.
    const { ref, messageId } = await fromCustomer(
      `Enterprise migration ${hostile}`,
      `We want to migrate. ${hostile}`,
      'sales',
      'lee@customer.test',
    );
    await sendMail({
      port: t.app.smtpPort,
      from: 'lee@customer.test',
      to: 'sales@example.com',
      subject: `Re: Enterprise migration ${hostile}`,
      inReplyTo: messageId,
      text: `Any news? ${hostile}`,
      messageId: `trust.reply.${Date.now()}@customer.test`,
    });
    await slack.waitFor(
      'chat.postMessage',
      (c) => Boolean(c.args.thread_ts) && String(c.args.text).includes('replied'),
    );
    const handoffRef = await handOff(d, {
      accountId: 'ESC-AAA-0001',
      startDate: dayIn('Europe/Berlin', new Date(Date.now() + 10 * 86_400_000)),
      customerName: `Lee ${hostile}`,
      customerEmail: 'lee@customer.test',
    });
    await press(d, HANDOFF_CARD.actions.confirm, handoffRef);
    await submitStep(d, MIGRATION_SUMMARY.callbackId, handoffRef, summaryValues({ outcome: 'credits' }));
    const ask = await sink.waitFor((m) => (m.text ?? '').includes('no overages'));
    await sendMail({
      port: t.app.smtpPort,
      from: 'stranger@elsewhere.test',
      to: ask.replyTo!,
      subject: `Re: ${ask.subject}`,
      text: `Live: shop-prod\n${hostile}`,
      messageId: `trust.projects.${Date.now()}@elsewhere.test`,
    });
    await eventually(async () => (await ticketOf(handoffRef)).migration?.proposedProjects, 'projects proposed');
    await submitStep(d, MIGRATION_PROJECTS.callbackId, handoffRef, projectsValues('shop-prod'));
    expect(await press(d, HANDOFF_CARD.actions.start, handoffRef)).toMatch(/^Started/);
    await command('/ticket', ref, USERS.support);
    await command('/ticket', 'mine', USERS.rep);
    await t.post(
      eventCallback({
        event: {
          type: 'app_home_opened',
          user: USERS.billing,
          channel: 'D0BILL',
          tab: 'home',
          event_ts: `${Date.now() / 1000}`,
        },
      }),
    );
    await slack.waitFor('views.publish', (c) => c.args.user_id === USERS.billing);
    await settled(t);

    // Every call the bot made to Slack, every field of it: text, blocks, views.
    const calls = slack.allCalls.filter((c) => c.ok);
    expect(calls.filter((c) => c.method === 'chat.postMessage').length).toBeGreaterThan(3);
    const leaks = calls.flatMap((c) =>
      HOSTILE.filter((h) => JSON.stringify(c.args).includes(h)).map(
        (h) => `${c.method}: ${h} in ${JSON.stringify(c.args).slice(0, 300)}`,
      ),
    );
    expect(leaks).toEqual([]);
    // …and the words are still there, escaped, for people to read.
    const card = calls.find(
      (c) => c.method === 'chat.postMessage' && String(c.args.text).includes(ref) && !c.args.thread_ts,
    );
    expect(String(card?.args.text)).toContain('&lt;!channel&gt;');
  });
});
